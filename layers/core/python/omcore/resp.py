"""One RESP connection to a Redis server: the socket, the handshake, and replies parsed by ``hiredis``.

The base of omcore's lean Redis clients (``omcore.redismain`` for the main Redis, ``omcore.nearcache`` for the cache
Redis). redis-py costs 90–130 ms to import (it pulls in asyncio, its cluster, sentinel and observability modules)
— most of a function's cold-start budget — while a request needs one socket and a parser. The parser is
``hiredis`` (the Redis project's C parser: RESP2 and RESP3 with push messages, ~1 ms to import, 5–45× faster per
reply than the parser in Python this replaced; docs/benchmarks.md).

A connection is thread-safe (one lock held for one round trip; ``wait_timeout`` bounds how long a caller waits for
it, where threads share one connection), reconnects after a fork (a child never uses or
closes its parent's socket) and after a failure, and sends the whole handshake (HELLO/AUTH, SELECT, whatever the
subclass adds) in one round trip. Every failure — connection, timeout, protocol, an error reply — is
``RedisFailure``; the callers decide what it means (``omcore.kv``: a 503 for the main Redis, a cache miss for the
cache Redis).
"""
from __future__ import annotations

import os
import threading
import time

import hiredis

_MISSING = object()  # hiredis' "not enough data yet" (False and None are real replies)


class RedisFailure(Exception):
    """Redis failed: connection, timeout, protocol error or an error reply."""


class ErrorReply(Exception):
    """An error reply (``-ERR ...``); hiredis returns it as a value, inside arrays too."""


def _arg(value) -> bytes | str:
    if isinstance(value, (str, bytes)):
        return value
    if isinstance(value, bool):  # as redis-py: a bool is no Redis value
        raise RedisFailure("a bool is not a Redis value")
    if isinstance(value, (int, float)):
        return repr(value)
    raise RedisFailure(f"not a Redis value: {type(value).__name__}")


def pack(args) -> bytes:
    """One command in RESP."""
    return hiredis.pack_command(tuple(_arg(a) for a in args))


class Busy(RedisFailure):
    """No connection was free within the wait limit (``Pool``, ``Connection.wait_timeout``)."""


class _Held:
    __slots__ = ("lock", "timeout")

    def __init__(self, conn):
        self.lock, self.timeout = conn._lock, conn.wait_timeout

    def __enter__(self):
        if self.timeout is None:
            self.lock.acquire()
        elif not self.lock.acquire(timeout=self.timeout):
            raise Busy("redis connection busy")

    def __exit__(self, *exc):
        self.lock.release()


