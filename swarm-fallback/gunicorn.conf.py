"""gunicorn settings for the API container (and the parity test, which starts the same entrypoint as a process).

Threaded workers (gunicorn ``gthread``): each worker process serves up to ``WEB_THREADS`` requests at once (default
128), so a request waiting on the network — Midtrans, the freight provider, S3, SMTP, a slow client — holds one
thread, not the process. The bridge (chalice_wsgi.py) keeps Chalice's per-request state per thread; MySQL and Redis
connections come from a bounded pool per process (``DB_POOL_SIZE``, ``REDIS_POOL_SIZE``), lent per statement or
transaction. Why threads and not gevent or an ASGI server, with the numbers: docs/concurrency.md.

Worker count: ``WEB_CONCURRENCY`` (stack.yml sets it per service from the service's CPU limit). Unset, it is one
per CPU of the container's CPU quota (cgroup v2 ``cpu.max``, or v1 ``cpu.cfs_quota_us``; at least 2), never the
host's core count: an 8-core node would otherwise start 8 processes in a 1-CPU/512 MB task. Threads, not processes,
give the concurrency; a process per CPU uses the cores.

Slow clients (no proxy needed in front): every client socket is wrapped so that each read has a deadline — the
request line and headers must arrive within ``CLIENT_HEADER_TIMEOUT`` seconds of the first byte awaited (default
10; then the connection is closed), and wsgi.py gives the body ``CLIENT_READ_TIMEOUT`` seconds in total (then 408).
A client dripping one byte at a time cannot stretch either: the deadline is for the whole head or body, not per
read. A slow client holds one thread of 128 for a bounded time; no worker is ever killed for it (the worker's
heartbeat runs in its main loop, not in the request threads). In production Traefik also buffers request bodies.
"""
import logging
import math
import os
import time

from gunicorn.workers.gthread import ThreadWorker


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
    return max(2, math.ceil(cpus))


CLIENT_READ_TIMEOUT = float(os.environ.get("CLIENT_READ_TIMEOUT") or 10)
CLIENT_HEADER_TIMEOUT = float(os.environ.get("CLIENT_HEADER_TIMEOUT") or 10)


class _QuietClientTimeouts(logging.Filter):
    """A client cut off by a read deadline is logged as one line, not as a "Socket error" traceback."""

    def filter(self, record):
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, TimeoutError):
            record.msg, record.args, record.exc_info, record.exc_text = (
                "client too slow: connection closed after its read deadline", (), None, None)
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


class DeadlineSocket:
    """A client socket whose reads share one deadline (``deadline``: a ``time.monotonic()`` value, or None for
    per-operation timeouts only). Every other operation goes to the socket itself."""

    __slots__ = ("_sock", "deadline", "op_timeout")

    def __init__(self, sock, op_timeout: float):
        self._sock = sock
        self.deadline = None
        self.op_timeout = op_timeout

    def _arm(self):
        if self.deadline is None:
            self._sock.settimeout(self.op_timeout)
            return
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("client read deadline passed")
        self._sock.settimeout(min(remaining, self.op_timeout))

    def recv(self, *args):
        self._arm()
        return self._sock.recv(*args)

    def recv_into(self, *args):
        self._arm()
        return self._sock.recv_into(*args)

    def sendall(self, data, *args):
        self._sock.settimeout(self.op_timeout)
        return self._sock.sendall(data, *args)

    def send(self, data, *args):
        self._sock.settimeout(self.op_timeout)
        return self._sock.send(data, *args)

    def fileno(self):
        return self._sock.fileno()

    def __getattr__(self, name):
        return getattr(self._sock, name)


class BoundedReadThreadWorker(ThreadWorker):
    """gunicorn's gthread worker whose client sockets carry read deadlines (see the module docstring)."""

    def init_process(self):
        self.log.error_log.addFilter(_QuietClientTimeouts())
        super().init_process()

    def enqueue_req(self, conn):
        # the connection became readable: its next request head must be complete within CLIENT_HEADER_TIMEOUT
        if not isinstance(conn.sock, DeadlineSocket):
            conn.sock = DeadlineSocket(conn.sock, CLIENT_READ_TIMEOUT)
        conn.sock.deadline = time.monotonic() + CLIENT_HEADER_TIMEOUT
        super().enqueue_req(conn)


bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY") or default_workers(cpu_limit()))
worker_class = BoundedReadThreadWorker
threads = int(os.environ.get("WEB_THREADS") or 128)
# connections a worker keeps open at once (in flight + idle keep-alive); beyond it, new ones wait in the backlog
worker_connections = 1000
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


def on_starting(server):
    """Refuse to start the API with its caches on a Redis that would refuse writes when full (maxmemory with
    noeviction: the sessions Redis), unless CACHE_ALLOW_NOEVICTION says so (omcore.nearcache). A cache that cannot be
    reached does not stop the start: reads fall through to MySQL."""
    from omcore import config, kv

    try:
        config.refuse_midtrans_sandbox()  # not the sandbox in production unless MIDTRANS_SANDBOX=true
    except config.ConfigError as exc:
        raise SystemExit(str(exc)) from None
    try:
        kv.cache_client().execute("PING")
    except kv.CacheRefused as exc:
        raise SystemExit(f"refusing to start: {exc}") from None
    except Exception:  # unreachable or not configured yet: the workers' own checks report it
        pass
    finally:
        kv.reset_client()  # no socket for the forked workers to inherit
