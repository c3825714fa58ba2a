"""Versioned SQL migrations: plain ``NNNN_name.sql`` files in ``migrations/``, applied in file-name order and
recorded in ``schema_migrations``. Statements are separated by a ``;`` at the end of a line; ``--`` lines are
comments.

Safe while the previous release still serves (docs/deploy-swarm.md "Migrations while old code runs"):

* **Restartable.** Every statement of a file is recorded in ``schema_migration_steps`` as it succeeds, so a file
  that failed halfway (a lock-wait timeout, a killed task) continues at the failed statement when it is run again.
  A DDL statement commits by itself, so a crash can fall between the statement and its record: when the first
  unrecorded statement answers "already exists / already gone" (1050, 1060, 1061, 1091), it is taken as done.
* **Refuses edits.** A file (or an already applied statement of a partly applied file) whose text changed after it
  ran stops the run with ``MigrationError`` — the schema would differ between shops; write a new file instead.
* **Never queues behind a long transaction for long.** The session's ``lock_wait_timeout`` and
  ``innodb_lock_wait_timeout`` are ``MIGRATE_LOCK_WAIT_SECONDS`` (default 5): an ``ALTER`` waiting for a metadata
  lock blocks every later query on that table, so it gives up quickly and is retried (``MIGRATE_LOCK_RETRIES``).
* **Online DDL only.** An ``ALTER TABLE`` without its own ``ALGORITHM=``/``LOCK=`` clause is run with
  ``ALGORITHM=INSTANT``, else ``ALGORITHM=INPLACE, LOCK=NONE`` (both spelled the same on MySQL 8 and MariaDB 10.11);
  one that can do neither (a column type change copies the table and blocks writes) is refused unless its file says
  why that is acceptable in a ``-- blocking-ddl: <reason>`` line.
* **Expand/contract.** ``DROP TABLE``/``DROP COLUMN``/``RENAME``/``CHANGE``/``TRUNCATE`` (what breaks the release
  still running) are refused unless the file is marked ``-- contract: <release that stopped using it>``.

Concurrent runners are serialised by a named lock. The runner uses its own connection, as ``MIGRATE_DB_USER`` /
``MIGRATE_DB_PASS`` when set (a user with CREATE/ALTER/DROP; the application's ``DB_USER`` needs only DML).
"""
from __future__ import annotations

import hashlib
import os
import re
import time

import pymysql
import pymysql.cursors

from omcore import config
from omcore.log import get_logger

log = get_logger("migrate")

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")
_NAME_RE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

# Files written before these rules, applied as they are: 0311 changes three column types of `orders` (a table copy).
# On a new shop it runs on empty tables; on every running shop it has run already.
GRANDFATHERED = frozenset({"0001_core_schema", "0020_mail_outbox", "0300_freight", "0310_payment_confirmation",
                           "0311_order_amounts_and_idempotency", "0400_images"})

ALREADY_DONE_ERRNOS = frozenset({1050, 1060, 1061, 1091})  # table exists, dup column, dup key, can't drop: absent
NOT_ONLINE_ERRNOS = frozenset({1845, 1846})  # ER_ALTER_OPERATION_NOT_SUPPORTED(_REASON)
LOCK_WAIT_ERRNO = 1205

_ALTER_RE = re.compile(r"^\s*ALTER\s+(?:ONLINE\s+|IGNORE\s+)*TABLE\b", re.I)
_ONLINE_CLAUSE_RE = re.compile(r"\b(ALGORITHM|LOCK)\s*=", re.I)
_DESTRUCTIVE_RE = re.compile(r"\b(DROP\s+TABLE|DROP\s+COLUMN|RENAME\s+(?:TABLE|COLUMN|TO|AS|INDEX|KEY)|"
                             r"CHANGE\s+(?:COLUMN\s+)?`?\w+`?\s+`?\w+`?\s|TRUNCATE\b)", re.I)
_DDL_RE = re.compile(r"^\s*(CREATE|ALTER|DROP|RENAME|TRUNCATE)\b", re.I)


class MigrationError(RuntimeError):
    """A migration file that must not be applied as it is (edited after it ran, blocking or destructive DDL)."""


def discover(directory: str = MIGRATIONS_DIR) -> list[tuple[str, str]]:
    found = []
    for name in sorted(os.listdir(directory)):
        if _NAME_RE.match(name):
            found.append((name[:-4], os.path.join(directory, name)))
    return found


