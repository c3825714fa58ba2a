"""Animated-image bombs (a tiny GIF declaring a huge canvas and many frames) are refused from the header before any
frame is decoded; animations within the limits are converted frame by frame in bounded memory; still photos decode
at the nearest JPEG scale and come out at the documented sizes, with every variant."""
import io
import os
import struct
import subprocess
import sys

import pytest
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _put_original(buckets, data, content_type):
    """An original in the bucket with its pending record, as an upload leaves it."""
    import uuid

    from omdb import db

    image_id = uuid.uuid4()
    db.execute("INSERT INTO images (id, owner_type, original_key, content_type, byte_size, status)"
               " VALUES (%s, 'unattached', %s, %s, %s, 'pending')",
               (image_id.bytes, f"originals/{image_id}", content_type, len(data)))
    buckets.put_object(Bucket="om-originals", Key=f"originals/{image_id}", Body=data)
    return image_id


def _deliver(image_id, size):
    """The S3 ObjectCreated record, as SQS (AWS) or the Redis list (Swarm/local) hands it to the converter."""
    from functions.images import pipeline

    return pipeline.handle_s3_event({"Records": [{"eventName": "ObjectCreated:Post", "s3": {
        "bucket": {"name": "om-originals"}, "object": {"key": f"originals/{image_id}", "size": size}}}]})


def _record(image_id):
    from omdb import db

    return db.query_one("SELECT status, failure_reason FROM images WHERE id = %s", (image_id.bytes,))


def gif_bomb(canvas, frames: int) -> bytes:
    """An animated GIF of 1x1-pixel frames whose logical screen (the canvas every frame is decoded onto) is
    ``canvas``: made with Pillow at 1x1, then the screen size in the header is raised, as an attacker would."""
    images = [Image.new("L", (1, 1), 255 * (i % 2)) for i in range(frames)]  # alternating: no frame is merged
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=50, loop=0)
    data = bytearray(out.getvalue())
    data[6:10] = struct.pack("<HH", *canvas)
    return bytes(data)


@pytest.mark.parametrize("canvas,frames", [((3000, 3000), 40), ((3000, 3000), 300), ((6000, 6000), 3)],
                         ids=["959-byte-40-frames", "300-frames", "6000px-3-frames"])
def test_animated_gif_bomb_is_refused_before_decoding(buckets, canvas, frames):
    data = gif_bomb(canvas, frames)
    assert len(data) < 16_000  # a few KB on the wire ...
    with Image.open(io.BytesIO(data)) as probe:  # ... that each passes the per-frame checks of before
        assert probe.size == canvas and probe.width * probe.height <= 40_000_000 and probe.n_frames <= 300
    image_id = _put_original(buckets, data, "image/gif")
    results = _deliver(image_id, len(data))
    assert [r["outcome"] for r in results] == ["failed"], results
    row = _record(image_id)
    assert row["status"] == "failed" and "animation too large" in row["failure_reason"]
    assert buckets.list_objects_v2(Bucket="om-public").get("KeyCount", 0) == 0


_PEAK_PROBE = r"""
import sys
sys.path[:0] = [{root!r}]
import io
import functions
from PIL import Image
from functions.images import pipeline
data = open({path!r}, "rb").read()
Image.new("RGB", (8, 8)).save(io.BytesIO(), "WEBP")  # load the codec first: its library is not the conversion

def status(field):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field))

before = status("VmRSS:")
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")
result = pipeline.convert(data)
print(status("VmHWM:") - before, result["size"][0], result["size"][1], sorted(result["variants"]))
"""


def test_animation_within_limits_converts_frame_by_frame_in_bounded_memory(tmp_path):
    from functions.images import pipeline

    data = gif_bomb((800, 600), 40)  # 19 MP in all: under IMAGE_MAX_TOTAL_PIXELS
    result = pipeline.convert(data)
    webp = Image.open(io.BytesIO(result["main"]))
    assert webp.format == "WEBP" and webp.size == (800, 600) and webp.n_frames == 40
    webp.seek(1)
    webp.load()
    assert webp.info.get("duration") == 50
    for width, body in result["variants"].items():
        variant = Image.open(io.BytesIO(body))
        assert variant.width == width and variant.n_frames == 40
    assert sorted(result["variants"]) == [320, 640]
    # memory: holding every decoded frame and its resized copies (as before) took 128 MB here; frame by frame it is
    # a few canvases (15 MB). Measured as the growth of the peak resident set of a fresh process.
    path = tmp_path / "anim.gif"
    path.write_bytes(data)
    if not os.path.exists("/proc/self/clear_refs"):
        pytest.skip("needs Linux /proc to measure the peak resident set")
    out = subprocess.run([sys.executable, "-c", _PEAK_PROBE.format(root=ROOT, path=str(path))], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.split()
    peak_kb = int(out[0])
    assert out[1:3] == ["800", "600"]
    assert peak_kb < 48 * 1024, f"peak grew by {peak_kb // 1024} MB"


def _jpeg(size, **save):
    img = Image.radial_gradient("L").resize(size).convert("RGB")
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85, **save)
    return out.getvalue()


