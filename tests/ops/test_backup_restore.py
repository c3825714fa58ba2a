"""Backups that restore (tools/admin/backup.py, the Swarm `backup` role): a running shop is backed up to a second
S3-compatible location, its database is dropped, its buckets emptied and its Redis flushed, and a restore into that
empty shop brings back every order, customer, address, cart line, product, image and staff account — checked row
for row (CHECKSUM TABLE of every table), byte for byte (every object) and through the HTTP API.

moto in server mode plays both object stores: the live one (the `buckets` fixture) and the backup location (another
bucket reached through its own endpoint and keys)."""
import gzip
import io
import json
import logging
import os
import shutil
import subprocess

import pymysql
import pytest

from shopping import make_shop
from support import create_customer, create_product, create_staff, login_customer, login_staff

INV = "/api/v1/staff/dashboard/inventory"
BACKUP_BUCKET = "om-backup-offsite"


@pytest.fixture
def location(buckets, aws, monkeypatch):
    import boto3

    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BACKUP_BUCKET)
    monkeypatch.setenv("BACKUP_S3_BUCKET", BACKUP_BUCKET)
    monkeypatch.setenv("BACKUP_S3_ENDPOINT_URL", aws)
    monkeypatch.setenv("BACKUP_S3_ACCESS_KEY_ID", "offsite-key")
    monkeypatch.setenv("BACKUP_S3_SECRET_ACCESS_KEY", "offsite-secret")
    monkeypatch.setenv("BACKUP_S3_PREFIX", "shop1")
    monkeypatch.setenv("BACKUP_ENCRYPTION_KEY", "kept-in-the-password-manager-0123456789")
    return boto3.client("s3", region_name="us-east-1")


def admin(*argv) -> int:
    from tools.admin.__main__ import main

    return main(list(argv))


def _root():
    return pymysql.connect(host=os.environ["DB_HOST"], port=int(os.environ["DB_PORT"]), user=os.environ["DB_USER"],
                           password=os.environ["DB_PASS"], autocommit=True)


def table_checksums() -> dict:
    conn = _root()
    with conn.cursor() as cur:
        cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s"
                    " AND TABLE_TYPE = 'BASE TABLE'", (os.environ["DB_NAME"],))
        tables = sorted(r[0] for r in cur.fetchall())
        out = {}
        for table in tables:
            cur.execute(f"SELECT COUNT(*) FROM `{os.environ['DB_NAME']}`.`{table}`")
            count = cur.fetchone()[0]
            cur.execute(f"CHECKSUM TABLE `{os.environ['DB_NAME']}`.`{table}`")
            out[table] = (count, cur.fetchone()[1])
    conn.close()
    return out


def bucket_contents(s3, bucket) -> dict:
    out = {}
    for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        got = s3.get_object(Bucket=bucket, Key=obj["Key"])
        out[obj["Key"]] = (got["Body"].read(), got.get("ContentType"), got.get("CacheControl"))
    return out


def process_uploads():
    """What the image worker does with the upload events (S3 records of originals/)."""
    from omdb import db

    from functions.images import pipeline

    for row in db.query("SELECT original_key FROM images WHERE status <> 'ready'"):
        pipeline.process_record(os.environ["IMAGES_ORIGINALS_BUCKET"], row["original_key"], None)


def build_shop(api, make_api):
    """Staff with an image upload, a customer with an address, an order and a cart line — all through HTTP."""
    create_staff("clerk", inv=True, fin=True)
    staff = make_api()
    login_staff(staff, "clerk")
    kopi = create_product("Kopi Gayo", price=50000, stock=10, weight=0.5)
    teh = create_product("Teh Melati", price=20000, stock=5)
    photo = io.BytesIO()
    from PIL import Image
    Image.new("RGB", (700, 500), (180, 90, 30)).save(photo, "JPEG", quality=90)
    resp = staff.multipart("POST", f"{INV}/product-2", {"product_id": kopi}, {"picture": ("p.jpg", photo.getvalue(),
                                                                                          "image/jpeg")})
    assert resp.status == 201, resp
    process_uploads()
    shop = make_shop(api)
    shop.add(kopi, 2)
    shop.add(teh, 1, checked=False)
    assert shop.checkout().status == 200
    return staff, kopi, teh


