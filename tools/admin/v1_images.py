"""Bring the v1 image server's files into the public bucket.

    python -m tools.admin import-v1-images DIR [--dry-run]

DIR is the v1 image server's web root (its Docker volume): flat ``<uuid>.webp`` files, the names the database refers
to (``product_images.id`` + ``.webp``, ``homepage_banner.file_name``). For each file not yet in
``IMAGES_PUBLIC_BUCKET`` under ``usercontent/<uuid>.webp``: the v1 file is kept as the original
(``originals/<uuid>`` in ``IMAGES_ORIGINALS_BUCKET``), converted by our image pipeline (``functions.images.pipeline
.convert``: the same WebP and 320/640/1280 px variants an upload gets) and written under the same name, and recorded
in ``images`` as ready. Files already present are skipped, so the command can be re-run. Every image the database
refers to that is neither in DIR nor in the bucket is reported with the rows that refer to it.
"""
from __future__ import annotations

import os
import re
import uuid

_FILE_RE = re.compile(r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.webp$")


def referenced() -> dict[str, list[str]]:
    """{file name: ["product_images of product <uuid> (<name>)", "homepage_banner id N", ...]} from our database."""
    from omdb import db
    from omdb.ids import from_bin

    refs: dict[str, list[str]] = {}
    for r in db.query("SELECT i.id, i.product_refer, p.name FROM product_images i LEFT JOIN products p"
                      " ON p.id = i.product_refer ORDER BY i.created_at"):
        refs.setdefault(f"{from_bin(r['id'])}.webp", []).append(
            f"product_images {from_bin(r['id'])} of product {from_bin(r['product_refer'])} ({r['name']})")
    for r in db.query("SELECT id, file_name FROM homepage_banner ORDER BY id"):
        refs.setdefault(r["file_name"], []).append(f"homepage_banner id {r['id']}")
    return refs


def _present(client, bucket: str, key: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        client.head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise


def import_one(client, image_id: uuid.UUID, data: bytes, owner: tuple[str, str | None]) -> dict:
    """Convert one v1 file and write it with its variants; returns {"width", "height", "variants"}."""
    from omcommerce import media
    from omdb import db

    from functions.images import pipeline

    result = pipeline.convert(data)
    client.put_object(Bucket=media.originals_bucket(), Key=f"originals/{image_id}", Body=data,
                      ContentType="image/webp", Metadata={"owner-type": owner[0], "owner-id": owner[1] or ""})
    # the main file last: its presence marks the image as done for a re-run
    variants = pipeline.publish(client, image_id, result)
    width, height = result["size"]
    import json

    db.execute("INSERT INTO images (id, owner_type, owner_id, original_key, content_type, byte_size, status, width,"
               " height, variants, processed_at) VALUES (%s, %s, %s, %s, 'image/webp', %s, 'ready', %s, %s, %s,"
               " UTC_TIMESTAMP(3)) ON DUPLICATE KEY UPDATE status = 'ready', width = VALUES(width),"
               " height = VALUES(height), variants = VALUES(variants), processed_at = VALUES(processed_at)",
               (image_id.bytes, owner[0], owner[1], f"originals/{image_id}", len(data), width, height,
                json.dumps(variants)))
    return {"width": width, "height": height, "variants": variants}


def _owner(refs: list[str]) -> tuple[str, str | None]:
    for ref in refs:
        match = re.match(r"^product_images \S+ of product (\S+)", ref)
        if match:
            return "product", match.group(1)
        match = re.match(r"^homepage_banner id (\d+)", ref)
        if match:
            return "banner", match.group(1)
    return "v1", None


def import_dir(directory: str, *, dry_run: bool = False, progress=None) -> dict:
    """Upload every ``<uuid>.webp`` of ``directory``; returns {"uploaded", "skipped", "failed", "ignored",
    "missing": {file: [rows]}, "lines": [...]}."""
    from omcommerce import media

    if not os.path.isdir(directory):
        raise SystemExit(f"error: {directory!r} is not a directory")
    refs = referenced()
    files, ignored = {}, []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if not os.path.isfile(path):
            continue
        match = _FILE_RE.match(name.lower())
        if match:
            files[match.group(0)] = path
        else:
            ignored.append(name)
    client = media.s3()
    public = media.public_bucket()
    uploaded, skipped, failed = [], [], []
    total = len(files)
    for number, (name, path) in enumerate(sorted(files.items()), 1):
        image_id = uuid.UUID(name[:-5])
        if _present(client, public, f"usercontent/{name}"):
            skipped.append(name)
        elif dry_run:
            uploaded.append(name)
        else:
            with open(path, "rb") as fh:
                data = fh.read()
            from functions.images import pipeline

            try:
                import_one(client, image_id, data, _owner(refs.get(name, [])))
                uploaded.append(name)
            except pipeline.Refused as exc:
                failed.append(f"{name}: {exc}")
        if progress:
            progress("images", number, total, final=number == total)
    missing = {}
    for name, rows in sorted(refs.items()):
        if name in files:
            continue
        if not _present(client, public, f"usercontent/{name}"):
            missing[name] = rows
    unreferenced = [n for n in files if n not in refs]
    verb = "would upload" if dry_run else "uploaded"
    lines = [f"images: {len(uploaded)} {verb} (with variants), {len(skipped)} already present (skipped),"
             f" {len(failed)} unreadable, {len(unreferenced)} not referenced by any row (uploaded anyway)"]
    if ignored:
        lines.append(f"ignored {len(ignored)} files not named <uuid>.webp: " + ", ".join(ignored[:20]))
    lines += [f"UNREADABLE {f}" for f in failed]
    for name, rows in missing.items():
        lines.append(f"MISSING {name}: referred to by " + "; ".join(rows))
    return {"uploaded": uploaded, "skipped": skipped, "failed": failed, "ignored": ignored, "missing": missing,
            "lines": lines}
