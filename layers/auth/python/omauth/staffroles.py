"""Live staff roles: what a staff guard checks on every request, cached in Redis.

The access token's role claims are a login-time snapshot; guards never trust them. They read
``staffroles:<id>`` (JSON: username, the three role flags, ``active``) in the same Redis round trip as the session
record, and fall back to the ``staffs`` row on a miss.

Consistency with the database:
* every change made through the API (role change, password, deletion) *writes* the new value after the UPDATE
  (``publish``), so the very next request sees it;
* a guard that missed the cache fills it with ``SET NX``: a fill that read the row before a concurrent change
  cannot overwrite the value the change published afterwards (deleting the key instead would allow exactly that);
* entries expire after ``TTL_SECONDS``, which bounds how long a change made outside the API (SQL by hand) can take;
  a staff login or refresh re-reads the row and publishes it at once.
"""
from __future__ import annotations

import json

from omcore import kv

TTL_SECONDS = 300
ROLES = ("fin_user", "inv_user", "sys_admin")
_COLUMNS = "username, fin_user, inv_user, sys_admin, deleted_at"


def key(staff_id) -> str:
    return f"staffroles:{int(staff_id)}"


def encode(row: dict | None) -> str:
    """The cached form of a ``staffs`` row (None or deleted → inactive)."""
    if row is None or row.get("deleted_at") is not None:
        return json.dumps({"active": False})
    return json.dumps({"active": True, "username": row["username"],
                       **{role: bool(row[role]) for role in ROLES}})


def decode(raw: str | None) -> dict | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _row(staff_id: int) -> dict | None:
    from omdb import db  # every function with a staff route also has the mysql layer

    return db.query_one(f"SELECT {_COLUMNS} FROM staffs WHERE id = %s", (int(staff_id),))


def load(staff_id: int) -> dict:
    """Cache miss: read the row and fill the cache (never overwriting a value a change published meanwhile)."""
    raw = encode(_row(staff_id))
    kv.required(lambda c: c.set(key(staff_id), raw, ex=TTL_SECONDS, nx=True))
    return json.loads(raw)


_READ = object()


def publish(staff_id: int, row=_READ) -> None:
    """After a change: write the row's current state (read now unless given; None = gone) so the next request
    sees it."""
    if row is _READ:
        row = _row(staff_id)
    raw = encode(row)
    kv.required(lambda c: c.set(key(staff_id), raw, ex=TTL_SECONDS))
