"""The Swarm stack as deployed.

1. The stack file passes `docker stack config` (the schema `docker stack deploy` enforces, checked offline) and keeps
   the deployment rules: no published database ports, Docker secrets only, health-gated start-first API updates
   with rollback, Traefik labels on the service, pinned images, persistent volumes pinned to their nodes, a
   healthcheck and log rotation on every service, an internal backend network, two Redis roles.
2. The container roles run the way Swarm runs them: `swarm-fallback/entrypoint.sh <role>` as a process, with the
   environment stack.yml gives the service (Docker secrets written to files, host names pointed at this test
   worker's MariaDB and Redis), and the service's own healthcheck command, parsed from stack.yml and run as Docker
   would run it inside the task. Each check passes while the role runs and fails once it is dead or hung.
3. deploy.sh migrates first (a one-off task on the new image), waits for its exit code, and only then rolls the
   application roles forward — checked with a stand-in `docker` that records the calls.

Deviations from a real task, all in ``role_env``: host names and ports point at 127.0.0.1, and the tests that must
see a heartbeat go stale or a slow client cut off shorten HEARTBEAT_MAX_AGE_SECONDS, EXPIRY_INTERVAL_SECONDS and
CLIENT_READ_TIMEOUT (named where they do).
"""
import json
import os
import re
import runpy
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest
import yaml

import settings
from swarmstack import DOCKER, ENV, FALLBACK, stack_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCKERFILE = os.path.join(FALLBACK, "Dockerfile")
ENTRYPOINT = os.path.join(FALLBACK, "entrypoint.sh")
APP_ROLES = ("api", "images", "expiry", "migrate")

pytestmark = pytest.mark.skipif(DOCKER is None, reason="docker CLI not installed")


@pytest.fixture(scope="module")
def stack():
    done = stack_config(ENV)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


# -- 1. the stack file --------------------------------------------------------------------------------------------

def test_required_variables_are_enforced():
    for name in ("TAG", "MIGRATE_IMAGE"):
        env = dict(ENV)
        del env[name]
        done = stack_config(env)
        assert done.returncode != 0 and name in done.stderr


def test_no_database_or_cache_port_is_published(stack):
    for name in ("mysql", "redis", "redis-cache", "objectstore", "api", "images", "expiry", "migrate"):
        assert not stack["services"][name].get("ports"), name
    published = [p["published"] for p in stack["services"]["traefik"]["ports"]]
    assert sorted(published) == [80, 443]


def test_api_service_is_health_gated_and_rolls_back(stack):
    api = stack["services"]["api"]
    assert api["deploy"]["replicas"] == 3
    assert api["deploy"]["update_config"]["order"] == "start-first"
    assert api["deploy"]["update_config"]["failure_action"] == "rollback"
    labels = api["deploy"]["labels"]
    assert labels["traefik.http.services.api.loadbalancer.server.port"] == "8000"
    assert "PathPrefix(`/api/v1`)" in labels["traefik.http.routers.api.rule"]
    assert not api.get("labels"), "Traefik reads service labels (deploy.labels) in Swarm"


def test_secrets_are_docker_secrets_read_through_file_variables(stack):
    for role in APP_ROLES:
        for key, value in stack["services"][role]["environment"].items():
            if any(word in key for word in ("PASS", "KEY", "AUTHORIZATION", "SECRET")):
                assert key.endswith("_FILE") and value.startswith("/run/secrets/"), (role, key)
    assert all(secret.get("external") for secret in stack["secrets"].values())


def test_images_are_pinned_and_stateful_services_stay_on_their_volume_node(stack):
    for name, svc in stack["services"].items():
        assert not svc["image"].endswith(":latest") and ":" in svc["image"], name
        assert svc["deploy"].get("resources", {}).get("limits"), f"{name} has no resource limits"
    for name in ("mysql", "redis", "objectstore"):
        svc = stack["services"][name]
        assert svc["volumes"], name
        assert any("node.labels.openmerce" in c for c in svc["deploy"]["placement"]["constraints"]), name


def test_traefik_dashboard_is_not_public_without_auth(stack):
    labels = stack["services"]["traefik"]["deploy"]["labels"]
    assert labels["traefik.http.routers.dashboard.middlewares"] == "dashboard-auth"
    assert "basicauth" in " ".join(labels)
    assert not any("--api.insecure" in c for c in stack["services"]["traefik"]["command"])


