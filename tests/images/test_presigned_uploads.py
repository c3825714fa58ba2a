"""Presigned uploads (issue 12.14): the 10-images-per-product cap holds at presign time and when the converted
image is attached; an image joins its product only once converted; and where no bucket notification reaches the
worker (IMAGES_EVENTS=redis: Swarm fallback, local run) the client's "complete" call starts the conversion."""
import threading
import time
import uuid

import pytest

from support import create_product, create_staff, login_staff, make_image

INV = "/api/v1/staff/dashboard/inventory"


@pytest.fixture
def clerk(api, buckets):
    create_staff("clerk", inv=True)
    login_staff(api, "clerk")
    return api


def presign(clerk, pid, content_type="image/png"):
    return clerk.post(f"{INV}/image-upload", json={"product_id": pid, "content_type": content_type, "size": 5000})


def send(target, data, content_type="image/png"):
    """What a browser does with the presigned POST: a multipart form straight to object storage."""
    import urllib3

    resp = urllib3.PoolManager().request("POST", target["url"], fields={
        **target["fields"], "file": ("photo", data, content_type)})
    assert resp.status in (200, 204), resp.data


def attached(pid):
    from omdb import db
    from omdb.ids import to_bin

    return db.query_one("SELECT COUNT(*) AS n FROM product_images WHERE product_refer = %s", (to_bin(pid),))["n"]


def fill(pid, count):
    """``count`` images already attached to the product (as earlier uploads left them)."""
    from omdb import db
    from omdb.ids import to_bin

    for _ in range(count):
        db.execute("INSERT INTO product_images (id, product_refer) VALUES (%s, %s)", (uuid.uuid4().bytes,
                                                                                   to_bin(pid)))


def status_of(file_name):
    from omdb import db

    row = db.query_one("SELECT status, failure_reason FROM images WHERE id = %s",
                       (uuid.UUID(file_name[:-5]).bytes,))
    return row["status"], row["failure_reason"]


def run_worker_until(predicate, seconds=30):
    from tools.images import worker

    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), kwargs={"block_seconds": 0.2})
    thread.start()
    try:
        deadline = time.time() + seconds
        while time.time() < deadline and not predicate():
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join()


def test_presign_refuses_a_full_product(clerk):
    pid = create_product()
    fill(pid, 10)
    resp = presign(clerk, pid)
    assert resp.status == 409 and "at most 10 images" in resp.json["error"]


def test_pending_presigned_uploads_hold_their_slots(clerk):
    pid = create_product()
    fill(pid, 7)
    assert [presign(clerk, pid).status for _ in range(3)] == [201, 201, 201]
    resp = presign(clerk, pid)  # 7 attached + 3 on their way = 10
    assert resp.status == 409, resp
    assert attached(pid) == 7  # nothing attached before it is converted


def test_concurrent_presigns_cannot_overfill(clerk, make_api):
    pid = create_product()
    fill(pid, 8)
    clients = []
    for _ in range(6):
        client = make_api()
        login_staff(client, "clerk")
        clients.append(client)
    answers = []
    threads = [threading.Thread(target=lambda c=c: answers.append(presign(c, pid).status)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [201, 201, 409, 409, 409, 409]


def test_image_is_attached_only_once_converted_and_complete_starts_the_redis_worker(clerk, monkeypatch):
    monkeypatch.setenv("IMAGES_EVENTS", "redis")
    pid = create_product()
    target = presign(clerk, pid).json
    name = target["file"]
    assert clerk.get(f"/api/v1/product?id={pid}").json["image_urls"] is None  # not before conversion
    # completing before the file was sent is refused: nothing to convert yet
    early = clerk.post(f"{INV}/image-upload/complete", json={"file": name})
    assert early.status == 409, early
    send(target, make_image("PNG", size=(700, 500)))
    assert clerk.get(f"/api/v1/product?id={pid}").json["image_urls"] is None  # uploaded, not yet converted
    done = clerk.post(f"{INV}/image-upload/complete", json={"file": name})
    assert done.status == 202 and done.json == {"file": name, "status": "pending"}
    run_worker_until(lambda: status_of(name)[0] == "ready")
    assert status_of(name) == ("ready", None)
    assert clerk.get(f"/api/v1/product?id={pid}").json["image_urls"] == [name]
    again = clerk.post(f"{INV}/image-upload/complete", json={"file": name})
    assert again.status == 200 and again.json["status"] == "ready"  # idempotent


def test_the_cap_holds_at_attach_time(clerk, monkeypatch):
    """9 attached, one presigned (slot 10 held), then another upload path fills slot 10 meanwhile: the converted
    presigned image is refused, not attached as an 11th."""
    monkeypatch.setenv("IMAGES_EVENTS", "redis")
    pid = create_product()
    fill(pid, 9)
    target = presign(clerk, pid).json
    fill(pid, 1)
    send(target, make_image("PNG"))
    assert clerk.post(f"{INV}/image-upload/complete", json={"file": target["file"]}).status == 202
    run_worker_until(lambda: status_of(target["file"])[0] == "failed")
    status, reason = status_of(target["file"])
    assert status == "failed" and "already has 10 images" in reason
    assert attached(pid) == 10


def test_complete_rejects_unknown_and_malformed_files(clerk):
    assert clerk.post(f"{INV}/image-upload/complete", json={"file": f"{uuid.uuid4()}.webp"}).status == 404
    assert clerk.post(f"{INV}/image-upload/complete", json={"file": "../../etc/passwd"}).status == 400
    assert clerk.post(f"{INV}/image-upload/complete", json={}).status == 400