def split_statements(sql: str) -> list[str]:
    statements, current = [], []
    for line in sql.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("--")):
            continue
        if stripped.startswith("--"):
            continue
        current.append(line)
        if stripped.endswith(";"):
            statement = "\n".join(current).strip()
            statements.append(statement[:-1].strip())
            current = []
    if current and "\n".join(current).strip():
        statements.append("\n".join(current).strip().rstrip(";"))
    return statements


def _marker(sql: str, name: str) -> str | None:
    """The text of a ``-- <name>: <reason>`` comment line, if the file has one."""
    found = re.search(rf"^\s*--\s*{name}:\s*(\S.*)$", sql, re.M | re.I)
    return found.group(1).strip() if found else None


def destructive(statement: str) -> bool:
    return bool(_DESTRUCTIVE_RE.search(statement))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# -- connection -----------------------------------------------------------------------------------------------------

def schema_credentials() -> tuple[str, str]:
    """(user, password) for statements that change the schema: the migration user when ``MIGRATE_DB_USER`` names one
    (the Swarm stack's application user may not CREATE, ALTER or DROP), else the application user."""
    if config.get("MIGRATE_DB_USER", ""):
        return config.get("MIGRATE_DB_USER", ""), config.get("MIGRATE_DB_PASS", "")
    return config.get("DB_USER"), config.get("DB_PASS", "")


def _connect(database: bool = True) -> pymysql.connections.Connection:
    host, port = config.get("DB_HOST"), config.get_int("DB_PORT", 3306)  # a missing host is named first
    user, password = schema_credentials()
    ca = config.get("DB_SSL_CA", "")
    return pymysql.connect(host=host, port=port, user=user,
                           password=password, database=config.get("DB_NAME") if database else None,
                           charset="utf8mb4", autocommit=True, cursorclass=pymysql.cursors.DictCursor,
                           connect_timeout=config.get_int("DB_CONNECT_TIMEOUT", 3),
                           ssl={"ca": ca} if ca else None)


def _run(conn, sql: str, args=None) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return list(cur.fetchall() or [])


