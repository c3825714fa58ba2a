"""Redis access: two roles, short timeouts, one key namespace.

* **Main Redis** (``REDIS_*``; ``client()``/``required()``): sessions, one-time codes, rate limits, locks and the
  image event list. It *must* work (a failure is a clean 503 via ``RedisUnavailable``) and must never evict
  (``noeviction``). Served by redis-py, imported on first use.
* **Cache Redis** (``REDIS_CACHE_*``; ``cache_get``/``cache_set``/``cache_delete``/``cache_delete_pattern``):
  catalogue, search, area-suggest, freight and cart-count caches. It may evict (``allkeys-lru``) and may fail: a
  failure is swallowed, so a read falls through to MySQL, and the outage is logged once per outage.
  ``REDIS_CACHE_HOST`` set → its own server (``REDIS_CACHE_PORT`` 6379, ``REDIS_CACHE_PASS``, ``REDIS_CACHE_DB`` 0,
  ``REDIS_CACHE_TLS`` false); unset → the main server's host/port/password/TLS, in logical DB ``REDIS_CACHE_DB``
  (default: the main ``REDIS_DB``).

The cache role is served by ``_CacheConnection``, a small RESP client written for it (GET/SET/DEL/SCAN only):
redis-py 8's import costs 90–110 ms on this machine (it pulls in asyncio, its cluster, sentinel and observability
modules), which alone is most of a function's cold-start budget; the cache path needs only ``socket``. It also
keeps the **near cache**: a per-process copy of hot public reads (``cache_get(key, near=True)``) kept correct by
Redis server-assisted client-side caching — the connection speaks RESP3 with ``CLIENT TRACKING ON``, so Redis
pushes an ``invalidate`` message on this very connection the moment any client changes or deletes a key this
process has read (or on FLUSHDB, expiry, eviction). Before a near hit is served, whatever Redis has pushed is read
without blocking (one ``select`` with a zero timeout, ~2 µs), so a staff change is visible to every process as
soon as the write that invalidates the Redis entry has returned. A lost connection forgets the whole near cache
(invalidations may have been missed); a connection that has been silent for ``NEAR_TRUST_SECONDS`` (1 s) is
asked again before a near hit is served, so even a connection that died without notice (pushes lost) serves
nothing older than that. Servers without RESP3 (Redis < 6) get no near cache.
"""
from __future__ import annotations

import logging
import os
import threading
import time

from . import config
from .log import get_logger

log = get_logger("kv")

_client = None
_cache = None
_main_lean = None
_lock = threading.Lock()
_cache_outage_logged = False

NEAR_MAX_ENTRIES = 2048
NEAR_MAX_BYTES = 512 * 1024  # larger values are read from Redis every time
NEAR_MAX_AGE = 300.0  # seconds; a backstop only (Redis also pushes an invalidation when the key expires)
# A near hit is served only while the connection has proven alive within this many seconds (any reply or push
# read from it); otherwise the read goes to Redis, whose reply comes after every invalidation sent before it. This
# bounds staleness by 1 s even when a connection dies silently (a NAT or firewall dropping it, a Lambda frozen
# for minutes) and the pushes sent meanwhile are lost; a live connection is still invalidated at once.
NEAR_TRUST_SECONDS = 1.0


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


class CacheError(Exception):
    """The cache Redis failed (connection, timeout, protocol, error reply); cache_* swallow it."""


from .errors import register as _register  # noqa: E402

_register(RedisUnavailable, 503, "session store temporarily unavailable, please retry")


def _main_settings() -> dict:
    return {
        "host": config.get("REDIS_HOST"),
        "port": config.get_int("REDIS_PORT", 6379),
        "password": config.get("REDIS_PASS", None) or None,
        "db": config.get_int("REDIS_DB", 0),
        "ssl": config.get_bool("REDIS_TLS", False),
    }


