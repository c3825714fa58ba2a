"""The lean client of the main Redis (sessions, codes, rate limits, locks, the image event list): the part of
redis-py's ``Redis`` API the layers use, with the same answers (``decode_responses=True``), over one
``omcore.resp`` connection — so a login, a session check or readiness never imports redis-py (90–130 ms).

What it speaks: GET/SET (``ex``, ``px``, ``nx``, ``xx``), DEL, MGET, EXISTS, TTL, INCR/DECR, EXPIRE (``nx``...), the
set and hash commands below, RPUSH, PING, ``pipeline(transaction=True)`` (MULTI/EXEC in one round trip) and
``register_script`` (EVALSHA, EVAL once the server does not know the script). Anything else — the admin tools, the
image worker's blocking pops, scripts — uses redis-py through ``omcore.kv.client()``.
"""
from __future__ import annotations

import hashlib

from .resp import Connection, ErrorReply, RedisFailure


def _ok(reply) -> bool | None:
    return True if reply == "OK" else None


def _bool(reply) -> bool:
    return bool(reply)


def _pairs(reply) -> dict:
    if isinstance(reply, dict):
        return reply
    return dict(zip(reply[::2], reply[1::2])) if reply else {}


def _set(reply) -> set:
    return set(reply or ())


def _pong(reply) -> bool:
    return reply == "PONG"


def _same(reply):
    return reply


class _Commands:
    """The commands, each as (arguments, how the reply converts); ``_call`` runs or queues them."""

    def _call(self, convert, *args):  # pragma: no cover - defined by the subclasses
        raise NotImplementedError

    def get(self, name):
        return self._call(_same, "GET", name)

    def set(self, name, value, ex=None, px=None, nx=False, xx=False):
        args = ["SET", name, value]
        if ex is not None:
            args += ["EX", int(ex)]
        if px is not None:
            args += ["PX", int(px)]
        if nx:
            args.append("NX")
        if xx:
            args.append("XX")
        return self._call(_ok, *args)

    def delete(self, *names):
        return self._call(_same, "DEL", *names)

    def mget(self, keys, *args):
        names = [keys] if isinstance(keys, (str, bytes)) else list(keys)
        return self._call(_same, "MGET", *names, *args)

    def exists(self, *names):
        return self._call(_same, "EXISTS", *names)

    def ttl(self, name):
        return self._call(_same, "TTL", name)

    def incr(self, name, amount=1):
        return self._call(_same, "INCRBY", name, amount)

    def decr(self, name, amount=1):
        return self._call(_same, "DECRBY", name, amount)

    def expire(self, name, time, nx=False, xx=False, gt=False, lt=False):
        flags = [f for f, on in (("NX", nx), ("XX", xx), ("GT", gt), ("LT", lt)) if on]
        return self._call(_bool, "EXPIRE", name, int(time), *flags)

    def sadd(self, name, *values):
        return self._call(_same, "SADD", name, *values)

    def srem(self, name, *values):
        return self._call(_same, "SREM", name, *values)

    def smembers(self, name):
        return self._call(_set, "SMEMBERS", name)

    def hset(self, name, key=None, value=None, mapping=None):
        items = [] if key is None else [key, value]
        for k, v in (mapping or {}).items():
            items += [k, v]
        return self._call(_same, "HSET", name, *items)

    def hincrby(self, name, key, amount=1):
        return self._call(_same, "HINCRBY", name, key, amount)

    def hgetall(self, name):
        return self._call(_pairs, "HGETALL", name)

    def rpush(self, name, *values):
        return self._call(_same, "RPUSH", name, *values)

    def ping(self):
        return self._call(_pong, "PING")


class MainConnection(Connection, _Commands):
    """The main Redis over one lean connection (RESP2; see the module docstring)."""

    def _call(self, convert, *args):
        return convert(self.execute(*args))

    def pipeline(self, transaction: bool = True) -> "Pipeline":
        return Pipeline(self, transaction)

    def register_script(self, script: str) -> "Script":
        return Script(self, script)


class Pipeline(_Commands):
    """Commands queued and sent in one round trip (inside MULTI/EXEC when ``transaction``); ``execute()`` returns
    their converted replies and raises ``RedisFailure`` if any failed, as redis-py does."""

    def __init__(self, conn: MainConnection, transaction: bool):
        self._conn, self._transaction = conn, transaction
        self._queue: list[tuple] = []

    def _call(self, convert, *args):
        self._queue.append((convert, args))
        return self

    def execute(self) -> list:
        queue, self._queue = self._queue, []
        if not queue:
            return []
        commands = [args for _, args in queue]
        if self._transaction:
            replies = self._conn.execute_many([("MULTI",), *commands, ("EXEC",)])
            results = replies[-1]
            if isinstance(results, ErrorReply) or results is None:  # EXECABORT: a command was refused
                errors = [r for r in replies[1:-1] if isinstance(r, ErrorReply)] or [results]
                raise RedisFailure(str(errors[0])[:120])
        else:
            results = self._conn.execute_many(commands)
        for reply in results:
            if isinstance(reply, ErrorReply):
                raise RedisFailure(str(reply)[:120])
        return [convert(reply) for (convert, _), reply in zip(queue, results)]


class Script:
    """A Lua script run by its SHA1 (EVALSHA); the first call on a server that does not know it sends it whole."""

    def __init__(self, conn: MainConnection, script: str):
        self._conn, self.script = conn, script
        self.sha = hashlib.sha1(script.encode("utf-8")).hexdigest()

    def __call__(self, keys=(), args=(), client=None):
        conn = client if client is not None else self._conn
        keys, args = list(keys), list(args)
        reply = conn.execute_many([("EVALSHA", self.sha, len(keys), *keys, *args)])[0]
        if isinstance(reply, ErrorReply) and str(reply).startswith("NOSCRIPT"):
            reply = conn.execute_many([("EVAL", self.script, len(keys), *keys, *args)])[0]
        if isinstance(reply, ErrorReply):
            raise RedisFailure(str(reply)[:120])
        return reply