def _errno(exc: BaseException) -> int | None:
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def create_database_if_missing() -> None:
    """CREATE DATABASE for DB_NAME when the account may do so (local runs, tests, a restore into a fresh server)."""
    name = config.get("DB_NAME")
    if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", name):
        raise config.ConfigError("DB_NAME may only contain letters, digits and underscores")
    conn = _connect(database=False)
    try:
        _run(conn, f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    finally:
        conn.close()


def applied_versions(conn=None) -> dict[str, str]:
    own = conn is None
    conn = conn or _connect()
    try:
        return {r["version"]: r["checksum"] for r in _run(conn, "SELECT version, checksum FROM schema_migrations")}
    finally:
        if own:
            conn.close()


# -- one statement --------------------------------------------------------------------------------------------------

def _with_lock_retries(conn, statement: str, version: str) -> None:
    retries = config.get_int("MIGRATE_LOCK_RETRIES", 5)
    for attempt in range(retries + 1):
        try:
            _run(conn, statement)
            return
        except pymysql.err.MySQLError as exc:
            if _errno(exc) != LOCK_WAIT_ERRNO or attempt == retries:
                raise
            log.warning("migration %s waited too long for a table lock (attempt %d of %d); trying again",
                        version, attempt + 1, retries + 1)
            time.sleep(min(2 ** attempt, 10))


def _apply(conn, statement: str, version: str, blocking_reason: str | None) -> str:
    """Run one statement, an ALTER TABLE online if the server can; return how it ran."""
    if not _ALTER_RE.match(statement) or _ONLINE_CLAUSE_RE.search(statement):
        _with_lock_retries(conn, statement, version)
        return "as written"
    for clause in ("ALGORITHM=INSTANT", "ALGORITHM=INPLACE, LOCK=NONE"):
        try:
            _with_lock_retries(conn, f"{statement},\n  {clause}", version)
            return clause
        except pymysql.err.MySQLError as exc:
            if _errno(exc) not in NOT_ONLINE_ERRNOS:
                raise
    if blocking_reason is None:
        raise MigrationError(
            f"migration {version}: an ALTER TABLE can run neither INSTANT nor INPLACE with LOCK=NONE, so it would "
            f"block writes while old and new code serve; split it (expand/contract: add a new column, backfill, "
            f"switch the code, drop the old one a release later) or say why blocking is acceptable with a "
            f"'-- blocking-ddl: <reason>' line")
    (log.info if version in GRANDFATHERED else log.warning)("migration %s: blocking DDL (%s)", version,
                                                            blocking_reason)
    _with_lock_retries(conn, statement, version)
    return "blocking"


# -- the run --------------------------------------------------------------------------------------------------------

def _check_rules(version: str, sql: str, statements: list[str]) -> None:
    if version in GRANDFATHERED:
        return
    if _marker(sql, "contract") is None:
        bad = [s.split("\n", 1)[0] for s in statements if destructive(s)]
        if bad:
            raise MigrationError(
                f"migration {version} removes or renames what the running release may still use ({bad[0]!r}); "
                f"expand/contract: ship the code that stops using it first, then a file marked "
                f"'-- contract: <that release>'")


def _session_settings(conn) -> None:
    seconds = config.get_int("MIGRATE_LOCK_WAIT_SECONDS", 5)
    _run(conn, "SET SESSION lock_wait_timeout = %s", (seconds,))
    _run(conn, "SET SESSION innodb_lock_wait_timeout = %s", (seconds,))
    _run(conn, "SET time_zone = '+00:00'")


def migrate(directory: str = MIGRATIONS_DIR, *, echo=print) -> list[str]:
    """Apply every pending migration; return the versions applied now."""
    conn = _connect()
    try:
        return _migrate(conn, directory, echo)
    finally:
        conn.close()


def _migrate(conn, directory: str, echo) -> list[str]:
    _run(conn, "CREATE TABLE IF NOT EXISTS schema_migrations ("
               " version VARCHAR(128) NOT NULL PRIMARY KEY,"
               " checksum CHAR(64) NOT NULL,"
               " applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)"
               ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci")
    _run(conn, "CREATE TABLE IF NOT EXISTS schema_migration_steps ("
               " version VARCHAR(128) NOT NULL,"
               " step INT UNSIGNED NOT NULL,"
               " checksum CHAR(64) NOT NULL,"
               " how VARCHAR(40) NOT NULL,"
               " applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
               " PRIMARY KEY (version, step)"
               ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci")
    got = _run(conn, "SELECT GET_LOCK('openmerce_migrate', 60) AS got")
    if not got or got[0]["got"] != 1:
        raise RuntimeError("another migration run holds the lock; try again")
    applied_now = []
    try:
        _session_settings(conn)
        done = applied_versions(conn)
        files = discover(directory)
        # refuse an edited file before anything runs, wherever it is in the order
        for version, path in files:
            with open(path, encoding="utf-8") as fh:
                checksum = _digest(fh.read())
            if version in done and done[version] != checksum:
                raise MigrationError(f"migration {version} changed after it was applied; restore the file as it "
                                     f"was and put the change in a new migration")
        for version, path in files:
            if version in done:
                continue
            with open(path, encoding="utf-8") as fh:
                sql = fh.read()
            statements = split_statements(sql)
            _check_rules(version, sql, statements)
            blocking = _marker(sql, "blocking-ddl") or ("written before the online-DDL rule"
                                                        if version in GRANDFATHERED else None)
            steps = {r["step"]: r["checksum"] for r in _run(
                conn, "SELECT step, checksum FROM schema_migration_steps WHERE version = %s", (version,))}
            first_pending = True
            for step, statement in enumerate(statements, start=1):
                digest = _digest(statement)
                if step in steps:
                    if steps[step] != digest:
                        raise MigrationError(f"migration {version}: statement {step} changed after it was applied")
                    continue
                try:
                    if _DDL_RE.match(statement):
                        how = _apply(conn, statement, version, blocking)
                        _record_step(conn, version, step, digest, how)
                    else:
                        # data statements commit together with their record: exactly once
                        _run(conn, "BEGIN")
                        try:
                            _with_lock_retries(conn, statement, version)
                            _record_step(conn, version, step, digest, "as written")
                            _run(conn, "COMMIT")
                        except BaseException:
                            _run(conn, "ROLLBACK")
                            raise
                except pymysql.err.MySQLError as exc:
                    if first_pending and _DDL_RE.match(statement) and _errno(exc) in ALREADY_DONE_ERRNOS:
                        # the previous run applied it and died before recording it
                        log.warning("migration %s statement %d had already been applied (%s)", version, step, exc)
                        _record_step(conn, version, step, digest, "found applied")
                    else:
                        raise
                first_pending = False
            _run(conn, "INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)", (version, _digest(sql)))
            applied_now.append(version)
            echo(f"applied {version}")
    finally:
        try:
            _run(conn, "SELECT RELEASE_LOCK('openmerce_migrate') AS released")
        except pymysql.err.MySQLError:
            pass
    return applied_now


def _record_step(conn, version: str, step: int, digest: str, how: str) -> None:
    _run(conn, "INSERT INTO schema_migration_steps (version, step, checksum, how) VALUES (%s, %s, %s, %s)",
         (version, step, digest, how))
