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