def test_every_service_has_its_own_healthcheck_and_rotated_logs(stack):
    """No role inherits the image's HTTP check: the API's is liveness, the workers read a heartbeat, Traefik pings
    itself, the object store asks its S3 gateway, and the one-off migrate task has none."""
    checks = {}
    for name, svc in stack["services"].items():
        logging = svc.get("logging") or {}
        assert logging.get("driver") == "json-file", name
        assert logging["options"].get("max-size") and logging["options"].get("max-file"), name
        health = svc.get("healthcheck") or {}
        if name == "migrate":
            assert health.get("disable") is True
            continue
        assert health.get("test"), f"{name} has no healthcheck"
        checks[name] = " ".join(health["test"])
    assert checks["api"].endswith("healthcheck.py live")
    assert checks["images"].endswith("healthcheck.py heartbeat")
    assert checks["expiry"].endswith("healthcheck.py heartbeat")
    assert checks["traefik"] == "CMD traefik healthcheck --ping"
    assert "--ping=true" in stack["services"]["traefik"]["command"]
    assert "8333/status" in checks["objectstore"]


def test_api_liveness_is_the_image_default_and_shipped_in_the_image(stack):
    with open(DOCKERFILE, encoding="utf-8") as fh:
        dockerfile = fh.read()
    default = json.loads(re.search(r"^\s*CMD (\[.*\])\s*$", dockerfile.split("HEALTHCHECK", 1)[1], re.M).group(1))
    assert ["CMD", *default] == stack["services"]["api"]["healthcheck"]["test"]
    copied = " ".join(line for line in dockerfile.replace("\\\n", " ").splitlines() if line.startswith("COPY"))
    for name in ("healthcheck.py", "wait_for_db.py", "entrypoint.sh", "gunicorn.conf.py", "wsgi.py", "chalice_wsgi.py"):
        assert f"swarm-fallback/{name}" in copied, name


def test_backend_network_is_internal_and_traefik_reaches_only_the_api(stack):
    networks = stack["networks"]
    assert networks["backend"]["internal"] is True
    assert not networks["public"].get("internal")
    services = stack["services"]
    assert services["traefik"]["networks"] == {"public": None} or list(services["traefik"]["networks"]) == ["public"]
    route_net = services["api"]["deploy"]["labels"]["traefik.swarm.network"]
    assert route_net == networks["public"]["name"]
    assert set(services["api"]["networks"]) == {"public", "backend"}
    for name in ("mysql", "redis", "redis-cache", "objectstore", "images", "migrate"):
        assert list(services[name]["networks"]) == ["backend"], name


def test_sessions_and_cache_live_on_separate_redis_roles(stack):
    services = stack["services"]
    assert "--maxmemory-policy noeviction" in " ".join(services["redis"]["command"])
    cache_cmd = " ".join(services["redis-cache"]["command"])
    assert "--maxmemory-policy allkeys-lru" in cache_cmd and re.search(r"--maxmemory \d+mb", cache_cmd)
    for role in APP_ROLES:
        env = services[role]["environment"]
        assert env["REDIS_HOST"] == "redis" and env["REDIS_CACHE_HOST"] == "redis-cache", role
        assert env["REDIS_CACHE_PASS_FILE"] == "/run/secrets/redis_cache_password"
        assert {"REDIS_CACHE_PORT", "REDIS_CACHE_DB"} <= set(env)
        assert any(s["source"] == "redis_cache_password" for s in services[role]["secrets"]), role


def test_slow_clients_are_cut_off_by_traefik_before_gunicorn(stack):
    command = stack["services"]["traefik"]["command"]
    assert "--entrypoints.websecure.transport.respondingTimeouts.readTimeout=30s" in command
    labels = stack["services"]["api"]["deploy"]["labels"]
    middleware = labels["traefik.http.routers.api.middlewares"]
    assert int(labels[f"traefik.http.middlewares.{middleware}.buffering.maxRequestBodyBytes"]) == 16 * 1024 * 1024


def test_migrate_is_a_one_off_task_on_its_own_image(stack):
    migrate = stack["services"]["migrate"]
    assert migrate["image"] == ENV["MIGRATE_IMAGE"]
    assert migrate["deploy"]["restart_policy"]["condition"] == "none"
    assert migrate["command"] == ["migrate", "--create-buckets"]


