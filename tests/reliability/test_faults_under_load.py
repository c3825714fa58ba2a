"""Faults during load: the database restarted and Redis killed while shoppers keep buying. Requests fail fast with
503 (never a 500 or a hang), the service recovers within seconds after the servers return, and no order or stock
change is lost or applied twice."""
import threading
import time

import pytest

import loadgen as load
from loadgen import Server, assert_stock_invariants, setup_shop

ALLOWED = {200, 201, 304, 400, 401, 403, 404, 409, 429, 502, 503}


@pytest.fixture
def private_stack(tmp_path, monkeypatch):
    """Private MariaDB and Redis (the test stops and kills them), migrated, with areas and freight rates."""
    from omcore import kv
    from omdb import db, migrate

    from tools.catalogue import areas
    from tools.devstack import MariaDB, Redis
    from tools.freight import demo

    mariadb = MariaDB(str(tmp_path / "mariadb")).start()
    redis = Redis().start()
    env = {**mariadb.env(), **redis.env(), "DB_NAME": "faults", "DB_CONNECT_TIMEOUT": "2",
           "REDIS_CONNECT_TIMEOUT_MS": "500", "REDIS_TIMEOUT_MS": "1000"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    db.reset()
    kv.reset_client()
    migrate.create_database_if_missing()
    migrate.migrate(echo=lambda *_: None)
    areas.load()
    demo.load()
    yield mariadb, redis, env
    mariadb.stop()
    if redis.proc.poll() is None:
        redis.proc.terminate()
    db.reset()
    kv.reset_client()


def test_database_restart_and_redis_kill_during_load(private_stack, report):
    from omcore import kv
    from omdb import db

    from tools.payments.fake_midtrans import FakeMidtrans

    mariadb, redis, env = private_stack
    fake = FakeMidtrans(server_key="SB-Mid-server-FAULT", notification_url="http://127.0.0.1:9/").start()
    server = Server({**env, **fake.env(), "MIDTRANS_BASE_ORDER_ID": "FAULT", "MIDTRANS_TIMEOUT_SECONDS": "5"})
    fake.notification_url = f"{server.base}/api/v1/webhook/midtrans"
    try:
        products, shoppers, addresses = setup_shop(server.base, 12)
        stop = threading.Event()
        loader = threading.Thread(target=load.run, args=(shoppers, 1000, products, addresses),
                                  kwargs={"stop": stop})
        loader.start()
        time.sleep(1.5)
        mariadb.stop()  # the database goes away mid-load ...
        time.sleep(2.0)
        mariadb.start()  # ... and comes back on the same port
        time.sleep(1.5)
        redis.proc.kill()  # Redis dies (no persistence: every session is lost) ...
        redis.proc.wait()
        time.sleep(1.5)
        redis.start()  # ... and is restarted empty on the same port
        restarted = time.perf_counter()
        recovered = None
        probe = load.Shopper(server.base, "probe@example.com", "x")
        while time.perf_counter() - restarted < 20:
            status, _ = probe.call("GET", "/api/v1/health/ready")
            if status == 200:
                recovered = time.perf_counter() - restarted
                break
            time.sleep(0.1)
        time.sleep(1.0)
        stop.set()
        loader.join(timeout=60)
        assert not loader.is_alive()
        statuses = [s for shopper in shoppers for s in shopper.statuses]
        unexpected = sorted({s for s in statuses if s not in ALLOWED})
        assert unexpected == [], unexpected
        assert recovered is not None, "not ready again within 20 s of the servers' return"
        db.reset()
        kv.reset_client()
        assert_stock_invariants(products)
        # everyone can carry on after logging in again
        for shopper in shoppers[:3]:
            assert shopper.login() == 200
            assert shopper.call("GET", "/api/v1/customer/cart-count")[0] == 200
        report.update({"requests": len(statuses), "503": statuses.count(503), "500": statuses.count(500),
                       "recovered_after_s": round(recovered, 2),
                       "orders": db.query_one("SELECT COUNT(*) AS n FROM orders")["n"]})
    finally:
        server.stop()
        fake.stop()
