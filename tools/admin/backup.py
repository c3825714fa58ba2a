"""Backups of a Swarm (or any self-hosted) shop to a second S3-compatible location, and restores from them.

    python -m tools.admin backup [--loop]            one backup now (--loop: every BACKUP_INTERVAL_SECONDS)
    python -m tools.admin backups                    list the backups in the backup location
    python -m tools.admin restore [--backup ID] [--force]
                                                     restore a backup (default: the newest) into an empty shop

What a backup is, in the bucket ``BACKUP_S3_BUCKET`` under ``BACKUP_S3_PREFIX`` (docs/deploy-swarm.md "Backups"):

* ``db/<id>.sql.gz`` — a consistent dump of the whole database: one ``START TRANSACTION WITH CONSISTENT SNAPSHOT``
  (InnoDB, REPEATABLE READ) over every table, written as SQL (``DROP TABLE``/``CREATE TABLE``/multi-row ``INSERT``,
  one statement per line), so the ``mysql`` client can load it too. Pure Python on PyMySQL: the image has no
  ``mysqldump`` (a slim Python image; the MySQL client packages would add ~60 MB and a second copy of the
  connection settings), and the same code runs in the tests against MariaDB.
* ``objects/<bucket>/<etag>/<key>`` — every object of the originals and public buckets, stored once per content
  (an unchanged object is not copied again: the previous backup's manifest says it is there).
* ``manifests/<id>.json`` — written last: a backup exists once its manifest does. Lists the dump (with its SHA-256)
  and every object (key, etag, size, where it is stored).

Encryption: every write asks for server-side encryption (``BACKUP_S3_SSE``, default ``AES256``); with
``BACKUP_ENCRYPTION_KEY`` set, the dump and every object are also encrypted here (AES-256-GCM, key = SHA-256 of
the setting) before they leave, so the backup store never sees plain data. Keep that key outside the shop (a
password manager): without it the backups cannot be read.

Retention: manifests older than ``BACKUP_RETENTION_DAYS`` are deleted, never the newest ``BACKUP_KEEP_MIN``; then
every dump and object no kept manifest refers to.

Every run writes one JSON log line ``{"event": "backup_ok", ...}`` or ``{"event": "backup_failed", ...}`` (alert
on the latter, or on no ``backup_ok`` for two intervals) and, after a success, touches ``HEARTBEAT_FILE`` (the
``backup`` role's healthcheck reads its age). Redis is not backed up: what a Redis loss costs is in the docs.
"""
from __future__ import annotations

import datetime
import gzip
import hashlib
import io
import json
import os
import sys
import time

from omcore import config
from omcore.log import get_logger

log = get_logger("backup")

MAGIC = b"OMB1"  # client-side encrypted blob: MAGIC + 12-byte nonce + AES-GCM ciphertext and tag
ROWS_PER_INSERT = 500
LOGICAL_BUCKETS = (("originals", "IMAGES_ORIGINALS_BUCKET"), ("public", "IMAGES_PUBLIC_BUCKET"))


class BackupError(RuntimeError):
    pass


# -- settings and clients -------------------------------------------------------------------------------------------

def _prefix() -> str:
    return config.get("BACKUP_S3_PREFIX").strip("/")


def _bucket() -> str:
    return config.get("BACKUP_S3_BUCKET")


def backup_s3():
    """The client of the backup location: its own endpoint and keys, never the live object store's."""
    import boto3
    from botocore.config import Config

    region = config.get("BACKUP_S3_REGION")
    # AWS_ENDPOINT_URL (the live store on Swarm) would apply to every client without an endpoint: name AWS's own
    endpoint = config.get("BACKUP_S3_ENDPOINT_URL", "") or f"https://s3.{region}.amazonaws.com"
    kwargs = {}
    if config.get("BACKUP_S3_ACCESS_KEY_ID", ""):
        kwargs = {"aws_access_key_id": config.get("BACKUP_S3_ACCESS_KEY_ID"),
                  "aws_secret_access_key": config.get("BACKUP_S3_SECRET_ACCESS_KEY")}
    return boto3.client("s3", endpoint_url=endpoint, region_name=region,
                        config=Config(retries={"max_attempts": 5, "mode": "standard"},
                                      s3={"addressing_style": "path"}), **kwargs)


