"""MySQL access over PyMySQL: one connection per thread (one per Lambda container or gunicorn worker).

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

import random
import threading
import time
from contextlib import contextmanager

import pymysql
import pymysql.cursors

from omcore import config
from omcore.log import get_logger

from .errors import DatabaseUnavailable, Deadlock, is_connection_error, translate
from .sql import NOW, placeholders, update_statement  # noqa: F401 - re-exported: db.NOW, db.placeholders

log = get_logger("db")

_local = threading.local()
_settings = None


def _connect_args() -> dict:
    global _settings
    if _settings is None:
        _settings = dict(
            # bytes: getaddrinfo (and ssl's server_hostname) skip the "idna" codec, ~10 ms of a cold start
            host=config.get("DB_HOST").encode("ascii") if config.get("DB_HOST").isascii() else config.get("DB_HOST"),
            port=config.get_int("DB_PORT", 3306),
            user=config.get("DB_USER"),
            password=config.get("DB_PASS", ""),
            database=config.get("DB_NAME"),
            charset="utf8mb4",
            autocommit=True,
            cursorclass=pymysql.cursors.DictCursor,
            connect_timeout=config.get_int("DB_CONNECT_TIMEOUT", 3),
            read_timeout=config.get_int("DB_READ_TIMEOUT", 30),
            write_timeout=config.get_int("DB_WRITE_TIMEOUT", 30),
            init_command="SET time_zone = '+00:00'",
            ssl={"ca": config.get("DB_SSL_CA")} if config.get("DB_SSL_CA", "") else None,
        )
    return _settings


def reset() -> None:
    """Close this thread's connection and forget the settings (tests, forked workers)."""
    global _settings
    conn = getattr(_local, "conn", None)
    _local.conn = None
    _settings = None
    if conn is not None:
        try:
            conn.close()
        except Exception:
            pass


PING_AFTER_IDLE_SECONDS = 10.0


def _drop() -> None:
    conn = getattr(_local, "conn", None)
    _local.conn = None
    if conn is not None:
        try:
            conn.close()
        except Exception:
            pass


def _connection() -> pymysql.connections.Connection:
    conn = getattr(_local, "conn", None)
    now = time.monotonic()
    if conn is not None and now - getattr(_local, "last_used", 0.0) > PING_AFTER_IDLE_SECONDS:
        try:
            conn.ping(reconnect=False)
        except Exception:
            _drop()
            conn = None
    if conn is None:
        try:
            conn = pymysql.connect(**_connect_args())
        except pymysql.err.MySQLError as exc:
            raise translate(exc) from exc
        except OSError as exc:
            raise DatabaseUnavailable("database unavailable") from exc
        _local.conn = conn
    _local.last_used = now
    return conn


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
    conn = _connection()
    try:
        return _Runner()._cursor_run(conn, sql, args, many)
    except (pymysql.err.MySQLError, OSError) as exc:
        if is_connection_error(exc):
            _drop()
            if retry_safe:
                # The statement never reached a live server (or was a read): one fresh connection, one retry.
                conn = _connection()
                try:
                    return _Runner()._cursor_run(conn, sql, args, many)
                except (pymysql.err.MySQLError, OSError) as exc2:
                    if is_connection_error(exc2):
                        _drop()
                    raise (translate(exc2) if isinstance(exc2, pymysql.err.MySQLError)
                           else DatabaseUnavailable("database unavailable")) from exc2
            raise DatabaseUnavailable("database unavailable") from exc
        raise translate(exc) from exc


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
    """``with transaction() as tx:`` — BEGIN, COMMIT on success, ROLLBACK on any exception."""
    conn = _connection()
    try:
        conn.begin()
    except (pymysql.err.MySQLError, OSError) as exc:
        if not is_connection_error(exc):
            raise translate(exc) from exc
        _drop()
        conn = _connection()  # BEGIN did nothing yet: reconnecting is safe
        try:
            conn.begin()
        except (pymysql.err.MySQLError, OSError) as exc2:
            _drop()
            raise DatabaseUnavailable("database unavailable") from exc2
    tx = Transaction(conn)
    try:
        yield tx
    except BaseException as exc:
        try:
            conn.rollback()
        except Exception:
            _drop()
        if isinstance(exc, DatabaseUnavailable):
            _drop()
        raise
    try:
        conn.commit()
    except (pymysql.err.MySQLError, OSError) as exc:
        _drop()
        raise (translate(exc) if isinstance(exc, pymysql.err.MySQLError)
               else DatabaseUnavailable("database unavailable")) from exc


def run_in_transaction(fn, *, retries: int = 4):
    """Run ``fn(tx)`` in one transaction, retrying the whole step on deadlock or lock-wait timeout."""
    attempt = 0
    while True:
        try:
            with transaction() as tx:
                return fn(tx)
        except Deadlock:
            attempt += 1
            if attempt > retries:
                raise
            time.sleep(random.uniform(0.005, 0.02) * attempt)
