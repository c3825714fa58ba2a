"""Redis access: two roles, short timeouts, one key namespace. This module holds the roles, the settings and the
connection factories; the wire is ``omcore.resp`` (one connection, parsed by hiredis), the main Redis's commands are
``omcore.redismain`` and the cache connection with its near cache is ``omcore.nearcache``.

* **Main Redis** (``REDIS_*``; ``required()``/``required_get()``): sessions, one-time codes, rate limits, locks and
  the image event list. It *must* work (a failure is a clean 503 via ``RedisUnavailable``) and must never evict
  (``noeviction``). Served by the lean client (``omcore.redismain``: redis-py's API subset the layers use), so no
  function imports redis-py; ``client()`` is redis-py itself, for the admin tools, the image worker and scripts.
* **Cache Redis** (``REDIS_CACHE_*``; ``cache_get``/``cache_set``/``cache_delete``/``cache_delete_pattern``):
  catalogue, search, area-suggest, freight and cart-count caches. It may evict (``allkeys-lru``) and may fail: a
  failure is swallowed, so a read falls through to MySQL, and the outage is logged once per outage.
  ``REDIS_CACHE_HOST`` set → its own server (``REDIS_CACHE_PORT`` 6379, ``REDIS_CACHE_PASS``, ``REDIS_CACHE_DB`` 0,
  ``REDIS_CACHE_TLS`` false); unset → the main server's host/port/password/TLS, in logical DB ``REDIS_CACHE_DB``
  (default: the main ``REDIS_DB``). A server with ``maxmemory`` and ``noeviction`` is refused as a cache unless
  ``CACHE_ALLOW_NOEVICTION`` is set (``omcore.nearcache``). Hot public reads also use the near cache.

Connection factories: ``_lean_connection(settings, tracking)`` makes every lean connection; ``_main_pool()`` lends
the main Redis's (a ``resp.Pool``: at most ``REDIS_POOL_SIZE`` per process, a caller that finds them all lent waits
``REDIS_POOL_TIMEOUT_SECONDS``, then 503); ``cache_client()`` is the cache's — one per process, because it holds the
near cache and its one invalidation channel, and a caller waits at most ``REDIS_POOL_TIMEOUT_SECONDS`` for it (then a
cache miss); ``client()`` makes redis-py's. On Lambda (one request per process) the pool makes one connection and
nobody ever waits; on the container's threads the waits are bounded, so a Redis that stops answering costs each
request at most the pool wait plus one read timeout, not every earlier waiter's timeout in turn.
"""
from __future__ import annotations

import logging
import os
import threading

from . import config, snapstart
from .log import get_logger
from .nearcache import CacheConnection, CacheRefused  # noqa: F401 (callers use kv.CacheRefused)
from .redismain import MainConnection
from .resp import Pool, RedisFailure

log = get_logger("kv")

_client = None
_cache = None
_main_pool_ = None
_lock = threading.Lock()
_cache_outage_logged = False

# the names callers and tests know
_CacheConnection = CacheConnection
CacheError = RedisFailure


def _redis():
    """redis-py, imported on first use: its import (asyncio, cluster, sentinel modules) is the largest part of a
    function's cold start, and a request that never touches the main Redis should not pay for it."""
    import redis

    return redis


def __getattr__(name):
    if name == "RedisError":
        return _redis().RedisError
    raise AttributeError(name)


class RedisUnavailable(Exception):
    """Redis could not be reached; the HTTP layer answers 503."""


from .errors import register as _register  # noqa: E402

_register(RedisUnavailable, 503, "session store temporarily unavailable, please retry")


def _main_settings() -> dict:
    return {
        "host": config.get("REDIS_HOST"),
        "port": config.get_int("REDIS_PORT"),
        "password": config.get("REDIS_PASS", None) or None,
        "db": config.get_int("REDIS_DB"),
        "ssl": config.get_bool("REDIS_TLS"),
    }


