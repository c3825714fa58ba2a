"""A sale must not stall the shop (issue 19): on the container path a request waiting on the network holds one
thread, not the process; slow clients are cut off by the server itself; an exhausted connection pool is a 503 with
``Retry-After``, never a hang. In process (the bridge called from threads) and against the container entrypoint
started as deployed, with one worker process so that nothing but threads can serve the second client.

No timing is asserted: a provider that never answers until the test releases it makes "served meanwhile" a fact
of ordering, and the join timeouts below only keep a regression from hanging the suite."""
import io
import os
import socket
import threading
import uuid

import pytest
import urllib3

from omdb import db

from loadgen import Server
from shopping import Shop
from support import ApiClient, create_customer, create_product, login_customer
from tools.payments.fake_midtrans import FakeMidtrans

GUARD = 60  # seconds before a hung regression fails instead of blocking the suite


def _held_provider():
    fake = FakeMidtrans(server_key="SB-Mid-server-TEST", notification_url="http://127.0.0.1:9/unused").start()
    fake.mode = "hold"
    return fake


def _provider_env(fake) -> dict:
    # a provider call may take as long as the test needs (the suite's default client timeout is 1 s)
    return {**fake.env(), "MIDTRANS_BASE_ORDER_ID": "TEST", "MIDTRANS_TIMEOUT_SECONDS": "120"}


def _wait_for(predicate, what: str):
    done = threading.Event()
    for _ in range(GUARD * 20):
        if predicate():
            return
        done.wait(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def _run(fn):
    """Run ``fn`` in a thread; returns (thread, result box)."""
    box = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # surfaced by the caller
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def _shop_over(api, email="buyer@example.com") -> Shop:
    create_customer(email)
    assert login_customer(api, email).status == 200
    resp = api.post("/api/v1/customer/address", json={
        "label": "Rumah", "full_address": "Jl. Medan Merdeka 1", "note": "", "recipient_name": "Budi",
        "phone_number": "081234567890", "shipping_area": 25410, "postal_code": "10110"})
    assert resp.status == 200, resp
    return Shop(api, None, resp.json["id"])


# ---------------------------------------------------------------------------------------------- in process

def _environ(method, path, cookies=None, body=b""):
    env = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
           "SERVER_PORT": "80", "REMOTE_ADDR": "127.0.0.1", "wsgi.input": io.BytesIO(body),
           "CONTENT_LENGTH": str(len(body)) if body else "", "wsgi.url_scheme": "http"}
    if body:
        env["CONTENT_TYPE"] = "application/json"
    if cookies:
        env["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    return env


def _call(wsgi, env) -> int:
    status = {}

    def start_response(line, headers):
        status["code"] = int(line.split()[0])

    b"".join(wsgi(env, start_response))
    return status["code"]


def test_in_process_a_checkout_stuck_on_the_provider_does_not_stop_a_catalogue_read(app, api, freight_rates,
                                                                                    monkeypatch):
    from chalice_wsgi import make_wsgi_app

    fake = _held_provider()
    try:
        for key, value in _provider_env(fake).items():
            monkeypatch.setenv(key, value)
        shop = _shop_over(api)
        shop.add(create_product("Kopi Gayo", price=50000, stock=10), 1)
        wsgi = make_wsgi_app(app)
        body = ('{"courier_code": "sicepat-REG", "address_code": "%s"}' % shop.address_id).encode()
        checkout, result = _run(lambda: _call(wsgi, _environ("POST", "/api/v1/customer/checkout", api.cookies,
                                                               body)))
        _wait_for(lambda: fake.requests, "the checkout to reach the provider")
        reader, read = _run(lambda: _call(wsgi, _environ("GET", "/api/v1/category")))
        reader.join(GUARD)
        assert read.get("value") == 200, read  # served while the checkout still waits on the provider
        assert checkout.is_alive() and not fake.release.is_set()
        fake.release.set()
        checkout.join(GUARD)
        assert result.get("value") == 200, result
    finally:
        fake.stop()


def test_in_process_pool_exhaustion_is_a_503_with_retry_after(api, monkeypatch):
    monkeypatch.setenv("DB_POOL_SIZE", "1")
    monkeypatch.setenv("DB_POOL_TIMEOUT_SECONDS", "1")
    create_customer("buyer@example.com")
    assert login_customer(api).status == 200
    db.reset()  # the pool is sized when first used
    held, release = threading.Event(), threading.Event()

    def hold_the_only_connection():
        with db.transaction() as tx:
            tx.query("SELECT 1")
            held.set()
            release.wait(GUARD)

    holder, _ = _run(hold_the_only_connection)
    try:
        held.wait(GUARD)
        resp = api.get("/api/v1/customer/profile")
        assert resp.status == 503, resp
        assert resp.headers.get("retry-after") and "error" in resp.json
    finally:
        release.set()
        holder.join(GUARD)
    assert api.get("/api/v1/customer/profile").status == 200  # the connection came back
    db.reset()


# ---------------------------------------------------------------------------------------------- the container

@pytest.fixture
def one_worker(request, database):
    """The container entrypoint with ONE worker process (so only its threads can serve a second client), short
    client deadlines, a one-connection MySQL pool and a held provider. Yields (base URL, fake, server)."""
    fake = _held_provider()
    server = Server({**_provider_env(fake), "WEB_CONCURRENCY": "1", "CLIENT_READ_TIMEOUT": "2",
                     "CLIENT_HEADER_TIMEOUT": "2", "WORKER_TIMEOUT": "3", "DB_POOL_SIZE": "1",
                     "DB_POOL_TIMEOUT_SECONDS": "1", "TRUSTED_PROXY_HOPS": "0"})
    try:
        yield server.base, fake, server
    finally:
        fake.release.set()
        server.stop()
        fake.stop()


def _client(app, base, monkeypatch) -> ApiClient:
    monkeypatch.setenv("OM_TEST_BASE_URL", base)
    client = ApiClient(app)
    monkeypatch.delenv("OM_TEST_BASE_URL")
    return client


def _get(base, path, headers=None):
    http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=5, read=GUARD))
    resp = http.request("GET", base + path, headers=headers or {})
    return resp.status, resp.headers


