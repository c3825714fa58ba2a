"""Refresh-token sessions ("login families") in Redis, stored as real JSON.

* A login creates a family; its refresh token is an opaque 256-bit random string, stored only as a SHA-256 hash.
* Every refresh rotates the token. The token just replaced stays usable for a short grace window
  (``REFRESH_GRACE_SECONDS``, default 30 s) so two tabs refreshing at once do not log the user out; inside the
  window it yields a new access token but no new refresh token (the browser keeps the one the winner set).
* Presenting any older token of the family is treated as theft: the whole family is revoked.
* The family's lifetime is absolute (``REFRESH_TTL_SECONDS``, default 14 days); rotation keeps the remaining TTL.
* ``revoke_user`` ends every family of a user (password change/reset, staff demotion or deletion).
* The family id is the access token's ``sid`` claim, and the route guards look the family up on every request
  (``key(kind, sid)``): ending a family ends its access tokens at once, not when they expire.

Keys: ``sess:<kind>:<family>`` (JSON), ``rt:<kind>:<sha256(token)>`` → family, ``usess:<kind>:<user>`` (set).
"""
from __future__ import annotations

import hashlib
import json
import secrets
import time
from typing import NamedTuple

from omcore import config, kv
from omcore.errors import Unauthorized

_ROTATE = """
local fid = redis.call('GET', KEYS[1])
if not fid then return {'unknown'} end
local skey = ARGV[6] .. fid
local raw = redis.call('GET', skey)
if not raw then return {'unknown'} end
local ttl = redis.call('PTTL', skey)
if ttl <= 0 then return {'unknown'} end
local s = cjson.decode(raw)
local now = tonumber(ARGV[3])
if s['cur'] == ARGV[1] then
  s['prev'] = s['cur']
  s['prev_until'] = now + tonumber(ARGV[4])
  s['cur'] = ARGV[2]
  local encoded = cjson.encode(s)
  redis.call('SET', skey, encoded, 'PX', ttl)
  redis.call('SET', ARGV[5] .. ARGV[2], fid, 'PX', ttl)
  return {'rotated', fid, encoded, tostring(ttl)}
end
if s['prev'] == ARGV[1] and now <= tonumber(s['prev_until'] or 0) then
  return {'grace', fid, raw, tostring(ttl)}
end
redis.call('DEL', skey)
redis.call('SREM', ARGV[7] .. s['uid'], fid)
return {'reused', fid, raw, '0'}
"""

_rotate_script = None

CUSTOMER = "cus"
STAFF = "stf"


def key(kind: str, family: str) -> str:
    """The Redis key of a family's record (what a guard reads to check that an access token's session lives)."""
    return f"sess:{kind}:{family}"


def record_user(raw: str | None) -> str | None:
    """The user id stored in a family record (None for a missing or unreadable record)."""
    if not raw:
        return None
    try:
        uid = json.loads(raw).get("uid")
    except (ValueError, AttributeError):
        return None
    return str(uid) if uid is not None else None


class Session(NamedTuple):  # not a dataclass: keeps `dataclasses` + `inspect` out of the cold start
    kind: str
    family: str
    user_id: str
    remember_me: bool
    data: dict
    ttl_seconds: int
    refresh_token: str | None  # the new token after a rotation; None inside the grace window


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def refresh_ttl_seconds() -> int:
    return config.get_int("REFRESH_TTL_SECONDS")


def _grace_seconds() -> int:
    return config.get_int("REFRESH_GRACE_SECONDS")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def create(kind: str, user_id: str, *, remember_me: bool, user_agent: str = "", data: dict | None = None) -> Session:
    token = new_token()
    family = secrets.token_urlsafe(16)
    ttl = refresh_ttl_seconds()
    now = time.time()
    record = {"uid": str(user_id), "remember_me": bool(remember_me), "ua": user_agent[:256],
              "created": now, "cur": _hash(token), "prev": None, "prev_until": 0, "data": data or {}}

    def run(c):
        pipe = c.pipeline(transaction=True)
        pipe.set(f"sess:{kind}:{family}", json.dumps(record), ex=ttl)
        pipe.set(f"rt:{kind}:{_hash(token)}", family, ex=ttl)
        pipe.sadd(f"usess:{kind}:{user_id}", family)
        pipe.expire(f"usess:{kind}:{user_id}", ttl)
        pipe.execute()

    kv.required(run)
    return Session(kind, family, str(user_id), bool(remember_me), record["data"], ttl, token)


