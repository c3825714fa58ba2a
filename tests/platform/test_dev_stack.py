"""`make dev` end to end: with no DB_*/REDIS_* configured the local run starts private MariaDB, Redis and S3
processes, migrates, and serves; a customer registers through the real mail path and logs in; stopping it stops
every process it started."""
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from support import Outbox

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(base, method, path, body=None, cookies=None):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
                                 headers={"content-type": "application/json",
                                          "cookie": "; ".join(f"{k}={v}" for k, v in (cookies or {}).items())})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers.get_all("Set-Cookie") or [], json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get_all("Set-Cookie") or [], json.loads(err.read() or b"null")


def _store(jar, set_cookies):
    for line in set_cookies:
        name, _, rest = line.partition("=")
        jar[name] = rest.split(";", 1)[0]


@pytest.fixture
def dev_server(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DB_", "REDIS_", "AWS_ENDPOINT", "JWT_", "ADMIN_", "MAIL_"))}
    env.update({"OPENMERCE_LOCAL_DIR": str(tmp_path / "local"), "PORT": str(port), "LOG_LEVEL": "WARNING"})
    log = open(tmp_path / "dev.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "functions.admin", "dev", "--no-demo"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if _call(base, "GET", "/api/v1/health/ready")[0] == 200:
                break
        except OSError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("local run did not become ready: " + (tmp_path / "dev.log").read_text()[-3000:])
    assert proc.poll() is None, (tmp_path / "dev.log").read_text()[-3000:]
    yield base, tmp_path / "local", proc
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_local_run_registers_logs_in_and_stops_cleanly(dev_server):
    base, local, proc = dev_server
    outbox = Outbox(str(local / "outbox"))
    jar = {}
    status, cookies, _ = _call(base, "POST", "/api/v1/auth/register-1", {"email": "newcomer@example.com"})
    assert status == 200
    _store(jar, cookies)
    code = outbox.last_code("newcomer@example.com")
    status, cookies, _ = _call(base, "POST", "/api/v1/auth/register-2",
                               {"email": "newcomer@example.com", "code": int(code)}, jar)
    assert status == 200
    _store(jar, cookies)
    status, cookies, _ = _call(base, "POST", "/api/v1/auth/register-3",
                               {"email": "newcomer@example.com", "password": "Newc0mer#Pass", "first_name": "New",
                                "last_name": "Comer", "birth_date": "", "gender": "male"}, jar)
    assert status == 200
    status, cookies, body = _call(base, "POST", "/api/v1/auth/login",
                                  {"email": "newcomer@example.com", "password": "Newc0mer#Pass"})
    assert status == 200 and body == {"first_name": "New", "last_name": "Comer"}
    assert len(cookies) == 2  # ac_cus and ref_cus arrive as two Set-Cookie headers
    _store(jar, cookies)
    assert _call(base, "GET", "/api/v1/auth/refresh", cookies=jar)[0] == 200

    secrets = json.loads((local / "secrets.json").read_text())
    status, _, body = _call(base, "POST", "/api/v1/staff/auth/login",
                            {"username": "admin", "password": secrets["ADMIN_PASSWORD"]})
    assert status == 200 and body["sys_admin"] is True

    pid_file = local / "mariadb" / "pid"
    mariadb_pid = int(pid_file.read_text().strip())
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            os.kill(mariadb_pid, 0)
            time.sleep(0.2)
        except ProcessLookupError:
            break
    else:
        pytest.fail("the private MariaDB outlived the local run")
    assert re.search(r"running on http://127\.0\.0\.1:\d+", (local.parent / "dev.log").read_text())
