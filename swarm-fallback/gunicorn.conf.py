"""gunicorn settings for the API container (and the parity test, which starts the same entrypoint as a process).

Sync workers, one thread each: Chalice keeps ``current_request`` on the app object, so a worker serves one request
at a time; concurrency comes from processes.

Worker count: ``WEB_CONCURRENCY`` (stack.yml sets it per service from the service's CPU limit). Unset, it is
2 × CPUs + 1 where CPUs is the container's CPU quota (cgroup v2 ``cpu.max``, or v1 ``cpu.cfs_quota_us``), never the
host's core count: an 8-core node would otherwise start 17 workers in a 1-CPU/512 MB task.

Slow clients: a sync worker blocked on a client that sends its request slowly serves nobody else. Every client
socket gets a timeout (``CLIENT_READ_TIMEOUT`` seconds, default 10) for each read and each response write, and
wsgi.py reads the whole body within that time or answers 408, so a slow client holds a worker for a bounded time
(a slowly dripped header is cut off by the same per-read timeout, and at the latest by the worker ``timeout``).
In production Traefik buffers request bodies and has its own read timeouts (stack.yml), so gunicorn only ever
reads from Traefik at network speed.
"""
import logging
import math
import os

from gunicorn.workers.sync import SyncWorker


def cpu_limit(cpu_max: str = "/sys/fs/cgroup/cpu.max",
              v1_dir: str = "/sys/fs/cgroup/cpu,cpuacct") -> float:
    """CPUs this container may use: its cgroup quota, else the CPUs it may be scheduled on."""
    try:
        with open(cpu_max, encoding="ascii") as fh:
            quota, period = fh.read().split()[:2]
        if quota != "max" and int(period) > 0:
            return int(quota) / int(period)
    except (OSError, ValueError):
        try:
            with open(os.path.join(v1_dir, "cpu.cfs_quota_us"), encoding="ascii") as fh:
                quota_us = int(fh.read())
            with open(os.path.join(v1_dir, "cpu.cfs_period_us"), encoding="ascii") as fh:
                period_us = int(fh.read())
            if quota_us > 0 and period_us > 0:
                return quota_us / period_us
        except (OSError, ValueError):
            pass
    try:
        return float(len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return float(os.cpu_count() or 1)


def default_workers(cpus: float) -> int:
    return max(2, math.ceil(2 * cpus) + 1)


CLIENT_READ_TIMEOUT = float(os.environ.get("CLIENT_READ_TIMEOUT") or 10)


class _QuietClientTimeouts(logging.Filter):
    """A client cut off by the read timeout is logged as one line, not as a "Socket error" traceback."""

    def filter(self, record):
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, TimeoutError):
            record.msg, record.args, record.exc_info, record.exc_text = (
                "client too slow: connection closed after the %ss read timeout", (CLIENT_READ_TIMEOUT,), None, None)
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


class BoundedReadSyncWorker(SyncWorker):
    """gunicorn's sync worker with a timeout on every client socket (see the module docstring)."""

    def init_process(self):
        self.log.error_log.addFilter(_QuietClientTimeouts())
        super().init_process()

    def handle(self, listener, client, addr):
        client.settimeout(CLIENT_READ_TIMEOUT)
        super().handle(listener, client, addr)


bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY") or default_workers(cpu_limit()))
worker_class = BoundedReadSyncWorker
threads = 1
timeout = int(os.environ.get("WORKER_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
limit_request_line = 8190
limit_request_fields = 100
# Client addresses are chalice_wsgi.py's business (X-Forwarded-For believed only from FORWARDED_ALLOW_IPS peers, CIDRs
# allowed); gunicorn's own setting of that name only decides the URL scheme, from loopback. entrypoint.sh hands our
# value over as OM_FORWARDED_ALLOW_IPS because gunicorn 23 refuses CIDRs in it; the workers get it back here.
forwarded_allow_ips = "127.0.0.1,::1"
if "OM_FORWARDED_ALLOW_IPS" in os.environ:
    os.environ["FORWARDED_ALLOW_IPS"] = os.environ.pop("OM_FORWARDED_ALLOW_IPS")
accesslog = "-" if os.environ.get("ACCESS_LOG", "1") == "1" else None
errorlog = "-"
chdir = "/app" if os.path.isdir("/app/functions") else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# No preload: each worker imports the app after the fork, and connections open lazily on first use, so no
# MySQL/Redis socket is ever shared between workers.
# swarm-fallback/ is not an importable package name (hyphen): put it on the path and load wsgi.py from it.
pythonpath = os.path.dirname(os.path.abspath(__file__))
wsgi_app = "wsgi:application"