def _gunicorn_conf():
    return runpy.run_path(os.path.join(FALLBACK, "gunicorn.conf.py"))


def test_api_workers_follow_the_cpu_limit(stack, tmp_path):
    conf = _gunicorn_conf()
    api = stack["services"]["api"]
    cpus = float(api["deploy"]["resources"]["limits"]["cpus"])
    assert int(api["environment"]["WEB_CONCURRENCY"]) == conf["default_workers"](cpus)
    # gunicorn itself resolves the worker count from WEB_CONCURRENCY as stack.yml sets it
    env = dict(os.environ, WEB_CONCURRENCY=api["environment"]["WEB_CONCURRENCY"],
               PATH=os.path.dirname(sys.executable) + ":" + os.environ["PATH"])
    done = subprocess.run(["gunicorn", "--config", os.path.join(FALLBACK, "gunicorn.conf.py"), "--print-config"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert re.search(r"^workers\s*=\s*2$", done.stdout, re.M), done.stdout[-2000:] + done.stderr[-2000:]
    # unset, the count comes from the cgroup quota, not the host's cores
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("50000 100000\n")
    assert conf["cpu_limit"](str(cpu_max), str(tmp_path / "none")) == 0.5
    assert conf["default_workers"](conf["cpu_limit"](str(cpu_max), str(tmp_path / "none"))) == 2
    cpu_max.write_text("400000 100000\n")
    assert conf["default_workers"](conf["cpu_limit"](str(cpu_max), str(tmp_path / "none"))) == 4
    cpu_max.write_text("max 100000\n")
    assert conf["cpu_limit"](str(cpu_max), str(tmp_path / "none")) == len(os.sched_getaffinity(0))


# -- 2. the roles as processes ----------------------------------------------------------------------------------

SECRET_VALUES = {
    "db_password": settings.TEST_ENV["DB_PASS"], "redis_password": settings.TEST_ENV["REDIS_PASS"],
    "redis_cache_password": settings.TEST_ENV["REDIS_PASS"],
    "jwt_key_customer": settings.TEST_ENV["JWT_KEY_CUSTOMER"], "jwt_key_staff": settings.TEST_ENV["JWT_KEY_STAFF"],
    "admin_password": settings.TEST_ENV["ADMIN_PASSWORD"], "midtrans_server_key": "SB-Mid-server-TEST",
    "freight_authorization": "-", "smtp_password": "unused", "s3_access_key": "testing", "s3_secret_key": "testing",
    "db_migrate_password": settings.TEST_ENV["DB_PASS"],
}
CLOSED = "127.0.0.1:9"  # nothing listens on the discard port here


def _dockerfile_env() -> dict:
    """The image's ENV lines, /app mapped onto the checkout."""
    with open(DOCKERFILE, encoding="utf-8") as fh:
        text = fh.read().replace("\\\n", " ")
    env = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for key, value in re.findall(r"(\w+)=(\S+)", line[4:]):
                env[key] = value.replace("/app", ROOT)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def role_env(stack, service: str, tmp_path, **overrides) -> dict:
    """The environment of `service`'s task: the image's ENV, then stack.yml's, with each Docker secret written to a
    file and every host pointed at this test worker's MariaDB/Redis or a closed local port."""
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir(exist_ok=True)
    for name, value in SECRET_VALUES.items():
        (secrets_dir / name).write_text(value)
    env = {"PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin", "HOME": str(tmp_path), **_dockerfile_env()}
    for key, value in stack["services"][service]["environment"].items():
        env[key] = str(value).replace("/run/secrets/", str(secrets_dir) + "/")
    test = settings.TEST_ENV
    env.update({
        "DB_HOST": test["DB_HOST"], "DB_PORT": test["DB_PORT"], "DB_USER": test["DB_USER"], "DB_NAME": test["DB_NAME"],
        "REDIS_HOST": test["REDIS_HOST"], "REDIS_PORT": test["REDIS_PORT"], "REDIS_DB": test["REDIS_DB"],
        "REDIS_CACHE_HOST": test["REDIS_HOST"], "REDIS_CACHE_PORT": test["REDIS_PORT"],
        "REDIS_CACHE_DB": test["REDIS_DB"],
        "AWS_ENDPOINT_URL": "http://" + CLOSED, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": "9",
        "MIDTRANS_BASE_URL_SNAP": f"http://{CLOSED}/snap/v1", "MIDTRANS_BASE_URL_CORE_API": "http://" + CLOSED,
        "HEARTBEAT_FILE": str(tmp_path / f"{service}.heartbeat"),
    })
    if "MIGRATE_DB_USER" in env:  # the stack's openmerce_migrate is the test's user here (its grants: see below)
        env["MIGRATE_DB_USER"] = test["DB_USER"]
    env.update(overrides)
    for key, value in env.items():  # nothing may leave this machine
        if key.endswith("_HOST"):
            assert value == "127.0.0.1", key
        for host in re.findall(r"://([^/:]+)", value):
            assert host == "127.0.0.1", key
    return env


def healthcheck(stack, service: str, env) -> subprocess.CompletedProcess:
    """Run the service's healthcheck exactly as stack.yml declares it (the image's /app is this checkout)."""
    test = stack["services"][service]["healthcheck"]["test"]
    assert test[0] == "CMD"
    argv = [arg.replace("/app/", ROOT + "/") for arg in test[1:]]
    if argv[0] == "python":
        argv[0] = sys.executable
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)


def start_role(role: str, env, tmp_path):
    log = open(tmp_path / f"{role}.log", "wb")
    proc = subprocess.Popen(["sh", ENTRYPOINT, role], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    log.close()
    return proc


def stop_role(proc) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGCONT)
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass


def wait_for(predicate, what: str, seconds: float = 40):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def read_log(tmp_path, role: str) -> str:
    return (tmp_path / f"{role}.log").read_text(errors="replace")


@pytest.fixture
def redis_client(database):
    from omcore import kv

    return kv.client()


def test_images_role_is_healthy_while_it_runs_and_unhealthy_when_hung_or_stopped(stack, tmp_path, redis_client):
    """The worker recovers a record its previous life left in flight, never reports a false Redis outage while
    idle, and its heartbeat check fails when the process hangs (SIGSTOP) and when it has stopped."""
    from omcommerce import media

    # what a worker killed in the middle of an image leaves behind: one record in its processing list
    processing = media.EVENTS_LIST + ":processing:" + socket.gethostname()
    image = uuid.uuid4()
    record = json.dumps({"Records": [media.s3_event_record("openmerce-originals", f"originals/{image}", 10)]})
    redis_client.rpush(processing, record)

    # HEARTBEAT_MAX_AGE_SECONDS shortened from stack.yml's 120 s so a hang is seen within seconds
    env = role_env(stack, "images", tmp_path, HEARTBEAT_MAX_AGE_SECONDS="2")
    assert healthcheck(stack, "images", env).returncode != 0, "healthy before the role even started"
    proc = start_role("images", env, tmp_path)
    try:
        wait_for(lambda: healthcheck(stack, "images", env).returncode == 0, "the images healthcheck to pass")
        # handled (the pipeline logs the key with its outcome) and acknowledged: gone from both lists
        wait_for(lambda: f"originals/{image}" in read_log(tmp_path, "images")
                 and redis_client.llen(processing) == 0 and redis_client.llen(media.EVENTS_LIST) == 0,
                 "the recovered record to be handled")
        assert "requeued 1 image event" in read_log(tmp_path, "images")
        # stay idle across several blocking pops (the old 2 s BLPOP timed out the 1 s socket each time)
        heartbeat = tmp_path / "images.heartbeat"
        first = heartbeat.stat().st_mtime
        wait_for(lambda: heartbeat.stat().st_mtime - first >= 3, "three seconds of heartbeats")
        assert proc.poll() is None
        assert healthcheck(stack, "images", env).returncode == 0
        log = read_log(tmp_path, "images")
        assert "redis unavailable" not in log and "Traceback" not in log, log[-3000:]

        os.killpg(proc.pid, signal.SIGSTOP)  # hung: alive but not looping
        failed = wait_for(lambda: (r := healthcheck(stack, "images", env)).returncode != 0 and r, "a hung worker")
        assert "heartbeat" in failed.stderr
        os.killpg(proc.pid, signal.SIGCONT)
        wait_for(lambda: healthcheck(stack, "images", env).returncode == 0, "the worker to beat again")

        os.killpg(proc.pid, signal.SIGTERM)  # what `docker stop` sends
        assert proc.wait(timeout=20) == 0
        assert healthcheck(stack, "images", env).returncode != 0
    finally:
        stop_role(proc)


def test_expiry_role_runs_expire_orders_and_its_healthcheck_follows_the_loop(stack, tmp_path, database):
    # EXPIRY_INTERVAL_SECONDS and HEARTBEAT_MAX_AGE_SECONDS shortened from 300/900 s to see a stale heartbeat
    env = role_env(stack, "expiry", tmp_path, EXPIRY_INTERVAL_SECONDS="1", HEARTBEAT_MAX_AGE_SECONDS="3")
    proc = start_role("expiry", env, tmp_path)
    try:
        wait_for(lambda: read_log(tmp_path, "expiry").count("orders expired") >= 2, "two expiry runs")
        assert "run failed" not in read_log(tmp_path, "expiry")
        assert healthcheck(stack, "expiry", env).returncode == 0

        os.killpg(proc.pid, signal.SIGKILL)  # dead without a chance to clean up
        proc.wait(timeout=10)
        failed = wait_for(lambda: (r := healthcheck(stack, "expiry", env)).returncode != 0 and r, "a dead loop")
        assert "last heartbeat" in failed.stderr
    finally:
        stop_role(proc)


def test_expiry_role_stops_at_once_on_sigterm(stack, tmp_path, database):
    env = role_env(stack, "expiry", tmp_path, EXPIRY_INTERVAL_SECONDS="3600")
    proc = start_role("expiry", env, tmp_path)
    try:
        wait_for(lambda: "orders expired" in read_log(tmp_path, "expiry"), "the first expiry run")
        wait_for(lambda: healthcheck(stack, "expiry", env).returncode == 0, "a healthy expiry role")
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=15) == 0  # not after the hour-long sleep, not after Swarm's SIGKILL
        assert healthcheck(stack, "expiry", env).returncode != 0
    finally:
        stop_role(proc)


