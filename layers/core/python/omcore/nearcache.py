"""The cache Redis connection and the **near cache**: a per-process copy of hot public reads
(``kv.cache_get(key, near=True)``) kept correct by Redis server-assisted client-side caching.

The connection speaks RESP3 with ``CLIENT TRACKING ON``, so Redis pushes an ``invalidate`` message on this very
connection the moment any client changes or deletes a key this process has read (or on FLUSHDB, expiry, eviction).
Before a near hit is served, whatever Redis has pushed is read without blocking (one ``select`` with a zero
timeout, ~2 µs), so a staff change is visible to every process as soon as the write that invalidates the Redis entry
has returned. A lost connection forgets the whole near cache (invalidations may have been missed); a connection
that has been silent for ``NEAR_TRUST_SECONDS`` (1 s) is asked again before a near hit is served, so even a
connection that died without notice (pushes lost) serves nothing older than that. Servers without RESP3 (Redis < 6)
get no near cache.

The handshake also reads the server's eviction policy (``INFO memory``, allowed on ElastiCache where ``CONFIG`` is
not): caches on a server that refuses writes when full (``maxmemory`` set and ``maxmemory-policy noeviction``, the
policy the sessions Redis must have) would fill it until logins fail, so such a server is refused as a cache
(``CacheRefused``; every cache call falls through to MySQL) unless ``CACHE_ALLOW_NOEVICTION`` says so explicitly.
"""
from __future__ import annotations

import os
import time

from .resp import Connection, RedisFailure

NEAR_MAX_ENTRIES = 2048
NEAR_MAX_BYTES = 512 * 1024  # larger values are read from Redis every time
NEAR_MAX_AGE = 300.0  # seconds; a backstop only (Redis also pushes an invalidation when the key expires)
# A near hit is served only while the connection has proven alive within this many seconds (any reply or push
# read from it); otherwise the read goes to Redis, whose reply comes after every invalidation sent before it. This
# bounds staleness by 1 s even when a connection dies silently (a NAT or firewall dropping it, a Lambda frozen
# for minutes) and the pushes sent meanwhile are lost; a live connection is still invalidated at once.
NEAR_TRUST_SECONDS = 1.0


class CacheRefused(RedisFailure):
    """The cache server would refuse writes when full (noeviction with a memory limit): not used as a cache."""


def eviction_policy(info: str) -> tuple[str, int]:
    """(maxmemory_policy, maxmemory) from an ``INFO memory`` reply."""
    policy, limit = "", 0
    for line in info.splitlines():
        if line.startswith("maxmemory_policy:"):
            policy = line.split(":", 1)[1].strip()
        elif line.startswith("maxmemory:"):
            try:
                limit = int(line.split(":", 1)[1].strip())
            except ValueError:
                pass
    return policy, limit


class CacheConnection(Connection):
    """One RESP connection to the cache Redis, with the near cache (see the module docstring)."""

    def __init__(self, host, port, password, db, ssl, connect_timeout, timeout, tracking=True,
                 allow_noeviction=True):
        super().__init__(host, port, password, db, ssl, connect_timeout, timeout, resp3=tracking)
        self.allow_noeviction = allow_noeviction
        self.refused: CacheRefused | None = None  # once refused, never asked again (until reset_client)
        self.tracking = False
        self.near: dict[str, tuple[str, float]] = {}
        self.stats = {"near_hits": 0, "near_misses": 0, "invalidations": 0, "flushes": 0, "connects": 0}

    # -- handshake

    def _handshake_extra(self) -> list[tuple]:
        extra = [] if self.allow_noeviction else [("INFO", "memory")]
        if self.want_resp3:
            extra.append(("CLIENT", "TRACKING", "ON"))
        return extra

    def _handshake_done(self, replies: list) -> None:
        if not self.allow_noeviction:
            info = replies.pop(0)
            policy, limit = eviction_policy(info if isinstance(info, str) else "")
            if policy == "noeviction" and limit:
                self.close()
                self.refused = CacheRefused("the cache redis has maxmemory-policy noeviction (it would refuse writes, "
                                   "sessions included, once full): give the caches their own server with "
                                   "allkeys-lru, or set CACHE_ALLOW_NOEVICTION=true")
                raise self.refused
        if replies and isinstance(replies[0], Exception):
            self.close()
            raise RedisFailure(f"cache redis refused CLIENT TRACKING: {str(replies[0])[:80]}")
        self.tracking = self.resp3

    def _ensure(self):
        if self.refused is not None:
            raise self.refused
        super()._ensure()

    def _on_connect(self) -> None:
        self.tracking = False
        self._forget_all()
        if self._sock is not None:
            self.stats["connects"] += 1

    def _forget_all(self):
        if self.near:
            self.stats["flushes"] += 1
        self.near.clear()

    def _on_push(self, push):
        if len(push) >= 2 and push[0] == "invalidate":
            keys = push[1]
            if keys is None:  # FLUSHDB / FLUSHALL
                self._forget_all()
            else:
                for key in keys:
                    if self.near.pop(key, None) is not None:
                        self.stats["invalidations"] += 1

    # -- commands

    def get(self, key: str, near: bool = False):
        if not near:
            return self.execute("GET", key)
        with self.held():
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
        with self.held():
            self.near.pop(key, None)  # Redis also pushes its invalidation to this connection (no NOLOOP)
            return self.execute("SET", key, value, "EX", int(ex))

    def delete(self, *keys: str):
        """DEL, then one PING round trip: Redis writes every reply and push an event-loop turn produced before it
        reads the next command, so once the PONG is back, the invalidations this DEL caused are already on every
        tracking connection. Without it, the writer's own reply can leave a few microseconds before the pushes
        (more on a starved machine), and a reader acting on the writer's answer inside that gap would see the old
        entry. Writes are rare next to reads; one more round trip for them buys "visible at once"."""
        with self.held():
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
        with self.held():
            self._forget_all()
            return self.execute("FLUSHDB")
