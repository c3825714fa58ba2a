"""Logs a person can follow: every line of a request carries its request id, the capability and (once the guard ran)
the customer or staff id; the id is answered in ``X-Request-Id``; the first request of a process is marked
``cold_start``. Checked in-process (the Lambda path: Chalice called with an API Gateway event) and through the
container entrypoint (gunicorn + chalice_wsgi.py) with its stdout captured."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import urllib3

from support import create_customer, create_staff, login_customer, login_staff

ROOT_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def of_request(lines, request_id):
    return [line for line in lines if line.get("request_id") == request_id]


def test_a_customer_request_is_logged_with_its_id_capability_and_customer(api, log_lines):
    customer_id = create_customer()
    login_customer(api)
    resp = api.get("/api/v1/customer/cart")
    assert resp.status == 200
    request_id = resp.headers["x-request-id"]
    [line] = [entry for entry in of_request(log_lines, request_id) if entry["message"] == "request"]
    assert line["capability"] == "cart" and line["customer_id"] == customer_id
    assert line["method"] == "GET" and line["path"] == "/api/v1/customer/cart" and line["status"] == 200
    assert line["level"] == "INFO" and "staff_id" not in line
    # the next request has its own id, and nothing of this one leaks into an anonymous request
    other = api.get("/api/v1/health")
    assert other.headers["x-request-id"] != request_id
    [health] = [e for e in of_request(log_lines, other.headers["x-request-id"]) if e["message"] == "request"]
    assert health["capability"] == "health" and "customer_id" not in health


def test_a_staff_request_names_the_staff_member(api, log_lines):
    staff_id = create_staff(inv=True)
    login_staff(api)
    resp = api.get("/api/v1/staff/dashboard/inventory/category")
    assert resp.status == 200
    [line] = [e for e in of_request(log_lines, resp.headers["x-request-id"]) if e["message"] == "request"]
    assert line["capability"] == "backoffice" and line["staff_id"] == staff_id and "customer_id" not in line


def test_a_refused_request_logs_its_status_and_error(api, log_lines):
    resp = api.post("/api/v1/auth/login", json={"email": "buyer@example.com"})
    assert resp.status == 400
    [line] = [e for e in of_request(log_lines, resp.headers["x-request-id"]) if e["message"] == "request"]
    assert line["capability"] == "auth" and line["status"] == 400 and line["error"] == resp.json["error"]
    assert "password" not in json.dumps(line).replace("password is required", "")  # no input values, no secrets


def test_a_database_outage_is_traceable_from_the_logs_alone(api, log_lines, monkeypatch):
    """What the reliability suite provokes: the client sees a 503 and a request id; the logs for that id say which
    capability, which customer, and what failed underneath."""
    from omdb import db

    customer_id = create_customer()
    login_customer(api)
    monkeypatch.setenv("DB_PORT", str(free_port()))  # nothing listens there
    monkeypatch.setenv("DB_CONNECT_TIMEOUT", "2")
    db.reset()
    resp = api.get("/api/v1/customer/cart")
    monkeypatch.undo()
    db.reset()
    assert resp.status == 503
    lines = of_request(log_lines, resp.headers["x-request-id"])
    assert {e["capability"] for e in lines} == {"cart"} and {e["customer_id"] for e in lines} == {customer_id}
    failure = [e for e in lines if e["level"] in ("WARNING", "ERROR")]
    assert failure and "503" in failure[0]["message"] and "/api/v1/customer/cart" in failure[0]["message"]
    assert [e["status"] for e in lines if e["message"] == "request"] == [503]


def test_scopes_bind_and_cold_start_outside_http(log_lines):
    """Non-HTTP work (events, jobs) opens its own scope; bind() adds to it and the scope's end forgets it."""
    from omcore import log as omlog

    logger = omlog.get_logger("test")
    with omlog.scope(capability="payments", request_id="job-0000-0001"):
        omlog.bind(order_id=42, customer_id=None)
        logger.warning("inside")
    logger.warning("outside")
    inside, outside = [e for e in log_lines if e["logger"] == "om.test"]
    assert inside["request_id"] == "job-0000-0001" and inside["capability"] == "payments"
    assert inside["order_id"] == 42 and "customer_id" not in inside
    assert "order_id" not in outside and outside.get("request_id") != "job-0000-0001"