@pytest.fixture
def api_role_without_mysql(stack, tmp_path, database):
    """The api role with MySQL unreachable (DB_PORT closed). CLIENT_READ_TIMEOUT shortened from 10 s to 1 s."""
    port = free_port()
    env = role_env(stack, "api", tmp_path, BIND=f"127.0.0.1:{port}", DB_PORT=str(free_port()),
                   DB_CONNECT_TIMEOUT="1", CLIENT_READ_TIMEOUT="1")
    proc = start_role("api", env, tmp_path)
    base = f"http://127.0.0.1:{port}"

    def up():
        if proc.poll() is not None:
            raise AssertionError("api role died: " + read_log(tmp_path, "api")[-3000:])
        try:
            with urllib.request.urlopen(base + "/api/v1/health", timeout=2):
                return True
        except OSError:
            return False

    try:
        wait_for(up, "the api role to listen", 60)
        yield base, env, proc
    finally:
        stop_role(proc)


@pytest.mark.parametrize("midtrans, refused", [
    ({"MIDTRANS_BASE_URL_SNAP": "https://app.sandbox.midtrans.com/snap/v1",
      "MIDTRANS_BASE_URL_CORE_API": "https://api.sandbox.midtrans.com"}, "points at the sandbox"),
    # the stack's production URLs with the sandbox key SECRET_VALUES holds (SB-...)
    ({"MIDTRANS_BASE_URL_SNAP": "https://app.midtrans.com/snap/v1",
      "MIDTRANS_BASE_URL_CORE_API": "https://api.midtrans.com"}, "MIDTRANS_SERVER_KEY is a sandbox key"),
])
def test_api_role_refuses_the_midtrans_sandbox_unless_told(stack, tmp_path, database, midtrans, refused):
    """gunicorn's on_starting stops the api role before any worker starts when its Midtrans settings are the sandbox's
    (nothing is sent: the check reads settings only); MIDTRANS_SANDBOX=true, a staging shop, starts it."""
    port = free_port()
    env = role_env(stack, "api", tmp_path, BIND=f"127.0.0.1:{port}")
    env.update(midtrans)  # after role_env's guard: no request is ever made to these hosts
    proc = start_role("api", env, tmp_path)
    try:
        assert proc.wait(timeout=60) != 0
    finally:
        stop_role(proc)
    log = read_log(tmp_path, "api")
    assert refused in log and "MIDTRANS_SANDBOX=true" in log and "Booting worker" not in log, log[-3000:]
    assert SECRET_VALUES["midtrans_server_key"] not in log

    env["MIDTRANS_SANDBOX"] = "true"
    proc = start_role("api", env, tmp_path)
    try:
        def up():
            if proc.poll() is not None:
                raise AssertionError("api role died: " + read_log(tmp_path, "api")[-3000:])
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2):
                    return True
            except OSError:
                return False

        wait_for(up, "the staging api role to listen", 60)
    finally:
        stop_role(proc)


