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
#
# ``account`` is the account's canonical identity: its row id once the lookup found it, otherwise the normalised
# name that was typed (``canonical_name``), so ``Admin``, ``ADMIN`` and ``ádmin`` all count against one account.
# Three counters, each refusing with 429 + Retry-After once past its limit:
#   * per account *and* client IP (LOGIN_FAIL_PER_ACCOUNT, default 5 per LOGIN_FAIL_WINDOW_SECONDS, 900): guessing
#     from one client stops quickly, and it does not lock the account for anyone else;
#   * per account from every client together (LOGIN_FAIL_PER_ACCOUNT_GLOBAL, default 20 per
#     LOGIN_FAIL_GLOBAL_WINDOW_SECONDS, 3600): the slower ceiling against guessing spread over many addresses;
#   * per client IP over every account (LOGIN_FAIL_PER_IP, default 50 per LOGIN_FAIL_WINDOW_SECONDS).
# A successful login clears its own account+client counter (not the global one: an attacker's failures from other
# addresses keep counting).


def canonical_name(value: str) -> str:
    """Case- and accent-insensitive form of a typed account name (for limits only, never for matching)."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", value.strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _login_limits():
    from omcore import config

    return (config.get_int("LOGIN_FAIL_WINDOW_SECONDS", 900), config.get_int("LOGIN_FAIL_PER_ACCOUNT", 5),
            config.get_int("LOGIN_FAIL_PER_IP", 50), config.get_int("LOGIN_FAIL_GLOBAL_WINDOW_SECONDS", 3600),
            config.get_int("LOGIN_FAIL_PER_ACCOUNT_GLOBAL", 20))


def _pair(account: str, ip: str) -> str:
    return f"{account}\n{ip}"


def check_login(bucket: str, account: str, ip: str) -> None:
    """Refuse (429 + Retry-After) while any failed-login counter of this account/client is at its limit
    (one Redis round trip)."""
    window, per_account, per_ip, global_window, per_account_global = _login_limits()
    acct_msg = "too many failed logins for this account, please try again later"
    limits = [(_key(f"{bucket}-acct-ip", _pair(account, ip)), per_account, window, acct_msg),
              (_key(f"{bucket}-acct", account), per_account_global, global_window, acct_msg),
              (_key(f"{bucket}-ip", ip), per_ip, window,
               "too many failed logins from your network, please try again later")]

    def run(c):
        counts = c.mget([k for k, *_ in limits])
        for (key, limit, win, message), value in zip(limits, counts):
            if value is not None and int(value) >= limit:
                raise TooManyRequests(message, _retry_after(c, key, win))

    kv.required(run)


def login_failed(bucket: str, account: str, ip: str) -> None:
    window, _, _, global_window, _ = _login_limits()

    def run(c):
        pipe = c.pipeline(transaction=True)
        for key, win in ((_key(f"{bucket}-acct-ip", _pair(account, ip)), window),
                         (_key(f"{bucket}-acct", account), global_window), (_key(f"{bucket}-ip", ip), window)):
            pipe.incr(key)
            pipe.expire(key, win, nx=True)
        pipe.execute()

    kv.required(run)


def login_succeeded(bucket: str, account: str, ip: str) -> None:
    reset(f"{bucket}-acct-ip", _pair(account, ip))


def account_recovered(bucket: str, account: str) -> None:
    """The owner proved control of the account another way (password reset): clear its global counter."""
    reset(f"{bucket}-acct", account)
