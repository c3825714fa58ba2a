"""The local run (``make dev``): the whole backend on one machine with demo data.

MySQL and Redis come from ``DB_*``/``REDIS_*`` when those are set and reachable; otherwise private throwaway
servers are started from the installed binaries (``mariadbd``/``mysqld`` and ``redis-server``) on free loopback
ports, with their data under ``.local/``. Object storage is moto in server mode (S3-compatible) unless
``AWS_ENDPOINT_URL`` is set. Then: migrations, the super admin, demo data, each capability's ``localdev.start()``
hook in ``tools/<capability>/localdev.py`` (fake Midtrans, image worker...), and an HTTP server on
127.0.0.1:``PORT`` (default 8000) running the composed app through the same
WSGI adapter the containers use. Ctrl-C stops everything it started.
"""
from __future__ import annotations

import atexit
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# OPENMERCE_LOCAL_DIR moves the private data (tests run their own local stack beside a developer's)
LOCAL = os.environ.get("OPENMERCE_LOCAL_DIR") or os.path.join(ROOT, ".local")

_children: list[subprocess.Popen] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _which(*names: str) -> str | None:
    for name in names:
        for folder in (os.environ.get("PATH", "") + ":/usr/sbin:/usr/local/sbin:/sbin").split(":"):
            candidate = os.path.join(folder, name)
            if folder and os.access(candidate, os.X_OK):
                return candidate
    return None


def _stop_children() -> None:
    for proc in reversed(_children):
        if proc.poll() is None:
            proc.terminate()
    deadline = time.time() + 10
    for proc in _children:
        try:
            proc.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            proc.kill()
    _children.clear()


def _spawn(args: list[str], log_name: str, **kw) -> subprocess.Popen:
    os.makedirs(LOCAL, exist_ok=True)
    log = open(os.path.join(LOCAL, log_name), "ab")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **kw)
    _children.append(proc)
    return proc


class MariaDB:
    """A private MariaDB/MySQL server: own datadir, socket and loopback port; root with an empty password."""

    def __init__(self, base_dir: str, port: int | None = None):
        self.base = base_dir
        self.datadir = os.path.join(base_dir, "data")
        self.socket = os.path.join(base_dir, "mysqld.sock")
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    def _install(self) -> None:
        if os.path.isdir(os.path.join(self.datadir, "mysql")):
            return
        os.makedirs(self.datadir, exist_ok=True)
        installer = _which("mariadb-install-db", "mysql_install_db")
        if installer is None:
            raise SystemExit("MariaDB is not installed: run bin/setup (as root it installs mariadb-server)")
        args = [installer, "--no-defaults", f"--datadir={self.datadir}", "--auth-root-authentication-method=normal",
                "--skip-test-db"]
        if os.geteuid() == 0:
            args.append("--user=root")
        for attempt in (1, 2):  # a bootstrap that fails half-way (e.g. starved on a loaded machine) is retried once
            done = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if done.returncode == 0:
                return
            shutil.rmtree(self.datadir, ignore_errors=True)
            os.makedirs(self.datadir, exist_ok=True)
        raise SystemExit(f"{installer} failed ({done.returncode}):\n" + done.stdout.decode(errors="replace")[-2000:])

    def start(self) -> "MariaDB":
        self._install()
        server = _which("mariadbd", "mysqld")
        if server is None:
            raise SystemExit("mariadbd not found: run bin/setup")
        args = [server, "--no-defaults", f"--datadir={self.datadir}", f"--socket={self.socket}",
                f"--port={self.port}", "--bind-address=127.0.0.1", f"--pid-file={os.path.join(self.base, 'pid')}",
                "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=48M", "--skip-name-resolve",
                "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci"]
        if os.geteuid() == 0:
            args.append("--user=root")
        self.proc = _spawn(args, os.path.basename(self.base) + ".log")
        self.wait()
        return self

    def wait(self, timeout: float = 60) -> None:
        import pymysql

        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise SystemExit(f"MariaDB exited early; see {LOCAL}/{os.path.basename(self.base)}.log")
            try:
                pymysql.connect(host="127.0.0.1", port=self.port, user="root", password="", connect_timeout=1).close()
                return
            except pymysql.err.MySQLError:
                time.sleep(0.2)
        raise SystemExit("MariaDB did not start in time")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.proc in _children:
            _children.remove(self.proc)

    def env(self) -> dict:
        return {"DB_HOST": "127.0.0.1", "DB_PORT": str(self.port), "DB_USER": "root", "DB_PASS": ""}


class Redis:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.proc = None

    def start(self) -> "Redis":
        server = _which("redis-server")
        if server is None:
            raise SystemExit("redis-server not found: run bin/setup")
        self.proc = _spawn([server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                            "no", "--daemonize", "no"], "redis.log")
        deadline = time.time() + 20
        while time.time() < deadline:
            if _reachable("127.0.0.1", self.port, 0.2):
                return self
            time.sleep(0.1)
        raise SystemExit("redis-server did not start in time")

    def env(self) -> dict:
        return {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(self.port), "REDIS_PASS": "", "REDIS_DB": "0"}


