"""MySQL access over PyMySQL: a bounded pool of connections per process, lent per statement or per transaction.

* One request at a time (Lambda, a sync worker) uses one connection, as before: the pool never opens a second one.
  Under a threaded or cooperative server (the container's gunicorn) each thread/greenlet borrows a connection only
  while a statement or a transaction runs, and gives it back before the code waits on anything else (Midtrans, the
  freight provider, a slow client) — so a few connections serve hundreds of requests in flight.
* At most ``DB_POOL_SIZE`` connections per process (keep ``DB_POOL_SIZE`` × processes below the server's
  ``max_connections``). When all are lent, a caller waits up to ``DB_POOL_TIMEOUT_SECONDS`` for one, then gets
  ``PoolExhausted`` — a ``DatabaseUnavailable``, so HTTP 503 with ``Retry-After``, never a hang.
* Inside ``transaction()`` every statement of that thread (``tx.*`` and the module-level helpers alike) runs on the
  transaction's connection.
* Survives Lambda freeze/thaw and a restarted server: an idle connection is pinged before use, and a statement
  that finds the connection dead *before anything was sent in this unit of work* reconnects and runs again.
  A connection lost mid-transaction raises ``DatabaseUnavailable`` (HTTP 503); the server rolls it back.
* Autocommit outside ``transaction()``; inside, one BEGIN..COMMIT with rollback on any exception.
* ``run_in_transaction`` retries a whole business step on deadlock / lock-wait timeout.
* Every session runs in UTC.
* ``update`` is the one dict-to-``UPDATE`` statement (column allow-list, see ``omdb.sql``); ``placeholders(n)``
  the one ``IN (...)`` list.
"""
from __future__ import annotations

import os
import random
import threading
import time
from contextlib import contextmanager

import pymysql
import pymysql.cursors

from omcore import config
from omcore.log import get_logger

from .errors import DatabaseUnavailable, Deadlock, errno_of, is_connection_error, translate
from .sql import NOW, placeholders, update_statement  # noqa: F401 - re-exported: db.NOW, db.placeholders

log = get_logger("db")

# the connection this thread (greenlet, under gevent's patching) has borrowed while a statement/transaction runs
_local = threading.local()
_settings = None
_pool: "_Pool | None" = None
_pool_guard = threading.Lock()

PING_AFTER_IDLE_SECONDS = 10.0


class PoolExhausted(DatabaseUnavailable):
    """Every connection of this process stayed lent for ``DB_POOL_TIMEOUT_SECONDS`` (HTTP 503, Retry-After)."""


def _register_http_mapping() -> None:
    from omcore.errors import register

    register(PoolExhausted, 503, "the server is at capacity, please retry")


_register_http_mapping()


def _connect_args() -> dict:
    global _settings
    if _settings is None:
        _settings = dict(
            # bytes: getaddrinfo (and ssl's server_hostname) skip the "idna" codec, ~10 ms of a cold start
            host=config.get("DB_HOST").encode("ascii") if config.get("DB_HOST").isascii() else config.get("DB_HOST"),
            port=config.get_int("DB_PORT"),
            user=config.get("DB_USER"),
            password=config.get("DB_PASS", ""),
            database=config.get("DB_NAME"),
            charset="utf8mb4",
            autocommit=True,
            cursorclass=pymysql.cursors.DictCursor,
            connect_timeout=config.get_int("DB_CONNECT_TIMEOUT"),
            read_timeout=config.get_int("DB_READ_TIMEOUT"),
            write_timeout=config.get_int("DB_WRITE_TIMEOUT"),
            init_command="SET time_zone = '+00:00'" if config.get_bool("DB_SESSION_TIME_ZONE") else None,
            ssl={"ca": config.get("DB_SSL_CA")} if config.get("DB_SSL_CA", "") else None,
        )
    return _settings


def _open() -> pymysql.connections.Connection:
    try:
        return pymysql.connect(**_connect_args())
    except pymysql.err.MySQLError as exc:
        raise translate(exc) from exc
    except OSError as exc:
        raise DatabaseUnavailable("database unavailable") from exc


def _close(conn) -> None:
    try:
        conn.close()
    except Exception:
        pass


