"""The image pipeline on moto's S3 and SQS (server mode) with real S3 notification payloads and real images
generated here, plus hostile inputs: each ends in a recorded outcome, never a crash or a stuck message."""
import io
import json
import struct
import zlib

import pytest
from PIL import Image

from support import create_product, create_staff, login_staff, make_image

INV = "/api/v1/staff/dashboard/inventory"


@pytest.fixture
def queue(buckets):
    """S3 → SQS notifications for originals/ (as the AWS template wires them)."""
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="om-images")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    buckets.put_bucket_notification_configuration(Bucket="om-originals", NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "originals/"}]}}}]})
    return sqs, url


@pytest.fixture
def clerk(api):
    create_staff("clerk", inv=True)
    login_staff(api, "clerk")
    return api


def drain(sqs, url):
    """Deliver every queued message to the handler the way Lambda's SQS integration does."""
    from functions.images import pipeline

    results = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = got.get("Messages", [])
        if not messages:
            return results
        event = {"Records": [{"messageId": m["MessageId"], "body": m["Body"], "eventSource": "aws:sqs"}
                             for m in messages]}
        answer = pipeline.handle_sqs_event(event)
        assert answer["batchItemFailures"] == []
        results.extend(answer["results"])
        for m in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def upload(clerk, pid, data, name="photo.jpg", ctype="image/jpeg"):
    resp = clerk.multipart("POST", f"{INV}/product-2", {"product_id": pid}, {"picture": (name, data, ctype)})
    assert resp.status == 201, resp
    return resp.json["file"]


def public(buckets, key):
    obj = buckets.get_object(Bucket="om-public", Key=key)
    return obj, obj["Body"].read()


def record(file_name):
    from omdb import db

    return db.query_one("SELECT status, failure_reason, width, height, variants FROM images WHERE id = UNHEX(%s)",
                        (file_name[:-5].replace("-", ""),))


def test_jpeg_with_exif_orientation_and_gps_becomes_upright_webp_without_metadata(clerk, buckets, queue):
    img = Image.new("RGB", (1600, 1200), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when displayed
    exif[0x8825] = {1: "S", 2: (6.0, 10.0, 0.0), 3: "E", 4: (106.0, 49.0, 0.0)}  # GPS
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, quality=90)
    pid = create_product()
    name = upload(clerk, pid, out.getvalue())
    results = drain(*queue)
    assert [r["outcome"] for r in results] == ["ready"]
    obj, data = public(buckets, f"usercontent/{name}")
    assert obj["ContentType"] == "image/webp" and obj["CacheControl"] == "public, max-age=31536000, immutable"
    webp = Image.open(io.BytesIO(data))
    assert webp.format == "WEBP" and webp.size == (1200, 1600)  # orientation applied
    assert not webp.getexif() and "xmp" not in webp.info
    for width in (320, 640):
        assert Image.open(io.BytesIO(public(buckets, f"usercontent/{name[:-5]}-{width}.webp")[1])).width == width
    assert json.loads(record(name)["variants"]) == [f"{name[:-5]}-{w}.webp" for w in (320, 640, 1280) if w < 1200]


def test_png_with_alpha_keeps_transparency_and_small_images_are_not_upscaled(clerk, buckets, queue):
    pid = create_product()
    name = upload(clerk, pid, make_image("PNG", size=(200, 100), color=(0, 128, 255, 64)), "a.png", "image/png")
    drain(*queue)
    webp = Image.open(io.BytesIO(public(buckets, f"usercontent/{name}")[1]))
    assert webp.mode == "RGBA" and webp.size == (200, 100)
    assert webp.getpixel((5, 5))[3] == 64
    assert record(name)["variants"] is None  # 200 px wide: no 320/640/1280 variant


