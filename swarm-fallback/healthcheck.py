"""Container healthchecks: what the Dockerfile's HEALTHCHECK and stack.yml's `healthcheck:` run inside a task
(tests/infra/test_swarm.py parses and runs the very same commands). Standard library only, so a check costs one
short interpreter start and imports nothing of the app.

    python /app/swarm-fallback/healthcheck.py live        API role: GET /api/v1/health on the gunicorn port
    python /app/swarm-fallback/healthcheck.py heartbeat   worker roles: HEARTBEAT_FILE touched recently

Both are *liveness* checks: they fail when the process is dead, hung or not serving — never because MySQL, Redis or
the object store is down. Swarm replaces a task whose check fails; replacing API tasks cannot fix a database outage
(data routes answer 503 meanwhile), so the database is not part of it. Readiness (MySQL and Redis reachable) stays
available at /api/v1/health/ready for monitoring.

Settings (environment): BIND (gunicorn's, default 0.0.0.0:8000), HEARTBEAT_FILE (default
/tmp/openmerce.heartbeat), HEARTBEAT_MAX_AGE_SECONDS (default 120).
"""
import os
import sys
import time
import urllib.request


def live() -> int:
    port = os.environ.get("BIND", "0.0.0.0:8000").rsplit(":", 1)[-1]
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=3) as resp:
            ok = resp.status == 200
    except OSError as exc:
        print(f"unhealthy: /api/v1/health: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


def heartbeat() -> int:
    path = os.environ.get("HEARTBEAT_FILE") or "/tmp/openmerce.heartbeat"
    max_age = float(os.environ.get("HEARTBEAT_MAX_AGE_SECONDS") or 120)
    try:
        age = time.time() - os.stat(path).st_mtime
    except OSError:
        print(f"unhealthy: no heartbeat file {path}", file=sys.stderr)
        return 1
    if age > max_age:
        print(f"unhealthy: last heartbeat {age:.0f}s ago (limit {max_age:.0f}s)", file=sys.stderr)
        return 1
    return 0


CHECKS = {"live": live, "heartbeat": heartbeat}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in CHECKS:
        print("usage: healthcheck.py live|heartbeat", file=sys.stderr)
        sys.exit(2)
    sys.exit(CHECKS[sys.argv[1]]())