def views(customer, staff, kopi):
    """What the shop shows, through the HTTP API (the caller is logged in as the customer and the clerk)."""
    orders = customer.get("/api/v1/customer/order").json
    return {
        "profile": customer.get("/api/v1/customer/profile").json,
        "addresses": customer.get("/api/v1/customer/address").json,
        "orders": orders,
        "order": customer.get(f"/api/v1/customer/order?id={orders[0]['id']}").json,
        "cart": customer.get("/api/v1/customer/cart").json,
        "product": customer.get(f"/api/v1/product?id={kopi}").json,
        "staff_orders": staff.get(f"{INV}/order").json,
    }


def test_backup_destroy_restore_brings_the_whole_shop_back(api, make_api, location, buckets, midtrans,
                                                           freight_rates):
    from omcore import kv
    from omdb import db

    staff, kopi, _teh = build_shop(api, make_api)
    before = views(api, staff, kopi)
    assert before["orders"] and before["cart"] and before["product"]["image_urls"]
    checksums = table_checksums()
    objects = {b: bucket_contents(buckets, b) for b in ("om-originals", "om-public")}
    assert objects["om-originals"] and len(objects["om-public"]) >= 2  # the original, the WebP and a variant

    assert admin("backup") == 0
    stored = location.list_objects_v2(Bucket=BACKUP_BUCKET, Prefix="shop1/")["Contents"]
    dump = [o for o in stored if o["Key"].startswith("shop1/db/")]
    assert len(dump) == 1
    raw = location.get_object(Bucket=BACKUP_BUCKET, Key=dump[0]["Key"])
    assert raw["ServerSideEncryption"] == "AES256"
    assert raw["Body"].read().startswith(b"OMB1")  # encrypted before it left: no plain SQL in the backup store
    image = next(o for o in stored if o["Key"].startswith("shop1/objects/public/"))
    assert b"WEBP" not in location.get_object(Bucket=BACKUP_BUCKET, Key=image["Key"])["Body"].read()[:64]

    # the disk dies: database, objects and Redis gone
    conn = _root()
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE `{os.environ['DB_NAME']}`")
    conn.close()
    db.reset()
    for bucket in ("om-originals", "om-public"):
        for key in objects[bucket]:
            buckets.delete_object(Bucket=bucket, Key=key)
        buckets.delete_bucket(Bucket=bucket)
    kv.reset_client()
    kv.client().flushdb()

    assert admin("restore") == 0
    db.reset()
    assert table_checksums() == checksums
    assert {b: bucket_contents(buckets, b) for b in ("om-originals", "om-public")} == objects

    # sessions lived in Redis: both log in again, with the passwords they had, and see what they saw
    customer, clerk = make_api(), make_api()
    login_customer(customer)
    login_staff(clerk, "clerk")
    assert views(customer, clerk, kopi) == before
    assert customer.get("/api/v1/customer/cart-count").json == {"count": 1}


def test_a_restore_refuses_a_database_that_holds_a_shop(api, location, buckets):
    create_product("Kopi Gayo")
    assert admin("backup") == 0
    assert admin("restore") == 1  # products exist: nothing was dropped
    from omdb import db
    assert db.query_one("SELECT COUNT(*) AS n FROM products")["n"] == 1


def test_the_wrong_key_cannot_read_a_backup(api, location, buckets, monkeypatch, capsys):
    create_product("Kopi Gayo")
    assert admin("backup") == 0
    from omdb import db
    db.execute("SET FOREIGN_KEY_CHECKS = 0")
    db.execute("DELETE FROM inventories")
    db.execute("DELETE FROM products")
    db.execute("SET FOREIGN_KEY_CHECKS = 1")
    monkeypatch.setenv("BACKUP_ENCRYPTION_KEY", "another-key")
    assert admin("restore") == 1
    assert "does not decrypt" in capsys.readouterr().err


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.fields = []

    def emit(self, record):
        self.fields.append(getattr(record, "fields", {}))


def test_a_failed_backup_is_one_alarm_able_line_and_no_heartbeat(api, location, monkeypatch, tmp_path):
    heartbeat = tmp_path / "beat"
    monkeypatch.setenv("HEARTBEAT_FILE", str(heartbeat))
    monkeypatch.setenv("BACKUP_S3_BUCKET", "no-such-bucket")
    lines = _Lines()
    logger = logging.getLogger("om.backup")
    logger.addHandler(lines)
    logger.setLevel(logging.INFO)  # the tests run at LOG_LEVEL=WARNING; the backup role at INFO
    try:
        assert admin("backup") == 1
        assert not heartbeat.exists()
        monkeypatch.setenv("BACKUP_S3_BUCKET", BACKUP_BUCKET)
        assert admin("backup") == 0
        assert heartbeat.exists()
    finally:
        logger.removeHandler(lines)
        logger.setLevel(logging.NOTSET)
    events = [f.get("event") for f in lines.fields]
    assert events == ["backup_failed", "backup_ok"]
    assert "NoSuchBucket" in json.dumps(lines.fields[0])


