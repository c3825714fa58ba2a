"""Image storage shared by the back office (uploads, deletes) and the images function (conversion).

Uploads are kept private as originals; the images function turns them into WebP.

* ``store_upload`` checks size and type (by content, never by name or the client's content type), stores the
  original under a generated key ``originals/<uuid>`` in ``IMAGES_ORIGINALS_BUCKET`` and records it (status
  ``pending``); the returned ``<uuid>.webp`` is the name the storefront uses.
* ``delete_image`` removes the original, the WebP and its variants and the record (idempotent).
Object keys are always generated from a uuid; nothing from the client reaches a key (no path traversal).
"""
from __future__ import annotations

import re
import threading
import uuid

from omcore import config
from omcore.errors import BadRequest, PayloadTooLarge
from omdb import db

from .catalog import image_file

_FILE_RE = re.compile(r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.webp$")
VARIANT_WIDTHS = (320, 640, 1280)
MAX_PRODUCT_IMAGES = 10
# a presigned upload holds one of its product's image slots from the presign until it is converted (or, if the
# client never uploads, for this long: the presigned POST itself expires after 15 minutes)
RESERVATION_SECONDS = 3600
_s3 = None
_s3_lock = threading.Lock()


def s3():
    """The process's S3 client, made on first use (a function that never touches S3 never imports boto3). One per
    process: boto3 clients are thread-safe, and the container's 128 threads per process would otherwise each build
    their own (tens of ms and a few MB each); its HTTP pool keeps up to 32 connections for them."""
    global _s3
    if _s3 is None:
        with _s3_lock:  # making a client on boto3's default session is not thread-safe
            if _s3 is None:
                import boto3
                from botocore.config import Config
                from botocore.exceptions import BotoCoreError, ClientError

                from omcore.errors import register

                # object storage down or refusing: a clean 503, never a 500
                register(BotoCoreError, 503, "image storage temporarily unavailable, please retry")
                register(ClientError, 503, "image storage temporarily unavailable, please retry")

                _s3 = boto3.client("s3", config=Config(connect_timeout=3, read_timeout=20, max_pool_connections=32,
                                                       retries={"max_attempts": 3}))
    return _s3


def max_bytes() -> int:
    return config.get_int("IMAGE_MAX_BYTES")


PRESIGNED_PATH = "/api/v1/staff/dashboard/inventory/image-upload"


def form_max_bytes() -> int:
    """The largest image the multipart upload (back office ``product-2``, the v1 staff UI's) takes: on AWS what one
    API Gateway event can carry to Lambda (``IMAGE_FORM_MAX_BYTES``, settings.AWS_FORM_UPLOAD_MAX_BYTES), never more
    than ``IMAGE_MAX_BYTES``; larger images go through the presigned upload."""
    limit = max_bytes()
    return min(limit, config.get_int("IMAGE_FORM_MAX_BYTES", limit))


def originals_bucket() -> str:
    return config.get("IMAGES_ORIGINALS_BUCKET")


def public_bucket() -> str:
    return config.get("IMAGES_PUBLIC_BUCKET")


def sniff(data: bytes) -> str | None:
    """The image type by its magic bytes (only the four formats we decode)."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def parse_file_name(file_name: str) -> uuid.UUID:
    """The image id in a storefront file name (the inverse of ``catalog.image_file``); 400 for anything else."""
    match = _FILE_RE.match(file_name or "")
    if not match:
        raise BadRequest("file_name must look like <uuid>.webp")
    return uuid.UUID(match.group(1))


def store_upload(*, owner_type: str, owner_id: str | None, data: bytes, filename: str, content_type: str,
                 limit: int | None = None) -> str:
    """``limit``: the upload path's own bound (``form_max_bytes()``), at most ``IMAGE_MAX_BYTES``; a file above it
    but within ``IMAGE_MAX_BYTES`` is told to use the presigned upload (413 naming both limits)."""
    if not data:
        raise BadRequest("the uploaded file is empty")
    largest = max_bytes()
    if limit is not None and limit < largest and len(data) > limit:
        raise PayloadTooLarge(
            f"image too large for this upload (limit {limit} bytes); send images of up to {largest} bytes through"
            f" the presigned upload: POST {PRESIGNED_PATH}", limit=limit, presigned_path=PRESIGNED_PATH,
            presigned_limit=largest)
    if len(data) > largest:
        raise PayloadTooLarge(f"image too large (limit {largest} bytes)", limit=largest)
    kind = sniff(data)
    if kind is None:
        raise BadRequest("unsupported image: upload a JPEG, PNG, GIF or WebP file")
    image_id = uuid.uuid4()
    key = f"originals/{image_id}"
    s3().put_object(Bucket=originals_bucket(), Key=key, Body=data, ContentType=kind,
                    Metadata={"owner-type": owner_type, "owner-id": owner_id or ""})
    db.execute("INSERT INTO images (id, owner_type, owner_id, original_key, content_type, byte_size, status)"
               " VALUES (%s, %s, %s, %s, %s, %s, 'pending')",
               (image_id.bytes, owner_type, owner_id, key, kind, len(data)))
    enqueue_event(originals_bucket(), key, len(data))
    return image_file(image_id)


def product_image_slots_used(tx, product_bin: bytes) -> int:
    """Images attached to the product plus presigned uploads for it still on their way (not yet converted and
    not abandoned). Call with the product row locked (``SELECT ... FOR UPDATE``) so concurrent callers count in
    turn."""
    row = tx.query_one(
        "SELECT (SELECT COUNT(*) FROM product_images WHERE product_refer = %s) +"
        " (SELECT COUNT(*) FROM images i WHERE i.owner_type = 'product' AND i.owner_id = %s"
        "   AND (i.status = 'processing' OR (i.status = 'pending'"
        "        AND i.created_at > DATE_SUB(UTC_TIMESTAMP(3), INTERVAL %s SECOND)))"
        "   AND NOT EXISTS (SELECT 1 FROM product_images pi WHERE pi.id = i.id)) AS n",
        (product_bin, str(uuid.UUID(bytes=product_bin)), RESERVATION_SECONDS))
    return int(row["n"])


def link_owner(file_name: str, owner_type: str, owner_id: str) -> None:
    image_id = parse_file_name(file_name)
    db.execute("UPDATE images SET owner_type = %s, owner_id = %s WHERE id = %s", (owner_type, owner_id,
                                                                                  image_id.bytes))


def public_keys(image_id) -> list[str]:
    return [f"usercontent/{image_file(image_id)}"] + [f"usercontent/{image_id}-{w}.webp" for w in VARIANT_WIDTHS]


def delete_image(file_name: str) -> None:
    image_id = parse_file_name(file_name)
    client = s3()
    client.delete_objects(Bucket=public_bucket(), Delete={"Objects": [{"Key": k} for k in public_keys(image_id)],
                                                          "Quiet": True})
    client.delete_object(Bucket=originals_bucket(), Key=f"originals/{image_id}")
    db.execute("DELETE FROM images WHERE id = %s", (image_id.bytes,))


EVENTS_LIST = "images:events"


def s3_event_record(bucket: str, key: str, size: int) -> dict:
    """An ``ObjectCreated:Put`` record shaped like the ones S3 sends (key URL-encoded as S3 does)."""
    from datetime import datetime, timezone
    from urllib.parse import quote_plus

    return {"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "eventTime": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z",
            "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                   "object": {"key": quote_plus(key, safe="/"), "size": size}}}


def enqueue_event(bucket: str, key: str, size: int) -> None:
    """Where no object-store notification reaches the worker (the Swarm fallback and the local run:
    ``IMAGES_EVENTS=redis``), hand it the same S3 event record through a Redis list. On AWS the bucket notifies SQS
    itself and this does nothing."""
    if config.get("IMAGES_EVENTS").lower() != "redis":
        return
    import json

    from omcore import kv

    record = json.dumps({"Records": [s3_event_record(bucket, key, size)]})
    kv.required(lambda c: c.rpush(EVENTS_LIST, record))
