"""Typed database errors, classified by the server's error number (never by message text)."""
from __future__ import annotations

import re

import pymysql


class DatabaseError(Exception):
    """A database failure that is not the client's fault (HTTP 500)."""


class DatabaseUnavailable(DatabaseError):
    """The server cannot be reached or the connection dropped (HTTP 503); nothing was committed by us."""


class IntegrityError(DatabaseError):
    pass


class DuplicateKey(IntegrityError):
    """ER_DUP_ENTRY (1062). ``key`` names the unique index when the server reports it."""

    def __init__(self, message: str, key: str | None):
        super().__init__(message)
        self.key = key


class ForeignKeyViolation(IntegrityError):
    """ER_ROW_IS_REFERENCED (1451) / ER_NO_REFERENCED_ROW (1452)."""

    def __init__(self, message: str, referenced: bool):
        super().__init__(message)
        #: True when the row is still referenced (delete/update blocked); False when a referenced row is missing.
        self.referenced = referenced


class Deadlock(DatabaseError):
    """ER_LOCK_DEADLOCK (1213) or ER_LOCK_WAIT_TIMEOUT (1205): the whole transaction may be retried."""


# Client-side codes from pymysql/CR and server codes that mean "the connection is gone".
CONNECTION_ERRNOS = frozenset({
    0,      # pymysql InterfaceError on a closed connection
    1040,   # too many connections
    1053,   # server shutdown in progress
    1927,   # MariaDB: connection was killed
    2003,   # can't connect
    2006,   # server has gone away
    2013,   # lost connection during query
    2014,   # commands out of sync after a broken read
    2055,   # lost connection at reading/writing
    4031,   # MySQL 8: disconnected by the server because of inactivity
})

_KEY_RE = re.compile(r"for key '(?:[^'.]+\.)?([^']+)'")


def errno_of(exc: BaseException) -> int | None:
    args = getattr(exc, "args", ())
    if args and isinstance(args[0], int):
        return args[0]
    return None


def is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, pymysql.err.InterfaceError):
        return True
    if isinstance(exc, (pymysql.err.OperationalError, pymysql.err.InternalError)):
        return errno_of(exc) in CONNECTION_ERRNOS
    return isinstance(exc, (ConnectionError, TimeoutError, OSError))


def translate(exc: BaseException) -> Exception:
    """Map a pymysql exception onto one of the typed errors above."""
    code = errno_of(exc)
    message = str(exc.args[1]) if len(getattr(exc, "args", ())) > 1 else str(exc)
    if is_connection_error(exc):
        return DatabaseUnavailable(f"database unavailable ({code})")
    if code == 1062:
        match = _KEY_RE.search(message)  # the index name is the only part of the message we read
        return DuplicateKey(message, match.group(1) if match else None)
    if code in (1451, 1217):
        return ForeignKeyViolation(message, referenced=True)
    if code in (1452, 1216):
        return ForeignKeyViolation(message, referenced=False)
    if code in (1213, 1205):
        return Deadlock(message)
    return DatabaseError(f"database error {code}")


def _register_http_mapping() -> None:
    from omcore.errors import register

    register(DatabaseUnavailable, 503, "database temporarily unavailable, please retry")
    register(Deadlock, 503, "the server is busy, please retry")
    register(DuplicateKey, 409, "conflicts with an existing record")
    register(ForeignKeyViolation, 409, "conflicts with related records")


_register_http_mapping()