def _get(url: str, timeout: float = 20):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_api_role_stays_healthy_without_mysql_while_data_routes_answer_503(stack, api_role_without_mysql):
    base, env, proc = api_role_without_mysql
    assert healthcheck(stack, "api", env).returncode == 0
    status, body = _get(base + f"/api/v1/product?id={uuid.uuid4()}")
    assert status == 503 and "error" in body
    status, body = _get(base + "/api/v1/health/ready")
    assert status == 503 and body["checks"]["mysql"].startswith("unavailable")
    assert healthcheck(stack, "api", env).returncode == 0
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)
    assert healthcheck(stack, "api", env).returncode != 0


def test_slow_clients_do_not_freeze_the_api_role(stack, api_role_without_mysql):
    """Twice as many connections as sync workers, each sending its headers and one byte of a 100-byte body: each is
    cut off with 408 after CLIENT_READ_TIMEOUT, and a normal request is served (without the bound, every worker
    stays blocked until gunicorn's 30 s worker timeout kills it, and the next slow connection takes its place)."""
    base, env, _ = api_role_without_mysql
    workers = int(env["WEB_CONCURRENCY"])
    port = int(base.rsplit(":", 1)[1])
    slow = []
    try:
        for _ in range(2 * workers):
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: shop.example.com\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
            slow.append(s)
        assert _get(base + "/api/v1/health", timeout=20) == (200, {"status": "ok"})
        for s in slow:
            answer = s.recv(4096)
            assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    finally:
        for s in slow:
            s.close()