def live_s3():
    import boto3

    return boto3.client("s3", region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


def ensure_buckets() -> list[str]:
    """Create the originals and public buckets in the live object store when missing; return the created ones."""
    from botocore.exceptions import ClientError

    s3, created = live_s3(), []
    for _logical, setting in LOGICAL_BUCKETS:
        name = config.get(setting)
        try:
            s3.head_bucket(Bucket=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
                raise
            s3.create_bucket(Bucket=name)
            created.append(name)
    return created


def _sse() -> dict:
    sse = config.get("BACKUP_S3_SSE")
    return {"ServerSideEncryption": sse} if sse else {}


def _key() -> bytes | None:
    secret = config.get("BACKUP_ENCRYPTION_KEY", "")
    return hashlib.sha256(secret.encode()).digest() if secret else None


def encrypt(data: bytes, key: bytes | None) -> bytes:
    if key is None:
        return data
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    return MAGIC + nonce + AESGCM(key).encrypt(nonce, data, MAGIC)


def decrypt(data: bytes, key: bytes | None) -> bytes:
    if not data.startswith(MAGIC):
        return data
    if key is None:
        raise BackupError("this backup is encrypted: set BACKUP_ENCRYPTION_KEY to the key it was written with")
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        return AESGCM(key).decrypt(data[4:16], data[16:], MAGIC)
    except InvalidTag:
        raise BackupError("BACKUP_ENCRYPTION_KEY does not decrypt this backup (wrong key or damaged file)") from None


def _db_connect(database: bool = True, *, schema_changes: bool = False):
    """The application user for a dump; with ``schema_changes`` (restore: drops and creates tables) the migration
    user when ``MIGRATE_DB_USER`` names one (the Swarm stack's application user may not CREATE or DROP)."""
    import pymysql

    ca = config.get("DB_SSL_CA", "")
    if schema_changes:
        from omdb.migrate import schema_credentials

        user, password = schema_credentials()
    else:
        user, password = config.get("DB_USER"), config.get("DB_PASS", "")
    return pymysql.connect(host=config.get("DB_HOST"), port=config.get_int("DB_PORT"),
                           user=user, password=password,
                           database=config.get("DB_NAME") if database else None, charset="utf8mb4",
                           autocommit=True, connect_timeout=config.get_int("DB_CONNECT_TIMEOUT"),
                           read_timeout=600, write_timeout=600, ssl={"ca": ca} if ca else None)


# -- the database dump ----------------------------------------------------------------------------------------------

def dump_database(out) -> dict:
    """Write a consistent SQL dump of DB_NAME to the binary stream ``out``; return {table: rows}."""
    import pymysql.cursors

    conn = _db_connect()
    counts = {}
    try:
        with conn.cursor() as cur:
            cur.execute("SET time_zone = '+00:00'")
            cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
            cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
                        " AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME")
            tables = [r[0] for r in cur.fetchall()]
            cur.execute("SELECT VERSION()")
            version = cur.fetchone()[0]
        out.write(f"-- openmerce backup of `{config.get('DB_NAME')}` from {version}, "
                  f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%dT%H:%M:%SZ}\n".encode())
        out.write(b"SET NAMES utf8mb4;\nSET time_zone = '+00:00';\nSET FOREIGN_KEY_CHECKS = 0;\n")
        for table in tables:
            with conn.cursor() as cur:
                cur.execute(f"SHOW CREATE TABLE `{table}`")
                create = cur.fetchone()[1]
                cur.execute("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"
                            " AND TABLE_NAME = %s AND EXTRA NOT LIKE %s ORDER BY ORDINAL_POSITION",
                            (table, "%GENERATED%"))
                columns = [r[0] for r in cur.fetchall()]
            out.write(f"DROP TABLE IF EXISTS `{table}`;\n".encode())
            out.write(" ".join(line.strip() for line in create.splitlines()).encode() + b";\n")
            head = f"INSERT INTO `{table}` ({', '.join(f'`{c}`' for c in columns)}) VALUES ".encode()
            n = 0
            with conn.cursor(pymysql.cursors.SSCursor) as cur:
                cur.execute(f"SELECT {', '.join(f'`{c}`' for c in columns)} FROM `{table}`")
                batch = []
                for row in cur:
                    batch.append("(" + ",".join(conn.escape(v) for v in row) + ")")
                    n += 1
                    if len(batch) >= ROWS_PER_INSERT:
                        out.write(head + ",".join(batch).encode() + b";\n")
                        batch = []
                if batch:
                    out.write(head + ",".join(batch).encode() + b";\n")
            counts[table] = n
        out.write(b"SET FOREIGN_KEY_CHECKS = 1;\n")
        with conn.cursor() as cur:
            cur.execute("COMMIT")
    finally:
        conn.close()
    return counts


def dump_statements(stream):
    """The statements of a dump, one at a time (a statement ends with ';' at the end of a line)."""
    current = []
    for raw in stream:
        line = raw.decode("utf-8").rstrip("\n")
        if not current and (not line.strip() or line.startswith("--")):
            continue
        current.append(line)
        if line.endswith(";"):
            yield "\n".join(current)[:-1]
            current = []
    if current:
        raise BackupError("the dump ends in the middle of a statement (truncated file)")


# -- backup ---------------------------------------------------------------------------------------------------------

def _manifests(s3) -> list[str]:
    ids = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=_bucket(), Prefix=f"{_prefix()}/manifests/"):
        for obj in page.get("Contents", []):
            name = obj["Key"].rsplit("/", 1)[1]
            if name.endswith(".json"):
                ids.append(name[:-5])
    return sorted(ids)


