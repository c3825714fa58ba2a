"""The MySQL layer under faults: a restarted server mid-session gives a clean JSON 503 (never a 500 or a hang) and
the next request after it is back succeeds; a connection killed while idle (Lambda freeze/thaw, wait_timeout) is
replaced transparently; Redis down gives 503 on session endpoints."""
import os

import pymysql
import pytest

from support import create_customer, login_customer


@pytest.fixture
def private_mariadb(tmp_path, monkeypatch):
    """The app pointed at a throwaway MariaDB that the test may stop and start (never the machine's)."""
    from omdb import db, migrate

    from tools.devstack import MariaDB

    server = MariaDB(str(tmp_path / "mariadb")).start()
    for key, value in {**server.env(), "DB_NAME": "faults"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DB_CONNECT_TIMEOUT", "2")
    db.reset()
    migrate.create_database_if_missing()
    migrate.migrate(echo=lambda *_: None)
    yield server
    server.stop()
    db.reset()


def test_restarted_database_gives_503_then_recovers(api, private_mariadb):
    create_customer()
    login_customer(api)
    assert api.get("/api/v1/health/ready").status == 200
    private_mariadb.stop()
    resp = api.post("/api/v1/auth/login", json={"email": "buyer@example.com", "password": "Secret#123"})
    assert resp.status == 503
    assert "error" in resp.json and resp.headers["retry-after"]
    assert api.get("/api/v1/health/ready").json["checks"]["mysql"].startswith("unavailable")
    private_mariadb.start()
    login_customer(api)  # the very next request reconnects
    assert api.get("/api/v1/health/ready").status == 200


def test_connection_killed_while_idle_is_replaced_transparently(api):
    """What Lambda freeze/thaw or wait_timeout does to a pooled connection."""
    from omdb import db

    create_customer()
    conn_id = db.query_one("SELECT CONNECTION_ID() AS id")["id"]
    killer = pymysql.connect(host=os.environ["DB_HOST"], port=int(os.environ["DB_PORT"]), user=os.environ["DB_USER"],
                             password=os.environ["DB_PASS"])
    with killer.cursor() as cur:
        cur.execute(f"KILL {int(conn_id)}")
    killer.close()
    login_customer(api)  # first statement finds the dead connection, reconnects, succeeds
    assert db.query_one("SELECT CONNECTION_ID() AS id")["id"] != conn_id


def test_connection_killed_inside_a_transaction_is_503_and_nothing_half_written(api):
    from omdb import db
    from omdb.errors import DatabaseUnavailable

    with pytest.raises(DatabaseUnavailable):
        with db.transaction() as tx:
            tx.execute("INSERT INTO categories (name, description) VALUES ('half', 'written')")
            conn_id = tx.query_one("SELECT CONNECTION_ID() AS id")["id"]
            killer = pymysql.connect(host=os.environ["DB_HOST"], port=int(os.environ["DB_PORT"]),
                                     user=os.environ["DB_USER"], password=os.environ["DB_PASS"])
            with killer.cursor() as cur:
                cur.execute(f"KILL {int(conn_id)}")
            killer.close()
            tx.execute("INSERT INTO categories (name, description) VALUES ('second', 'half')")
    assert db.query("SELECT name FROM categories WHERE name IN ('half', 'second')") == []


def test_redis_down_gives_503_on_session_endpoints(api, monkeypatch):
    from omcore import kv

    create_customer()
    from tools.devstack import free_port

    monkeypatch.setenv("REDIS_PORT", str(free_port()))  # nothing listens there
    kv.reset_client()
    resp = api.post("/api/v1/auth/login", json={"email": "buyer@example.com", "password": "Secret#123"})
    assert resp.status == 503 and "error" in resp.json
    ready = api.get("/api/v1/health/ready")
    assert ready.status == 503 and ready.json["checks"]["redis"].startswith("unavailable")
    monkeypatch.undo()
    kv.reset_client()
    login_customer(api)