def _secrets() -> dict:
    """Dev-only secrets, generated once into .local/secrets.json (never committed)."""
    path = os.path.join(LOCAL, "secrets.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    values = {"JWT_KEY_CUSTOMER": secrets.token_urlsafe(48), "JWT_KEY_STAFF": secrets.token_urlsafe(48),
              "ADMIN_PASSWORD": "Adm1n#" + secrets.token_urlsafe(9)}
    os.makedirs(LOCAL, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(values, fh)
    os.chmod(path, 0o600)
    return values


def _configured_db_reachable() -> bool:
    host = os.environ.get("DB_HOST")
    if not host:
        return False
    try:
        import pymysql

        pymysql.connect(host=host, port=int(os.environ.get("DB_PORT", "3306")), user=os.environ.get("DB_USER", ""),
                        password=os.environ.get("DB_PASS", ""), connect_timeout=2).close()
        return True
    except Exception:
        return False


def _configured_redis_reachable() -> bool:
    host = os.environ.get("REDIS_HOST")
    return bool(host) and _reachable(host, int(os.environ.get("REDIS_PORT", "6379")))


def start_infrastructure(*, fresh: bool = False) -> dict:
    """Bring up (or reuse) MySQL, Redis and S3; returns the environment the app needs."""
    env = {}
    if fresh:
        shutil.rmtree(os.path.join(LOCAL, "mariadb"), ignore_errors=True)
    if _configured_db_reachable():
        print(f"dev: using the configured MySQL at {os.environ['DB_HOST']}")
    else:
        db = MariaDB(os.path.join(LOCAL, "mariadb")).start()
        env.update(db.env())
        print(f"dev: started a private MariaDB on 127.0.0.1:{db.port} (data in .local/mariadb)")
    env.setdefault("DB_NAME", os.environ.get("DB_NAME", "openmerce"))
    if _configured_redis_reachable():
        print(f"dev: using the configured Redis at {os.environ['REDIS_HOST']}")
    else:
        redis = Redis().start()
        env.update(redis.env())
        print(f"dev: started a private Redis on 127.0.0.1:{redis.port}")
    if not os.environ.get("AWS_ENDPOINT_URL"):
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log would drown the app's
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        env.update({"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "local",
                    "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1"})
        print(f"dev: started an S3-compatible endpoint (moto) on {host}:{port}")
    env.setdefault("IMAGES_ORIGINALS_BUCKET", os.environ.get("IMAGES_ORIGINALS_BUCKET", "openmerce-originals"))
    env.setdefault("IMAGES_PUBLIC_BUCKET", os.environ.get("IMAGES_PUBLIC_BUCKET", "openmerce-public"))
    return env


def _ensure_buckets() -> None:
    import boto3

    s3 = boto3.client("s3")
    for name in (os.environ["IMAGES_ORIGINALS_BUCKET"], os.environ["IMAGES_PUBLIC_BUCKET"]):
        try:
            s3.create_bucket(Bucket=name)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
        except Exception as exc:  # an existing bucket on a real store answers differently; fine
            if "BucketAlready" not in type(exc).__name__ and "BucketAlready" not in str(exc):
                raise


def prepare(*, demo: bool = True) -> list[str]:
    """Migrate, ensure the super admin, load demo data, run each capability's localdev hook."""
    from omdb import db, migrate

    import tools

    db.reset()
    migrate.create_database_if_missing()
    migrate.migrate(echo=lambda line: print("dev: " + line))
    from functions.staff_auth import service as staff_service

    staff_service.ensure_super_admin()
    _ensure_buckets()
    lines = tools.load_demo_data() if demo else []
    for _name, module in tools.tool_modules("localdev"):
        os.environ.update(module.start() or {})
    return lines


def container_bridge():
    """The container's WSGI bridge, ``swarm-fallback/chalice_wsgi.py`` (it ships in the image only, so it is no
    package of ours: loaded from its file, as gunicorn finds it on its ``pythonpath``)."""
    import importlib.util

    module = sys.modules.get("chalice_wsgi")
    if module is None:
        path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "swarm-fallback",
                            "chalice_wsgi.py")
        spec = importlib.util.spec_from_file_location("chalice_wsgi", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["chalice_wsgi"] = module
        spec.loader.exec_module(module)
    return module


def serve(host: str, port: int) -> None:
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from app import app as chalice_app

    make_wsgi_app = container_bridge().make_wsgi_app

    class _Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class _Quiet(WSGIRequestHandler):
        def log_message(self, fmt, *args):
            sys.stderr.write("http: " + (fmt % args) + "\n")

    httpd = make_server(host, port, make_wsgi_app(chalice_app, usercontent=True), server_class=_Server,
                        handler_class=_Quiet)
    httpd.serve_forever()


def run(args) -> int:
    atexit.register(_stop_children)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    os.environ.update(start_infrastructure(fresh=args.fresh))
    for key, value in _secrets().items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("COOKIE_SECURE", "false")
    os.environ.setdefault("MAIL_TRANSPORT", "log")
    os.environ.setdefault("MAIL_OUTBOX_DIR", os.path.join(LOCAL, "outbox"))
    os.environ.setdefault("ADMIN_USERNAME", "admin")
    port = int(os.environ.get("PORT", args.port))
    os.environ.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
    for line in prepare(demo=not args.no_demo):
        print("dev: " + line)
    print("\n" + "=" * 72)
    print(f"  Openmerce is running on http://127.0.0.1:{port}/api/v1/health")
    print(f"  staff login:  username {os.environ['ADMIN_USERNAME']!r}  password {os.environ['ADMIN_PASSWORD']!r}")
    print(f"  mails (codes) are printed here and kept in {os.environ['MAIL_OUTBOX_DIR']}/")
    print("  Ctrl-C stops everything")
    print("=" * 72 + "\n", flush=True)
    try:
        serve("127.0.0.1", port)
    except KeyboardInterrupt:
        pass
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("dev", help="run the whole backend locally with demo data (make dev)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--fresh", action="store_true", help="throw away the private database first")
    p.add_argument("--no-demo", action="store_true")
    p.set_defaults(func=run)
