"""Behind RDS Proxy a client `SET` may pin the proxy session to one database connection, so the per-connection
`SET time_zone` can be turned off (DB_SESSION_TIME_ZONE=false; the proxy's InitQuery sets it instead)."""
from omdb import db


def _zone():
    db.reset()
    return db.query_one("SELECT @@session.time_zone AS zone, @@global.time_zone AS global_zone")


def test_each_connection_runs_in_utc_by_default(monkeypatch):
    monkeypatch.delenv("DB_SESSION_TIME_ZONE", raising=False)
    assert _zone()["zone"] == "+00:00"


def test_behind_the_proxy_the_client_sends_no_set(monkeypatch):
    monkeypatch.setenv("DB_SESSION_TIME_ZONE", "false")
    try:
        zone = _zone()
        assert zone["zone"] == zone["global_zone"]
    finally:
        monkeypatch.delenv("DB_SESSION_TIME_ZONE")
        db.reset()
