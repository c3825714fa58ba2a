"""Liveness and readiness."""
from __future__ import annotations

from omcore import kv
from omdb import db
from omdb.errors import DatabaseError


def readiness() -> dict:
    """MySQL and the main Redis must answer; the cache Redis may be down (reads fall through to MySQL) but must not
    be refused for its eviction policy (a misconfiguration, ``omcore.nearcache``). The main Redis is asked over the
    lean client, so readiness imports neither redis-py nor asyncio."""
    checks = {}
    try:
        db.query_one("SELECT 1 AS ok")
        checks["mysql"] = "ok"
    except DatabaseError as exc:
        checks["mysql"] = f"unavailable ({type(exc).__name__})"
    try:
        kv.ping()
        checks["redis"] = "ok"
    except kv.RedisFailure as exc:
        checks["redis"] = f"unavailable ({str(exc)[:60]})"
    ready = all(v == "ok" for v in checks.values())
    try:
        kv.cache_client().execute("PING")
        checks["cache"] = "ok"
    except kv.CacheRefused as exc:
        checks["cache"] = f"refused: {exc}"
        ready = False
    except kv.RedisFailure as exc:
        checks["cache"] = f"unavailable ({str(exc)[:60]}), reads fall through to MySQL"
    return {"ready": ready, "checks": checks}