class _Pool:
    """At most ``size`` connections; idle ones are kept most-recently-used first (a quiet process reuses one)."""

    def __init__(self, size: int, wait_seconds: float):
        self.size = max(1, size)
        self.wait_seconds = max(0.0, wait_seconds)
        self.pid = os.getpid()
        self._idle: list[tuple[pymysql.connections.Connection, float]] = []
        self._open = 0  # lent + idle
        self._cond = threading.Condition(threading.Lock())

    def acquire(self) -> pymysql.connections.Connection:
        with self._cond:
            deadline = None
            while True:
                if self._idle:
                    conn, last_used = self._idle.pop()
                    break
                if self._open < self.size:
                    self._open += 1
                    conn = None
                    break
                now = time.monotonic()
                if deadline is None:
                    deadline = now + self.wait_seconds
                if now >= deadline:
                    log.warning("database pool exhausted: %d connections lent for %.1fs", self.size,
                                self.wait_seconds)
                    raise PoolExhausted("database busy, please retry")
                self._cond.wait(deadline - now)
        try:
            if conn is not None and time.monotonic() - last_used > PING_AFTER_IDLE_SECONDS:
                try:
                    conn.ping(reconnect=False)
                except Exception:
                    _close(conn)
                    conn = None
            return conn if conn is not None else _open()
        except BaseException:
            self._forget()
            raise

    def release(self, conn, broken: bool = False) -> None:
        if broken or os.getpid() != self.pid:
            _close(conn)
            self._forget()
            return
        with self._cond:
            self._idle.append((conn, time.monotonic()))
            self._cond.notify()

    def _forget(self) -> None:
        with self._cond:
            self._open -= 1
            self._cond.notify()

    def close_idle(self) -> None:
        with self._cond:
            idle, self._idle = self._idle, []
            self._open -= len(idle)
        for conn, _ in idle:
            _close(conn)


def _get_pool() -> _Pool:
    global _pool
    pool = _pool
    if pool is None or pool.pid != os.getpid():
        with _pool_guard:
            if _pool is None or _pool.pid != os.getpid():  # a forked worker never shares its parent's sockets
                _pool = _Pool(config.get_int("DB_POOL_SIZE"),
                              config.get_int("DB_POOL_TIMEOUT_SECONDS"))
            pool = _pool
    return pool


def reset() -> None:
    """Close this thread's connection and the idle ones, and forget the settings (tests, forked workers)."""
    global _settings, _pool
    conn = getattr(_local, "conn", None)
    _local.conn = None
    if conn is not None:
        _close(conn)
    with _pool_guard:
        pool, _pool = _pool, None
        _settings = None
    if pool is not None and pool.pid == os.getpid():
        pool.close_idle()


def _lease() -> tuple[pymysql.connections.Connection, bool]:
    """(connection, borrowed_here): the connection of the transaction this thread is in, else one from the pool."""
    conn = getattr(_local, "conn", None)
    if conn is not None:
        return conn, False
    conn = _get_pool().acquire()
    _local.conn = conn
    return conn, True


def _give_back(conn, broken: bool = False) -> None:
    if getattr(_local, "conn", None) is conn:
        _local.conn = None
    pool = _pool
    if pool is not None and pool.pid == os.getpid():
        pool.release(conn, broken)
    else:  # the pool was reset while this connection was lent
        _close(conn)


class _Runner:
    """Shared statement helpers; ``Transaction`` and the module-level autocommit API both use them."""

    def _cursor_run(self, conn, sql, args, many=False):
        with conn.cursor() as cur:
            if many:
                cur.executemany(sql, args)
            else:
                cur.execute(sql, args)
            return cur.fetchall(), cur.rowcount, cur.lastrowid


class Result:
    __slots__ = ("rowcount", "lastrowid")

    def __init__(self, rowcount: int, lastrowid: int | None):
        self.rowcount = rowcount
        self.lastrowid = lastrowid


class Transaction(_Runner):
    def __init__(self, conn):
        self._conn = conn

    def _run(self, sql, args, many=False):
        try:
            return self._cursor_run(self._conn, sql, args, many)
        except pymysql.err.MySQLError as exc:
            raise translate(exc) from exc
        except OSError as exc:
            raise DatabaseUnavailable("database unavailable") from exc

    def query(self, sql: str, args=None) -> list[dict]:
        return list(self._run(sql, args)[0])

    def query_one(self, sql: str, args=None) -> dict | None:
        rows = self._run(sql, args)[0]
        return rows[0] if rows else None

    def execute(self, sql: str, args=None) -> Result:
        _, rowcount, lastrowid = self._run(sql, args)
        return Result(rowcount, lastrowid)

    def executemany(self, sql: str, seq) -> Result:
        _, rowcount, lastrowid = self._run(sql, seq, many=True)
        return Result(rowcount, lastrowid)

    def update(self, table: str, values: dict, where: str, where_args=(), *, allowed,
               touch: str | None = "updated_at") -> Result:
        """``db.update`` inside this transaction."""
        statement = update_statement(table, values, where, where_args, allowed=allowed, touch=touch)
        return self.execute(*statement) if statement else Result(0, None)


def _autocommit_run(sql, args, many=False, retry_safe=True):
    """One statement in autocommit mode (or on the connection of the transaction this thread is in). A deadlock of
    an autocommit statement is retried a few times: the server rolled the statement back whole (in autocommit it is
    its own transaction), so running it again is safe — under concurrent requests, e.g. a cart update joining the
    inventory rows a checkout holds, it is the expected outcome, not an error. (A lock-wait timeout is not retried:
    it already waited ``innodb_lock_wait_timeout``.)"""
    in_transaction = getattr(_local, "conn", None) is not None
    attempt = 0
    while True:
        try:
            return _autocommit_once(sql, args, many, retry_safe)
        except Deadlock as exc:
            attempt += 1
            if in_transaction or attempt > 4 or errno_of(exc.__cause__) != 1213:
                raise
            time.sleep(random.uniform(0.005, 0.02) * attempt)


