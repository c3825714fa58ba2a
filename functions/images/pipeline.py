"""Turn an uploaded original into WebP: the body of the images function, whatever delivers the event (S3 → SQS →
Lambda on AWS, a Redis list on the Swarm fallback and in the local run).

For each ``originals/<uuid>`` object: claim its record (only one concurrent worker wins; a finished record is
skipped, so repeated or concurrent events do the work once), check the byte size before downloading, decode only
JPEG/PNG/GIF/WebP identified by content with a pixel limit (decompression bombs refused), apply the EXIF
orientation, keep the ICC profile of RGB images, drop every other metadata (EXIF with GPS, XMP), and write
``usercontent/<uuid>.webp`` (at most ``IMAGE_MAX_DIMENSION`` px wide) plus 320/640/1280 px wide variants (never
upscaled) to the public bucket with immutable caching headers. Animated GIF/WebP become animated WebP. A bad image
is recorded as ``failed`` with the reason and not retried; the original stays. Transient failures (storage down)
raise, so the queue retries them and finally dead-letters them.
"""
from __future__ import annotations

import io
import json
import re
import warnings
from urllib.parse import unquote_plus

from omcommerce import media
from omcore import config
from omcore import log as omlog
from omcore.log import get_logger
from omdb import db

log = get_logger("images")

FORMATS = ["JPEG", "PNG", "GIF", "WEBP"]
CACHE_CONTROL = "public, max-age=31536000, immutable"
_KEY_RE = re.compile(r"^originals/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")


class Refused(Exception):
    """The upload is not an image we accept; recorded as failed, never retried."""


def _settings():
    return {
        "max_bytes": media.max_bytes(),
        "max_pixels": config.get_int("IMAGE_MAX_PIXELS"),
        "max_frames": config.get_int("IMAGE_MAX_FRAMES"),
        # width x height x frames: what decoding an animation costs, whatever its file size (a 1 KB GIF can
        # declare a 3000x3000 canvas and 40 frames of 1x1 pixel)
        "max_total_pixels": config.get_int("IMAGE_MAX_TOTAL_PIXELS"),
        "max_dimension": config.get_int("IMAGE_MAX_DIMENSION"),
        "quality": config.get_int("WEBP_QUALITY"),
        "method": config.get_int("WEBP_METHOD"),  # measured: docs/images.md
        "max_attempts": config.get_int("IMAGE_MAX_ATTEMPTS"),
    }


def _claim(image_id: bytes, max_attempts: int) -> str:
    """Move the record to `processing` unless it is done or being done; returns the outcome of the claim."""
    done = db.execute(
        "UPDATE images SET status = 'processing', attempts = attempts + 1, processed_at = UTC_TIMESTAMP(3)"
        " WHERE id = %s AND attempts < %s AND (status = 'pending' OR (status = 'processing'"
        " AND processed_at < DATE_SUB(UTC_TIMESTAMP(3), INTERVAL 5 MINUTE)))", (image_id, max_attempts))
    if done.rowcount == 1:
        return "claimed"
    row = db.query_one("SELECT status, attempts FROM images WHERE id = %s", (image_id,))
    if row is None:
        return "unknown"
    if row["status"] == "processing" and row["attempts"] < max_attempts:
        return "busy"
    return row["status"]


def _finish(image_id: bytes, status: str, tx=db, **values) -> None:
    tx.execute("UPDATE images SET status = %s, failure_reason = %s, width = %s, height = %s, variants = %s,"
               " processed_at = UTC_TIMESTAMP(3) WHERE id = %s",
               (status, values.get("reason"), values.get("width"), values.get("height"),
                json.dumps(values["variants"]) if values.get("variants") else None, image_id))


