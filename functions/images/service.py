"""The images capability's logic; storage itself is shared with the back office in omcommerce.media."""
from __future__ import annotations

import uuid

from omcommerce.media import *  # noqa: F401,F403
from omcommerce.media import max_bytes, originals_bucket, s3
from omcore.errors import NotFound, PayloadTooLarge
from omdb import db
from omdb.ids import to_bin


def presign_upload(*, product_id, content_type: str, size: int | None) -> dict:
    """Record a pending original and return a presigned POST limited to its size and content type. When a
    product is given, the image is attached to it (it shows once converted)."""
    if size is not None and size > max_bytes():
        raise PayloadTooLarge(f"image too large (limit {max_bytes() // (1024 * 1024)} MB)")
    if product_id is not None and db.query_one("SELECT id FROM products WHERE id = %s AND deleted_at IS NULL",
                                               (to_bin(product_id),)) is None:
        raise NotFound("product not found")
    image_id = uuid.uuid4()
    key = f"originals/{image_id}"
    db.execute("INSERT INTO images (id, owner_type, owner_id, original_key, content_type, byte_size, status)"
               " VALUES (%s, %s, %s, %s, %s, %s, 'pending')",
               (image_id.bytes, "product" if product_id else "unattached", str(product_id) if product_id else None,
                key, content_type, size or 0))
    if product_id is not None:
        db.execute("INSERT INTO product_images (id, product_refer) VALUES (%s, %s)", (image_id.bytes,
                                                                                   to_bin(product_id)))
        from omcommerce import cachekeys

        cachekeys.invalidate_product(str(product_id))
    post = s3().generate_presigned_post(
        Bucket=originals_bucket(), Key=key, Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes()]], ExpiresIn=900)
    return {"url": post["url"], "fields": post["fields"], "file": f"{image_id}.webp", "expires_in": 900}