class Connection:
    """One RESP connection (see the module docstring). ``resp3=True`` speaks RESP3 (HELLO 3), needed for push
    messages; servers without it (Redis < 6) fall back to RESP2 and ``self.resp3`` says which one is in use."""

    def __init__(self, host, port, password, db, ssl, connect_timeout, timeout, resp3=False):
        self.host, self.port, self.password, self.db, self.ssl = host, port, password, db, ssl
        self.connect_timeout, self.timeout = connect_timeout, timeout
        self.want_resp3 = resp3
        self.resp3 = False
        self._sock = None
        self._pid = None
        self._reader = None
        self._heard = 0.0  # monotonic time of the last bytes read from the connection
        self._lock = threading.RLock()
        # None: wait for the lock as long as it takes (one request per process, as on Lambda); seconds: a caller
        # that cannot have the connection within that long gets ``Busy`` (threads sharing one connection)
        self.wait_timeout: float | None = None

    def held(self):
        """``with conn.held():`` holds the connection's lock (reentrant), taken within ``wait_timeout``."""
        return _Held(self)

    # -- what subclasses add

    def _handshake_extra(self) -> list[tuple]:
        """Commands sent with the handshake, after HELLO/AUTH/SELECT."""
        return []

    def _handshake_done(self, replies: list) -> None:
        """The replies of ``_handshake_extra()``'s commands (error replies included)."""

    def _on_connect(self) -> None:
        """A new connection replaces the old one (state tied to the old one is void)."""

    def _on_push(self, push: list) -> None:
        """A RESP3 push message arrived (out of band)."""

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
        self._sock, self._pid = sock, os.getpid()
        self._reader = hiredis.Reader(encoding="utf-8", errors="replace", notEnoughData=_MISSING,
                                      replyError=ErrorReply)
        self.resp3 = False
        self._on_connect()
        commands = []
        if self.want_resp3:
            commands.append(("HELLO", "3", "AUTH", "default", self.password) if self.password else ("HELLO", "3"))
        elif self.password:
            commands.append(("AUTH", self.password))
        if self.db:
            commands.append(("SELECT", self.db))
        base = len(commands)
        commands += self._handshake_extra()
        if not commands:
            return
        self._send(b"".join(pack(c) for c in commands))
        replies = [self._read_reply(raise_errors=False) for _ in commands]
        if self.want_resp3 and isinstance(replies[0], ErrorReply):
            # no RESP3 (Redis < 6): plain RESP2; AUTH/SELECT again without HELLO
            self.close()
            self.want_resp3 = False
            return self._connect()
        failed = [r for r in replies[:base] if isinstance(r, ErrorReply)]
        if failed:
            self.close()
            raise RedisFailure(f"redis refused the handshake: {str(failed[0])[:80]}")
        self.resp3 = self.want_resp3
        self._handshake_done(replies[base:])

    def _ensure(self):
        if self._sock is None or self._pid != os.getpid():
            if self._pid is not None and self._pid != os.getpid():
                self._sock = None  # a forked child: the parent's socket is not ours to use or close
            self._connect()

    @property
    def connected(self) -> bool:
        return self._sock is not None and self._pid == os.getpid()

    def close(self):
        with self._lock:
            if self._sock is not None and self._pid == os.getpid():
                try:
                    self._sock.close()
                except OSError:  # pragma: no cover
                    pass
            self._sock = None
            self._reader = None
            self.resp3 = False
            self._on_connect()

    # -- wire

    def _send(self, data: bytes):
        self._sock.sendall(data)

    def _fill(self):
        data = self._sock.recv(65536)
        if not data:
            raise ConnectionError("redis closed the connection")
        self._reader.feed(data)
        self._heard = time.monotonic()

    def _next(self):
        """The next complete reply already received, or _MISSING."""
        try:
            return self._reader.gets()
        except hiredis.ProtocolError as exc:
            raise ConnectionError(f"redis protocol error: {exc}") from None

    def _read_reply(self, raise_errors=True):
        while True:
            value = self._next()
            if value is _MISSING:
                self._fill()
                continue
            if isinstance(value, hiredis.PushNotification):
                self._on_push(value)
                continue
            if isinstance(value, ErrorReply) and raise_errors:
                raise value
            return value

    def _drain(self):
        """Read whatever the server has sent so far without blocking, and apply its push messages."""
        import select

        sock = self._sock
        while True:
            pending = sock.pending() if self.ssl else 0
            if not pending and not select.select([sock], [], [], 0)[0]:
                break
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("redis closed the connection")
            self._reader.feed(data)
            self._heard = time.monotonic()
        while True:
            value = self._next()
            if value is _MISSING:
                return  # the rest of a push is on its way; it cannot concern a later read before it arrives
            if isinstance(value, hiredis.PushNotification):
                self._on_push(value)

    def execute(self, *args):
        """Send one command and return its reply; one reconnect-and-retry after a broken connection."""
        return self.execute_many([args], raise_errors=True)[0]

    def execute_many(self, commands: list[tuple], raise_errors: bool = False) -> list:
        """Send several commands in one round trip and return their replies (error replies as ``ErrorReply``
        values unless ``raise_errors``); one reconnect-and-retry after a broken connection, as redis-py's
        one retry."""
        data = b"".join(pack(c) for c in commands)
        with self.held():
            for attempt in (0, 1):
                try:
                    self._ensure()
                    self._send(data)
                    replies = [self._read_reply(raise_errors=False) for _ in commands]
                    break
                except (OSError, ValueError) as exc:  # socket errors, timeouts, EOF, garbage on the wire
                    self.close()
                    if attempt or isinstance(exc, TimeoutError):
                        raise RedisFailure(type(exc).__name__) from None
        if raise_errors:  # every reply is read first, so the connection stays in step
            for reply in replies:
                if isinstance(reply, ErrorReply):
                    raise RedisFailure(str(reply)[:120])
        return replies


class Pool:
    """At most ``size`` connections made by ``factory()``, each lent to one caller at a time (the container's
    threads; on Lambda one request per process makes and reuses one). A caller that finds them all lent waits up to
    ``timeout`` seconds, then gets ``Busy``: against a Redis that stops answering, every waiter's wait is bounded by
    the pool's timeout instead of queuing for one connection and paying each holder's read timeout in turn."""

    def __init__(self, factory, size: int, timeout: float):
        self._factory = factory
        self.size = max(1, size)
        self.timeout = timeout
        self._idle: list = []
        self._made = 0
        self._pid = os.getpid()
        self._cond = threading.Condition(threading.Lock())

    def acquire(self):
        with self._cond:
            if self._pid != os.getpid():  # a forked child: the parent's connections are not ours (they reconnect)
                self._idle, self._made, self._pid = [], 0, os.getpid()
            deadline = None
            while not self._idle and self._made >= self.size:
                if deadline is None:
                    deadline = time.monotonic() + self.timeout
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise Busy("no redis connection free")
                self._cond.wait(remaining)
            if self._idle:
                return self._idle.pop()  # the most recently used: warm, and one connection when one suffices
            self._made += 1
        try:
            return self._factory()
        except BaseException:
            with self._cond:
                self._made -= 1
                self._cond.notify()
            raise

    def release(self, conn) -> None:
        with self._cond:
            if self._pid != os.getpid():
                return
            self._idle.append(conn)
            self._cond.notify()

    def run(self, fn, *args, **kwargs):
        """``fn(conn, *args, **kwargs)`` with a lent connection."""
        conn = self.acquire()
        try:
            return fn(conn, *args, **kwargs)
        finally:
            self.release(conn)

    def close(self) -> None:
        with self._cond:
            idle, self._idle, self._made = self._idle, [], 0
        for conn in idle:
            conn.close()
