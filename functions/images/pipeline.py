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
        "max_pixels": config.get_int("IMAGE_MAX_PIXELS", 40_000_000),
        "max_frames": config.get_int("IMAGE_MAX_FRAMES", 300),
        "max_dimension": config.get_int("IMAGE_MAX_DIMENSION", 2000),  # 4000-px photos decode at half scale
        "quality": config.get_int("WEBP_QUALITY", 80),
        "method": config.get_int("WEBP_METHOD", 1),  # measured: docs/images.md
        "max_attempts": config.get_int("IMAGE_MAX_ATTEMPTS", 5),
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


def _finish(image_id: bytes, status: str, **values) -> None:
    db.execute("UPDATE images SET status = %s, failure_reason = %s, width = %s, height = %s, variants = %s,"
               " processed_at = UTC_TIMESTAMP(3) WHERE id = %s",
               (status, values.get("reason"), values.get("width"), values.get("height"),
                json.dumps(values["variants"]) if values.get("variants") else None, image_id))


def _decode(data: bytes, s: dict):
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


def _encode(frames, durations, loop, icc, s, width: int | None):
    """WebP bytes of the (possibly animated) image, resized to ``width`` when smaller than the original."""
    from PIL import Image

    out = []
    for frame in frames:
        if width and frame.width > width:
            height = max(1, round(frame.height * width / frame.width))
            frame = frame.resize((width, height), Image.LANCZOS, reducing_gap=3.0)
        out.append(frame)
    buffer = io.BytesIO()
    options = {"quality": s["quality"], "method": s["method"]}
    if icc:
        options["icc_profile"] = icc
    if len(out) > 1:
        out[0].save(buffer, "WEBP", save_all=True, append_images=out[1:], duration=durations, loop=loop,
                    **options)
    else:
        out[0].save(buffer, "WEBP", **options)
    return buffer.getvalue(), out[0].size


def convert(data: bytes, s: dict | None = None) -> dict:
    """Decode and re-encode one original; returns {"main": bytes, "variants": {width: bytes}, "size": (w, h)}.
    Raises Refused for anything that is not an acceptable image."""
    from PIL import Image, ImageOps, ImageSequence

    s = s or _settings()
    img = _decode(data, s)
    try:
        animated = getattr(img, "n_frames", 1) > 1
        if animated and img.n_frames > s["max_frames"]:
            raise Refused(f"too many animation frames ({img.n_frames})")
        keep_alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
        icc = img.info.get("icc_profile") if img.mode in ("RGB", "RGBA", "P", "L", "LA") else None
        if animated:
            frames, durations = [], []
            for frame in ImageSequence.Iterator(img):
                frames.append(_normalise(frame.copy(), True))
                durations.append(int(frame.info.get("duration", img.info.get("duration", 100)) or 100))
            loop = int(img.info.get("loop", 0))
        else:
            if img.format == "JPEG" and img.width > s["max_dimension"]:
                # DCT scaling: decode at (at least) the target box, e.g. a 4000x3000 photo at 2000x1500
                target = (s["max_dimension"], max(1, img.height * s["max_dimension"] // img.width))
                img.draft("RGB", target)
            img = ImageOps.exif_transpose(img)  # applies the orientation and drops the tag
            frames, durations, loop = [_normalise(img, keep_alpha)], None, 0
    except Refused:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise Refused(f"the image data is damaged ({type(exc).__name__})") from None
    main, size = _encode(frames, durations, loop, icc, s, s["max_dimension"])
    variants = {}
    for width in media.VARIANT_WIDTHS:
        if width < frames[0].width:  # never upscale
            variants[width] = _encode(frames, durations, loop, icc, s, width)[0]
    return {"main": main, "variants": variants, "size": size}


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
    try:
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
        public = media.public_bucket()
        client.put_object(Bucket=public, Key=f"usercontent/{image_id}.webp", Body=result["main"],
                          ContentType="image/webp", CacheControl=CACHE_CONTROL)
        for width, body in result["variants"].items():
            client.put_object(Bucket=public, Key=f"usercontent/{image_id}-{width}.webp", Body=body,
                              ContentType="image/webp", CacheControl=CACHE_CONTROL)
    except Refused as exc:
        _finish(image_id.bytes, "failed", reason=str(exc)[:255])
        log.info("image %s refused: %s", image_id, exc)
        return {"key": key, "outcome": "failed", "reason": str(exc)}
    except Exception:
        # storage or database trouble: hand the claim back and let the queue retry (then dead-letter)
        db.execute("UPDATE images SET status = 'pending' WHERE id = %s AND status = 'processing'", (image_id.bytes,))
        raise
    width, height = result["size"]
    _finish(image_id.bytes, "ready", width=width, height=height,
            variants=[f"{image_id}-{w}.webp" for w in result["variants"]])
    return {"key": key, "outcome": "ready", "width": width, "height": height}


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
        try:
            body = json.loads(message.get("body") or "{}")
            if body.get("Event") == "s3:TestEvent":
                continue
            results.extend(handle_s3_event(body))
        except Exception as exc:  # noqa: BLE001 - retried by SQS, dead-lettered after maxReceiveCount
            log.warning("image message %s failed: %s", message.get("messageId"), type(exc).__name__)
            failures.append({"itemIdentifier": message.get("messageId")})
    return {"batchItemFailures": failures, "results": results}
