"""The migration runner is safe while the previous release serves (omdb.migrate, docs/deploy-swarm.md "Migrations
while old code runs"): restartable statement by statement, an edited applied file is refused, DDL waits for locks
only briefly, ALTER TABLE runs online or is refused, and destructive statements need an explicit contract step.

Each test migrates its own scratch database (DB_NAME of this worker + ``_mig``) from a scratch migrations folder."""
import os
import shutil

import pymysql
import pytest

from omdb import migrate


@pytest.fixture
def scratch(monkeypatch, tmp_path):
    name = os.environ["DB_NAME"] + "_mig"
    monkeypatch.setenv("DB_NAME", name)
    root = _root()
    with root.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    migrate.create_database_if_missing()
    folder = tmp_path / "migrations"
    folder.mkdir()
    yield folder
    with root.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    root.close()


def _root(database=None):
    return pymysql.connect(host=os.environ["DB_HOST"], port=int(os.environ["DB_PORT"]), user=os.environ["DB_USER"],
                           password=os.environ["DB_PASS"], database=database, autocommit=True)


def _write(folder, name, text):
    (folder / name).write_text(text, encoding="utf-8")


def _columns(table):
    conn = _root(os.environ["DB_NAME"])
    with conn.cursor() as cur:
        cur.execute("SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s"
                    " AND TABLE_NAME = %s", (os.environ["DB_NAME"], table))
        rows = dict(cur.fetchall())
    conn.close()
    return rows


def _steps(version):
    conn = _root(os.environ["DB_NAME"])
    with conn.cursor() as cur:
        cur.execute("SELECT step, how FROM schema_migration_steps WHERE version = %s ORDER BY step", (version,))
        rows = list(cur.fetchall())
    conn.close()
    return rows


BASE = "CREATE TABLE widgets (id INT NOT NULL PRIMARY KEY, qty INT NOT NULL) ENGINE=InnoDB;\n"


def test_the_shipped_migrations_apply_and_a_second_run_applies_nothing(scratch):
    for name in os.listdir(migrate.MIGRATIONS_DIR):
        shutil.copy(os.path.join(migrate.MIGRATIONS_DIR, name), scratch / name)
    applied = migrate.migrate(str(scratch), echo=lambda *_: None)
    assert applied == [v for v, _ in migrate.discover(str(scratch))]
    assert migrate.migrate(str(scratch), echo=lambda *_: None) == []


def test_a_changed_applied_file_is_refused_not_just_warned_about(scratch):
    _write(scratch, "0001_widgets.sql", BASE)
    migrate.migrate(str(scratch), echo=lambda *_: None)
    _write(scratch, "0001_widgets.sql", BASE.replace("qty INT", "qty BIGINT"))
    _write(scratch, "0002_more.sql", "ALTER TABLE widgets ADD COLUMN note VARCHAR(20) NULL;\n")
    with pytest.raises(migrate.MigrationError, match="0001_widgets changed after it was applied"):
        migrate.migrate(str(scratch), echo=lambda *_: None)
    assert "note" not in _columns("widgets")  # nothing after the refusal ran either


def test_a_file_that_failed_halfway_continues_where_it_stopped(scratch):
    # statement 2 fails (no such table); statement 1 has no IF NOT EXISTS, so running it again would fail too
    _write(scratch, "0001_widgets.sql", BASE + "ALTER TABLE gadgets ADD COLUMN x INT NULL;\n")
    with pytest.raises(pymysql.err.MySQLError):
        migrate.migrate(str(scratch), echo=lambda *_: None)
    assert [s for s, _ in _steps("0001_widgets")] == [1]
    assert "0001_widgets" not in migrate.applied_versions()
    _write(scratch, "0001_widgets.sql", BASE + "ALTER TABLE widgets ADD COLUMN x INT NULL;\n")
    assert migrate.migrate(str(scratch), echo=lambda *_: None) == ["0001_widgets"]
    assert "x" in _columns("widgets")


def test_an_applied_statement_of_a_half_applied_file_may_not_change(scratch):
    _write(scratch, "0001_widgets.sql", BASE + "ALTER TABLE gadgets ADD COLUMN x INT NULL;\n")
    with pytest.raises(pymysql.err.MySQLError):
        migrate.migrate(str(scratch), echo=lambda *_: None)
    _write(scratch, "0001_widgets.sql", BASE.replace("qty INT", "qty BIGINT")
           + "ALTER TABLE widgets ADD COLUMN x INT NULL;\n")
    with pytest.raises(migrate.MigrationError, match="statement 1 changed"):
        migrate.migrate(str(scratch), echo=lambda *_: None)