def cache_settings() -> dict:
    """Where the caches live (see the module docstring)."""
    if config.get("REDIS_CACHE_HOST", None):
        return {
            "host": config.get("REDIS_CACHE_HOST"),
            "port": config.get_int("REDIS_CACHE_PORT", 6379),
            "password": config.get("REDIS_CACHE_PASS", None) or None,
            "db": config.get_int("REDIS_CACHE_DB", 0),
            "ssl": config.get_bool("REDIS_CACHE_TLS", False),
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
                    max_connections=config.get_int("REDIS_POOL_SIZE", 16),
                    timeout=config.get_int("REDIS_POOL_TIMEOUT_SECONDS", 5),
                    **settings,
                    socket_connect_timeout=config.get_int("REDIS_CONNECT_TIMEOUT_MS", 1000) / 1000,
                    socket_timeout=config.get_int("REDIS_TIMEOUT_MS", 1000) / 1000,
                    health_check_interval=30,
                    # fail fast: redis-py's default retries with backoff turn an outage into seconds per call,
                    # and cache reads must fall through to MySQL at once
                    retry=Retry(NoBackoff(), 1),
                    decode_responses=True,
                ))
    return _client


def _lean_connection(settings: dict, tracking: bool) -> "_CacheConnection":
    return _CacheConnection(**settings, connect_timeout=config.get_int("REDIS_CONNECT_TIMEOUT_MS", 1000) / 1000,
                            timeout=config.get_int("REDIS_TIMEOUT_MS", 1000) / 1000, tracking=tracking)


def cache_client() -> "_CacheConnection":
    """The cache Redis connection of this process (tests and benchmarks inspect it; code uses cache_*)."""
    global _cache
    if _cache is None:
        with _lock:
            if _cache is None:
                _cache = _lean_connection(cache_settings(), config.get_bool("CACHE_NEAR", True))
    return _cache


def _lean_main() -> "_CacheConnection":
    global _main_lean
    if _main_lean is None:
        with _lock:
            if _main_lean is None:
                _main_lean = _lean_connection(_main_settings(), tracking=False)
    return _main_lean


def required_get(*keys: str):
    """GET (one key) or MGET (several) on the main Redis over the lean connection — the session check every
    authenticated request makes, without importing redis-py; a failure is ``RedisUnavailable`` (503)."""
    try:
        if len(keys) == 1:
            return _lean_main().execute("GET", keys[0])
        return _lean_main().execute("MGET", *keys)
    except CacheError as exc:
        log.warning("redis unavailable: %s", str(exc)[:80])
        raise RedisUnavailable(str(exc)[:80]) from None


def reset_client() -> None:
    """Forget every client and the near cache (tests that point at another server)."""
    global _client, _cache, _main_lean
    with _lock:
        if _main_lean is not None:
            _main_lean.close()
            _main_lean = None
        if _client is not None:
            try:
                _client.close()
            except Exception:  # pragma: no cover - closing a dead client
                pass
        if _cache is not None:
            _cache.close()
        _client = None
        _cache = None


# ------------------------------------------------------------------------------------------- cache connection

class _Incomplete(Exception):
    pass


class _ErrorReply(Exception):
    pass


def _encode(args) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode("utf-8")
        elif isinstance(arg, int):
            arg = str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


