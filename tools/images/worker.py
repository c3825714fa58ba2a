"""The image worker for the Swarm fallback and the local run: takes S3-style event records from the Redis list the
API fills after each upload (IMAGES_EVENTS=redis) and feeds them to the same pipeline as the Lambda.

    python -m tools.images.worker

Delivery is at-least-once: ``BLMOVE`` moves each record from the queue into this worker's processing list in one
step, the record leaves that list (``LREM``) only after the pipeline is done with it, and a worker that starts moves
whatever its previous life left there back onto the queue. The pipeline is idempotent (a finished image is skipped),
so a record handled twice after a crash does the work once. The processing list is named after ``IMAGES_WORKER_ID``
(default: the host name; the Swarm stack gives each replica slot a stable one).

The blocking pop waits for less than the Redis socket timeout (``REDIS_TIMEOUT_MS``): a block longer than the
timeout makes redis-py give up while the server may still hand the record over, which both loses it and logs a
false outage.

With ``HEARTBEAT_FILE`` set (the container does), the loop touches that file on every turn; the container's
healthcheck (swarm-fallback/healthcheck.py) fails once it is older than ``HEARTBEAT_MAX_AGE_SECONDS``. A clean stop
removes it.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading

from omcommerce import media
from omcore import config, kv
from omcore import log as omlog
from omcore.log import get_logger

log = get_logger("images.worker")

PROCESSING_PREFIX = media.EVENTS_LIST + ":processing:"


def processing_list(worker_id: str | None = None) -> str:
    """This worker's in-flight list."""
    return PROCESSING_PREFIX + (worker_id or config.get("IMAGES_WORKER_ID", "") or socket.gethostname())


def block_timeout(block_seconds: float) -> float:
    """How long one BLMOVE may wait: at most half the Redis socket timeout, so the server always answers first."""
    socket_timeout = config.get_int("REDIS_TIMEOUT_MS") / 1000
    return max(0.05, min(float(block_seconds), socket_timeout / 2))


def recover(client, processing: str) -> int:
    """Put the records a previous run of this worker left in flight back at the head of the queue."""
    moved = 0
    while client.lmove(processing, media.EVENTS_LIST, "RIGHT", "LEFT") is not None:
        moved += 1
    return moved


class _Heartbeat:
    def __init__(self, path: str):
        self.path = path
        self._failed = False

    def beat(self) -> None:
        if not self.path:
            return
        try:
            with open(self.path, "a"):
                pass
            os.utime(self.path, None)
            self._failed = False
        except OSError as exc:
            if not self._failed:
                self._failed = True
                log.warning("cannot write the heartbeat file %s: %s", self.path, exc.strerror)

    def remove(self) -> None:
        if self.path:
            try:
                os.unlink(self.path)
            except OSError:
                pass


def run(stop: threading.Event | None = None, *, block_seconds: float = 0.5) -> None:
    from functions.images import pipeline

    stop = stop or threading.Event()
    block = block_timeout(block_seconds)
    processing = processing_list()
    heartbeat = _Heartbeat(config.get("HEARTBEAT_FILE", ""))
    recovered = False
    outage = False
    try:
        while not stop.is_set():
            heartbeat.beat()
            try:
                client = kv.client()
                if not recovered:
                    moved = recover(client, processing)
                    recovered = True
                    if moved:
                        log.warning("requeued %d image event(s) left in flight by a previous run", moved)
                raw = client.blmove(media.EVENTS_LIST, processing, block, "LEFT", "LEFT")
            except kv.RedisError as exc:
                if not outage:
                    outage = True
                    log.warning("redis unavailable for the image queue: %s", type(exc).__name__)
                stop.wait(1)
                continue
            if outage:
                outage = False
                log.info("redis reachable again, image queue resumed")
            if raw is None:
                continue
            with omlog.scope(capability="images", job="image_worker"):  # a fresh id per event
                _handle(pipeline, client, processing, raw, stop)
    finally:
        heartbeat.remove()


def _handle(pipeline, client, processing: str, raw: str, stop: threading.Event) -> None:
    try:
        event = json.loads(raw)
    except ValueError:
        log.error("dropping an image event that is not JSON (%d bytes)", len(raw))
        _done(client, processing, raw)
        return
    try:
        for result in pipeline.handle_s3_event(event):
            log.info("image %s: %s", result["key"], result["outcome"])
    except Exception as exc:  # noqa: BLE001 - transient (storage, database): retried from the tail of the queue
        log.warning("image event failed, will retry: %s", type(exc).__name__)
        try:
            with client.pipeline(transaction=True) as tx:
                tx.lrem(processing, 1, raw)
                tx.rpush(media.EVENTS_LIST, raw)
                tx.execute()
        except kv.RedisError:
            pass  # still in the processing list: requeued when this worker starts again
        stop.wait(1)
        return
    _done(client, processing, raw)


def _done(client, processing: str, raw: str) -> None:
    try:
        client.lrem(processing, 1, raw)
    except kv.RedisError as exc:
        # the record stays in flight and is handled again (a no-op for a finished image) after a restart
        log.warning("could not acknowledge an image event: %s", type(exc).__name__)


def main() -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
