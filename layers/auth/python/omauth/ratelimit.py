"""Fixed-window rate limits in Redis. A refused attempt raises 429 with ``Retry-After`` (seconds to window end).

    ratelimit.hit("login-ip", ip, limit=30, window=900)     # count one attempt; refuse past the limit
    ratelimit.check("login-acct", email, limit=5, window=900)  # refuse if already past, without counting
"""
from __future__ import annotations

import hashlib

from omcore import kv
from omcore.errors import TooManyRequests

MESSAGE = "too many attempts, please try again later"


def _key(bucket: str, subject: str) -> str:
    digest = hashlib.sha256(subject.encode("utf-8")).hexdigest()[:32]
    return f"rl:{bucket}:{digest}"


def _retry_after(client, key: str, window: int) -> int:
    ttl = client.ttl(key)
    return ttl if ttl and ttl > 0 else window


def hit(bucket: str, subject: str, *, limit: int, window: int, message: str = MESSAGE) -> int:
    key = _key(bucket, subject)

    def run(c):
        pipe = c.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, window, nx=True)
        count = pipe.execute()[0]
        if count > limit:
            raise TooManyRequests(message, _retry_after(c, key, window))
        return count

    return kv.required(run)


def check(bucket: str, subject: str, *, limit: int, window: int, message: str = MESSAGE) -> None:
    key = _key(bucket, subject)

    def run(c):
        count = c.get(key)
        if count is not None and int(count) >= limit:
            raise TooManyRequests(message, _retry_after(c, key, window))

    kv.required(run)


def count(bucket: str, subject: str, *, window: int) -> int:
    """Count one event without refusing (e.g. a failed login); returns the count in the window."""
    key = _key(bucket, subject)

    def run(c):
        pipe = c.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, window, nx=True)
        return pipe.execute()[0]

    return kv.required(run)


def reset(bucket: str, subject: str) -> None:
    kv.required(lambda c: c.delete(_key(bucket, subject)))


# ---- failed-login limits, shared by customer and staff login ----

def _login_limits():
    from omcore import config

    return (config.get_int("LOGIN_FAIL_WINDOW_SECONDS", 900), config.get_int("LOGIN_FAIL_PER_ACCOUNT", 5),
            config.get_int("LOGIN_FAIL_PER_IP", 50))


def check_login(bucket: str, account: str, ip: str) -> None:
    """Refuse (429 + Retry-After) while the account or the client IP is past its failed-login limit."""
    window, per_account, per_ip = _login_limits()
    check(f"{bucket}-acct", account, limit=per_account, window=window,
          message="too many failed logins for this account, please try again later")
    check(f"{bucket}-ip", ip, limit=per_ip, window=window,
          message="too many failed logins from your network, please try again later")


def login_failed(bucket: str, account: str, ip: str) -> None:
    window, _, _ = _login_limits()
    count(f"{bucket}-acct", account, window=window)
    count(f"{bucket}-ip", ip, window=window)


def login_succeeded(bucket: str, account: str) -> None:
    reset(f"{bucket}-acct", account)