def read_manifest(s3, backup_id: str) -> dict:
    body = s3.get_object(Bucket=_bucket(), Key=f"{_prefix()}/manifests/{backup_id}.json")["Body"].read()
    return json.loads(body)


def _new_id() -> str:
    return _id_at(datetime.datetime.now(datetime.timezone.utc))


def _id_at(when: datetime.datetime) -> str:
    """A backup id: its UTC time to the millisecond, so ids sort (and compare with a cutoff) in time order."""
    return when.strftime("%Y%m%dT%H%M%S") + f"{when.microsecond // 1000:03d}Z"


def backup() -> dict:
    """One complete backup; returns its manifest."""
    started = time.monotonic()
    dest, live, key = backup_s3(), live_s3(), _key()
    backup_id = _new_id()
    previous = _manifests(dest)
    known = {}  # (logical bucket, key, etag) -> stored key, from the newest manifest
    if previous:
        for logical, entry in read_manifest(dest, previous[-1])["buckets"].items():
            for obj in entry["objects"]:
                known[(logical, obj["key"], obj["etag"])] = obj["stored"]

    # 1. the database first: an object uploaded after the snapshot is harmless extra; one the snapshot refers to
    #    is still in the bucket (images are never overwritten, only added)
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        counts = dump_database(gz)
    plain = raw.getvalue()
    db_key = f"{_prefix()}/db/{backup_id}.sql.gz"
    dest.put_object(Bucket=_bucket(), Key=db_key, Body=encrypt(plain, key), **_sse())

    # 2. the buckets
    buckets, copied, total_bytes = {}, 0, 0
    for logical, setting in LOGICAL_BUCKETS:
        source = config.get(setting)
        objects = []
        for page in live.get_paginator("list_objects_v2").paginate(Bucket=source):
            for obj in page.get("Contents", []):
                etag = obj["ETag"].strip('"')
                stored = known.get((logical, obj["Key"], etag))
                if stored is None:
                    got = live.get_object(Bucket=source, Key=obj["Key"])
                    data = got["Body"].read()
                    stored = f"{_prefix()}/objects/{logical}/{etag}/{obj['Key']}"
                    meta = {"om-content-type": got.get("ContentType", "") or "",
                            "om-cache-control": got.get("CacheControl", "") or ""}
                    dest.put_object(Bucket=_bucket(), Key=stored, Body=encrypt(data, key), Metadata=meta, **_sse())
                    copied += 1
                    total_bytes += len(data)
                objects.append({"key": obj["Key"], "etag": etag, "size": obj["Size"], "stored": stored})
        buckets[logical] = {"source": source, "objects": objects}

    # 3. the manifest: from now on the backup exists
    manifest = {"id": backup_id, "format": 1, "database": config.get("DB_NAME"), "db_key": db_key,
                "db_sha256": hashlib.sha256(plain).hexdigest(), "tables": counts, "encrypted": key is not None,
                "buckets": buckets}
    dest.put_object(Bucket=_bucket(), Key=f"{_prefix()}/manifests/{backup_id}.json",
                    Body=json.dumps(manifest, indent=1).encode(), ContentType="application/json", **_sse())
    removed = apply_retention(dest)
    log.info("backup written", extra={"fields": {
        "event": "backup_ok", "backup_id": backup_id, "rows": sum(counts.values()),
        "objects": sum(len(b["objects"]) for b in buckets.values()), "objects_copied": copied,
        "bytes_copied": total_bytes, "dump_bytes": len(plain), "expired_backups": removed,
        "seconds": round(time.monotonic() - started, 1)}})
    return manifest