def _decode(data: bytes, s: dict):
    """Open (not yet decode) the image, identified by content; refuses what is not one or is too large."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = s["max_pixels"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data), formats=FORMATS)
            if img.width * img.height > s["max_pixels"]:
                raise Refused(f"image too large ({img.width}x{img.height} pixels)")
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise Refused("image has too many pixels (decompression bomb)") from None
        except Refused:
            raise
        except Exception as exc:  # UnidentifiedImageError, truncated headers, ...
            raise Refused(f"not a readable JPEG, PNG, GIF or WebP image ({type(exc).__name__})") from None
    return img


def _normalise(frame, keep_alpha: bool):
    """A frame in a mode WebP stores, colours converted correctly (CMYK, 16-bit, palette)."""
    mode = frame.mode
    if mode.startswith("I"):  # 16/32-bit greyscale: scale to 8 bits
        frame = frame.convert("I").point(lambda v: v * (1 / 256)).convert("L")
        mode = "L"
    if mode == "CMYK":
        return frame.convert("RGB")
    if keep_alpha:
        return frame.convert("RGBA")
    return frame.convert("RGB") if mode != "RGB" else frame


# EXIF orientation → the transpose that shows the image upright (5-8 swap width and height)
_ORIENTATION = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE", 6: "ROTATE_270",
                7: "TRANSVERSE", 8: "ROTATE_90"}
# A JPEG is decoded at the DCT scale (1/2, 1/4, 1/8) whose width is at most the target and at least this share of
# it, with no resampling at all (a 4000-px photo becomes 2000 px, not 2048); otherwise at the smallest scale still
# wider than the target, then resized once.
_DRAFT_SLACK = 0.85


def _swap(old, new):
    """``new``, with ``old``'s pixel buffer released at once if it is another picture (free buffers as we go)."""
    if new is not old:
        old.close()
    return new


_BAND_ROWS = 64


def _resized(img, width: int):
    """``img`` scaled to ``width`` (never up) with Lanczos, in one resampling step. A large picture is resampled in
    bands of output rows, each from its source rows plus the filter's margin (``resize(box=...)`` reads the
    pixels around the box), so no full-height intermediate exists: only the source and the result are alive."""
    return _resized_to(img, (width, max(1, round(img.height * width / img.width)))) if img.width > width else img


def _resized_to(img, size: tuple[int, int]):
    from PIL import Image

    width, height = size
    if img.width * img.height <= 1_000_000:
        return img.resize(size, Image.LANCZOS, reducing_gap=3.0)
    mode = img.mode
    if mode == "RGBA":  # resample premultiplied (as Image.resize does), converted once rather than per band
        img = img.convert("RGBa")
    out = Image.new(img.mode, size)
    step = img.height / height
    for top in range(0, height, _BAND_ROWS):
        bottom = min(height, top + _BAND_ROWS)
        out.paste(img.resize((width, bottom - top), Image.LANCZOS, box=(0, top * step, img.width, bottom * step)),
                  (0, top))
    return out.convert(mode) if out.mode != mode else out


def _save(img, s: dict, icc, **extra) -> bytes:
    if not extra:  # a still picture: straight to YUV when it is plain RGB (functions/images/webpenc.py)
        from . import webpenc

        data = webpenc.encode(img, s["quality"], s["method"], icc)
        if data is not None:
            return data
    buffer = io.BytesIO()
    options = {"quality": s["quality"], "method": s["method"], **extra}
    if icc:
        options["icc_profile"] = icc
    img.save(buffer, "WEBP", **options)
    return buffer.getvalue()


