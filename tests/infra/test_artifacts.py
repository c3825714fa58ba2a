"""What ships to AWS runs as deployed: every function of infra/template.yaml, built by infra/build.py (from the lock
file's wheels, for this machine's CPU), laid out as Lambda lays it out and started in a bare python3.12 with exactly
the template's environment (secrets from SSM served by moto, MySQL through a password-protected account, a Redis
that requires AUTH, the fake Midtrans), answers real events: API Gateway proxy events for routes that read MySQL and
Redis, the SQS event of the image converter, the schedule event of order expiry. One function also runs under the
real Runtime Interface Client against a local Runtime API, SnapStart's hooks run in the runtime's order, and the
same requests get byte-identical answers from a Lambda package and from the container entrypoint.

Nothing here weakens a function's start-up check: a missing setting fails the function as it would on Lambda."""
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time

import pytest
import yaml

import settings as test_settings
from lambda_runtime import (
    BASE_PYTHON,
    RuntimeApi,
    Sandbox,
    api_event,
    cookies_of,
    make_runtime_dir,
    schedule_event,
    sqs_s3_event,
    template_parameter_defaults,
)
from support import (
    DEFAULT_PASSWORD,
    create_customer,
    create_order,
    create_product,
    create_staff,
    encode_multipart,
    make_image,
    report_summary,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
pytestmark = [pytest.mark.xdist_group("lambda-artifacts")]

SECRETS_PREFIX = "/openmerce/artifact-test"
ORIGINALS, PUBLIC = "om-art-originals", "om-art-public"
MAIL_FROM = "shop@example.com"


def _machine_arch() -> str:
    import platform

    return "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    """`make package` for this machine's CPU, from the hash-checked wheels bin/setup fetched (no registry)."""
    out = tmp_path_factory.mktemp("build")
    done = subprocess.run([sys.executable, "infra/build.py", "--arch", _machine_arch(), "--wheelhouse", ".cache/wheels",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return str(out)


@pytest.fixture(scope="module")
def template():
    with open(os.path.join(ROOT, "infra", "template.yaml"), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="module")
def runtime_dir(tmp_path_factory):
    return make_runtime_dir(str(tmp_path_factory.mktemp("var-runtime")))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def auth_redis(tmp_path_factory):
    """A Redis that requires AUTH, as ElastiCache with a token does (the password arrives through SSM)."""
    port, password = _free_port(), secrets.token_hex(12)
    proc = subprocess.Popen([shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(port),
                             "--bind", "127.0.0.1", "--requirepass", password, "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path_factory.mktemp("redis"))],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield port, password
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def lambda_db_user(database):
    """A MySQL account with a password and rights on this worker's database only (the functions' RDS user)."""
    from omdb import db

    user = f"om_lambda_{test_settings.NAMESPACE}{test_settings.WORKER_INDEX}"
    password = "Pw-" + secrets.token_hex(12)
    name = os.environ["DB_NAME"]
    db.execute(f"DROP USER IF EXISTS '{user}'@'%'")
    db.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
    db.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE, LOCK TABLES ON `{name}`.* TO '{user}'@'%'")
    yield user, password
    db.execute(f"DROP USER IF EXISTS '{user}'@'%'")


@pytest.fixture
def lambda_world(aws, auth_redis, lambda_db_user, areas, freight_rates, template, midtrans):
    """The AWS side as the template wires it, on 127.0.0.1: SSM secrets, buckets, the SES identity; returns the
    local value of every template parameter and resource the functions' environments refer to."""
    import boto3

    redis_port, redis_password = auth_redis
    import redis

    redis.Redis(host="127.0.0.1", port=redis_port, password=redis_password).flushall()  # no cache from another test
    db_user, db_password = lambda_db_user
    secret_values = {"DB_PASS": db_password, "REDIS_PASS": redis_password, "REDIS_CACHE_PASS": redis_password,
                     "JWT_KEY_CUSTOMER": secrets.token_urlsafe(32), "JWT_KEY_STAFF": secrets.token_urlsafe(32),
                     "ADMIN_PASSWORD": "Adm1n#" + secrets.token_hex(6), "MIDTRANS_SERVER_KEY": midtrans.server_key}
    # FREIGHT_AUTHORIZATION is left out on purpose: an optional secret the operator did not create is unset
    ssm = boto3.client("ssm", region_name="us-east-1")
    for name, value in secret_values.items():
        ssm.put_parameter(Name=f"{SECRETS_PREFIX}/{name}", Value=value, Type="SecureString", Overwrite=True)
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=ORIGINALS)
    s3.create_bucket(Bucket=PUBLIC)
    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress=MAIL_FROM)
    mail_queue = boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="om-art-mail")["QueueUrl"]
    refs = template_parameter_defaults(template)
    refs.update({
        "SecretsPrefix": SECRETS_PREFIX, "DbHost": "127.0.0.1", "DbPort": "3306", "DbUser": db_user,
        "DbName": os.environ["DB_NAME"], "RedisHost": "127.0.0.1", "RedisPort": str(redis_port), "RedisTls": "false",
        "MailFrom": MAIL_FROM, "MidtransBaseUrlSnap": midtrans.base_url + "/snap/v1",
        "MidtransBaseUrlCoreApi": midtrans.base_url, "OriginalsBucket": ORIGINALS, "PublicBucket": PUBLIC,
        "MailQueue": mail_queue,
        # the template's own cache cluster (allkeys-lru): here the same local Redis
        "CacheReplicationGroup.PrimaryEndPoint.Address": "127.0.0.1",
        "CacheReplicationGroup.PrimaryEndPoint.Port": str(redis_port), "RedisCacheTls": "false",
    })
    extra_env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                 "AWS_ENDPOINT_URL": aws}
    return {"refs": refs, "extra_env": extra_env, "secrets": secret_values, "s3": s3, "mail_queue": mail_queue}


def _mail_queue_event(queue_url: str) -> dict:
    """What the mail queue's SQS trigger hands CheckoutDeliverMailFunction: every message waiting now."""
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1")
    records = []
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return {"Records": records}
        for m in got:
            records.append({"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                            "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                            "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
                            "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:om-art-mail",
                            "awsRegion": "us-east-1"})


def _functions(template):
    return [name for name, res in template["Resources"].items() if res["Type"] == "AWS::Serverless::Function"]


class Fleet:
    """Every template function, each started once (a cold start) and kept warm for the test's requests."""

    def __init__(self, template, build_dir, root, runtime_dir, world):
        self.args = (template, build_dir, root, runtime_dir, world["refs"], world["extra_env"])
        self.sandboxes: dict[str, Sandbox] = {}
        self.problems: dict[str, str] = {}
        self.answered: set[str] = set()

    def get(self, logical) -> Sandbox:
        if logical not in self.sandboxes:
            sandbox = Sandbox(self.args[0], logical, *self.args[1:])
            init = sandbox.start()
            self.sandboxes[logical] = sandbox
            if "init_error" in init:
                self.problems[logical] = f"did not start: {init['init_error']}: {init['message']}\n{init['trace']}"
        return self.sandboxes[logical]

    def call(self, logical, event, expect=None):
        sandbox = self.get(logical)
        if logical in self.problems and logical not in self.answered:
            return None
        out = sandbox.invoke(event)
        if "result" not in out:
            self.problems[logical] = f"raised {out.get('errorType')}: {out.get('errorMessage')}\n{out.get('trace')}"
            return None
        result = out["result"]
        if expect is not None:
            status = result.get("statusCode")
            if status != expect:
                self.problems.setdefault(logical, f"{event.get('httpMethod')} {event.get('path')} answered {status}: "
                                                  f"{result.get('body')}\n{sandbox.log}")
                return result
        self.answered.add(logical)
        return result

    def stop(self):
        for sandbox in self.sandboxes.values():
            sandbox.stop()


@pytest.fixture
def fleet(template, build_dir, runtime_dir, lambda_world, tmp_path):
    f = Fleet(template, build_dir, str(tmp_path), runtime_dir, lambda_world)
    yield f
    f.stop()


def _body(result) -> dict:
    return json.loads(result["body"]) if result and result.get("body") else {}


def test_every_template_function_starts_in_bare_python_and_answers_real_events(fleet, template, lambda_world,
                                                                                midtrans):
    import requests

    from omdb import db
    from omdb.ids import to_bin

    admin_password = lambda_world["secrets"]["ADMIN_PASSWORD"]
    create_staff("admin", admin_password, name="Owner", sys=True, inv=True, fin=True)
    customer_id = create_customer("buyer@example.com")
    pid = create_product("Kopi Gayo", price=50000, stock=10, weight=0.5)

    # public reads (MySQL + Redis, 2xx with real data)
    r = fleet.call("HealthFunction", api_event("GET", "/api/v1/health/ready"), 200)
    # the desk's pages come from files inside its zip, with their Content-Security-Policy
    r = fleet.call("DeskFunction", api_event("GET", "/desk"), 200)
    assert r is None or ("frame-ancestors 'none'" in str(r.get("headers")) and "desk.js" in r["body"])
    r = fleet.call("CatalogueFunction", api_event("GET", "/api/v1/product"), 200)
    assert r is None or "Kopi Gayo" in r["body"]
    r = fleet.call("CatalogueFunction", api_event("GET", "/api/v1/category"), 200)
    assert r is None or "Kopi" in r["body"]

    # customer: login, profile, address, cart, freight, checkout
    r = fleet.call("AuthFunction", api_event("POST", "/api/v1/auth/login", body={
        "email": "buyer@example.com", "password": DEFAULT_PASSWORD, "remember_me": False}), 200)
    customer = {k: v for k, v in cookies_of(r or {}).items() if v}
    r = fleet.call("AccountFunction", api_event("GET", "/api/v1/customer/profile", cookies=customer), 200)
    assert r is None or _body(r).get("email") == "buyer@example.com"
    r = fleet.call("AccountFunction", api_event("POST", "/api/v1/customer/address", cookies=customer, body={
        "label": "Rumah", "full_address": "Jl. Medan Merdeka 1", "note": "", "recipient_name": "Budi",
        "phone_number": "081234567890", "shipping_area": 25410, "postal_code": "10110"}), 200)
    address = _body(r).get("id")
    fleet.call("CartFunction", api_event("POST", "/api/v1/customer/cart", cookies=customer,
                                         body={"id": pid, "quantity": 2}), 200)
    fleet.call("CartFunction", api_event("POST", "/api/v1/customer/cart-checked", cookies=customer,
                                         body={"id": pid, "state": True}), 200)
    r = fleet.call("CartFunction", api_event("GET", "/api/v1/customer/cart", cookies=customer), 200)
    assert r is None or pid in r["body"]
    r = fleet.call("FreightFunction", api_event("GET", "/api/v1/freight-rates",
                                                query={"product_id": pid, "area_id": "25410"}), 200)
    assert r is None or _body(r)
    fleet.call("CheckoutFunction", api_event("GET", "/api/v1/customer/pre-freight", cookies=customer,
                                             query={"id": str(address)}), 200)
    r = fleet.call("CheckoutFunction", api_event("POST", "/api/v1/customer/checkout", cookies=customer, body={
        "courier_code": "sicepat-REG", "address_code": address}), 200)
    order_id = _body(r).get("order_id")

    # Midtrans: the settlement notification for that order pays it
    if order_id is not None:
        (midtrans_id,) = [k for k in midtrans.transactions if k.endswith(f"-{order_id}")]
        midtrans.set_status(midtrans_id, "settlement")
        fleet.call("PaymentsFunction", api_event("POST", "/api/v1/webhook/midtrans",
                                                 body=midtrans.notification(midtrans_id, "settlement")), 200)
        assert db.query_one("SELECT is_paid FROM orders WHERE id = %s", (order_id,))["is_paid"]

    # the schedule: an unpaid order past its payment window is expired and its stock released
    stale = create_order(customer_id, [(pid, 1)], status="awaiting_payment")
    db.execute("UPDATE orders SET payment_expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE WHERE id = %s", (stale,))
    r = fleet.call("CheckoutExpireOrdersFunction", schedule_event())
    assert "CheckoutExpireOrdersFunction" not in fleet.problems, fleet.problems["CheckoutExpireOrdersFunction"]
    assert r.get("expired", 0) >= 1, r
    assert db.query_one("SELECT status FROM orders WHERE id = %s", (stale,))["status"] != "awaiting_payment"

    # order mails: checkout, webhook and expiry only enqueued their outbox rows; the mail queue's function sends them
    assert db.query_one("SELECT COUNT(*) AS n FROM mail_outbox WHERE status = 'sent'")["n"] == 0
    event = _mail_queue_event(lambda_world["mail_queue"])
    assert len(event["Records"]) == db.query_one("SELECT COUNT(*) AS n FROM mail_outbox")["n"] >= 1
    r = fleet.call("CheckoutDeliverMailFunction", event)
    assert r is None or r.get("batchItemFailures") == [], r
    r = fleet.call("CheckoutDeliverMailFunction", event)  # a redelivered batch sends nothing twice
    assert {row["status"] for row in db.query("SELECT status FROM mail_outbox")} == {"sent"}
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    subjects = [m.subject for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages]
    if order_id is not None:
        assert subjects.count(f"Order #{order_id} is paid") == 1, subjects
    assert subjects.count(f"Order #{stale} was cancelled") == 1, subjects

    # staff: login, back office read, presigned upload, then the converter's SQS event
    r = fleet.call("StaffAuthFunction", api_event("POST", "/api/v1/staff/auth/login", body={
        "username": "admin", "password": admin_password}), 200)
    staff = {k: v for k, v in cookies_of(r or {}).items() if v}
    r = fleet.call("BackofficeFunction", api_event("GET", "/api/v1/staff/dashboard/inventory/product",
                                                   cookies=staff), 200)
    assert r is None or "Kopi Gayo" in r["body"]
    jpeg = make_image("JPEG", size=(640, 480))
    r = fleet.call("ImagesFunction", api_event("POST", "/api/v1/staff/dashboard/inventory/image-upload",
                                               cookies=staff, body={"product_id": pid, "content_type": "image/jpeg",
                                                                    "size": len(jpeg)}), 201)
    if r is not None and r["statusCode"] == 201:
        upload = _body(r)
        sent = requests.post(upload["url"], data=upload["fields"], files={"file": ("a.jpg", jpeg, "image/jpeg")},
                             timeout=10)
        assert sent.status_code in (200, 201, 204), sent.text
        key = upload["fields"]["key"]
        r = fleet.call("ImagesConvertImagesFunction", sqs_s3_event(ORIGINALS, key, len(jpeg)))
        assert r is None or r.get("batchItemFailures") == [], r
        webp = upload["file"]
        listed = lambda_world["s3"].list_objects_v2(Bucket=PUBLIC).get("Contents", [])
        assert any(obj["Key"].endswith(webp) for obj in listed), listed

    functions = _functions(template)
    started = [f for f in functions if f in fleet.sandboxes and not fleet.sandboxes[f].init.get("init_error")]
    ok = [f for f in functions if f in fleet.answered and f not in fleet.problems]
    lines = [f"{len(ok)}/{len(functions)} functions start and answer (Lambda packages in a bare python3.12)"]
    for logical in functions:
        sandbox = fleet.sandboxes.get(logical)
        init = f"{sandbox.init['init_ms']:.0f} ms import" if sandbox and "init_ms" in (sandbox.init or {}) else "-"
        lines.append(f"  {logical:32} {'ok' if logical in ok else 'FAILED'}  ({init})")
    report_summary("\n".join(lines))
    assert not fleet.problems, "\n\n".join(f"{k}: {v}" for k, v in fleet.problems.items())
    assert started == functions and ok == functions, set(functions) - set(ok)
    assert db.query_one("SELECT COUNT(*) AS n FROM orders WHERE customer_refer = %s",
                        (to_bin(customer_id),))["n"] == 2


def test_the_staff_uis_multipart_upload_carries_what_the_template_advertises_to_the_built_function(fleet, template):
    """The v1 staff UI uploads through multipart ``product-2``; API Gateway hands the body base64-encoded inside one
    event of at most 6,291,456 bytes. The template's limit (IMAGE_FORM_MAX_BYTES) is a file that still fits with
    the headers at API Gateway's maximum: the built function stores a file of exactly that size and answers one byte
    more with a 413 that names the limit and the presigned upload."""
    import base64

    from omcore.settings import LAMBDA_EVENT_MAX_BYTES

    env = template["Resources"]["BackofficeFunction"]["Properties"]["Environment"]["Variables"]
    limit = int(env["IMAGE_FORM_MAX_BYTES"])
    assert limit < 15 * 1024 * 1024
    create_staff("clerk", DEFAULT_PASSWORD, inv=True)
    pid = create_product("Kopi Gayo")
    r = fleet.call("StaffAuthFunction", api_event("POST", "/api/v1/staff/auth/login", body={
        "username": "clerk", "password": DEFAULT_PASSWORD}), 200)
    staff = {k: v for k, v in cookies_of(r or {}).items() if v}
    assert staff, fleet.problems

    def upload(size: int) -> tuple[dict, int]:
        picture = b"\xff\xd8\xff" + bytes(size - 3)  # a JPEG by its magic bytes; nothing decodes it here
        body, ctype = encode_multipart({"product_id": pid}, {"picture": ("IMG_20261203_110455.jpg", picture,
                                                                         "image/jpeg")})
        del picture
        # the request headers at the size API Gateway (REST) still accepts: 10,240 bytes with the request line
        headers = {"Content-Type": ctype, "X-Filler": ""}
        event = api_event("POST", "/api/v1/staff/dashboard/inventory/product-2", cookies=staff, headers=headers)
        used = len("POST /api/v1/staff/dashboard/inventory/product-2 HTTP/1.1\r\n") + sum(
            len(k) + len(v) + 4 for k, v in event["headers"].items())
        event["headers"]["X-Filler"] = "f" * (10240 - used)
        event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
        size_of_event = len(json.dumps(event))
        return fleet.call("BackofficeFunction", event), size_of_event

    r, event_bytes = upload(limit)
    assert event_bytes <= LAMBDA_EVENT_MAX_BYTES, f"{event_bytes} bytes: Lambda would refuse this invocation"
    assert r is not None and r["statusCode"] == 201, (r, fleet.problems)
    stored = _body(r)["file"]
    assert stored.endswith(".webp")
    r, _ = upload(limit + 1)
    assert r["statusCode"] == 413, r
    err = _body(r)
    assert err["limit"] == limit and err["presigned_path"] == "/api/v1/staff/dashboard/inventory/image-upload"
    assert str(limit) in err["error"] and "presigned" in err["error"], err
    from omdb import db

    assert db.query_one("SELECT COUNT(*) AS n FROM product_images")["n"] == 1, stored


def test_a_function_without_its_secrets_refuses_to_start(template, build_dir, runtime_dir, lambda_world, tmp_path):
    """The start-up check is real in the artefact: drop one SSM secret and the function stops at import, naming it."""
    import boto3

    boto3.client("ssm", region_name="us-east-1").delete_parameter(Name=f"{SECRETS_PREFIX}/JWT_KEY_STAFF")
    sandbox = Sandbox(template, "StaffAuthFunction", build_dir, str(tmp_path), runtime_dir, lambda_world["refs"],
                      lambda_world["extra_env"])
    try:
        init = sandbox.start()
    finally:
        sandbox.stop()
    assert init.get("init_error") == "ConfigError", init
    assert "JWT_KEY_STAFF" in init["message"]


SANDBOX_URLS = {"MidtransBaseUrlSnap": "https://app.sandbox.midtrans.com/snap/v1",
                "MidtransBaseUrlCoreApi": "https://api.sandbox.midtrans.com"}
PRODUCTION_URLS = {"MidtransBaseUrlSnap": "https://app.midtrans.com/snap/v1",
                   "MidtransBaseUrlCoreApi": "https://api.midtrans.com"}


@pytest.mark.parametrize("logical, refs, staging, refused", [
    ("CheckoutFunction", SANDBOX_URLS, "false", "MIDTRANS_BASE_URL_SNAP points at the sandbox"),
    ("PaymentsFunction", PRODUCTION_URLS, "false", "MIDTRANS_SERVER_KEY is a sandbox key"),  # the SSM key is SB-...
    ("CheckoutFunction", SANDBOX_URLS, "true", None),
    ("PaymentsFunction", PRODUCTION_URLS, "true", None),
])
def test_a_paying_function_refuses_the_midtrans_sandbox_unless_told(template, build_dir, runtime_dir, lambda_world,
                                                                    tmp_path, logical, refs, staging, refused):
    """The template's MidtransSandbox parameter (false) lets a function configured for the Midtrans sandbox (its
    URLs, or a production URL with an SB- key) stop at import, as Lambda would report it; true starts it. Nothing is
    sent anywhere: the check runs before any request."""
    assert lambda_world["secrets"]["MIDTRANS_SERVER_KEY"].startswith("SB-")
    world = dict(lambda_world["refs"], **refs, MidtransSandbox=staging)
    sandbox = Sandbox(template, logical, build_dir, str(tmp_path), runtime_dir, world, lambda_world["extra_env"])
    try:
        init = sandbox.start()
    finally:
        sandbox.stop()
    if refused:
        assert init.get("init_error") == "ConfigError", init
        assert refused in init["message"] and "MIDTRANS_SANDBOX=true" in init["message"], init["message"]
        assert lambda_world["secrets"]["MIDTRANS_SERVER_KEY"] not in init["message"]
    else:
        assert "init_error" not in init, init


def test_a_function_under_the_real_runtime_interface_client(template, build_dir, runtime_dir, lambda_world,
                                                            tmp_path):
    """CatalogueFunction through awslambdaric, the Runtime API protocol and the template's Handler string: exactly
    Lambda's init path (module layout, handler lookup, event loop)."""
    create_product("Kopi Toraja", price=60000, stock=3)
    sandbox = Sandbox(template, "CatalogueFunction", build_dir, str(tmp_path), runtime_dir, lambda_world["refs"],
                      lambda_world["extra_env"])
    api = RuntimeApi()
    env = dict(sandbox.env, AWS_LAMBDA_RUNTIME_API=api.address,
               PYTHONPATH=os.pathsep.join([sandbox.task, os.path.join(sandbox.opt, "python", "lib", "python3.12",
                                                                      "site-packages"),
                                           os.path.join(sandbox.opt, "python"), runtime_dir]))
    proc = subprocess.Popen([BASE_PYTHON, "-S", "-m", "awslambdaric", sandbox.props["Handler"]], cwd=sandbox.task,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        kind, payload = api.invoke(api_event("GET", "/api/v1/product", query={"search": "toraja"}))
        assert kind == "response", payload
        assert payload["statusCode"] == 200, payload
        assert "Kopi Toraja" in payload["body"]
        kind, payload = api.invoke(api_event("GET", "/api/v1/product", query={"id": "not-a-uuid"}))
        assert kind == "response" and payload["statusCode"] == 400, payload
        assert json.loads(payload["body"])["error"]
        assert not api.init_errors
    finally:
        proc.kill()
        out = proc.communicate(timeout=10)[0].decode(errors="replace")
        api.close()
    assert "Traceback" not in out, out[-3000:]


def test_snapstart_hooks_run_in_the_runtimes_order(template, build_dir, runtime_dir, lambda_world, tmp_path):
    """With SnapStart the runtime imports the function, runs the before-snapshot hooks, snapshots, and later runs the
    after-restore hooks in each restored environment. Our hooks must leave nothing to import after restore, no
    connection open in the snapshot, and a reseeded random generator."""
    create_product("Kopi Bali", price=40000, stock=3)
    sandbox = Sandbox(template, "CatalogueFunction", build_dir, str(tmp_path), runtime_dir, lambda_world["refs"],
                      lambda_world["extra_env"])
    init = sandbox.start(AWS_LAMBDA_INITIALIZATION_TYPE="snap-start")
    try:
        assert "init_ms" in init, init
        warm = sandbox.invoke(api_event("GET", "/api/v1/category"))   # connections open, as after a warm-up
        assert warm["result"]["statusCode"] == 200
        assert sandbox.invoke("tcp_peers")["tcp_peers"], "the warm-up request opened no connection?"
        snap = sandbox.invoke({"om_test_hooks": "before_snapshot"})
        assert snap.get("hooks", 0) >= 1, snap
        db_port, redis_port = 3306, int(lambda_world["refs"]["RedisPort"])
        assert not {db_port, redis_port} & set(snap["tcp_peers"]), f"a connection would be frozen: {snap}"
        restored = sandbox.invoke({"om_test_hooks": "after_restore"})
        assert restored.get("hooks", 0) >= 1 and restored["random_changed"], restored
        answer = sandbox.invoke(api_event("GET", "/api/v1/product", query={"search": "bali"}))
        assert answer["result"]["statusCode"] == 200 and "Kopi Bali" in answer["result"]["body"]
        late_imports = sorted(set(answer["modules"]) - set(snap["modules"]))
        assert late_imports == [], f"imported after restore: {late_imports}"
    finally:
        sandbox.stop()

    # the same order driven by the real Runtime Interface Client: hooks, /restore/next, then invocations
    api = RuntimeApi()
    env = dict(sandbox.env, AWS_LAMBDA_RUNTIME_API=api.address, AWS_LAMBDA_INITIALIZATION_TYPE="snap-start",
               PYTHONPATH=os.pathsep.join([sandbox.task, os.path.join(sandbox.opt, "python"), runtime_dir]))
    proc = subprocess.Popen([BASE_PYTHON, "-S", "-m", "awslambdaric", sandbox.props["Handler"]], cwd=sandbox.task,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert api.snapshot_taken.wait(timeout=60), "the runtime never reached the snapshot point"
        api.restore.set()
        kind, payload = api.invoke(api_event("GET", "/api/v1/product", query={"search": "bali"}))
        assert kind == "response" and payload["statusCode"] == 200, payload
        assert not api.init_errors and not api.restore_errors, (api.init_errors, api.restore_errors)
    finally:
        proc.kill()
        proc.communicate(timeout=10)
        api.close()


def test_a_lambda_package_and_the_container_answer_byte_for_byte_alike(template, build_dir, runtime_dir,
                                                                       lambda_world, tmp_path, container_server):
    """The same requests to the built Catalogue package and to the container entrypoint: same status, same body."""
    import urllib.error
    import urllib.parse
    import urllib.request

    pid = create_product("Kopi Flores", price=45000, stock=4)
    sandbox = Sandbox(template, "CatalogueFunction", build_dir, str(tmp_path), runtime_dir, lambda_world["refs"],
                      lambda_world["extra_env"])
    assert "init_ms" in sandbox.start()
    requests_ = [("/api/v1/product", {}), ("/api/v1/product", {"id": pid}), ("/api/v1/category", {}),
                 ("/api/v1/product", {"search": "flores"}), ("/api/v1/product", {"id": "nope"}),
                 ("/api/v1/area/suggest", {"q": "gambir"}), ("/api/v1/product-review", {"id": pid})]
    try:
        for path, query in requests_:
            lam = sandbox.invoke(api_event("GET", path, query=query or None))["result"]
            url = container_server + path + ("?" + urllib.parse.urlencode(query) if query else "")
            try:
                with urllib.request.urlopen(url, timeout=10) as resp:
                    status, body = resp.status, resp.read()
            except urllib.error.HTTPError as exc:
                status, body = exc.code, exc.read()
            lam_body = lam["body"].encode() if not lam.get("isBase64Encoded") else __import__("base64").b64decode(
                lam["body"])
            assert (lam["statusCode"], lam_body) == (status, body), (path, query)
    finally:
        sandbox.stop()


def test_every_capability_is_packaged_alone_with_bytecode_within_lambdas_limits(build_dir, template):
    import zipfile

    import functions

    with open(os.path.join(build_dir, "package-report.md"), encoding="utf-8") as fh:
        assert "OVER" not in fh.read()
    built = []
    for name in functions.CAPABILITIES:
        with zipfile.ZipFile(os.path.join(build_dir, "functions", name, "deployment.zip")) as zf:
            names = zf.namelist()
        built.append(name)
        for entry in names:
            assert (entry.startswith(("chalice/", f"functions/{name}/", "__pycache__/app.", "functions/__pycache__/"))
                    or entry in ("app.py", "functions/__init__.py")), f"{name} package holds {entry}"
            assert not os.path.basename(entry).startswith(("fake_", "localdev", "demo.", "devstack")), entry
        assert f"functions/{name}/__pycache__/app.cpython-312.pyc" in names  # bytecode ships (read-only FS)
    assert built == list(functions.CAPABILITIES)
    # the container's pieces stay in the image: no WSGI bridge, gunicorn or gevent in any layer
    for layer in os.listdir(os.path.join(build_dir, "layers")):
        with zipfile.ZipFile(os.path.join(build_dir, "layers", layer)) as zf:
            for entry in zf.namelist():
                assert not os.path.basename(entry).startswith(("wsgi.", "chalice_wsgi.")), f"{layer} holds {entry}"
                assert not {"gunicorn", "gevent"} & set(entry.split("/")), f"{layer} holds {entry}"
    assert {r["Properties"]["Tags"]["openmerce:capability"] for r in template["Resources"].values()
            if r["Type"] == "AWS::Serverless::Function"} == set(functions.CAPABILITIES)


def test_the_layers_can_log_in_to_mysql_8_with_caching_sha2_password(build_dir, runtime_dir, tmp_path):
    """MySQL 8.4 and RDS default to caching_sha2_password. Its full login sends the password in clear over TLS, and
    over a connection without TLS encrypts it with the server's RSA key, which needs `cryptography`. The API
    functions' layer ("deps") leaves `cryptography` out (30-60 ms of every cold start; they reach MySQL through RDS
    Proxy over TLS, infra/layers.py), the converter's ("imaging") keeps it. MariaDB cannot speak that plugin, so this
    runs PyMySQL's own steps with each layer's code in a bare python3.12: the TLS login from both layers, the RSA
    login from "imaging", and from "deps" without TLS PyMySQL's clear error instead of a wrong login."""
    import zipfile

    tls_login = (
        "from pymysql import _auth\n"
        "sent = []\n"
        "class Packet:\n"
        "    def __init__(self, data): self._data, self.pos = data, 0\n"
        "    def is_auth_switch_request(self): return False\n"
        "    def is_extra_auth_data(self): return self._data[:1] == b'\\x01'\n"
        "    def advance(self, n): self.pos += n\n"
        "    def read_uint8(self): return self._data[self.pos]\n"
        "    def check_error(self): pass\n"
        "class Conn:\n"
        "    password, salt, server_public_key = b'S3cret-pw', b'0123456789abcdefghij', None\n"
        "    def __init__(self, secure): self._secure = secure\n"
        "    def write_packet(self, data): sent.append(data)\n"
        "    def _read_packet(self): return Packet(b'\\x01-----BEGIN PUBLIC KEY-----' if not self._secure else b'\\x00')\n"
        "_auth.caching_sha2_password_auth(Conn(True), Packet(b'\\x01\\x04'))  # full login needed, over TLS\n"
        "assert sent == [b'S3cret-pw\\x00'], sent\n"
        "try:\n"
        "    _auth.caching_sha2_password_auth(Conn(False), Packet(b'\\x01\\x04'))  # without TLS\n"
        "    print('rsa-attempted')\n"
        "except RuntimeError as exc:\n"
        "    assert 'cryptography' in str(exc), exc\n"
        "    print('no-rsa')\n"
        "except Exception:\n"
        "    print('rsa-attempted')\n")
    rsa_login = (
        "from cryptography.hazmat.primitives.asymmetric import rsa, padding\n"
        "from cryptography.hazmat.primitives import serialization, hashes\n"
        "from pymysql import _auth\n"
        "key = rsa.generate_private_key(public_exponent=65537, key_size=2048)\n"
        "pem = key.public_key().public_bytes(serialization.Encoding.PEM,"
        " serialization.PublicFormat.SubjectPublicKeyInfo)\n"
        "salt = b'0123456789abcdefghij'\n"
        "sealed = _auth.sha2_rsa_encrypt(b'S3cret-pw', salt, pem)\n"
        "plain = key.decrypt(sealed, padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None))\n"
        "assert _auth._xor_password(plain, salt)[:9] == b'S3cret-pw', plain\n"
        "print('rsa-ok')\n")
    expected = {"deps": (["no-rsa"], None), "imaging": (["rsa-attempted"], ["rsa-ok"])}
    for layer, (want_tls, want_rsa) in expected.items():
        opt = tmp_path / layer
        with zipfile.ZipFile(os.path.join(build_dir, "layers", f"{layer}.zip")) as zf:
            zf.extractall(opt)
        prefix = "import sys; sys.path[:0] = [%r]; sys.path.append(%r)\n" % (str(opt / "python"), runtime_dir)
        done = subprocess.run([BASE_PYTHON, "-S", "-c", prefix + tls_login], capture_output=True, text=True,
                              cwd=str(tmp_path))
        assert done.stdout.split() == want_tls, f"{layer}: {done.stdout} {done.stderr[-2000:]}"
        assert os.path.isdir(opt / "python" / "cryptography") == (want_rsa is not None), layer
        if want_rsa:
            done = subprocess.run([BASE_PYTHON, "-S", "-c", prefix + rsa_login], capture_output=True, text=True,
                                  cwd=str(tmp_path))
            assert done.stdout.split() == want_rsa, f"{layer}: {done.stderr[-2000:]}"


# What no function's first data request may import (cold start, docs/benchmarks.md): redis-py and asyncio (omcore's
# lean Redis client serves every function), PyJWT and cryptography (HS256 is signed in omauth.tokens; the API
# functions' layer ships no cryptography), and what only other routes need. boto3 is not on it: the template hands
# secrets over as *_SSM parameters, which omcore.config reads with boto3 at start (docs/benchmarks.md weighs it).
COLD_DENY = ("redis", "asyncio", "jwt", "cryptography", "PIL", "midtransclient", "requests")


def test_no_function_imports_a_denied_module_for_its_first_data_request(template, build_dir, runtime_dir,
                                                                         lambda_world, tmp_path):
    """Each API function from its package and layers, fresh, answers its first data request (a route that reads
    MySQL and/or Redis, as bench/cold_start.py measures); its modules then must hold nothing on the deny list, also
    with SnapStart's before-snapshot priming done."""
    import uuid

    from omdb import db
    from omdb.ids import to_bin

    admin_password = lambda_world["secrets"]["ADMIN_PASSWORD"]
    create_staff("admin", admin_password, name="Owner", sys=True, inv=True, fin=True)
    customer_id = create_customer("cold@example.com")
    pid = create_product("Kopi Kintamani", price=50000, stock=10, weight=0.5)
    address = str(uuid.uuid4())
    db.execute("INSERT INTO customer_addresses (id, customer_refer, label, full_address, note, recipient_name,"
               " phone_number, shipping_area_refer, postal_code) VALUES (%s, %s, 'Rumah', 'Jl. Merdeka 1', '',"
               " 'Budi', '081234567890', 25410, '10110')", (to_bin(address), to_bin(customer_id)))
    db.execute("INSERT INTO cart_items (product_refer, customer_refer, quantity, checked) VALUES (%s, %s, 1, TRUE)",
               (to_bin(pid), to_bin(customer_id)))
    cookies: dict[str, dict] = {}

    def first(logical, event, status, deny=COLD_DENY, keep_cookies=None):
        sandbox = Sandbox(template, logical, build_dir, str(tmp_path), runtime_dir, lambda_world["refs"],
                          lambda_world["extra_env"])
        try:
            init = sandbox.start()
            assert "init_ms" in init, (logical, init)
            answer = sandbox.invoke(event)
        finally:
            sandbox.stop()
        assert "result" in answer, (logical, answer, sandbox.log)
        assert answer["result"]["statusCode"] == status, (logical, answer["result"].get("body"))
        if keep_cookies:
            cookies[keep_cookies] = {k: v for k, v in cookies_of(answer["result"]).items() if v}
        loaded = {m.split(".", 1)[0] for m in answer["modules"]}
        return sorted(loaded & set(deny))

    found = {
        "HealthFunction": first("HealthFunction", api_event("GET", "/api/v1/health/ready"), 200),
        "CatalogueFunction": first("CatalogueFunction", api_event("GET", "/api/v1/product"), 200),
        "AuthFunction": first("AuthFunction", api_event("POST", "/api/v1/auth/login", body={
            "email": "cold@example.com", "password": DEFAULT_PASSWORD}), 200, keep_cookies="customer"),
        "StaffAuthFunction": first("StaffAuthFunction", api_event("POST", "/api/v1/staff/auth/login", body={
            "username": "admin", "password": admin_password}), 200, keep_cookies="staff"),
    }
    found.update({
        "AccountFunction": first("AccountFunction", api_event("GET", "/api/v1/customer/address",
                                                              cookies=cookies["customer"]), 200),
        "CartFunction": first("CartFunction", api_event("GET", "/api/v1/customer/cart",
                                                        cookies=cookies["customer"]), 200),
        "FreightFunction": first("FreightFunction", api_event("GET", "/api/v1/freight-rates", query={
            "product_id": pid, "area_id": "25410"}), 200, deny=set(COLD_DENY) - {"requests"}),
        "CheckoutFunction": first("CheckoutFunction", api_event("GET", "/api/v1/customer/pre-freight",
                                                                cookies=cookies["customer"],
                                                                query={"id": str(address)}), 200),
        "BackofficeFunction": first("BackofficeFunction", api_event(
            "GET", "/api/v1/staff/dashboard/inventory/category", cookies=cookies["staff"]), 200),
    })
    assert not any(found.values()), {k: v for k, v in found.items() if v}