# -- 3. deploy.sh ---------------------------------------------------------------------------------------------------

FAKE_DOCKER = r"""#!/bin/sh
# records every call; `stack config` / `stack deploy` render the stack with the real CLI
n=$(ls "$FAKE_DIR" | grep -c '^deploy-' || true)
echo "$*" >> "$FAKE_DIR/calls"
case "$1 $2" in
  "stack config") exec "$REAL_DOCKER" "$@" ;;
  "stack deploy") "$REAL_DOCKER" stack config -c stack.yml > "$FAKE_DIR/deploy-$n.yml" || exit 1 ;;
  "service inspect")
    case "$*" in
      *ContainerSpec.Image*) [ -n "$FAKE_CURRENT" ] && echo "$FAKE_CURRENT" || exit 1 ;;
      *UpdateStatus*) echo completed ;;
      *) exit 1 ;;
    esac ;;
  "service ps") echo task1 ;;
  "service logs") echo "migration 0311 failed: boom" ;;
esac
case "$1" in
  inspect)
    case "$*" in
      *ExitCode*) echo 3 ;;
      *) echo "$FAKE_MIGRATE_STATE" ;;
    esac ;;
esac
exit 0
"""


def run_deploy(tmp_path, *, current: str, migrate_state: str):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "docker"
    fake.write_text(FAKE_DOCKER)
    fake.chmod(0o755)
    state = tmp_path / "state"
    state.mkdir()
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(tmp_path), "REAL_DOCKER": DOCKER, "FAKE_DIR": str(state),
           "FAKE_CURRENT": current, "FAKE_MIGRATE_STATE": migrate_state,
           **{k: v for k, v in ENV.items() if k != "MIGRATE_IMAGE"}, "TAG": "2.0.0"}
    done = subprocess.run(["bash", os.path.join(FALLBACK, "deploy.sh")], env=env, capture_output=True, text=True,
                          timeout=120)
    calls = (state / "calls").read_text().splitlines()
    deployed = [yaml.safe_load((state / f"deploy-{i}.yml").read_text())
                for i in range(len([c for c in calls if c.startswith("stack deploy")]))]
    return done, calls, deployed


