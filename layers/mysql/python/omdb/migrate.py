"""Versioned SQL migrations: plain ``NNNN_name.sql`` files in ``migrations/``, applied in file-name order and
recorded in ``schema_migrations``. Safe to re-run (applied versions are skipped) and to run concurrently (a named
lock serialises runners). Statements are separated by a ``;`` at the end of a line; ``--`` lines are comments.
"""
from __future__ import annotations

import hashlib
import os
import re

import pymysql

from omcore import config
from omcore.log import get_logger

from . import db

log = get_logger("migrate")

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")
_NAME_RE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


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


def create_database_if_missing() -> None:
    """CREATE DATABASE for DB_NAME when the account may do so (local runs and tests)."""
    name = config.get("DB_NAME")
    if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", name):
        raise config.ConfigError("DB_NAME may only contain letters, digits and underscores")
    conn = pymysql.connect(host=config.get("DB_HOST"), port=config.get_int("DB_PORT", 3306),
                           user=config.get("DB_USER"), password=config.get("DB_PASS", ""),
                           connect_timeout=5, charset="utf8mb4")
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    finally:
        conn.close()


def applied_versions() -> dict[str, str]:
    rows = db.query("SELECT version, checksum FROM schema_migrations")
    return {r["version"]: r["checksum"] for r in rows}


def migrate(directory: str = MIGRATIONS_DIR, *, echo=print) -> list[str]:
    """Apply every pending migration; return the versions applied now."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version VARCHAR(128) NOT NULL PRIMARY KEY,"
        " checksum CHAR(64) NOT NULL,"
        " applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)"
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci")
    lock = db.query_one("SELECT GET_LOCK('openmerce_migrate', 60) AS got")
    if not lock or lock["got"] != 1:
        raise RuntimeError("another migration run holds the lock; try again")
    applied_now = []
    try:
        done = applied_versions()
        for version, path in discover(directory):
            with open(path, encoding="utf-8") as fh:
                sql = fh.read()
            checksum = hashlib.sha256(sql.encode()).hexdigest()
            if version in done:
                if done[version] != checksum:
                    log.warning("migration %s changed after it was applied; not re-applied", version)
                continue
            for statement in split_statements(sql):
                db.execute(statement)
            db.execute("INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)", (version, checksum))
            applied_now.append(version)
            echo(f"applied {version}")
    finally:
        db.query_one("SELECT RELEASE_LOCK('openmerce_migrate') AS released")
    return applied_now
