"""gunicorn settings for the API container (and the parity test, which starts the same entrypoint as a process).

Sync workers, one thread each: Chalice keeps ``current_request`` on the app object, so a worker serves one request
at a time; concurrency comes from processes. Workers default to 2 × CPU + 1 (WEB_CONCURRENCY overrides).
"""
import multiprocessing
import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
threads = 1
timeout = int(os.environ.get("WORKER_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
limit_request_line = 8190
limit_request_fields = 100
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-" if os.environ.get("ACCESS_LOG", "1") == "1" else None
errorlog = "-"
chdir = "/app" if os.path.isdir("/app/functions") else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# No preload: each worker imports the app after the fork, and connections open lazily on first use, so no
# MySQL/Redis socket is ever shared between workers.
# swarm-fallback/ is not an importable package name (hyphen): put it on the path and load wsgi.py from it.
pythonpath = os.path.dirname(os.path.abspath(__file__))
wsgi_app = "wsgi:application"