def apply_retention(dest) -> list[str]:
    ids = _manifests(dest)
    keep_min = config.get_int("BACKUP_KEEP_MIN")
    # the cutoff in the ids' own form: to the second only, a backup of the same second compared as newer
    cutoff = _id_at(datetime.datetime.now(datetime.timezone.utc)
                    - datetime.timedelta(days=config.get_int("BACKUP_RETENTION_DAYS")))
    expired = [i for i in ids[:max(0, len(ids) - keep_min)] if i < cutoff]
    for backup_id in expired:
        dest.delete_object(Bucket=_bucket(), Key=f"{_prefix()}/manifests/{backup_id}.json")
    kept = [i for i in ids if i not in expired]
    if not expired:
        return []
    referenced = set()
    for backup_id in kept:
        manifest = read_manifest(dest, backup_id)
        referenced.add(manifest["db_key"])
        referenced.update(o["stored"] for b in manifest["buckets"].values() for o in b["objects"])
    newest = kept[-1] if kept else ""
    for area in ("db", "objects"):
        for page in dest.get_paginator("list_objects_v2").paginate(Bucket=_bucket(), Prefix=f"{_prefix()}/{area}/"):
            for obj in page.get("Contents", []):
                # a dump newer than the newest manifest belongs to a backup still being written
                if obj["Key"] in referenced or area == "db" and obj["Key"].rsplit("/", 1)[1] > newest:
                    continue
                dest.delete_object(Bucket=_bucket(), Key=obj["Key"])
    return expired


def touch(path: str) -> None:
    with open(path, "a", encoding="utf-8"):
        os.utime(path, None)


def run_once() -> bool:
    try:
        backup()
    except Exception as exc:  # every failure is one alarm-able line; the loop goes on
        log.error("backup failed", extra={"fields": {"event": "backup_failed",
                                                     "error": f"{type(exc).__name__}: {exc}"[:500]}})
        return False
    heartbeat = config.get("HEARTBEAT_FILE", "")
    if heartbeat:
        touch(heartbeat)
    return True