def test_deploy_migrates_with_the_new_image_before_the_roles_move(tmp_path):
    done, calls, deployed = run_deploy(tmp_path, current="ghcr.io/acme/openmerce:1.0.0@sha256:abc",
                                       migrate_state="complete")
    assert done.returncode == 0, done.stderr
    assert len(deployed) == 2
    first, second = deployed
    assert first["services"]["migrate"]["image"] == "ghcr.io/acme/openmerce:2.0.0"
    for role in ("api", "images", "expiry"):
        assert first["services"][role]["image"] == "ghcr.io/acme/openmerce:1.0.0", role
        assert second["services"][role]["image"] == "ghcr.io/acme/openmerce:2.0.0", role
    deploys = [i for i, c in enumerate(calls) if c.startswith("stack deploy")]
    # (an inspect before the first deploy is the check that no earlier migration task still runs)
    waited = [i for i, c in enumerate(calls) if c.startswith("inspect") and "Status.State" in c and i > deploys[0]]
    assert waited and waited[0] < deploys[1], calls
    assert any(c.startswith("service rm openmerce_migrate") for c in calls[:deploys[0]])


def test_deploy_stops_when_the_migration_fails(tmp_path):
    done, calls, deployed = run_deploy(tmp_path, current="ghcr.io/acme/openmerce:1.0.0", migrate_state="failed")
    assert done.returncode != 0
    assert len(deployed) == 1, "the application roles must not be updated after a failed migration"
    assert deployed[0]["services"]["api"]["image"] == "ghcr.io/acme/openmerce:1.0.0"
    assert "exit code 3" in done.stderr and "migration 0311 failed: boom" in done.stderr


def test_first_deployment_starts_data_services_then_migrates(tmp_path):
    done, calls, deployed = run_deploy(tmp_path, current="", migrate_state="complete")
    assert done.returncode == 0, done.stderr
    first, second = deployed
    for role in ("api", "images", "expiry"):
        assert first["services"][role]["deploy"]["replicas"] == 0, role
    assert first["services"]["mysql"]["deploy"]["replicas"] == 1
    assert second["services"]["api"]["deploy"]["replicas"] == 3


def test_images_role_keeps_a_record_whose_processing_fails(stack, tmp_path, redis_client):
    """MySQL answers but the database is missing (a transient failure for the pipeline): the record goes back to
    the queue each time and is still there when the worker stops — never dropped."""
    from omcommerce import media

    record = json.dumps({"Records": [media.s3_event_record("openmerce-originals", f"originals/{uuid.uuid4()}", 10)]})
    redis_client.rpush(media.EVENTS_LIST, record)
    env = role_env(stack, "images", tmp_path, DB_NAME="om_no_such_database")
    proc = start_role("images", env, tmp_path)
    try:
        wait_for(lambda: read_log(tmp_path, "images").count("image event failed, will retry") >= 2, "two retries")
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        stop_role(proc)
    processing = media.EVENTS_LIST + ":processing:" + socket.gethostname()
    left = redis_client.lrange(media.EVENTS_LIST, 0, -1) + redis_client.lrange(processing, 0, -1)
    assert left == [record]


