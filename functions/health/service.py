"""Liveness and readiness."""
from __future__ import annotations

from omcore import kv
from omdb import db
from omdb.errors import DatabaseError


def readiness() -> dict:
    checks = {}
    try:
        db.query_one("SELECT 1 AS ok")
        checks["mysql"] = "ok"
    except DatabaseError as exc:
        checks["mysql"] = f"unavailable ({type(exc).__name__})"
    try:
        kv.client().ping()
        checks["redis"] = "ok"
    except kv.RedisError as exc:
        checks["redis"] = f"unavailable ({type(exc).__name__})"
    return {"ready": all(v == "ok" for v in checks.values()), "checks": checks}