def loop() -> None:
    interval = config.get_int("BACKUP_INTERVAL_SECONDS")
    heartbeat = config.get("HEARTBEAT_FILE", "")
    if heartbeat:
        touch(heartbeat)  # a new task gets one full interval before its healthcheck expects a success
    while True:
        run_once()
        time.sleep(interval)


# -- restore --------------------------------------------------------------------------------------------------------

def _shop_rows(conn) -> int:
    total = 0
    with conn.cursor() as cur:
        cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
        present = {r[0] for r in cur.fetchall()}
        for table in ("customers", "orders", "products"):
            if table in present:
                cur.execute(f"SELECT COUNT(*) FROM `{table}`")
                total += cur.fetchone()[0]
    return total


def restore(backup_id: str | None = None, *, force: bool = False, echo=print) -> dict:
    from omdb import migrate

    dest, live, key = backup_s3(), live_s3(), _key()
    ids = _manifests(dest)
    if not ids:
        raise BackupError(f"no backup in s3://{_bucket()}/{_prefix()}/")
    backup_id = backup_id or ids[-1]
    if backup_id not in ids:
        raise BackupError(f"no backup {backup_id!r}; there are: {', '.join(ids[-10:])}")
    manifest = read_manifest(dest, backup_id)

    migrate.create_database_if_missing()
    conn = _db_connect(schema_changes=True)
    try:
        rows = _shop_rows(conn)
        if rows and not force:
            raise BackupError(f"the database {config.get('DB_NAME')} already holds {rows} customers, orders or "
                              f"products: restore into an empty database (or pass --force to replace it)")
        plain = decrypt(dest.get_object(Bucket=_bucket(), Key=manifest["db_key"])["Body"].read(), key)
        if hashlib.sha256(plain).hexdigest() != manifest["db_sha256"]:
            raise BackupError(f"the dump of backup {backup_id} does not match its manifest (damaged)")
        with conn.cursor() as cur:
            cur.execute("SET FOREIGN_KEY_CHECKS = 0")
            cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
                        " AND TABLE_TYPE = 'BASE TABLE'")
            for (table,) in cur.fetchall():
                cur.execute(f"DROP TABLE `{table}`")
            for statement in dump_statements(gzip.GzipFile(fileobj=io.BytesIO(plain))):
                cur.execute(statement)
            cur.execute("SET FOREIGN_KEY_CHECKS = 1")
    finally:
        conn.close()
    echo(f"restore: database from backup {backup_id} ({sum(manifest['tables'].values())} rows)")
    applied = migrate.migrate(echo=lambda *_: None)
    if applied:
        echo(f"restore: {len(applied)} newer migrations applied on top: {', '.join(applied)}")

    restored = 0
    ensure_buckets()
    for logical, setting in LOGICAL_BUCKETS:
        target = config.get(setting)
        entry = manifest["buckets"].get(logical, {"objects": []})
        for obj in entry["objects"]:
            got = dest.get_object(Bucket=_bucket(), Key=obj["stored"])
            data = decrypt(got["Body"].read(), key)
            if len(data) != obj["size"]:
                raise BackupError(f"object {logical}/{obj['key']} of backup {backup_id} is damaged")
            meta = got.get("Metadata", {})
            extra = {}
            if meta.get("om-content-type"):
                extra["ContentType"] = meta["om-content-type"]
            if meta.get("om-cache-control"):
                extra["CacheControl"] = meta["om-cache-control"]
            live.put_object(Bucket=target, Key=obj["key"], Body=data, **extra)
            restored += 1
    echo(f"restore: {restored} objects into {', '.join(config.get(s) for _, s in LOGICAL_BUCKETS)}")
    echo("restore: sessions, codes and rate limits lived in Redis and are not part of a backup: everyone logs in "
         "again (docs/deploy-swarm.md \"What a Redis loss costs\")")
    return manifest


# -- AWS: the database's own backups --------------------------------------------------------------------------------

