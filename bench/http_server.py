"""Over HTTP through the fallback container's server (gunicorn + chalice_wsgi.py, 2 workers on this machine), measured
with wrk: a cached catalogue read and add-to-cart, against a minimal hello-world WSGI app on the same server settings
(swarm-fallback/gunicorn.conf.py: threaded workers), then the same pair on sync workers (the setup before
issue 19)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request

from common import PYTHON, ROOT, Section, target

DURATION = os.environ.get("BENCH_HTTP_SECONDS", "5")
CONNECTIONS = "16"
WORKERS = "2"
SYNC = os.environ.get("BENCH_HTTP_SYNC", "1")  # "" skips the sync-worker comparison

HELLO = '''
def application(environ, start_response):
    body = b'{"status":"ok"}'
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
'''


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args, env, port):
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def _wrk(url, script=None):
    args = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency", url]
    if script:
        args[1:1] = ["-s", script]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def lat(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, lat(50), lat(99), int(non2xx.group(1)) if non2xx else 0


def run(functions_list) -> Section:
    if shutil.which("wrk") is None:
        return Section("HTTP through the container server", "**skipped**: wrk is not installed "
                       "(`apt-get install wrk`; `make bench` installs it)")
    from warm import setup_data

    data = setup_data()
    env = dict(os.environ, WEB_CONCURRENCY=WORKERS, ACCESS_LOG="0",
               PATH=os.path.dirname(PYTHON) + ":" + os.environ["PATH"])
    app_port, hello_port = _free_port(), _free_port()
    app = _start(["sh", "swarm-fallback/entrypoint.sh", "api"], {**env, "BIND": f"127.0.0.1:{app_port}"}, app_port)
    folder = tempfile.mkdtemp()
    with open(os.path.join(folder, "hello.py"), "w") as fh:
        fh.write(HELLO)
    # the container's own gunicorn settings, serving hello-world instead of the app
    hello_args = [os.path.join(os.path.dirname(PYTHON), "gunicorn"), "--config",
                  os.path.join(ROOT, "swarm-fallback", "gunicorn.conf.py"), "--chdir", folder, "hello:application"]
    hello = _start(hello_args, {**env, "BIND": f"127.0.0.1:{hello_port}"}, hello_port)
    try:
        cookie = "; ".join(f"{k}={v}" for k, v in data["cookies"].items())
        script = os.path.join(folder, "add.lua")
        with open(script, "w") as fh:
            fh.write('wrk.method = "POST"\n'
                     f'wrk.body = \'{{"id": "{data["product"]}", "quantity": 1}}\'\n'
                     'wrk.headers["Content-Type"] = "application/json"\n'
                     f'wrk.headers["Cookie"] = "{cookie}"\n')
        urllib.request.urlopen(f"http://127.0.0.1:{app_port}/api/v1/category").read()  # fill the cache
        hello_rps, hello_p50, hello_p99, _ = _wrk(f"http://127.0.0.1:{hello_port}/api/v1/health")
        cat_rps, cat_p50, cat_p99, cat_err = _wrk(f"http://127.0.0.1:{app_port}/api/v1/category")
        add_rps, add_p50, add_p99, add_err = _wrk(f"http://127.0.0.1:{app_port}/api/v1/customer/cart", script)
    finally:
        for proc in (app, hello):
            proc.terminate()
            proc.wait(timeout=20)
    # the same pair on sync workers (one request per process), as the container ran before issue 19
    threaded = []
    if SYNC:
        sync_env = {**env, "GUNICORN_CMD_ARGS": "--worker-class sync --threads 1"}
        app_port, hello_port = _free_port(), _free_port()
        app = _start(["sh", "swarm-fallback/entrypoint.sh", "api"], {**sync_env, "BIND": f"127.0.0.1:{app_port}"},
                     app_port)
        hello = _start(hello_args, {**sync_env, "BIND": f"127.0.0.1:{hello_port}"}, hello_port)
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{app_port}/api/v1/category").read()
            threaded.append(("hello-world WSGI, sync workers", *_wrk(f"http://127.0.0.1:{hello_port}/api/v1/health")))
            threaded.append(("GET /api/v1/category (cached), sync workers",
                             *_wrk(f"http://127.0.0.1:{app_port}/api/v1/category")))
        finally:
            for proc in (app, hello):
                proc.terminate()
                proc.wait(timeout=20)
    data["fake"].stop()
    section = Section(
        "HTTP through the container server",
        f"wrk, 2 threads, {CONNECTIONS} connections, {DURATION} s each, against gunicorn with {WORKERS} threaded "
        "workers (swarm-fallback/gunicorn.conf.py) on this 2-core machine (the load generator shares the cores). Target: cached read ≥ 60 % of hello-world's requests/s.",
        ["endpoint", "requests/s", "p50 ms", "p99 ms", "non-2xx", "vs hello-world"])
    section.rows.append(["hello-world WSGI (baseline)", f"{hello_rps:.0f}", f"{hello_p50:.2f}", f"{hello_p99:.2f}",
                         "0", "1.00"])
    section.rows.append(["GET /api/v1/category (cached)", f"{cat_rps:.0f}", f"{cat_p50:.2f}", f"{cat_p99:.2f}",
                         str(cat_err), f"{cat_rps / hello_rps:.2f} ({'met' if cat_rps / hello_rps >= 0.6 else 'missed'})"])
    target("cached read over HTTP vs hello-world WSGI on the same gunicorn", f"{cat_rps / hello_rps:.2f} "
           f"({cat_rps:.0f} vs {hello_rps:.0f} requests/s)", "≥ 0.6", cat_rps / hello_rps >= 0.6)
    section.rows.append(["POST /api/v1/customer/cart", f"{add_rps:.0f}", f"{add_p50:.2f}", f"{add_p99:.2f}",
                         str(add_err), f"{add_rps / hello_rps:.2f}"])
    if threaded:
        base = threaded[0][1]
        for name, rps, p50, p99, err in threaded:
            section.rows.append([name, f"{rps:.0f}", f"{p50:.2f}", f"{p99:.2f}", str(err),
                                 f"{rps / base:.2f} of sync hello-world; {rps / hello_rps:.2f} of threaded"])
        section.notes.append(
            "The container serves on threaded workers (docs/concurrency.md: a request waiting on the network holds "
            "one thread, not the process); the sync rows show the same reads on one request per process.")
    return section