def test_animated_gif_becomes_animated_webp(clerk, buckets, queue):
    frames = [Image.new("RGB", (120, 80), (i * 60, 255 - i * 60, 40)) for i in range(4)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    name = upload(clerk, create_product(), out.getvalue(), "anim.gif", "image/gif")
    drain(*queue)
    webp = Image.open(io.BytesIO(public(buckets, f"usercontent/{name}")[1]))
    assert webp.n_frames == 4


def test_cmyk_jpeg_and_16_bit_png_convert(clerk, buckets, queue):
    pid = create_product()
    cmyk = io.BytesIO()
    Image.new("CMYK", (100, 100), (0, 255, 255, 0)).save(cmyk, "JPEG")
    deep = io.BytesIO()
    Image.new("I;16", (64, 64), 40000).save(deep, "PNG")
    a = upload(clerk, pid, cmyk.getvalue())
    b = upload(clerk, pid, deep.getvalue(), "deep.png", "image/png")
    assert [r["outcome"] for r in drain(*queue)] == ["ready", "ready"]
    red = Image.open(io.BytesIO(public(buckets, f"usercontent/{a}")[1])).convert("RGB").getpixel((50, 50))
    assert red[0] > 200 and red[1] < 60
    grey = Image.open(io.BytesIO(public(buckets, f"usercontent/{b}")[1])).convert("L").getpixel((10, 10))
    assert 140 < grey < 170  # 40000/65535 of full scale


def test_png_named_jpg_is_decoded_by_content(clerk, buckets, queue):
    name = upload(clerk, create_product(), make_image("PNG"), "photo.jpg", "image/jpeg")
    assert [r["outcome"] for r in drain(*queue)] == ["ready"]
    assert record(name)["status"] == "ready"


def _png_header_only(width, height):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + \
        chunk(b"IEND", b"")


def _put_original(buckets, data, content_type="image/jpeg"):
    """An original that reached the bucket directly (as a presigned upload would), with its pending record."""
    import uuid

    from omdb import db

    image_id = uuid.uuid4()
    db.execute("INSERT INTO images (id, owner_type, original_key, content_type, byte_size, status)"
               " VALUES (%s, 'unattached', %s, %s, %s, 'pending')",
               (image_id.bytes, f"originals/{image_id}", content_type, len(data)))
    buckets.put_object(Bucket="om-originals", Key=f"originals/{image_id}", Body=data)
    return f"{image_id}.webp"


@pytest.mark.parametrize("case", ["bomb", "truncated", "svg", "empty", "oversized"])
def test_hostile_inputs_are_recorded_refusals(buckets, queue, case, monkeypatch):
    if case == "oversized":
        monkeypatch.setenv("IMAGE_MAX_BYTES", "2000")
    data = {
        "bomb": _png_header_only(30000, 30000),
        "truncated": make_image("JPEG", size=(400, 300))[:600],
        "svg": b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>",
        "empty": b"",
        "oversized": make_image("PNG", size=(300, 300), compress_level=0),
    }[case]
    name = _put_original(buckets, data)
    results = drain(*queue)
    assert [r["outcome"] for r in results] == ["failed"], results
    row = record(name)
    assert row["status"] == "failed" and row["failure_reason"]
    assert buckets.list_objects_v2(Bucket="om-public").get("KeyCount", 0) == 0
    assert buckets.head_object(Bucket="om-originals", Key="originals/" + name[:-5])  # the original stays


def test_repeated_and_duplicate_events_do_the_work_once(clerk, buckets, queue):
    from functions.images import pipeline

    name = upload(clerk, create_product(), make_image("JPEG", size=(700, 500)))
    sqs, url = queue
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    message = next(m for m in messages if "s3:TestEvent" not in m["Body"])
    event = {"Records": [{"messageId": "m1", "body": message["Body"]}, {"messageId": "m2", "body": message["Body"]}]}
    first = pipeline.handle_sqs_event(event)
    second = pipeline.handle_sqs_event(event)
    outcomes = [r["outcome"] for r in first["results"] + second["results"]]
    assert outcomes.count("ready") == 1 and all(o.startswith("skipped") for o in outcomes if o != "ready")
    from omdb import db

    assert db.query_one("SELECT COUNT(*) AS n FROM images")["n"] == 1
    assert record(name)["status"] == "ready"


def test_url_encoded_keys_and_several_records_per_event(buckets):
    from functions.images import pipeline

    names = [_put_original(buckets, make_image("JPEG")) for _ in range(3)]
    records = [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "om-originals"},
                                                          "object": {"key": "originals%2F" + n[:-5], "size": 500}}}
               for n in names]
    records.append({"eventName": "ObjectRemoved:Delete", "s3": {"bucket": {"name": "om-originals"},
                                                                 "object": {"key": "originals/x"}}})
    results = pipeline.handle_s3_event({"Records": records})
    assert [r["outcome"] for r in results] == ["ready"] * 3
    assert pipeline.handle_s3_event({"Records": [{"eventName": "ObjectCreated:Put", "s3": {
        "bucket": {"name": "om-public"}, "object": {"key": "usercontent/abc.webp"}}}]})[0]["outcome"] == "ignored"