def test_retention_deletes_old_backups_and_what_only_they_referenced(api, location, buckets, monkeypatch):
    buckets.put_object(Bucket="om-public", Key="usercontent/old.webp", Body=b"old")
    assert admin("backup") == 0
    buckets.delete_object(Bucket="om-public", Key="usercontent/old.webp")
    buckets.put_object(Bucket="om-public", Key="usercontent/new.webp", Body=b"new")
    monkeypatch.setenv("BACKUP_RETENTION_DAYS", "0")
    monkeypatch.setenv("BACKUP_KEEP_MIN", "1")
    assert admin("backup") == 0
    keys = [o["Key"] for o in location.list_objects_v2(Bucket=BACKUP_BUCKET, Prefix="shop1/")["Contents"]]
    assert len([k for k in keys if "/manifests/" in k]) == 1 and len([k for k in keys if "/db/" in k]) == 1
    assert [k.rsplit("/", 1)[1] for k in keys if "/objects/" in k] == ["new.webp"]


def test_the_migrate_role_creates_missing_buckets(aws, capsys):
    import boto3

    assert admin("migrate", "--create-buckets") == 0
    names = {b["Name"] for b in boto3.client("s3", region_name="us-east-1").list_buckets()["Buckets"]}
    assert {"om-originals", "om-public"} <= names
    assert "bucket 'om-public' created" in capsys.readouterr().out
    assert admin("migrate", "--create-buckets") == 0  # present: nothing to do


def _rds_instance(name, **kw):
    import boto3

    boto3.client("rds", region_name="us-east-1").create_db_instance(
        DBInstanceIdentifier=name, DBInstanceClass="db.t4g.medium", Engine="mysql", AllocatedStorage=20,
        MasterUsername="admin", MasterUserPassword="Secret-123456", **kw)


def test_the_aws_database_check_names_every_missing_protection(aws, capsys):
    _rds_instance("bare", BackupRetentionPeriod=1, MultiAZ=False, StorageEncrypted=False, DeletionProtection=False)
    _rds_instance("kept", BackupRetentionPeriod=14, MultiAZ=True, StorageEncrypted=True, DeletionProtection=True)
    assert admin("check-aws-database", "bare") == 1
    err = capsys.readouterr().err
    for words in ("keep 1 days", "deletion protection is off", "not encrypted", "not Multi-AZ"):
        assert words in err, words
    assert admin("check-aws-database", "kept") == 0
    assert "are on" in capsys.readouterr().out


@pytest.mark.skipif(not shutil.which("mysql"), reason="no mysql client")
def test_an_unencrypted_dump_loads_with_the_mysql_client_too(api, location, buckets, monkeypatch):
    """The dump is plain SQL (one statement per line): without our tools, `mysql` restores it."""
    monkeypatch.delenv("BACKUP_ENCRYPTION_KEY")
    create_product("Kopi Gayo", price=50000)
    create_customer("dump@example.com")
    assert admin("backup") == 0
    key = next(o["Key"] for o in location.list_objects_v2(Bucket=BACKUP_BUCKET, Prefix="shop1/db/")["Contents"])
    sql = gzip.decompress(location.get_object(Bucket=BACKUP_BUCKET, Key=key)["Body"].read())
    target = os.environ["DB_NAME"] + "_load"
    conn = _root()
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{target}`")
        cur.execute(f"CREATE DATABASE `{target}`")
    try:
        done = subprocess.run(["mysql", "-h", os.environ["DB_HOST"], "-P", os.environ["DB_PORT"], "-u",
                               os.environ["DB_USER"], *([f"-p{os.environ['DB_PASS']}"] if os.environ["DB_PASS"]
                                                        else []), target], input=sql, capture_output=True)
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        with conn.cursor() as cur:
            for table in ("products", "customers", "inventories"):
                cur.execute(f"CHECKSUM TABLE `{target}`.`{table}`, `{os.environ['DB_NAME']}`.`{table}`")
                restored, live = cur.fetchall()
                assert restored[1] == live[1], table
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{target}`")
        conn.close()