def rotate(kind: str, token: str | None) -> Session:
    """Exchange a refresh token for the next one, or raise 401. Reuse of a rotated token revokes the family."""
    if not token or len(token) > 256:
        raise Unauthorized("no valid session, please log in")
    new = new_token()

    def run(c):
        global _rotate_script
        if _rotate_script is None:
            _rotate_script = c.register_script(_ROTATE)
        return _rotate_script(
            keys=[f"rt:{kind}:{_hash(token)}"],
            args=[_hash(token), _hash(new), time.time(), _grace_seconds(), f"rt:{kind}:", f"sess:{kind}:",
                  f"usess:{kind}:"],
            client=c)

    result = kv.required(run)
    outcome = result[0]
    if outcome == "reused":
        raise Unauthorized("session revoked, please log in again")
    if outcome not in ("rotated", "grace"):
        raise Unauthorized("no valid session, please log in")
    record = json.loads(result[2])
    ttl = max(1, int(result[3]) // 1000)
    return Session(kind, result[1], record["uid"], bool(record.get("remember_me")), record.get("data") or {},
                   ttl, new if outcome == "rotated" else None)


def revoke(kind: str, token: str | None) -> None:
    """End the family that ``token`` belongs to (logout). Unknown tokens are ignored."""
    if not token or len(token) > 256:
        return

    def run(c):
        family = c.get(f"rt:{kind}:{_hash(token)}")
        if not family:
            return
        raw = c.get(f"sess:{kind}:{family}")
        pipe = c.pipeline(transaction=True)
        pipe.delete(f"sess:{kind}:{family}", f"rt:{kind}:{_hash(token)}")
        if raw:
            pipe.srem(f"usess:{kind}:{json.loads(raw)['uid']}", family)
        pipe.execute()

    kv.required(run)


def revoke_family(kind: str, user_id: str, family: str) -> None:
    def run(c):
        pipe = c.pipeline(transaction=True)
        pipe.delete(f"sess:{kind}:{family}")
        pipe.srem(f"usess:{kind}:{user_id}", family)
        pipe.execute()

    kv.required(run)


def revoke_own(kind: str, user_id: str, family: str | None) -> None:
    """End ``family`` only when it belongs to ``user_id`` (logout by access token: the token's ``sid``)."""
    if not family or len(family) > 64:
        return

    def run(c):
        if record_user(c.get(f"sess:{kind}:{family}")) != str(user_id):
            return
        pipe = c.pipeline(transaction=True)
        pipe.delete(f"sess:{kind}:{family}")
        pipe.srem(f"usess:{kind}:{user_id}", family)
        pipe.execute()

    kv.required(run)


def logout(kind: str, audience: str, refresh_token: str | None, access_token_value: str | None) -> None:
    """End the session of the refresh cookie and the one the access cookie belongs to (usually the same family;
    a client that lost its refresh cookie still ends its access token). A forged access token ends nothing."""
    from . import tokens

    revoke(kind, refresh_token)
    if access_token_value:
        try:
            claims = tokens.decode(audience, access_token_value)
        except Unauthorized:
            return
        revoke_own(kind, str(claims["sub"]), claims.get("sid"))


def revoke_user(kind: str, user_id: str, *, except_family: str | None = None) -> int:
    """End every session of a user (optionally keeping the caller's own). Returns how many were ended."""

    def run(c):
        key = f"usess:{kind}:{user_id}"
        families = [f for f in c.smembers(key) if f != except_family]
        if not families:
            return 0
        pipe = c.pipeline(transaction=True)
        pipe.delete(*[f"sess:{kind}:{f}" for f in families])
        pipe.srem(key, *families)
        pipe.execute()
        return len(families)

    return kv.required(run)
