"""The image worker for the Swarm fallback and the local run: takes S3-style event records from the Redis list the
API fills after each upload (IMAGES_EVENTS=redis) and feeds them to the same pipeline as the Lambda.

    python -m functions.images.worker
"""
from __future__ import annotations

import json
import signal
import sys
import threading
import time

import functions  # noqa: F401  (layers on sys.path)
from omcommerce import media
from omcore import kv
from omcore.log import get_logger

log = get_logger("images.worker")


def run(stop: threading.Event | None = None, *, block_seconds: int = 2) -> None:
    from . import pipeline

    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            item = kv.client().blpop([media.EVENTS_LIST], timeout=block_seconds)
        except kv.RedisError as exc:
            log.warning("redis unavailable for the image queue: %s", type(exc).__name__)
            time.sleep(1)
            continue
        if not item:
            continue
        try:
            for result in pipeline.handle_s3_event(json.loads(item[1])):
                log.info("image %s: %s", result["key"], result["outcome"])
        except Exception as exc:  # noqa: BLE001 - retried later: put it back at the tail
            log.warning("image event failed, will retry: %s", type(exc).__name__)
            kv.client().rpush(media.EVENTS_LIST, item[1])
            time.sleep(1)


def main() -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