class _CacheConnection:
    """One RESP connection to the cache Redis, with the near cache (see the module docstring). Thread-safe (one
    lock; the cache path holds it for one round trip). Reconnects after a fork or a failure."""

    def __init__(self, host, port, password, db, ssl, connect_timeout, timeout, tracking=True):
        self.host, self.port, self.password, self.db, self.ssl = host, port, password, db, ssl
        self.connect_timeout, self.timeout = connect_timeout, timeout
        self.want_tracking = tracking
        self.tracking = False
        self._sock = None
        self._pid = None
        self._buf = bytearray()
        self._heard = 0.0  # monotonic time of the last bytes read from the connection
        self._lock = threading.RLock()
        self.near: dict[str, tuple[str, float]] = {}
        self.stats = {"near_hits": 0, "near_misses": 0, "invalidations": 0, "flushes": 0, "connects": 0}

    # -- connection

    def _connect(self):
        import socket

        # a bytes host skips the "idna" codec (stringprep + unicodedata, several ms of a cold start)
        host = self.host.encode("ascii") if self.host.isascii() else self.host
        sock = socket.create_connection((host, self.port), timeout=self.connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.ssl:
                import ssl

                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
            sock.settimeout(self.timeout)
        except BaseException:
            sock.close()
            raise
        self._sock, self._pid, self._buf = sock, os.getpid(), bytearray()
        self.tracking = False
        self._forget_all()
        self.stats["connects"] += 1
        # the whole handshake in one round trip
        commands = []
        if self.want_tracking:
            commands.append(("HELLO", "3", "AUTH", "default", self.password) if self.password else ("HELLO", "3"))
        elif self.password:
            commands.append(("AUTH", self.password))
        if self.db:
            commands.append(("SELECT", self.db))
        if self.want_tracking:
            commands.append(("CLIENT", "TRACKING", "ON"))
        if not commands:
            return
        self._send(b"".join(_encode(c) for c in commands))
        replies = [self._read_reply(raise_errors=False) for _ in commands]
        failed = [r for r in replies if isinstance(r, _ErrorReply)]
        if self.want_tracking and isinstance(replies[0], _ErrorReply):
            # no RESP3 (Redis < 6): plain RESP2, no near cache; AUTH/SELECT again without HELLO
            self.close()
            self.want_tracking = False
            return self._connect()
        if failed:
            self.close()
            raise CacheError(f"cache redis refused the handshake: {str(failed[0])[:80]}")
        self.tracking = self.want_tracking

    def _ensure(self):
        if self._sock is None or self._pid != os.getpid():
            if self._pid is not None and self._pid != os.getpid():
                self._sock = None  # a forked child: the parent's socket is not ours to use or close
            self._connect()

    def close(self):
        with self._lock:
            if self._sock is not None and self._pid == os.getpid():
                try:
                    self._sock.close()
                except OSError:  # pragma: no cover
                    pass
            self._sock = None
            self._buf = bytearray()
            self.tracking = False
            self._forget_all()

    def _forget_all(self):
        if self.near:
            self.stats["flushes"] += 1
        self.near.clear()

    # -- wire

    def _send(self, data: bytes):
        self._sock.sendall(data)

    def _fill(self):
        data = self._sock.recv(65536)
        if not data:
            raise ConnectionError("cache redis closed the connection")
        self._buf += data
        self._heard = time.monotonic()

    def _parse(self, pos: int):
        """One frame from ``self._buf`` at ``pos`` → (value, next position); raises _Incomplete."""
        buf = self._buf
        end = buf.find(b"\r\n", pos)
        if end < 0:
            raise _Incomplete
        kind, line = buf[pos:pos + 1], bytes(buf[pos + 1:end])
        pos = end + 2
        if kind in (b"$", b"="):  # bulk string / verbatim string
            length = int(line)
            if length < 0:
                return None, pos
            if len(buf) < pos + length + 2:
                raise _Incomplete
            value = bytes(buf[pos:pos + length]).decode("utf-8", errors="replace")
            return (value[4:] if kind == b"=" else value), pos + length + 2
        if kind == b"+":
            return line.decode(), pos
        if kind == b":":
            return int(line), pos
        if kind in (b"*", b">", b"~", b"%"):
            count = int(line)
            if count < 0:
                return None, pos
            if kind == b"%":
                count *= 2
            items = []
            for _ in range(count):
                value, pos = self._parse(pos)
                items.append(value)
            if kind == b">":
                return _Push(items), pos
            if kind == b"%":
                return dict(zip(items[::2], items[1::2])), pos
            return items, pos
        if kind == b"-" or kind == b"!":
            if kind == b"!":
                length = int(line)
                if len(buf) < pos + length + 2:
                    raise _Incomplete
                line, pos = bytes(buf[pos:pos + length]), pos + length + 2
            return _ErrorReply(line.decode(errors="replace")), pos
        if kind == b"_":
            return None, pos
        if kind == b"#":
            return line == b"t", pos
        if kind in (b",", b"("):
            return (float(line) if kind == b"," else int(line)), pos
        if kind == b"|":  # attributes: skip them, the reply follows
            count = int(line) * 2
            for _ in range(count):
                _, pos = self._parse(pos)
            return self._parse(pos)
        raise ConnectionError(f"cache redis protocol error (type byte {kind!r})")

    def _take(self):
        """The next complete frame in the buffer, or raise _Incomplete."""
        value, pos = self._parse(0)
        del self._buf[:pos]
        return value

    def _read_reply(self, raise_errors=True):
        while True:
            try:
                value = self._take()
            except _Incomplete:
                self._fill()
                continue
            if isinstance(value, _Push):
                self._on_push(value)
                continue
            if isinstance(value, _ErrorReply) and raise_errors:
                raise value
            return value

    def _on_push(self, push):
        if len(push) >= 2 and push[0] == "invalidate":
            keys = push[1]
            if keys is None:  # FLUSHDB / FLUSHALL
                self._forget_all()
            else:
                for key in keys:
                    if self.near.pop(key, None) is not None:
                        self.stats["invalidations"] += 1

    def _drain(self):
        """Apply every invalidation Redis has pushed so far, without blocking."""
        import select

        sock = self._sock
        while True:
            pending = sock.pending() if self.ssl else 0
            if not pending and not select.select([sock], [], [], 0)[0]:
                break
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("cache redis closed the connection")
            self._buf += data
            self._heard = time.monotonic()
        while self._buf:
            try:
                value = self._take()
            except _Incomplete:
                return  # the rest of a push is on its way; it cannot concern a later read before it arrives
            if isinstance(value, _Push):
                self._on_push(value)

    def execute(self, *args):
        """Send one command and return its reply; one reconnect-and-retry after a broken connection (every cache
        command is idempotent)."""
        with self._lock:
            for attempt in (0, 1):
                try:
                    self._ensure()
                    self._send(_encode(args))
                    return self._read_reply()
                except _ErrorReply as exc:
                    raise CacheError(str(exc)[:120]) from None
                except (OSError, ValueError) as exc:  # socket errors, timeouts, EOF, garbage on the wire
                    self.close()
                    if attempt or isinstance(exc, TimeoutError):
                        raise CacheError(type(exc).__name__) from None

    # -- commands

    def get(self, key: str, near: bool = False):
        if not near:
            return self.execute("GET", key)
        with self._lock:
            if self.tracking and self._sock is not None and self._pid == os.getpid():
                try:
                    self._drain()
                except (OSError, ValueError):
                    self.close()
                entry = self.near.get(key)
                if entry is not None:
                    now = time.monotonic()
                    if entry[1] > now and now - self._heard < NEAR_TRUST_SECONDS:
                        self.stats["near_hits"] += 1
                        return entry[0]
                    del self.near[key]  # expired, or the connection has been silent too long: ask Redis
            self.stats["near_misses"] += 1
            value = self.execute("GET", key)
            if value is not None and self.tracking and len(value) <= NEAR_MAX_BYTES:
                if len(self.near) >= NEAR_MAX_ENTRIES:
                    self.near.pop(next(iter(self.near)))
                self.near[key] = (value, time.monotonic() + NEAR_MAX_AGE)
            return value

    def set(self, key: str, value: str, ex: int):
        with self._lock:
            self.near.pop(key, None)  # Redis also pushes its invalidation to this connection (no NOLOOP)
            return self.execute("SET", key, value, "EX", int(ex))

    def delete(self, *keys: str):
        """DEL, then one PING round trip: Redis writes every reply and push an event-loop turn produced before it
        reads the next command, so once the PONG is back, the invalidations this DEL caused are already on every
        tracking connection. Without it, the writer's own reply can leave a few microseconds before the pushes
        (more on a starved machine), and a reader acting on the writer's answer inside that gap would see the old
        entry. Writes are rare next to reads; one more round trip for them buys "visible at once"."""
        with self._lock:
            for key in keys:
                self.near.pop(key, None)
            deleted = self.execute("DEL", *keys)
            self.execute("PING")
            return deleted

    def exists(self, key: str) -> int:
        return self.execute("EXISTS", key)

    def ttl(self, key: str) -> int:
        return self.execute("TTL", key)

    def scan_iter(self, match: str, count: int = 500):
        cursor = "0"
        while True:
            cursor, keys = self.execute("SCAN", cursor, "MATCH", match, "COUNT", count)
            yield from keys
            if cursor == "0":
                return

    def flushdb(self):
        with self._lock:
            self._forget_all()
            return self.execute("FLUSHDB")


class _Push(list):
    """A RESP3 push frame (out-of-band: invalidations)."""


# ------------------------------------------------------------------------------------------- cache API

def _cache_failed(exc: Exception) -> None:
    global _cache_outage_logged
    if not _cache_outage_logged:
        _cache_outage_logged = True
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


def required(fn, *args, **kwargs):
    """Run ``fn(client(), ...)``; a Redis failure becomes ``RedisUnavailable`` (HTTP 503)."""
    try:
        return fn(client(), *args, **kwargs)
    except _redis().RedisError as exc:
        log.log(logging.WARNING, "redis unavailable: %s", type(exc).__name__)
        raise RedisUnavailable(str(type(exc).__name__)) from exc
