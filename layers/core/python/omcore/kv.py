"""Redis access: one client per process, short timeouts, one key namespace.

Sessions and rate limits *need* Redis (a failure is a clean 503 via ``RedisUnavailable``); caches only *use* it:
``cache_get``/``cache_set``/``cache_delete`` swallow failures, so a read falls through to MySQL, and the outage is
logged once per outage rather than once per request.
"""
from __future__ import annotations

import logging
import threading

from . import config
from .log import get_logger

log = get_logger("kv")

_client = None
_lock = threading.Lock()
_cache_outage_logged = False



def _redis():
    """redis-py, imported on first use: its import (asyncio, cluster, sentinel modules) is the largest part of a
    function's cold start, and a request that never touches Redis should not pay for it."""
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


def client():
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                redis = _redis()
                from redis.backoff import NoBackoff
                from redis.retry import Retry

                _client = redis.Redis(
                    host=config.get("REDIS_HOST"),
                    port=config.get_int("REDIS_PORT", 6379),
                    password=config.get("REDIS_PASS", None) or None,
                    db=config.get_int("REDIS_DB", 0),
                    ssl=config.get_bool("REDIS_TLS", False),
                    socket_connect_timeout=config.get_int("REDIS_CONNECT_TIMEOUT_MS", 1000) / 1000,
                    socket_timeout=config.get_int("REDIS_TIMEOUT_MS", 1000) / 1000,
                    health_check_interval=30,
                    # fail fast: redis-py's default retries with backoff turn an outage into seconds per call,
                    # and cache reads must fall through to MySQL at once
                    retry=Retry(NoBackoff(), 1),
                    decode_responses=True,
                )
    return _client


def reset_client() -> None:
    """Forget the client (tests that point at another server, forked workers)."""
    global _client
    with _lock:
        if _client is not None:
            try:
                _client.close()
            except Exception:  # pragma: no cover - closing a dead client
                pass
        _client = None


def _cache_failed(exc: Exception) -> None:
    global _cache_outage_logged
    if not _cache_outage_logged:
        _cache_outage_logged = True
        log.warning("redis unavailable, serving without cache: %s", type(exc).__name__)


def _cache_ok() -> None:
    global _cache_outage_logged
    if _cache_outage_logged:
        _cache_outage_logged = False
        log.info("redis reachable again, cache back in use")


def cache_get(key: str):
    try:
        value = client().get(key)
    except _redis().RedisError as exc:
        _cache_failed(exc)
        return None
    _cache_ok()
    return value


def cache_set(key: str, value: str, ttl_seconds: int) -> None:
    try:
        client().set(key, value, ex=ttl_seconds)
    except _redis().RedisError as exc:
        _cache_failed(exc)
        return
    _cache_ok()


def cache_delete(*keys: str) -> None:
    if not keys:
        return
    try:
        client().delete(*keys)
    except _redis().RedisError as exc:
        _cache_failed(exc)


def cache_delete_pattern(pattern: str) -> None:
    """Delete every key matching ``pattern`` (SCAN, never KEYS)."""
    try:
        c = client()
        batch = []
        for key in c.scan_iter(match=pattern, count=500):
            batch.append(key)
            if len(batch) >= 500:
                c.delete(*batch)
                batch = []
        if batch:
            c.delete(*batch)
    except _redis().RedisError as exc:
        _cache_failed(exc)


def required(fn, *args, **kwargs):
    """Run ``fn(client(), ...)``; a Redis failure becomes ``RedisUnavailable`` (HTTP 503)."""
    try:
        return fn(client(), *args, **kwargs)
    except _redis().RedisError as exc:
        log.log(logging.WARNING, "redis unavailable: %s", type(exc).__name__)
        raise RedisUnavailable(str(type(exc).__name__)) from exc
