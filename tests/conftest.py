"""Shared fixtures. Tests talk to real MariaDB and Redis over real connections and drive the HTTP surface through
Chalice's test client (``api`` fixture: a browser-like client with a cookie jar)."""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import settings  # noqa: E402

settings.apply()

from omcore import kv  # noqa: E402
from omdb import db, migrate  # noqa: E402

from support import ApiClient, Outbox  # noqa: E402

KEEP_TABLES = {"schema_migrations", "shipping_areas"}


@pytest.fixture(scope="session")
def database():
    """A freshly created and migrated database for this worker."""
    import pymysql

    conn = pymysql.connect(host=os.environ["DB_HOST"], port=int(os.environ["DB_PORT"]), user=os.environ["DB_USER"],
                           password=os.environ["DB_PASS"])
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{os.environ['DB_NAME']}`")
    conn.close()
    db.reset()
    migrate.create_database_if_missing()
    migrate.migrate(echo=lambda *_: None)
    tables = [r["TABLE_NAME"] for r in db.query(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
        " AND TABLE_TYPE = 'BASE TABLE'")]
    yield [t for t in tables if t not in KEEP_TABLES]


@pytest.fixture(autouse=True)
def clean_state(request, database):
    """Every test starts with empty tables (area data kept) and an empty Redis DB."""
    db.reset()
    kv.reset_client()
    db.execute("SET FOREIGN_KEY_CHECKS = 0")
    try:
        for table in database:
            db.execute(f"DELETE FROM `{table}`")
    finally:
        db.execute("SET FOREIGN_KEY_CHECKS = 1")
    kv.client().flushdb()
    Outbox(os.environ["MAIL_OUTBOX_DIR"]).clear()
    yield


@pytest.fixture(scope="session")
def app():
    from app import app as chalice_app

    return chalice_app


PARITY = os.environ.get("OM_PARITY") == "1"
# Fixtures that reconfigure the app inside the test process (environment, fake services): a test that uses them
# cannot be replayed against a separately started server, so the parity run skips it.
IN_PROCESS_ONLY = {"monkeypatch", "aws", "buckets", "moto_server", "dev_server", "container_server",
                   "private_mariadb", "smtp_server", "biteship"}


def pytest_collection_modifyitems(config, items):
    if not PARITY:
        return
    skip = pytest.mark.skip(reason="reconfigures the app in-process; covered by the in-process run")
    for item in items:
        if IN_PROCESS_ONLY & set(getattr(item, "fixturenames", ())) or "tests/infra/" in item.nodeid \
                or "tests/platform/" in item.nodeid:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def parity_server(request):
    """In the parity run (OM_PARITY=1) every `api` request goes over real HTTP to the container entrypoint."""
    if not PARITY:
        return None
    request.getfixturevalue("session_midtrans")  # its settings must reach the server's environment
    base = request.getfixturevalue("container_server")
    os.environ["OM_TEST_BASE_URL"] = base
    return base


@pytest.fixture
def api(app, parity_server):
    """A browser-like HTTP client for the composed app (cookie jar, JSON helpers)."""
    with ApiClient(app) as client:
        yield client


@pytest.fixture
def make_api(app, parity_server):
    """Factory for extra independent clients (a second browser, another customer)."""
    clients = []

    def factory():
        client = ApiClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def outbox():
    return Outbox(os.environ["MAIL_OUTBOX_DIR"])


@pytest.fixture(scope="session")
def moto_server():
    """moto in server mode on a free loopback port, shared by the session; boto3 reaches it through
    AWS_ENDPOINT_URL (S3, SQS, SES...)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    previous = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    yield endpoint
    if previous is None:
        os.environ.pop("AWS_ENDPOINT_URL", None)
    else:
        os.environ["AWS_ENDPOINT_URL"] = previous
    server.stop()


@pytest.fixture
def aws(moto_server):
    """A clean moto state for this test (all services reset). Returns the endpoint URL."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(moto_server + "/moto-api/reset", method="POST"), timeout=10).read()
    return moto_server


@pytest.fixture(scope="session")
def container_server(database):
    """The container entrypoint (gunicorn + chalice_wsgi.py, as swarm-fallback runs it) started as a process on a free
    port against this worker's database and Redis. Yields its base URL."""
    import socket
    import subprocess
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2", ACCESS_LOG="0", TRUSTED_PROXY_HOPS="1",
               MAX_BODY_BYTES=str(1024 * 1024), PATH=os.path.dirname(sys.executable) + ":" + os.environ["PATH"])
    proc = subprocess.Popen(["sh", os.path.join(ROOT, "swarm-fallback", "entrypoint.sh"), "api"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(base + "/api/v1/health", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("container entrypoint died: " + proc.stderr.read().decode()[-3000:])
            time.sleep(0.2)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def areas(database):
    """The real shipping-area data set (about 7,100 districts), loaded once per test database."""
    from tools.catalogue import areas as area_data

    if db.query_one("SELECT COUNT(*) AS n FROM shipping_areas")["n"] < 7000:
        area_data.load()
    return 25410  # the storefront's default area: Gambir, Kota Adm. Jakarta Pusat


@pytest.fixture
def buckets(aws, monkeypatch):
    """The originals and public image buckets in a fresh moto state."""
    import boto3

    monkeypatch.setenv("IMAGES_ORIGINALS_BUCKET", "om-originals")
    monkeypatch.setenv("IMAGES_PUBLIC_BUCKET", "om-public")
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="om-originals")
    s3.create_bucket(Bucket="om-public")
    return s3


MIDTRANS_TEST_ENV = {"MIDTRANS_BASE_ORDER_ID": "TEST", "MIDTRANS_TIMEOUT_SECONDS": "1"}


@pytest.fixture(scope="session")
def session_midtrans():
    """One fake Midtrans for the parity run, configured into the environment before the server starts."""
    from tools.payments.fake_midtrans import FakeMidtrans

    fake = FakeMidtrans(server_key="SB-Mid-server-TEST", notification_url="http://127.0.0.1:9/unused").start()
    os.environ.update({**fake.env(), **MIDTRANS_TEST_ENV})
    yield fake
    fake.stop()


@pytest.fixture
def midtrans(request):
    """A fake Midtrans (Snap + Core API over real HTTP on 127.0.0.1) wired into the app's configuration."""
    if PARITY:
        fake = request.getfixturevalue("session_midtrans")
        fake.mode, fake.hang_seconds = None, 2.5
        fake.requests.clear()
        fake.transactions.clear()
        yield fake
        fake.mode = None
        return
    from tools.payments.fake_midtrans import FakeMidtrans

    monkeypatch = request.getfixturevalue("monkeypatch")
    fake = FakeMidtrans(server_key="SB-Mid-server-TEST", notification_url="http://127.0.0.1:9/unused").start()
    for key, value in {**fake.env(), **MIDTRANS_TEST_ENV}.items():
        monkeypatch.setenv(key, value)
    fake.hang_seconds = 2.5
    yield fake
    fake.stop()


@pytest.fixture
def freight_rates(areas):
    """The demo rate table (AnterAja/SiCepat by province, free AnterAja REG inside Jakarta Pusat)."""
    from tools.freight import demo

    demo.load()


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):  # the controller (or a run without xdist)
        from support import _summary_path

        if os.path.exists(_summary_path()):
            os.unlink(_summary_path())


def pytest_terminal_summary(terminalreporter):
    from support import _summary_path

    if hasattr(terminalreporter.config, "workerinput") or not os.path.exists(_summary_path()):
        return
    with open(_summary_path(), encoding="utf-8") as fh:
        terminalreporter.write_sep("-", "what ships")
        terminalreporter.write(fh.read())
    os.unlink(_summary_path())