def test_a_statement_applied_by_a_run_that_died_before_recording_it_is_taken_as_done(scratch):
    _write(scratch, "0001_widgets.sql", BASE + "ALTER TABLE widgets ADD COLUMN x INT NULL;\n")
    conn = _root(os.environ["DB_NAME"])
    with conn.cursor() as cur:  # what a killed run leaves behind: the DDL committed, no record of it
        cur.execute(BASE.rstrip().rstrip(";"))
    conn.close()
    assert migrate.migrate(str(scratch), echo=lambda *_: None) == ["0001_widgets"]
    assert _steps("0001_widgets") == [(1, "found applied"), (2, "ALGORITHM=INSTANT")]


def test_alter_table_runs_online_and_a_table_copy_is_refused_unless_the_file_says_why(scratch):
    _write(scratch, "0001_widgets.sql", BASE)
    _write(scratch, "0002_note.sql", "ALTER TABLE widgets ADD COLUMN note VARCHAR(20) NULL;\n"
                                     "ALTER TABLE widgets ADD INDEX idx_qty (qty);\n")
    migrate.migrate(str(scratch), echo=lambda *_: None)
    assert _steps("0002_note") == [(1, "ALGORITHM=INSTANT"), (2, "ALGORITHM=INPLACE, LOCK=NONE")]
    _write(scratch, "0003_wider.sql", "ALTER TABLE widgets MODIFY qty BIGINT NOT NULL;\n")
    with pytest.raises(migrate.MigrationError, match="neither INSTANT nor INPLACE"):
        migrate.migrate(str(scratch), echo=lambda *_: None)
    assert _columns("widgets")["qty"] == "int(11)" or _columns("widgets")["qty"] == "int"
    _write(scratch, "0003_wider.sql", "-- blocking-ddl: widgets holds 40 rows, the copy takes milliseconds\n"
                                      "ALTER TABLE widgets MODIFY qty BIGINT NOT NULL;\n")
    assert migrate.migrate(str(scratch), echo=lambda *_: None) == ["0003_wider"]
    assert _columns("widgets")["qty"].startswith("bigint")
    assert _steps("0003_wider") == [(1, "blocking")]


def test_dropping_or_renaming_needs_a_contract_file(scratch):
    _write(scratch, "0001_widgets.sql", BASE)
    _write(scratch, "0002_drop.sql", "ALTER TABLE widgets DROP COLUMN qty;\n")
    with pytest.raises(migrate.MigrationError, match="expand/contract"):
        migrate.migrate(str(scratch), echo=lambda *_: None)
    assert "qty" in _columns("widgets")
    _write(scratch, "0002_drop.sql", "-- contract: 1.4 stopped reading widgets.qty\n"
                                     "ALTER TABLE widgets DROP COLUMN qty;\n")
    assert migrate.migrate(str(scratch), echo=lambda *_: None) == ["0002_drop"]
    assert "qty" not in _columns("widgets")


def test_ddl_behind_a_long_transaction_gives_up_quickly_and_applies_on_the_next_run(scratch, monkeypatch):
    _write(scratch, "0001_widgets.sql", BASE)
    migrate.migrate(str(scratch), echo=lambda *_: None)
    monkeypatch.setenv("MIGRATE_LOCK_WAIT_SECONDS", "1")
    monkeypatch.setenv("MIGRATE_LOCK_RETRIES", "0")
    holder = _root(os.environ["DB_NAME"])
    with holder.cursor() as cur:  # an old-release transaction that has read the table holds its metadata lock
        cur.execute("BEGIN")
        cur.execute("SELECT * FROM widgets")
    _write(scratch, "0002_note.sql", "ALTER TABLE widgets ADD COLUMN note VARCHAR(20) NULL;\n")
    with pytest.raises(pymysql.err.OperationalError) as failed:
        migrate.migrate(str(scratch), echo=lambda *_: None)
    assert failed.value.args[0] == 1205
    holder.rollback()
    holder.close()
    assert migrate.migrate(str(scratch), echo=lambda *_: None) == ["0002_note"]


def test_migrations_log_in_as_the_migration_user_when_one_is_set(scratch, monkeypatch):
    """MIGRATE_DB_USER/MIGRATE_DB_PASS (schema rights) instead of the application's DB_USER (data rights only)."""
    user = "om_mig_" + os.environ["DB_NAME"][-20:]
    conn = _root()
    with conn.cursor() as cur:
        cur.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'Mig-Pass-123'")
        cur.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX ON `{os.environ['DB_NAME']}`.* "
                    f"TO '{user}'@'%'")
    try:
        _write(scratch, "0001_widgets.sql", BASE)
        monkeypatch.setenv("MIGRATE_DB_USER", user)
        monkeypatch.setenv("MIGRATE_DB_PASS", "wrong")
        with pytest.raises(pymysql.err.OperationalError) as refused:
            migrate.migrate(str(scratch), echo=lambda *_: None)
        assert refused.value.args[0] == 1045  # it really logged in as that user
        monkeypatch.setenv("MIGRATE_DB_PASS", "Mig-Pass-123")
        assert migrate.migrate(str(scratch), echo=lambda *_: None) == ["0001_widgets"]
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        conn.close()