# ---- the container entrypoint: the same lines on gunicorn's stdout ----

@pytest.fixture(scope="module")
def logged_container(database, tmp_path_factory):
    """The container entrypoint with one worker, LOG_LEVEL=INFO and its stdout going to a file."""
    port = free_port()
    out = tmp_path_factory.mktemp("container-log") / "stdout.jsonl"
    env = dict(os.environ, BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1", ACCESS_LOG="0", LOG_LEVEL="INFO",
               TRUSTED_PROXY_HOPS="1", PATH=os.path.dirname(sys.executable) + ":" + os.environ["PATH"])
    with open(out, "wb") as sink:
        proc = subprocess.Popen(["sh", os.path.join(ROOT_DIR, "swarm-fallback", "entrypoint.sh"), "api"],
                                cwd=ROOT_DIR, env=env, stdout=sink, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/api/v1/health", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("container entrypoint did not start: " + proc.stderr.read().decode()[-3000:])
            time.sleep(0.2)

    def lines():
        return [json.loads(line) for line in out.read_text().splitlines() if line.startswith("{")]

    yield base, lines
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_container_lines_carry_the_same_context(logged_container):
    base, lines = logged_container
    customer_id = create_customer()
    http = urllib3.PoolManager(retries=False)
    login = http.request("POST", base + "/api/v1/auth/login", headers={"Content-Type": "application/json"},
                         body=json.dumps({"email": "buyer@example.com", "password": "Secret#123"}))
    assert login.status == 200
    cookie = "; ".join(c.split(";", 1)[0] for c in login.headers.getlist("Set-Cookie"))
    resp = http.request("GET", base + "/api/v1/customer/cart",
                        headers={"Cookie": cookie, "X-Request-Id": "edge-trace-0001"})
    assert resp.status == 200 and resp.headers["X-Request-Id"] == "edge-trace-0001"  # an edge proxy's id is kept
    hostile = http.request("GET", base + "/api/v1/health", headers={"X-Request-Id": "x\" injected {"})
    generated = hostile.headers["X-Request-Id"]
    assert generated != "x\" injected {" and len(generated) == 36  # replaced by a fresh id
    # each line is flushed as it is logged, before the answer is sent: the file already holds these requests
    assert [e["status"] for e in of_request(lines(), generated) if e["message"] == "request"] == [200]
    [line] = [e for e in of_request(lines(), "edge-trace-0001") if e["message"] == "request"]
    assert line["capability"] == "cart" and line["customer_id"] == customer_id and line["status"] == 200
    requests = [e for e in lines() if e["message"] == "request"]
    # one worker: its first request (the start-up health probe) is the cold start, and only that one
    assert requests[0]["cold_start"] is True
    assert not any(e.get("cold_start") for e in requests[1:])


def test_checkout_and_webhook_lines_name_the_order(api, log_lines, freight_rates, midtrans):
    """A payment problem is traced from the logs alone: the checkout's closing line and every webhook line carry the
    order id."""
    from shopping import make_shop
    from support import create_product

    shop = make_shop(api)
    shop.add(create_product("Kopi Gayo", price=50000, stock=5), 1)
    resp = shop.checkout()
    assert resp.status == 200, resp
    order_id = resp.json["order_id"]
    placed = of_request(log_lines, resp.headers["x-request-id"])
    assert placed and placed[-1].get("order_id") == order_id, placed
    (midtrans_id,) = [k for k in midtrans.transactions if k.endswith(f"-{order_id}")]
    midtrans.set_status(midtrans_id, "settlement")
    paid = api.post("/api/v1/webhook/midtrans", json=midtrans.notification(midtrans_id, "settlement"))
    assert paid.status == 200, paid
    lines = of_request(log_lines, paid.headers["x-request-id"])
    assert lines and all(line.get("order_id") == order_id for line in lines[1:]), lines
