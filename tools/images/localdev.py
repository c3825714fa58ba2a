"""Local run hook: uploads hand their event records to a Redis list and a worker thread converts them."""
import os
import threading


def start() -> dict:
    os.environ["IMAGES_EVENTS"] = "redis"
    from .worker import run

    threading.Thread(target=run, name="image-worker", daemon=True).start()
    print("dev: image worker running (uploads become WebP within seconds)")
    return {"IMAGES_EVENTS": "redis"}