def _draft_scale(stored: int, target: int) -> tuple[int, bool]:
    """(DCT scale, resize needed) for a JPEG whose displayed width is ``stored`` px and should be ``target``."""
    if stored <= target:
        return 1, False
    for scale in (8, 4, 2):
        width = -(-stored // scale)
        if _DRAFT_SLACK * target <= width <= target:
            return scale, False
    for scale in (8, 4, 2):
        if -(-stored // scale) >= target:
            return scale, True
    return 1, True


def _convert_still(img, s: dict, keep_alpha: bool, icc) -> dict:
    """One decoded picture, then one resize, then the variants each derived from the previous (smaller) one: at
    most two pictures are alive at any time, and the largest is never bigger than the JPEG's nearest DCT scale."""
    from PIL import Image

    try:
        orientation = img.getexif().get(0x0112, 1) if img.format in ("JPEG", "WEBP", "PNG") else 1
    except Exception:  # noqa: BLE001 - a damaged EXIF block only loses the orientation
        orientation = 1
    swap = orientation in (5, 6, 7, 8)
    target = s["max_dimension"]
    if img.format == "JPEG":
        stored = img.height if swap else img.width
        scale, _ = _draft_scale(stored, target)
        if scale > 1:
            img.draft("RGB", (max(1, img.width // scale), max(1, img.height // scale)))
    img.load()
    img = _swap(img, _normalise(img, keep_alpha))
    # resize in the stored orientation (the display width is the stored height when swapped), then turn upright
    if swap:
        if img.height > target:
            img = _swap(img, _resized_to(img, (max(1, round(img.width * target / img.height)), target)))
    else:
        img = _swap(img, _resized(img, target))
    if orientation in _ORIENTATION:
        img = _swap(img, img.transpose(getattr(Image.Transpose, _ORIENTATION[orientation])))
    size = img.size
    main = _save(img, s, icc)
    variants = {}
    for width in sorted(media.VARIANT_WIDTHS, reverse=True):
        if width < size[0]:  # never upscale
            img = _swap(img, _resized(img, width))  # from the previous, already reduced picture
            variants[width] = _save(img, s, icc)
    img.close()
    return {"main": main, "variants": dict(sorted(variants.items())), "size": size}


class _LazyFrames:
    """Frames 1..n-1 of an animation for Pillow's animated-WebP writer, prepared one at a time when the writer
    seeks to it: only the current frame exists (never a list of every canvas-sized RGBA frame). For everything
    else it behaves as the current frame."""

    def __init__(self, prepare, count: int):
        self._prepare = prepare
        self.n_frames = count
        self._current = None
        self._index = 0

    def seek(self, index: int) -> None:
        self._current = None  # free the previous frame before decoding the next
        self._current = self._prepare(index + 1)
        self._index = index

    def tell(self) -> int:
        return self._index

    def __getattr__(self, name):
        current = self.__dict__.get("_current")
        if current is None:
            raise AttributeError(name)
        return getattr(current, name)


def _convert_animation(img, s: dict, icc) -> dict:
    """An animation, frame by frame: the source canvas is decoded once per output, each frame converted and resized
    on its own and handed to the encoder; memory stays a few canvases whatever the frame count."""
    frames = img.n_frames  # walks the frame headers only
    if frames > s["max_frames"]:
        raise Refused(f"too many animation frames ({frames})")
    total = img.width * img.height * frames
    if total > s["max_total_pixels"]:
        raise Refused(f"animation too large to decode ({img.width}x{img.height} pixels x {frames} frames)")
    durations = []
    for index in range(frames):  # WebP sets a frame's duration only once it is loaded
        img.seek(index)
        img.load()
        durations.append(int(img.info.get("duration") or 100))
    loop = int(img.info.get("loop", 0) or 0)

    def encode(width: int) -> tuple[bytes, tuple[int, int]]:
        def prepare(index: int):
            img.seek(index)
            return _resized(_normalise(img, True), width)

        first = prepare(0)
        size = first.size
        data = _save(first, s, icc, save_all=True, append_images=[_LazyFrames(prepare, frames - 1)],
                     duration=durations, loop=loop)
        return data, size

    main, size = encode(s["max_dimension"])
    variants = {}
    for width in media.VARIANT_WIDTHS:
        if width < size[0]:
            variants[width] = encode(width)[0]
    return {"main": main, "variants": variants, "size": size}


def convert(data: bytes, s: dict | None = None) -> dict:
    """Decode and re-encode one original; returns {"main": bytes, "variants": {width: bytes}, "size": (w, h)}.
    Raises Refused for anything that is not an acceptable image."""
    from PIL import Image

    s = s or _settings()
    img = _decode(data, s)
    try:
        keep_alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
        icc = img.info.get("icc_profile") if img.mode in ("RGB", "RGBA", "P", "L", "LA") else None
        if getattr(img, "n_frames", 1) > 1:
            return _convert_animation(img, s, icc)
        return _convert_still(img, s, keep_alpha, icc)
    except Refused:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise Refused(f"the image data is damaged ({type(exc).__name__})") from None
    finally:
        img.close()


def publish(client, image_id, result: dict) -> list[str]:
    """Write a conversion's variants, then its main file (whose presence marks the image done), to the public
    bucket under the storefront's names; returns the variants' file names, smallest first."""
    from omcommerce.catalog import image_file, variant_file

    public = media.public_bucket()
    for width, body in sorted(result["variants"].items()):
        client.put_object(Bucket=public, Key=f"usercontent/{variant_file(image_id, width)}", Body=body,
                          ContentType="image/webp", CacheControl=CACHE_CONTROL)
    client.put_object(Bucket=public, Key=f"usercontent/{image_file(image_id)}", Body=result["main"],
                      ContentType="image/webp", CacheControl=CACHE_CONTROL)
    return [variant_file(image_id, width) for width in sorted(result["variants"])]


def process_record(bucket: str, key: str, size: int | None) -> dict:
    """Handle one S3 ObjectCreated record. Returns {"key", "outcome"}; raises only for transient failures."""
    match = _KEY_RE.match(key)
    if not match:
        return {"key": key, "outcome": "ignored"}
    import uuid

    image_id = uuid.UUID(match.group(1))
    s = _settings()
    claim = _claim(image_id.bytes, s["max_attempts"])
    if claim != "claimed":
        return {"key": key, "outcome": f"skipped ({claim})"}
    product = _product_of(image_id.bytes)
    try:
        if product is not None:  # the product may have filled up (or gone) since the presign: do no work then
            reason = db.run_in_transaction(lambda tx: _attach_refusal(tx, product, image_id.bytes))
            if reason not in (None, "attached"):
                raise Refused(reason)
        if size is not None and size > s["max_bytes"]:
            raise Refused(f"file too large ({size} bytes)")
        client = media.s3()
        obj = client.get_object(Bucket=bucket, Key=key)
        if int(obj.get("ContentLength") or 0) > s["max_bytes"]:
            raise Refused("file too large")
        data = obj["Body"].read(s["max_bytes"] + 1)
        if not data:
            raise Refused("the file is empty")
        if len(data) > s["max_bytes"]:
            raise Refused("file too large")
        result = convert(data, s)
        variants = publish(client, image_id, result)
    except Refused as exc:
        _finish(image_id.bytes, "failed", reason=str(exc)[:255])
        log.info("image %s refused: %s", image_id, exc)
        if product is not None and db.execute("DELETE FROM product_images WHERE id = %s",
                                              (image_id.bytes,)).rowcount:
            # an upload path that attached at once (multipart product-2): never show a file that will not exist
            from omcommerce import cachekeys

            cachekeys.invalidate_product(str(product))
        return {"key": key, "outcome": "failed", "reason": str(exc)}
    except Exception:
        # storage or database trouble: hand the claim back and let the queue retry (then dead-letter)
        db.execute("UPDATE images SET status = 'pending' WHERE id = %s AND status = 'processing'", (image_id.bytes,))
        raise
    width, height = result["size"]
    if product is None:
        _finish(image_id.bytes, "ready", width=width, height=height, variants=variants)
        return {"key": key, "outcome": "ready", "width": width, "height": height}

    def attach(tx):
        """Ready and attached in one step, under the product's row lock, only if the product still has room."""
        reason = _attach_refusal(tx, product, image_id.bytes)
        if reason not in (None, "attached"):
            _finish(image_id.bytes, "failed", tx, reason=reason)
            return reason
        if reason is None:
            tx.execute("INSERT INTO product_images (id, product_refer, created_at) VALUES (%s, %s, UTC_TIMESTAMP(3))",
                       (image_id.bytes, product.bytes))
        _finish(image_id.bytes, "ready", tx, width=width, height=height, variants=variants)
        return None

    refusal = db.run_in_transaction(attach)
    if refusal is not None:
        log.info("image %s refused: %s", image_id, refusal)
        try:
            media.s3().delete_objects(Bucket=media.public_bucket(), Delete={
                "Objects": [{"Key": k} for k in media.public_keys(image_id)], "Quiet": True})
        except Exception as exc:  # noqa: BLE001 - unreferenced files only cost storage
            log.warning("could not remove the outputs of refused image %s: %s", image_id, type(exc).__name__)
        return {"key": key, "outcome": "failed", "reason": refusal}
    from omcommerce import cachekeys

    cachekeys.invalidate_product(str(product))
    return {"key": key, "outcome": "ready", "width": width, "height": height}


def _product_of(image_id: bytes):
    """The product a pending upload is meant for (presigned and multipart uploads record it), else None."""
    import uuid

    row = db.query_one("SELECT owner_type, owner_id FROM images WHERE id = %s", (image_id,))
    if not row or row["owner_type"] != "product" or not row["owner_id"]:
        return None
    try:
        return uuid.UUID(row["owner_id"])
    except ValueError:
        return None


def _attach_refusal(tx, product, image_id: bytes) -> str | None:
    """Why the image cannot join its product (a message), "attached" when it already has, None when it may.
    Locks the product row, so concurrent conversions for one product count in turn."""
    if tx.query_one("SELECT id FROM products WHERE id = %s AND deleted_at IS NULL FOR UPDATE",
                    (product.bytes,)) is None:
        return "the product no longer exists"
    if tx.query_one("SELECT id FROM product_images WHERE id = %s", (image_id,)) is not None:
        return "attached"
    if tx.query_one("SELECT COUNT(*) AS n FROM product_images WHERE product_refer = %s",
                    (product.bytes,))["n"] >= media.MAX_PRODUCT_IMAGES:
        return f"the product already has {media.MAX_PRODUCT_IMAGES} images"
    return None


def records_of(s3_event: dict) -> list[tuple[str, str, int | None]]:
    """(bucket, key, size) of every ObjectCreated record; keys arrive URL-encoded as S3 sends them."""
    out = []
    for record in s3_event.get("Records") or []:
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record.get("s3") or {}
        bucket = (s3.get("bucket") or {}).get("name")
        obj = s3.get("object") or {}
        if bucket and obj.get("key"):
            out.append((bucket, unquote_plus(obj["key"]), obj.get("size")))
    return out


def handle_s3_event(s3_event: dict) -> list[dict]:
    return [process_record(bucket, key, size) for bucket, key, size in records_of(s3_event)]


def handle_sqs_event(sqs_event: dict) -> dict:
    """An SQS batch of S3 notifications; failed messages are reported for retry (partial batch response)."""
    failures, results = [], []
    for message in sqs_event.get("Records") or []:
        with omlog.message_scope(message):
            try:
                body = json.loads(message.get("body") or "{}")
                if body.get("Event") == "s3:TestEvent":
                    continue
                results.extend(handle_s3_event(body))
            except Exception as exc:  # noqa: BLE001 - retried by SQS, dead-lettered after maxReceiveCount
                log.warning("image message %s failed: %s", message.get("messageId"), type(exc).__name__)
                failures.append({"itemIdentifier": message.get("messageId")})
    return {"batchItemFailures": failures, "results": results}
