"""The images capability's logic; storage itself is shared with the back office in omcommerce.media.

Presigned uploads (a client that sends the file straight to object storage):

1. ``presign_upload`` records a pending original and, for a product, holds one of its image slots (at most
   ``MAX_PRODUCT_IMAGES`` counting attached images and uploads still on their way; 409 beyond) and returns a
   presigned POST limited to the declared content type and ``IMAGE_MAX_BYTES``.
2. The client POSTs the file to that URL, then calls ``complete_upload``. On AWS the bucket's own notification
   already started the conversion (the call only reports the state); where no notification reaches the worker
   (``IMAGES_EVENTS=redis``: Swarm fallback, local run) it checks that the object arrived and enqueues the same
   S3 event record the worker takes.
3. The converter attaches the image to the product only once it is converted (and only if the product still has
   room), so the storefront never shows an image that does not exist yet.
"""
from __future__ import annotations

import uuid

from omcommerce.catalog import image_file
from omcommerce.media import *  # noqa: F401,F403
from omcommerce.media import (
    MAX_PRODUCT_IMAGES,
    enqueue_event,
    max_bytes,
    originals_bucket,
    parse_file_name,
    product_image_slots_used,
    s3,
)
from omcore.errors import Conflict, NotFound, PayloadTooLarge
from omdb import db
from omdb.ids import to_bin

PRESIGN_SECONDS = 900


def presign_upload(*, product_id, content_type: str, size: int | None) -> dict:
    """Record a pending original and return a presigned POST limited to its size and content type. When a
    product is given, the image is attached to it once converted."""
    if size is not None and size > max_bytes():
        raise PayloadTooLarge(f"image too large (limit {max_bytes() // (1024 * 1024)} MB)")
    image_id = uuid.uuid4()
    key = f"originals/{image_id}"

    def reserve(tx):
        if product_id is not None:
            pid = to_bin(product_id)
            if tx.query_one("SELECT id FROM products WHERE id = %s AND deleted_at IS NULL FOR UPDATE",
                            (pid,)) is None:
                raise NotFound("product not found")
            if product_image_slots_used(tx, pid) >= MAX_PRODUCT_IMAGES:
                raise Conflict(f"a product can have at most {MAX_PRODUCT_IMAGES} images")
        tx.execute("INSERT INTO images (id, owner_type, owner_id, original_key, content_type, byte_size, status,"
                   " created_at) VALUES (%s, %s, %s, %s, %s, %s, 'pending', UTC_TIMESTAMP(3))",
                   (image_id.bytes, "product" if product_id else "unattached",
                    str(product_id) if product_id else None, key, content_type, size or 0))

    db.run_in_transaction(reserve)
    post = s3().generate_presigned_post(
        Bucket=originals_bucket(), Key=key, Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes()]],
        ExpiresIn=PRESIGN_SECONDS)
    return {"url": post["url"], "fields": post["fields"], "file": image_file(image_id),
            "expires_in": PRESIGN_SECONDS}


def complete_upload(file_name: str) -> dict:
    """The client has POSTed the file to its presigned URL: make sure the conversion starts. Idempotent."""
    image_id = parse_file_name(file_name)
    row = db.query_one("SELECT original_key, status FROM images WHERE id = %s", (image_id.bytes,))
    if row is None:
        raise NotFound("upload not found")
    if row["status"] != "pending":
        return {"file": file_name, "status": row["status"]}
    from botocore.exceptions import ClientError

    try:
        head = s3().head_object(Bucket=originals_bucket(), Key=row["original_key"])
    except ClientError as exc:
        code = str((exc.response.get("Error") or {}).get("Code", ""))
        if code in ("404", "NoSuchKey", "NotFound"):
            raise Conflict("the file has not been uploaded yet: POST it to the presigned URL first") from None
        raise
    enqueue_event(originals_bucket(), row["original_key"], int(head.get("ContentLength") or 0))
    return {"file": file_name, "status": "pending"}
