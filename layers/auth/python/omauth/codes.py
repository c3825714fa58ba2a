"""One-time 6-digit codes in Redis (registration, password reset, email change).

* Codes are 100000–999999: never a leading zero, because the storefront posts the code as a JSON number.
* One code per (purpose, subject); a new code replaces the old one.
* At most ``max_attempts`` wrong tries per code: the attempt is counted *before* comparing, so the try after the
  last allowed one is refused even with the right code, and the code is deleted.
* A code is deleted when used (single use even under concurrency: only the caller whose DEL removed it wins).
* Comparison is constant-time.
* Across reissues, wrong codes per (purpose, subject) are capped per day (``daily_limit``; a new code does not
  bring new guesses): past the cap every check answers ``LOCKED`` — even the right code — until the day-long
  window (counted from the first wrong code) ends. ``locked`` tells the issuing step not to mail a code that
  could not be used anyway.
* A code is bound to the address it was mailed to (``issue(..., address=)``): a check that names the account's
  address now (``check(..., address=)``) finds no code when that address is not the one the code went to. And
  every pending code of an account dies with a change of its email or password (``discard_account``): a code read
  in a mailbox the owner has left, or by whoever had the old password, opens nothing.
"""
from __future__ import annotations

import hmac
import secrets

from omcore import kv

OK = "ok"
WRONG = "wrong"
MISSING = "missing"
EXHAUSTED = "exhausted"
LOCKED = "locked"
DAY = 24 * 3600


def new_code() -> str:
    return str(100000 + secrets.randbelow(900000))


def _key(purpose: str, subject: str) -> str:
    return f"code:{purpose}:{subject}"


def _address(value: str | None) -> str:
    return (value or "").strip().lower()


def issue(purpose: str, subject: str, ttl_seconds: int, extra: dict | None = None, *,
          address: str | None = None) -> str:
    """A new code for (purpose, subject), replacing any earlier one; ``address`` is where it is mailed."""
    code = new_code()
    key = _key(purpose, subject)
    bound = {"to": _address(address)} if address is not None else {}

    def run(c):
        pipe = c.pipeline(transaction=True)
        pipe.delete(key)
        pipe.hset(key, mapping={"code": code, "attempts": 0, **(extra or {}), **bound})
        pipe.expire(key, ttl_seconds)
        pipe.execute()

    kv.required(run)
    return code


def normalise(submitted) -> str | None:
    """The storefront sends a JSON number; other clients may send a string of digits."""
    if isinstance(submitted, bool):
        return None
    if isinstance(submitted, int):
        return str(submitted) if 0 <= submitted <= 999999 else None
    if isinstance(submitted, str) and submitted.strip().isdigit() and len(submitted.strip()) <= 6:
        return str(int(submitted.strip()))
    return None


def _fail_key(purpose: str, subject: str) -> str:
    return f"codefail:{purpose}:{subject}"


def locked(purpose: str, subject: str, daily_limit: int) -> int:
    """0 while wrong codes for this subject are under the daily cap, else the seconds until the cap resets."""
    fkey = _fail_key(purpose, subject)

    def run(c):
        count = c.get(fkey)
        if count is None or int(count) < daily_limit:
            return 0
        ttl = c.ttl(fkey)
        return ttl if ttl and ttl > 0 else DAY

    return kv.required(run)


def check(purpose: str, subject: str, submitted, *, max_attempts: int = 5,
          daily_limit: int | None = None, address: str | None = None) -> tuple[str, dict]:
    """Consume one attempt; returns (OK|WRONG|MISSING|EXHAUSTED|LOCKED, stored extra fields). With ``address``
    (the account's address now) a code mailed anywhere else counts as no code (and is deleted)."""
    key = _key(purpose, subject)
    fkey = _fail_key(purpose, subject)
    value = normalise(submitted)

    def run(c):
        if daily_limit is not None:
            # every try counts *before* anything is compared (a missing code too, so the answers do not depend on
            # whether a code, or an account, exists) and parallel guesses cannot overshoot the cap; the right code
            # gives its count back below
            pipe = c.pipeline(transaction=True)
            pipe.incr(fkey)
            pipe.expire(fkey, DAY, nx=True)
            if pipe.execute()[0] > daily_limit:
                return LOCKED, {}
        if not c.exists(key):
            return MISSING, {}
        attempts = c.hincrby(key, "attempts", 1)
        stored = c.hgetall(key)
        if not stored.get("code"):
            return MISSING, {}
        if address is not None and not hmac.compare_digest(stored.get("to", "").encode(),
                                                            _address(address).encode()):
            c.delete(key)
            return MISSING, {}
        if attempts > max_attempts:
            c.delete(key)
            return EXHAUSTED, {}
        if value is not None and hmac.compare_digest(stored["code"].encode(), value.encode()):
            if daily_limit is not None:
                c.decr(fkey)
            if c.delete(key) == 1:  # single use: a concurrent winner already consumed it otherwise
                return OK, {k: v for k, v in stored.items() if k not in ("code", "attempts", "to")}
            return MISSING, {}
        return WRONG, {}

    return kv.required(run)


def discard(purpose: str, subject: str) -> None:
    kv.required(lambda c: c.delete(_key(purpose, subject)))


ACCOUNT_PURPOSES = ("reset", "email-change")


def discard_account(subject: str, *addresses: str | None, purposes: tuple[str, ...] = ACCOUNT_PURPOSES) -> None:
    """Every pending code of an account: its reset and email-change codes (keyed by ``subject``) and the
    registration codes of each of its addresses (old and new). Called when its email or password changes."""
    keys = [_key(p, subject) for p in purposes]
    keys += [_key("register", _address(a)) for a in addresses if a]
    kv.required(lambda c: c.delete(*keys))


def throttle(purpose: str, subject: str, seconds: int) -> int:
    """Allow one event per ``seconds`` per subject: returns 0 when allowed now, else the seconds to wait."""
    key = f"throttle:{purpose}:{subject}"

    def run(c):
        if c.set(key, "1", ex=seconds, nx=True):
            return 0
        ttl = c.ttl(key)
        return ttl if ttl and ttl > 0 else seconds

    return kv.required(run)