@pytest.mark.parametrize("source,expected", [
    ((4000, 3000), (2000, 1500)),  # half DCT scale: no resampling at all
    ((2048, 1536), (2048, 1536)),  # already the target width
    ((3000, 2000), (2048, 1365)),  # full decode, one resize
    ((900, 600), (900, 600)),      # never upscaled
])
def test_still_photos_come_out_at_the_documented_sizes_with_every_variant(source, expected):
    from functions.images import pipeline

    result = pipeline.convert(_jpeg(source))
    main = Image.open(io.BytesIO(result["main"]))
    assert main.format == "WEBP" and main.size == expected and result["size"] == expected
    assert sorted(result["variants"]) == [w for w in (320, 640, 1280) if w < expected[0]]
    for width, body in result["variants"].items():
        variant = Image.open(io.BytesIO(body))
        assert variant.format == "WEBP" and variant.width == width
        assert abs(variant.height - expected[1] * width / expected[0]) <= 1


def test_rotated_large_photo_is_reduced_along_its_displayed_width():
    from functions.images import pipeline

    exif = Image.Exif()
    exif[0x0112] = 6  # stored 4000x3000, displayed 3000 wide and 4000 high
    result = pipeline.convert(_jpeg((4000, 3000), exif=exif))
    main = Image.open(io.BytesIO(result["main"]))
    assert main.size == (2048, 2731) and not main.getexif()
    assert Image.open(io.BytesIO(result["variants"][1280])).size == (1280, 1707)


def test_direct_yuv_encoding_matches_pillows_and_keeps_the_icc_profile(monkeypatch):
    """The low-memory encoder (functions/images/webpenc.py) writes what Pillow's encoder writes, plus the profile."""
    from PIL import ImageChops, ImageCms

    from functions.images import pipeline, webpenc

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    img = Image.radial_gradient("L").resize((1500, 999)).convert("RGB")
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90, icc_profile=icc)
    direct = pipeline.convert(out.getvalue())
    assert webpenc._library() is not None  # Pillow's wheel ships libwebp: the direct path is in use here
    monkeypatch.setenv("WEBP_DIRECT_YUV", "false")
    pillow = pipeline.convert(out.getvalue())
    assert direct["size"] == pillow["size"] == (1500, 999)
    for a, b in [(direct["main"], pillow["main"])] + [(direct["variants"][w], pillow["variants"][w])
                                                       for w in (320, 640, 1280)]:
        ours, theirs = Image.open(io.BytesIO(a)), Image.open(io.BytesIO(b))
        assert ours.format == "WEBP" and ours.size == theirs.size
        assert ours.info.get("icc_profile") == icc == theirs.info.get("icc_profile")
        assert ImageChops.difference(ours.convert("RGB"), theirs.convert("RGB")).getbbox() is None


def test_animated_webp_keeps_per_frame_durations_loop_and_alpha():
    from functions.images import pipeline

    frames = [Image.new("RGBA", (700, 400), (i * 40, 0, 255 - i * 40, 128 + i * 10)) for i in range(5)]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=[100, 200, 100, 200, 300], loop=2)
    result = pipeline.convert(out.getvalue())
    webp = Image.open(io.BytesIO(result["main"]))
    assert webp.size == (700, 400) and webp.n_frames == 5 and webp.mode == "RGBA" and webp.info["loop"] == 2
    durations = []
    for index in range(webp.n_frames):
        webp.seek(index)
        webp.load()
        durations.append(webp.info["duration"])
    assert durations == [100, 200, 100, 200, 300]
    assert abs(webp.getpixel((5, 5))[3] - 168) <= 2  # the last frame's own alpha
    assert sorted(result["variants"]) == [320, 640]
    assert Image.open(io.BytesIO(result["variants"][320])).n_frames == 5
