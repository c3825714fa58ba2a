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
# Counters:
#   * per account *and* client IP (LOGIN_FAIL_PER_ACCOUNT, default 5 per LOGIN_FAIL_WINDOW_SECONDS, 900): guessing
#     from one client stops quickly (429), and it does not lock the account for anyone else;
#   * per client IP over every account (LOGIN_FAIL_PER_IP, default 50 per LOGIN_FAIL_WINDOW_SECONDS): 429;
#   * per account from every client together (LOGIN_FAIL_PER_ACCOUNT_GLOBAL, default 20 per
#     LOGIN_FAIL_GLOBAL_WINDOW_SECONDS, 3600): the ceiling against guessing spread over many addresses. Past it the
#     account is *slowed*, not closed: a client that has already failed on this account waits a delay since the
#     account's last failure that doubles with every further failure (2 s, 4 s, 8 s ... at most
#     LOGIN_FAIL_WINDOW_SECONDS), while a client that has not failed on it still has its password checked — so the
#     owner's right password from their own device gets in, whatever strangers elsewhere send. (A flat refusal let
#     24 wrong passwords an hour from 4 addresses keep any account, the super admin included, closed for good.)
# A successful login clears its own account+client counter (not the global one: an attacker's failures from other
# addresses keep counting). A new password (a completed reset, a change, the operator's reset) clears all of them,
# every client's included: the owner proved control of the account, and guesses at the old password are moot. The
# account+client keys are digests, so each account keeps the set of its clients' keys (``_clients_key``).

SLOWDOWN_BASE_SECONDS = 2


def canonical_name(value: str) -> str:
    """Case- and accent-insensitive form of a typed account name (for limits only, never for matching)."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", value.strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _login_limits():
    from omcore import config

    return (config.get_int("LOGIN_FAIL_WINDOW_SECONDS"), config.get_int("LOGIN_FAIL_PER_ACCOUNT"),
            config.get_int("LOGIN_FAIL_PER_IP"), config.get_int("LOGIN_FAIL_GLOBAL_WINDOW_SECONDS"),
            config.get_int("LOGIN_FAIL_PER_ACCOUNT_GLOBAL"))


def _pair(account: str, ip: str) -> str:
    return f"{account}\n{ip}"


def _last_key(bucket: str, account: str) -> str:
    return _key(f"{bucket}-acct-last", account)


def _clients_key(bucket: str, account: str) -> str:
    return _key(f"{bucket}-acct-clients", account)


def check_login(bucket: str, account: str, ip: str) -> None:
    """Refuse (429 + Retry-After) while a failed-login limit of this account/client applies (one Redis round
    trip)."""
    import time

    window, per_account, per_ip, global_window, per_account_global = _login_limits()
    acct_msg = "too many failed logins for this account, please try again later"
    pair_key, acct_key, ip_key = (_key(f"{bucket}-acct-ip", _pair(account, ip)), _key(f"{bucket}-acct", account),
                                  _key(f"{bucket}-ip", ip))

    def run(c):
        pair, acct, per_client, last = c.mget([pair_key, acct_key, ip_key, _last_key(bucket, account)])
        if per_client is not None and int(per_client) >= per_ip:
            raise TooManyRequests("too many failed logins from your network, please try again later",
                                  _retry_after(c, ip_key, window))
        if pair is not None and int(pair) >= per_account:
            raise TooManyRequests(acct_msg, _retry_after(c, pair_key, window))
        if pair is not None and acct is not None and int(acct) >= per_account_global:
            # this client has failed here and the account is past its ceiling: wait out the growing delay
            delay = min(window, SLOWDOWN_BASE_SECONDS * 2 ** min(int(acct) - per_account_global, 20))
            wait = float(last or 0) + delay - time.time()
            if wait > 0:
                raise TooManyRequests(acct_msg, max(1, int(wait + 0.999)))

    kv.required(run)


def login_failed(bucket: str, account: str, ip: str) -> None:
    import time

    window, _, _, global_window, _ = _login_limits()

    pair_key, clients_key = _key(f"{bucket}-acct-ip", _pair(account, ip)), _clients_key(bucket, account)

    def run(c):
        pipe = c.pipeline(transaction=True)
        for key, win in ((pair_key, window), (_key(f"{bucket}-acct", account), global_window),
                         (_key(f"{bucket}-ip", ip), window)):
            pipe.incr(key)
            pipe.expire(key, win, nx=True)
        pipe.set(_last_key(bucket, account), f"{time.time():.3f}", ex=global_window)
        pipe.sadd(clients_key, pair_key)  # outlives each member: a member's key expires within a window of its add
        pipe.expire(clients_key, window)
        pipe.execute()

    kv.required(run)


def login_succeeded(bucket: str, account: str, ip: str) -> None:
    reset(f"{bucket}-acct-ip", _pair(account, ip))


def account_recovered(bucket: str, account: str) -> None:
    """The account has a new password (reset, change, operator): clear every failed-login counter of the account —
    each client's, and the global ceiling with its delay (the per-client-IP counters over all accounts stay)."""
    clients_key = _clients_key(bucket, account)

    def run(c):
        keys = [*c.smembers(clients_key), clients_key, _key(f"{bucket}-acct", account), _last_key(bucket, account)]
        c.delete(*keys)

    kv.required(run)