MIN_BACKUP_RETENTION_DAYS = 7


def check_aws_database(identifier: str, *, cluster: bool = False) -> list[str]:
    """What the RDS instance (or Aurora cluster) ``identifier`` lacks of docs/deploy-aws.md's requirements:
    automated backups of at least 7 days (point-in-time recovery), deletion protection, encryption at rest,
    Multi-AZ. Empty: all there."""
    import boto3

    rds = boto3.client("rds")
    if cluster:
        db = rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"][0]
        multi_az = bool(db.get("MultiAZ")) or len(db.get("DBClusterMembers", [])) > 1
    else:
        db = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
        multi_az = bool(db.get("MultiAZ"))
    problems = []
    retention = int(db.get("BackupRetentionPeriod") or 0)
    if retention < MIN_BACKUP_RETENTION_DAYS:
        problems.append(f"automated backups keep {retention} days (point-in-time recovery needs backups; keep at "
                        f"least {MIN_BACKUP_RETENTION_DAYS}): --backup-retention-period "
                        f"{MIN_BACKUP_RETENTION_DAYS}")
    if not db.get("DeletionProtection"):
        problems.append("deletion protection is off: --deletion-protection")
    if not db.get("StorageEncrypted"):
        problems.append("storage is not encrypted (only a new instance restored from an encrypted snapshot copy "
                        "can be)")
    if not multi_az:
        problems.append("not Multi-AZ: one AZ outage stops the shop (--multi-az)")
    return problems


def _cmd_check_aws_database(args) -> int:
    problems = check_aws_database(args.identifier, cluster=args.cluster)
    for problem in problems:
        print(f"check-aws-database: {args.identifier}: {problem}", file=sys.stderr)
    if not problems:
        print(f"check-aws-database: {args.identifier}: backups with point-in-time recovery, deletion protection, "
              f"encryption and Multi-AZ are on")
    return 1 if problems else 0


# -- CLI ------------------------------------------------------------------------------------------------------------

def _cmd_backup(args) -> int:
    if args.loop:
        loop()
        return 0
    return 0 if run_once() else 1


def _cmd_backups(args) -> int:
    dest = backup_s3()
    for backup_id in _manifests(dest):
        manifest = read_manifest(dest, backup_id)
        objects = sum(len(b["objects"]) for b in manifest["buckets"].values())
        print(f"{backup_id}  {sum(manifest['tables'].values()):>9} rows  {objects:>7} objects"
              f"{'  encrypted' if manifest.get('encrypted') else ''}")
    return 0


def _cmd_restore(args) -> int:
    try:
        restore(args.backup, force=args.force)
    except BackupError as exc:
        print(f"restore: {exc}", file=sys.stderr)
        return 1
    from functions.staff_auth import service as staff_service

    staff_service.ensure_super_admin()
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("backup", help="back up the database and the buckets to BACKUP_S3_BUCKET")
    p.add_argument("--loop", action="store_true", help="every BACKUP_INTERVAL_SECONDS (the Swarm backup role)")
    p.set_defaults(func=_cmd_backup)
    p = sub.add_parser("backups", help="list the backups")
    p.set_defaults(func=_cmd_backups)
    p = sub.add_parser("restore", help="restore a backup into an empty database and buckets")
    p.add_argument("--backup", help="backup id (default: the newest); see `backups`")
    p.add_argument("--force", action="store_true", help="replace a database that already holds a shop")
    p.set_defaults(func=_cmd_restore)
    p = sub.add_parser("check-aws-database", help="check the RDS database's backups, PITR, deletion protection, "
                                                  "encryption and Multi-AZ (docs/deploy-aws.md)")
    p.add_argument("identifier", help="DB instance identifier (or cluster identifier with --cluster)")
    p.add_argument("--cluster", action="store_true", help="an Aurora cluster")
    p.set_defaults(func=_cmd_check_aws_database)