def test_migrate_role_waits_for_mysql_then_applies_migrations(stack, tmp_path, database):
    env = role_env(stack, "migrate", tmp_path, DB_PORT=str(free_port()), MIGRATE_WAIT_SECONDS="2")
    done = subprocess.run(["sh", ENTRYPOINT, "migrate"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0 and "MySQL still unreachable" in done.stderr
    env = role_env(stack, "migrate", tmp_path)
    done = subprocess.run(["sh", ENTRYPOINT, "migrate"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "database up to date" in done.stdout


def test_mysql_users_script_splits_the_application_user_from_the_migration_user(stack, tmp_path, database):
    """swarm-fallback/mysql-users.sh, as MySQL's first start sources it (with a stand-in for the image's
    docker_process_sql), on MariaDB: the migrate role then migrates a fresh schema as the migration user, and the
    application user reads and writes rows but cannot CREATE, ALTER or DROP."""
    import pymysql

    def secret_names(service):
        return {x["source"] if isinstance(x, dict) else x for x in stack["services"][service].get("secrets", [])}

    mysql = stack["services"]["mysql"]
    (init,) = mysql["configs"]
    assert init["target"].startswith("/docker-entrypoint-initdb.d/") and init["target"].endswith(".sh")
    assert stack["configs"][init["source"]]["file"].endswith("mysql-users.sh")
    assert "db_migrate_password" in secret_names("mysql")
    for service in ("migrate", "backup"):
        env = stack["services"][service]["environment"]
        assert env["MIGRATE_DB_USER"] == "openmerce_migrate" and env["DB_USER"] == "openmerce", service
        assert env["MIGRATE_DB_PASS_FILE"] == "/run/secrets/db_migrate_password", service
        assert "db_migrate_password" in secret_names(service), service
    for service in ("api", "images", "expiry"):
        assert "MIGRATE_DB_USER" not in stack["services"][service]["environment"], service
        assert "db_migrate_password" not in secret_names(service), service

    tag = f"{settings.NAMESPACE}{settings.WORKER_INDEX}"
    name, app_user, migrate_user = f"om_grants_{tag}", f"om_app_{tag}", f"om_mig_{tag}"
    app_password, migrate_password = "Pw-" + secrets.token_hex(12), "M'g\\-" + secrets.token_hex(12)
    test = settings.TEST_ENV
    root = pymysql.connect(host=test["DB_HOST"], port=int(test["DB_PORT"]), user=test["DB_USER"],
                           password=test["DB_PASS"], autocommit=True)

    def drop():
        with root.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            for user in (app_user, migrate_user):
                cur.execute(f"DROP USER IF EXISTS '{user}'@'%'")

    drop()
    try:
        with root.cursor() as cur:  # what the image does with MYSQL_DATABASE / MYSQL_USER before the script
            cur.execute(f"CREATE DATABASE `{name}`")
            cur.execute(f"CREATE USER '{app_user}'@'%' IDENTIFIED BY '{app_password}'")
            cur.execute(f"GRANT ALL ON `{name}`.* TO '{app_user}'@'%'")
        (tmp_path / "db_migrate_password").write_text(migrate_password)
        client = f"mariadb --protocol=TCP -h {test['DB_HOST']} -P {test['DB_PORT']} -u {test['DB_USER']}"
        if test["DB_PASS"]:
            client += " -p" + shlex.quote(test["DB_PASS"])
        done = subprocess.run(
            ["sh", "-c", f'docker_process_sql() {{ {client} "$@"; }}; . "$1"; echo sourced-ok',
             "sh", os.path.join(FALLBACK, "mysql-users.sh")],
            env={"PATH": "/usr/bin:/bin", "MYSQL_DATABASE": name, "MYSQL_USER": app_user,
                 "MIGRATE_DB_USER": migrate_user, "DB_MIGRATE_PASSWORD_FILE": str(tmp_path / "db_migrate_password")},
            capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "sourced-ok" in done.stdout, done.stderr
        assert migrate_password not in done.stdout + done.stderr

        (tmp_path / "secrets").mkdir(exist_ok=True)
        env = role_env(stack, "migrate", tmp_path, DB_NAME=name, DB_USER=app_user, MIGRATE_DB_USER=migrate_user)
        (tmp_path / "secrets" / "db_password").write_text(app_password)
        (tmp_path / "secrets" / "db_migrate_password").write_text(migrate_password)
        done = subprocess.run(["sh", ENTRYPOINT, "migrate"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=180)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert "database up to date" in done.stdout

        app = pymysql.connect(host=test["DB_HOST"], port=int(test["DB_PORT"]), user=app_user,
                              password=app_password, database=name, autocommit=True)
        with app.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM schema_migrations")
            assert cur.fetchone()[0] > 0
            cur.execute("INSERT INTO categories (name, description) VALUES ('Kopi', 'x')")
            cur.execute("UPDATE categories SET description = 'y' WHERE name = 'Kopi'")
            cur.execute("DELETE FROM categories WHERE name = 'Kopi'")
            for ddl in ("CREATE TABLE sneaky (id INT PRIMARY KEY)", "ALTER TABLE orders ADD COLUMN sneaky INT",
                        "DROP TABLE orders", "CREATE INDEX sneaky ON orders (created_at)"):
                with pytest.raises(pymysql.err.OperationalError) as refused:
                    cur.execute(ddl)
                assert refused.value.args[0] in (1142, 1044), (ddl, refused.value.args)
        app.close()
    finally:
        drop()
        root.close()