def cache_settings() -> dict:
    """Where the caches live (see the module docstring)."""
    if config.get("REDIS_CACHE_HOST", None):
        return {
            "host": config.get("REDIS_CACHE_HOST"),
            "port": config.get_int("REDIS_CACHE_PORT"),
            "password": config.get("REDIS_CACHE_PASS", None) or None,
            "db": config.get_int("REDIS_CACHE_DB", 0),
            "ssl": config.get_bool("REDIS_CACHE_TLS"),
        }
    main = _main_settings()
    main["db"] = config.get_int("REDIS_CACHE_DB", main["db"])
    return main


def client():
    """The main Redis (redis-py): sessions, codes, rate limits, locks, event lists."""
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                redis = _redis()
                from redis.backoff import NoBackoff
                from redis.retry import Retry

                settings = _main_settings()
                if settings.pop("ssl"):
                    settings["connection_class"] = redis.SSLConnection
                # at most REDIS_POOL_SIZE connections per process; a caller finding them all lent waits up to
                # REDIS_POOL_TIMEOUT_SECONDS, then redis-py raises ConnectionError (RedisUnavailable: 503)
                _client = redis.Redis(connection_pool=redis.BlockingConnectionPool(
                    max_connections=config.get_int("REDIS_POOL_SIZE"),
                    timeout=config.get_int("REDIS_POOL_TIMEOUT_SECONDS"),
                    **settings,
                    socket_connect_timeout=config.get_int("REDIS_CONNECT_TIMEOUT_MS") / 1000,
                    socket_timeout=config.get_int("REDIS_TIMEOUT_MS") / 1000,
                    health_check_interval=30,
                    # fail fast: redis-py's default retries with backoff turn an outage into seconds per call,
                    # and cache reads must fall through to MySQL at once
                    retry=Retry(NoBackoff(), 1),
                    decode_responses=True,
                ))
    return _client


def _lean_connection(settings: dict, tracking: bool, main: bool = False):
    """Every lean connection is made here: the main Redis's (``main=True``: ``MainConnection``) and the cache's
    (``CacheConnection``, with the near cache when ``tracking``)."""
    timeouts = {"connect_timeout": config.get_int("REDIS_CONNECT_TIMEOUT_MS") / 1000,
                "timeout": config.get_int("REDIS_TIMEOUT_MS") / 1000}
    if main:
        return MainConnection(**settings, **timeouts)
    return CacheConnection(**settings, **timeouts, tracking=tracking,
                           allow_noeviction=config.get_bool("CACHE_ALLOW_NOEVICTION"))


def cache_client() -> CacheConnection:
    """The cache Redis connection of this process (tests and benchmarks inspect it; code uses cache_*)."""
    global _cache
    if _cache is None:
        with _lock:
            if _cache is None:
                conn = _lean_connection(cache_settings(), config.get_bool("CACHE_NEAR"))
                conn.wait_timeout = config.get_int("REDIS_POOL_TIMEOUT_SECONDS")
                _cache = conn
    return _cache


def _main_pool() -> Pool:
    """The main Redis's lean connections of this process (``required``, ``required_get``, readiness)."""
    global _main_pool_
    if _main_pool_ is None:
        with _lock:
            if _main_pool_ is None:
                settings = _main_settings()
                _main_pool_ = Pool(lambda: _lean_connection(settings, tracking=False, main=True),
                                   config.get_int("REDIS_POOL_SIZE"), config.get_int("REDIS_POOL_TIMEOUT_SECONDS"))
    return _main_pool_


def _lean_main() -> MainConnection:
    """One lean connection of the main pool, returned to it at once (tests compare it with redis-py's answers;
    a connection is thread-safe on its own). Code goes through ``required``."""
    pool = _main_pool()
    conn = pool.acquire()
    pool.release(conn)
    return conn