def test_container_a_checkout_stuck_on_the_provider_does_not_stop_a_catalogue_read(app, one_worker, freight_rates,
                                                                                   monkeypatch):
    base, fake, _ = one_worker
    shop = _shop_over(_client(app, base, monkeypatch))
    shop.add(create_product("Kopi Gayo", price=50000, stock=10), 1)
    checkout, result = _run(lambda: shop.checkout().status)
    _wait_for(lambda: fake.requests, "the checkout to reach the provider")
    assert _get(base, "/api/v1/category")[0] == 200  # one worker process, its checkout thread still waiting
    assert _get(base, "/api/v1/health")[0] == 200
    assert checkout.is_alive()
    fake.release.set()
    checkout.join(GUARD)
    assert result.get("value") == 200, result


def _drip(port, head: bytes, body_bytes: int, stop: threading.Event) -> bytes:
    """Send ``head``, then one body byte at a time (one every 0.3 s) until the server answers or closes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=GUARD)
    try:
        s.sendall(head)
        s.settimeout(0.3)
        for _ in range(body_bytes):
            try:
                answer = s.recv(4096)
                return answer  # answered (or closed: b"") before the body was complete
            except TimeoutError:
                pass
            if stop.is_set():
                return b"stopped"
            try:
                s.sendall(b" ")
            except OSError:
                return b""
        s.settimeout(GUARD)
        return s.recv(4096)
    finally:
        s.close()


def test_container_dripped_bodies_get_408_and_other_clients_are_served(one_worker):
    base, _, server = one_worker
    port = int(base.rsplit(":", 1)[1])
    head = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: shop.example.com\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n{")
    stop = threading.Event()
    drippers = [_run(lambda: _drip(port, head, 1000, stop)) for _ in range(8)]
    try:
        assert _get(base, "/api/v1/health")[0] == 200  # served while 8 bodies drip into one worker process
        for thread, _ in drippers:
            thread.join(GUARD)
        for _, answer in drippers:
            assert answer.get("value", b"").startswith(b"HTTP/1.1 408"), answer
        assert _get(base, "/api/v1/health")[0] == 200
    finally:
        stop.set()
    server.stop()
    log = server.proc.stderr.read().decode(errors="replace")
    assert "WORKER TIMEOUT" not in log and log.count("Booting worker") == 1, log[-3000:]


def test_container_dripped_headers_are_cut_off_and_other_clients_are_served(one_worker):
    base, _, _ = one_worker
    port = int(base.rsplit(":", 1)[1])
    stop = threading.Event()

    def drip_head():
        s = socket.create_connection(("127.0.0.1", port), timeout=GUARD)
        try:
            s.settimeout(0.3)
            for byte in b"GET /api/v1/health HTTP/1.1\r\nHost: shop.example.com\r\nX-Slow: " + b"a" * 5000:
                try:
                    return s.recv(4096)  # b"": the server closed the connection
                except TimeoutError:
                    pass
                if stop.is_set():
                    return b"stopped"
                try:
                    s.sendall(bytes([byte]))
                except OSError:
                    return b""
            return b"never cut off"
        finally:
            s.close()

    drippers = [_run(drip_head) for _ in range(8)]
    try:
        assert _get(base, "/api/v1/health")[0] == 200
        for thread, _ in drippers:
            thread.join(GUARD)
        assert all(box.get("value") == b"" for _, box in drippers), [box for _, box in drippers]
    finally:
        stop.set()


def test_container_pool_exhaustion_is_a_503_with_retry_after_not_a_hang(app, one_worker, monkeypatch):
    """The pool holds one connection; a profile change waits on a row lock the test holds, keeping it lent; the next
    request that needs MySQL waits DB_POOL_TIMEOUT_SECONDS and gets 503 with Retry-After."""
    base, _, _ = one_worker
    customer_id = create_customer("buyer@example.com")
    first = _client(app, base, monkeypatch)
    assert login_customer(first).status == 200
    locker = _connect(False)
    try:
        with locker.cursor() as cur:
            cur.execute("SELECT id FROM customers WHERE id = %s FOR UPDATE", (uuid.UUID(customer_id).bytes,))
        change, result = _run(lambda: first.patch("/api/v1/customer/profile", json={"first_name": "Budiman"}).status)

        _wait_for(_someone_waits_for_a_lock, "the profile change to wait on the row lock")
        resp = first.get("/api/v1/customer/profile")
        assert resp.status == 503, resp
        assert resp.headers.get("retry-after") and "error" in resp.json
        assert change.is_alive()
    finally:
        locker.rollback()
        locker.close()
    change.join(GUARD)
    assert result.get("value") == 200, result
    assert first.get("/api/v1/customer/profile").json["first_name"] == "Budiman"


def _connect(autocommit: bool):
    import pymysql

    return pymysql.connect(host=os.environ["DB_HOST"], port=int(os.environ["DB_PORT"]), user=os.environ["DB_USER"],
                           password=os.environ["DB_PASS"], database=os.environ["DB_NAME"], autocommit=autocommit)


def _someone_waits_for_a_lock() -> bool:
    observer = _connect(True)
    try:
        with observer.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'")
            return cur.fetchone()[0] > 0
    finally:
        observer.close()


def test_an_autocommit_statement_that_loses_a_deadlock_is_run_again(monkeypatch):
    """InnoDB answers a deadlock (1213) by rolling the losing transaction back whole — for an autocommit statement,
    just that statement — so db.execute runs it again instead of answering 503 (concurrent cart updates and
    checkouts lock the same inventory rows in different orders). Inside a transaction it is not retried: the whole
    step is (run_in_transaction)."""
    import pymysql

    from support import create_category

    category = create_category("Kopi")
    real = db._Runner._cursor_run
    losses = []

    def lose_once(self, conn, sql, args, many=False):
        if sql.startswith("UPDATE categories") and not losses:
            losses.append(sql)
            raise pymysql.err.OperationalError(1213, "Deadlock found when trying to get lock; try restarting")
        return real(self, conn, sql, args, many)

    monkeypatch.setattr(db._Runner, "_cursor_run", lose_once)
    assert db.execute("UPDATE categories SET name = 'Kopi Gayo' WHERE id = %s", (category,)).rowcount == 1
    assert losses and db.query_one("SELECT name FROM categories WHERE id = %s", (category,))["name"] == "Kopi Gayo"
    losses.clear()
    with pytest.raises(db.Deadlock):
        with db.transaction():
            db.execute("UPDATE categories SET name = 'Kopi Toraja' WHERE id = %s", (category,))
    assert db.query_one("SELECT name FROM categories WHERE id = %s", (category,))["name"] == "Kopi Gayo"
