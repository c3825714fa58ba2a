"""Event plumbing of the images capability (the conversion handler arrives with the image pipeline)."""
from __future__ import annotations


def enqueue_local(bucket: str, key: str, size: int) -> None:
    """Where no object-store notification exists (Swarm, local run), hand the S3-style event record to the
    worker. A no-op until the pipeline's worker is configured."""
    return None


def register(app) -> None:
    return None