def test_storage_failure_is_reported_for_retry_and_released(buckets, monkeypatch):
    from functions.images import pipeline

    name = _put_original(buckets, make_image("JPEG"))
    monkeypatch.setenv("IMAGES_PUBLIC_BUCKET", "no-such-bucket")
    body = json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "s3": {
        "bucket": {"name": "om-originals"}, "object": {"key": "originals/" + name[:-5], "size": 500}}}]})
    answer = pipeline.handle_sqs_event({"Records": [{"messageId": "m1", "body": body}]})
    assert answer["batchItemFailures"] == [{"itemIdentifier": "m1"}]
    assert record(name)["status"] == "pending"  # claim handed back: the retry will redo it


def test_presigned_upload_target(clerk, buckets, queue):
    import urllib3

    pid = create_product()
    resp = clerk.post(f"{INV}/image-upload", json={"product_id": pid, "content_type": "image/png", "size": 1000})
    assert resp.status == 201
    target = resp.json
    http = urllib3.PoolManager()
    data = make_image("PNG")
    ok = http.request("POST", target["url"], fields={**target["fields"], "file": ("x.png", data, "image/png")})
    assert ok.status in (200, 204), ok.data
    assert [r["outcome"] for r in drain(*queue)] == ["ready"]
    assert clerk.get(f"/api/v1/product?id={pid}").json["image_urls"] == [target["file"]]
    assert clerk.post(f"{INV}/image-upload", json={"content_type": "image/svg+xml"}).status == 400
    assert clerk.post(f"{INV}/image-upload", json={"content_type": "image/png", "size": 10**9}).status == 413


def test_redis_worker_path_used_by_swarm_and_local_run(clerk, buckets, monkeypatch):
    """IMAGES_EVENTS=redis: the upload enqueues the same S3 record; the worker loop converts it."""
    import threading

    from tools.images import worker

    monkeypatch.setenv("IMAGES_EVENTS", "redis")
    name = upload(clerk, create_product(), make_image("JPEG", size=(500, 400)))
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), kwargs={"block_seconds": 1})
    thread.start()
    import time

    deadline = time.time() + 20
    while time.time() < deadline and record(name)["status"] != "ready":
        time.sleep(0.1)
    stop.set()
    thread.join()
    assert record(name)["status"] == "ready"
    assert public(buckets, f"usercontent/{name}")[0]["ContentType"] == "image/webp"


def test_reprocess_command_converts_every_original_again(buckets, capsys, monkeypatch):
    from tools.images import cli

    names = [_put_original(buckets, make_image("JPEG", size=(900, 600))) for _ in range(2)]
    names.append(_put_original(buckets, b"not an image"))
    assert cli._reprocess(None) == 0
    out = capsys.readouterr()
    assert "2 converted, 1 refused" in out.out and "3/3" in out.err  # the progress bar reached the end
    assert [record(n)["status"] for n in names] == ["ready", "ready", "failed"]
    assert public(buckets, f"usercontent/{names[0][:-5]}-640.webp")[0]["ContentType"] == "image/webp"


def test_refused_upload_is_detached_from_its_product(clerk, buckets, queue):
    """product-2 attaches at once (the staff UI expects the file name back); a file that then fails to convert must
    not stay on the product as a broken image."""
    pid = create_product()
    good = upload(clerk, pid, make_image("JPEG", size=(400, 300)))
    bad = upload(clerk, pid, make_image("JPEG", size=(400, 300))[:300])  # JPEG magic, truncated data
    assert sorted(r["outcome"] for r in drain(*queue)) == ["failed", "ready"]
    assert record(bad)["status"] == "failed"
    assert clerk.get(f"/api/v1/product?id={pid}").json["image_urls"] == [good]