def _autocommit_once(sql, args, many, retry_safe):
    conn, borrowed = _lease()
    try:
        try:
            return _Runner()._cursor_run(conn, sql, args, many)
        except (pymysql.err.MySQLError, OSError) as exc:
            if not is_connection_error(exc):
                raise translate(exc) from exc
            if not borrowed:  # the enclosing transaction's connection died: it rolls back and drops it
                raise DatabaseUnavailable("database unavailable") from exc
            _give_back(conn, broken=True)
            borrowed = False
            if not retry_safe:
                raise DatabaseUnavailable("database unavailable") from exc
        # The statement never reached a live server (or was a read): one fresh connection, one retry.
        conn, borrowed = _lease()
        try:
            return _Runner()._cursor_run(conn, sql, args, many)
        except (pymysql.err.MySQLError, OSError) as exc2:
            if is_connection_error(exc2):
                _give_back(conn, broken=True)
                borrowed = False
            raise (translate(exc2) if isinstance(exc2, pymysql.err.MySQLError)
                   else DatabaseUnavailable("database unavailable")) from exc2
    finally:
        if borrowed:
            _give_back(conn)


def query(sql: str, args=None) -> list[dict]:
    """Run a read in autocommit mode."""
    return list(_autocommit_run(sql, args)[0])


def query_one(sql: str, args=None) -> dict | None:
    rows = _autocommit_run(sql, args)[0]
    return rows[0] if rows else None


def execute(sql: str, args=None) -> Result:
    """Run one write in autocommit mode. It is not retried after a lost connection (it may have applied)."""
    _, rowcount, lastrowid = _autocommit_run(sql, args, retry_safe=False)
    return Result(rowcount, lastrowid)


def update(table: str, values: dict, where: str, where_args=(), *, allowed,
           touch: str | None = "updated_at") -> Result:
    """Write ``values`` ({column: value}; ``NOW`` for ``UTC_TIMESTAMP(3)``) to the rows of ``table`` matching
    ``where`` (autocommit; ``tx.update`` inside a transaction). Every column must be in ``allowed`` — column names
    come from code, never from input (``ValueError`` otherwise). ``touch`` (default ``updated_at``) is set to now
    whenever something changes. Empty ``values`` runs nothing (rowcount 0)."""
    statement = update_statement(table, values, where, where_args, allowed=allowed, touch=touch)
    return execute(*statement) if statement else Result(0, None)


@contextmanager
def transaction():
    """``with transaction() as tx:`` — BEGIN, COMMIT on success, ROLLBACK on any exception. The connection is
    borrowed from the pool for the transaction's duration (so never wait on the network inside one)."""
    conn, borrowed = _lease()
    try:
        conn.begin()
    except (pymysql.err.MySQLError, OSError) as exc:
        if not is_connection_error(exc) or not borrowed:
            if borrowed:
                _give_back(conn)
            raise (translate(exc) if isinstance(exc, pymysql.err.MySQLError)
                   else DatabaseUnavailable("database unavailable")) from exc
        _give_back(conn, broken=True)
        conn, borrowed = _lease()  # BEGIN did nothing yet: reconnecting is safe
        try:
            conn.begin()
        except (pymysql.err.MySQLError, OSError) as exc2:
            _give_back(conn, broken=True)
            raise DatabaseUnavailable("database unavailable") from exc2
    tx = Transaction(conn)
    broken = False
    try:
        try:
            yield tx
        except BaseException as exc:
            try:
                conn.rollback()
            except Exception:
                broken = True
            if isinstance(exc, DatabaseUnavailable):
                broken = True
            raise
        try:
            conn.commit()
        except (pymysql.err.MySQLError, OSError) as exc:
            broken = True
            raise (translate(exc) if isinstance(exc, pymysql.err.MySQLError)
                   else DatabaseUnavailable("database unavailable")) from exc
    finally:
        if borrowed:
            _give_back(conn, broken)
        elif broken:
            _local.conn = None
            _close(conn)


def run_in_transaction(fn, *, retries: int = 8):
    """Run ``fn(tx)`` in one transaction, retrying the whole step on deadlock or lock-wait timeout, after a random
    pause that grows with each attempt (full jitter, at most 0.2 s): with many requests in flight at once — the
    container's threaded workers — the same rows meet in different orders (e.g. two carts inserting next to each
    other in a unique index), and a few quick retries in lockstep could meet again."""
    attempt = 0
    while True:
        try:
            with transaction() as tx:
                return fn(tx)
        except Deadlock:
            attempt += 1
            if attempt > retries:
                raise
            time.sleep(random.uniform(0.002, min(0.2, 0.01 * 2 ** attempt)))
