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
def dev_server(tmp_path, request):
    demo = getattr(request, "param", False)
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DB_", "REDIS_", "AWS_ENDPOINT", "JWT_", "ADMIN_", "MAIL_"))}
    env.update({"OPENMERCE_LOCAL_DIR": str(tmp_path / "local"), "PORT": str(port), "LOG_LEVEL": "WARNING"})
    log = open(tmp_path / "dev.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "tools.admin", "dev"] + ([] if demo else ["--no-demo"]),
                            cwd=ROOT, env=env,
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


@pytest.mark.parametrize("dev_server", [True], indirect=True)
def test_local_run_checkout_pays_through_the_fake_midtrans_and_converts_images(dev_server):
    """Offline end to end: demo-less shop set up through the API, checkout, the fake Midtrans payment page sends a
    signed settlement to the local webhook, and an uploaded picture is served as WebP within seconds."""
    import urllib3

    from support import encode_multipart, make_image

    base, local, _ = dev_server
    http = urllib3.PoolManager(retries=False)
    secrets = json.loads((local / "secrets.json").read_text())
    staff = {}
    status, cookies, _ = _call(base, "POST", "/api/v1/staff/auth/login",
                               {"username": "admin", "password": secrets["ADMIN_PASSWORD"]})
    _store(staff, cookies)
    assert _call(base, "POST", "/api/v1/staff/dashboard/inventory/category",
                 {"name": "Kopi", "description": "Kopi", "homepage_visibility": True}, staff)[0] == 201
    status, _, created = _call(base, "POST", "/api/v1/staff/dashboard/inventory/product-1",
                               {"category_id": 1, "name": "Kopi Gayo", "description": "Arabika", "price": 50000,
                                "weight": 1, "initial_stock": 5, "length": 10, "width": 10, "height": 10}, staff)
    assert status == 201
    pid = created["id"]
    body, ctype = encode_multipart({"product_id": pid}, {"picture": ("p.jpg", make_image("JPEG", (900, 600)),
                                                                     "image/jpeg")})
    resp = http.request("POST", base + "/api/v1/staff/dashboard/inventory/product-2", body=body,
                        headers={"content-type": ctype, "cookie": "; ".join(f"{k}={v}" for k, v in staff.items())})
    assert resp.status == 201
    name = json.loads(resp.data)["file"]
    deadline = time.time() + 20
    while time.time() < deadline:
        got = http.request("GET", f"{base}/usercontent/{name}")
        if got.status == 200:
            break
        time.sleep(0.2)
    assert got.status == 200 and got.headers["Content-Type"] == "image/webp"
    assert got.headers["Cache-Control"] == "public, max-age=31536000, immutable"

    # a customer (registered directly in the local database would need its port; use the API instead)
    outbox = Outbox(str(local / "outbox"))
    jar = {}
    _store(jar, _call(base, "POST", "/api/v1/auth/register-1", {"email": "payer@example.com"})[1])
    _store(jar, _call(base, "POST", "/api/v1/auth/register-2",
                      {"email": "payer@example.com", "code": int(outbox.last_code("payer@example.com"))}, jar)[1])
    _call(base, "POST", "/api/v1/auth/register-3", {"email": "payer@example.com", "password": "Payer#Pass1",
                                                     "first_name": "P", "last_name": "Q", "birth_date": "",
                                                     "gender": "female"}, jar)
    _store(jar, _call(base, "POST", "/api/v1/auth/login", {"email": "payer@example.com",
                                                           "password": "Payer#Pass1"})[1])
    status, _, address = _call(base, "POST", "/api/v1/customer/address", {
        "label": "Rumah", "full_address": "Jl. Medan Merdeka 1", "note": "", "recipient_name": "P",
        "phone_number": "0812345678", "shipping_area": 25410, "postal_code": "10110"}, jar)
    assert status == 200
    assert _call(base, "POST", "/api/v1/customer/cart", {"id": pid, "quantity": 2}, jar)[0] == 200
    assert _call(base, "POST", "/api/v1/customer/cart-checked", {"id": pid, "state": True}, jar)[0] == 200
    status, _, order = _call(base, "POST", "/api/v1/customer/checkout",
                             {"courier_code": "sicepat-REG", "address_code": address["id"]}, jar)
    assert status == 200 and order["redirect_url"].startswith("http://127.0.0.1:")
    page = http.request("GET", order["redirect_url"]).data.decode()
    action = re.search(r"action='([^']+)'", page).group(1)
    paid = http.request("POST", order["redirect_url"].split("/snap/")[0] + action)
    assert paid.status == 200
    status, _, orders = _call(base, "GET", "/api/v1/customer/order", cookies=jar)
    assert orders[0]["status"] == "settlement" and orders[0]["image"] == name
    status, _, detail = _call(base, "GET", f"/api/v1/product?id={pid}")
    assert detail["stock"] == 3