def required_get(*keys: str):
    """GET (one key) or MGET (several) on the main Redis — the session check every authenticated request makes;
    a failure is ``RedisUnavailable`` (503)."""
    return required(lambda c: c.get(keys[0]) if len(keys) == 1 else c.mget(keys))


def required(fn, *args, **kwargs):
    """Run ``fn(conn, ...)`` with the main Redis's lean connection (redis-py's API subset,
    ``omcore.redismain``); a Redis failure becomes ``RedisUnavailable`` (HTTP 503)."""
    try:
        return _main_pool().run(fn, *args, **kwargs)
    except RedisFailure as exc:
        log.log(logging.WARNING, "redis unavailable: %s", str(exc)[:80])
        raise RedisUnavailable(str(exc)[:80]) from None


def ping() -> bool:
    """The main Redis answers (readiness); raises ``RedisFailure`` otherwise."""
    return _main_pool().run(lambda c: c.ping())


def reset_client() -> None:
    """Forget every client and the near cache (tests that point at another server)."""
    global _client, _cache, _main_pool_
    with _lock:
        if _main_pool_ is not None:
            _main_pool_.close()
            _main_pool_ = None
        if _client is not None:
            try:
                _client.close()
            except Exception:  # pragma: no cover - closing a dead client
                pass
        if _cache is not None:
            _cache.close()
        _client = None
        _cache = None


# ------------------------------------------------------------------------------------------- cache API

def _cache_failed(exc: Exception) -> None:
    global _cache_outage_logged
    if not _cache_outage_logged:
        _cache_outage_logged = True
        if isinstance(exc, CacheRefused):
            log.error("cache redis refused, serving without cache: %s", exc)
            return
        log.warning("cache redis unavailable, serving without cache: %s", str(exc)[:80])


def _cache_ok() -> None:
    global _cache_outage_logged
    if _cache_outage_logged:
        _cache_outage_logged = False
        log.info("cache redis reachable again, cache back in use")


def cache_get(key: str, *, near: bool = False):
    """The cached text, or None (missing, or the cache Redis is down). ``near=True``: also keep it in this
    process's near cache (hot public reads only; see the module docstring)."""
    try:
        value = cache_client().get(key, near)
    except CacheError as exc:
        _cache_failed(exc)
        return None
    _cache_ok()
    return value


def cache_set(key: str, value: str, ttl_seconds: int) -> None:
    try:
        cache_client().set(key, value, ttl_seconds)
    except CacheError as exc:
        _cache_failed(exc)
        return
    _cache_ok()


def cache_delete(*keys: str) -> None:
    if not keys:
        return
    try:
        cache_client().delete(*keys)
    except CacheError as exc:
        _cache_failed(exc)


def cache_delete_pattern(pattern: str) -> None:
    """Delete every key matching ``pattern`` (SCAN, never KEYS)."""
    try:
        c = cache_client()
        batch = []
        for key in c.scan_iter(match=pattern, count=500):
            batch.append(key)
            if len(batch) >= 500:
                c.delete(*batch)
                batch = []
        if batch:
            c.delete(*batch)
    except CacheError as exc:
        _cache_failed(exc)


def near_stats() -> dict:
    """Near-cache counters of this process (benchmarks)."""
    return dict(_cache.stats, entries=len(_cache.near)) if _cache is not None else {}


def _dump_near_stats(folder: str) -> None:
    import json

    stats = near_stats()
    if stats:
        with open(os.path.join(folder, f"near-{os.getpid()}.json"), "w", encoding="utf-8") as fh:
            json.dump(stats, fh)


if os.environ.get("CACHE_NEAR_STATS_DIR"):  # benchmarks: each process leaves its near-cache counters at exit
    import atexit

    atexit.register(_dump_near_stats, os.environ["CACHE_NEAR_STATS_DIR"])


snapstart.on_reset(reset_client)  # SnapStart: no Redis connection in a snapshot, none carried over from it
