"""The Swarm stack's operational rules (issue: day 300 for an operator): the backup role, no silent Midtrans
sandbox, the frontends' slots, grace periods above gunicorn's, Redis headroom for its fork, Traefik metrics, and a
deploy.sh that never calls a rollout live while it runs nor kills a running migration.

The stack is rendered with `docker stack config` (the schema `docker stack deploy` enforces, offline); the backup
role runs as the process Swarm would start (`entrypoint.sh backup`) against this worker's MariaDB and moto."""
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import yaml

from swarmstack import DOCKER, ENV, FALLBACK, STACK, stack_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

needs_docker = pytest.mark.skipif(DOCKER is None, reason="docker CLI not installed")


@pytest.fixture(scope="module")
def stack():
    if DOCKER is None:
        pytest.skip("docker CLI not installed")
    done = stack_config(ENV)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def _seconds(value: str) -> float:
    match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?", value)
    return int(match.group(1) or 0) * 60 + float(match.group(2) or 0)


@needs_docker
def test_the_backup_location_and_live_midtrans_urls_are_required():
    for name in ("BACKUP_S3_BUCKET", "MIDTRANS_BASE_URL_SNAP", "MIDTRANS_BASE_URL_CORE_API"):
        env = dict(ENV)
        del env[name]
        done = stack_config(env)
        assert done.returncode != 0 and name in done.stderr, name


def test_the_backup_role_runs_the_backup_loop_with_a_heartbeat_check_and_file_secrets(stack):
    backup = stack["services"]["backup"]
    assert backup["command"] == ["backup"]
    assert backup["image"] == "ghcr.io/acme/openmerce:1.0.0"
    assert " ".join(backup["healthcheck"]["test"]).endswith("healthcheck.py heartbeat")
    env = backup["environment"]
    assert int(env["HEARTBEAT_MAX_AGE_SECONDS"]) > 2 * int(env["BACKUP_INTERVAL_SECONDS"])
    for key in ("BACKUP_S3_ACCESS_KEY_ID", "BACKUP_S3_SECRET_ACCESS_KEY", "BACKUP_ENCRYPTION_KEY", "DB_PASS"):
        assert key not in env and env[f"{key}_FILE"].startswith("/run/secrets/"), key
    assert env["BACKUP_S3_SSE"] == "AES256"
    assert set(backup["networks"]) == {"public", "backend"}  # MySQL + objectstore inside, the second location out


def test_stop_grace_periods_cover_gunicorn_and_a_clean_mysql_shutdown(stack):
    with open(os.path.join(FALLBACK, "gunicorn.conf.py"), encoding="utf-8") as fh:
        graceful = int(re.search(r"^graceful_timeout\s*=\s*(\d+)", fh.read(), re.M).group(1))
    assert _seconds(stack["services"]["api"]["stop_grace_period"]) > graceful
    assert _seconds(stack["services"]["mysql"]["stop_grace_period"]) >= 60
    assert _seconds(stack["services"]["images"]["stop_grace_period"]) >= 30


def _mb(value) -> float:
    value = str(value).lower()
    number = float(re.match(r"[\d.]+", value).group(0))
    return number / 1024 / 1024 if value.isdigit() else number * (1024 if value.endswith("g") else 1)


def test_the_sessions_redis_has_room_for_its_fork_under_the_container_limit(stack):
    redis = stack["services"]["redis"]
    maxmemory = int(re.search(r"--maxmemory (\d+)mb", " ".join(redis["command"])).group(1))
    assert _mb(redis["deploy"]["resources"]["limits"]["memory"]) >= 2 * maxmemory


def test_frontends_have_their_slots_and_the_api_keeps_its_paths(stack):
    services = stack["services"]
    store = services["storefront"]["deploy"]["labels"]
    staff = services["staff-ui"]["deploy"]["labels"]
    api = services["api"]["deploy"]["labels"]["traefik.http.routers.api.rule"]
    assert store["traefik.http.routers.storefront.rule"] == "Host(`shop.example.com`)"
    assert staff["traefik.http.routers.staff-ui.rule"] == "Host(`staff.shop.example.com`)"
    # Traefik's default priority is the rule's length: the api's path rule wins over both hosts' catch-all
    assert len(api) > len(store["traefik.http.routers.storefront.rule"])
    assert len(api) > len(staff["traefik.http.routers.staff-ui.rule"])


def test_traefik_metrics_are_served_only_behind_the_dashboard_auth(stack):
    traefik = stack["services"]["traefik"]
    assert "--metrics.prometheus=true" in traefik["command"]
    assert "--metrics.prometheus.manualrouting=true" in traefik["command"]
    labels = traefik["deploy"]["labels"]
    assert labels["traefik.http.routers.metrics.service"] == "prometheus@internal"
    assert labels["traefik.http.routers.metrics.middlewares"] == "dashboard-auth"


def test_the_migrate_role_creates_the_buckets(stack):
    assert stack["services"]["migrate"]["command"] == ["migrate", "--create-buckets"]


# -- the backup role as a process -----------------------------------------------------------------------------------

def test_the_backup_role_backs_up_and_its_healthcheck_follows(stack, tmp_path, location, buckets):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    values = {"db_password": os.environ["DB_PASS"], "backup_s3_access_key": "k", "backup_s3_secret_key": "s",
              "backup_encryption_key": "0123456789abcdef0123456789abcdef", "s3_access_key": "testing",
              "s3_secret_key": "testing"}
    env = {"PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin", "HOME": str(tmp_path),
           "PYTHONPATH": ":".join([ROOT] + [os.path.join(ROOT, "layers", n, "python")
                                            for n in ("core", "mysql", "auth", "commerce")])}
    for key, value in stack["services"]["backup"]["environment"].items():
        if str(value).startswith("/run/secrets/"):
            name = value.rsplit("/", 1)[1]
            (secrets / name).write_text(values.get(name, "unused"))
            value = str(secrets / name)
        env[key] = str(value)
    env.update({"DB_HOST": os.environ["DB_HOST"], "DB_PORT": os.environ["DB_PORT"], "DB_USER": os.environ["DB_USER"],
                "DB_NAME": os.environ["DB_NAME"], "AWS_ENDPOINT_URL": os.environ["AWS_ENDPOINT_URL"],
                "IMAGES_ORIGINALS_BUCKET": "om-originals", "IMAGES_PUBLIC_BUCKET": "om-public",
                "BACKUP_S3_BUCKET": os.environ["BACKUP_S3_BUCKET"],
                "BACKUP_S3_ENDPOINT_URL": os.environ["AWS_ENDPOINT_URL"], "BACKUP_S3_PREFIX": "role",
                "HEARTBEAT_FILE": str(tmp_path / "beat"), "LOG_LEVEL": "INFO",
                "MIDTRANS_BASE_URL_SNAP": "http://127.0.0.1:9/snap/v1", "MIDTRANS_BASE_URL_CORE_API": "http://127.0.0.1:9",
                "SMTP_HOST": "127.0.0.1"})
    for key, value in env.items():  # nothing may leave this machine
        for host in re.findall(r"://([^/:]+)", value):
            assert host == "127.0.0.1", key
    log = open(tmp_path / "backup.log", "wb")
    proc = subprocess.Popen(["sh", os.path.join(FALLBACK, "entrypoint.sh"), "backup"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    check = [a.replace("/app/", ROOT + "/") for a in stack["services"]["backup"]["healthcheck"]["test"][1:]]
    check[0] = sys.executable
    try:
        deadline = time.monotonic() + 60
        while '"event": "backup_ok"' not in (tmp_path / "backup.log").read_text(errors="replace"):
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "backup.log").read_text()
            time.sleep(0.2)
        assert subprocess.run(check, env=env, capture_output=True).returncode == 0
        keys = [o["Key"] for o in location.list_objects_v2(Bucket=os.environ["BACKUP_S3_BUCKET"],
                                                           Prefix="role/manifests/")["Contents"]]
        assert len(keys) == 1
        os.utime(tmp_path / "beat", (time.time() - 8000, time.time() - 8000))  # two intervals without a success
        assert subprocess.run(check, env=env, capture_output=True).returncode != 0
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


@pytest.fixture
def location(buckets, aws, monkeypatch):
    import boto3

    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="om-backup-role")
    monkeypatch.setenv("BACKUP_S3_BUCKET", "om-backup-role")
    return boto3.client("s3", region_name="us-east-1")


# -- deploy.sh ------------------------------------------------------------------------------------------------------

FAKE_DOCKER = r"""#!/bin/sh
echo "$*" >> "$FAKE_DIR/calls"
case "$1 $2" in
  "stack config") exec "$REAL_DOCKER" "$@" ;;
  "stack deploy") exit 0 ;;
  "service inspect")
    case "$*" in
      *ContainerSpec.Image*) echo "ghcr.io/acme/openmerce:1.0.0" ;;
      *UpdateStatus*) echo "$FAKE_UPDATE_STATE" ;;
      *) exit 1 ;;
    esac ;;
  "service ps") echo task1 ;;
  "service logs") echo "log" ;;
esac
case "$1" in
  inspect)
    case "$*" in
      *ExitCode*) echo 0 ;;
      *) n=$(grep -c '^inspect' "$FAKE_DIR/calls"); [ "$n" -le 1 ] && echo "$FAKE_PREVIOUS_STATE" || echo complete ;;
    esac ;;
esac
exit 0
"""


def run_deploy(tmp_path, *, update_state="completed", previous_state="complete", **extra):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "docker").write_text(FAKE_DOCKER)
    (bindir / "docker").chmod(0o755)
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(tmp_path), "REAL_DOCKER": DOCKER or "false",
           "FAKE_DIR": str(tmp_path), "FAKE_UPDATE_STATE": update_state, "FAKE_PREVIOUS_STATE": previous_state,
           **{k: v for k, v in ENV.items() if k != "MIGRATE_IMAGE"}, "TAG": "2.0.0", "ROLLOUT_TIMEOUT_SECONDS": "1",
           **extra}
    (tmp_path / "calls").write_text("")
    done = subprocess.run(["bash", os.path.join(FALLBACK, "deploy.sh")], env=env, capture_output=True, text=True,
                          timeout=120)
    return done, (tmp_path / "calls").read_text().splitlines()


@needs_docker
def test_deploy_is_not_live_while_an_update_still_runs_or_rolls_back(tmp_path):
    for state in ("updating", "rollback_started"):
        folder = tmp_path / state
        folder.mkdir()
        done, _ = run_deploy(folder, update_state=state)
        assert done.returncode != 0, state
        assert "is live" not in done.stdout and state in done.stderr
    (tmp_path / "fine").mkdir()
    done, _ = run_deploy(tmp_path / "fine")
    assert done.returncode == 0 and "is live" in done.stdout, done.stderr


@needs_docker
def test_deploy_never_kills_a_migration_that_is_still_running(tmp_path):
    done, calls = run_deploy(tmp_path, previous_state="running")
    assert done.returncode != 0 and "still running" in done.stderr
    assert not any(c.startswith("service rm") or c.startswith("stack deploy") for c in calls), calls


@needs_docker
def test_deploy_refuses_the_midtrans_sandbox_unless_told(tmp_path):
    sandbox = {"MIDTRANS_BASE_URL_SNAP": "https://app.sandbox.midtrans.com/snap/v1",
               "MIDTRANS_BASE_URL_CORE_API": "https://api.sandbox.midtrans.com"}
    (tmp_path / "a").mkdir()
    done, calls = run_deploy(tmp_path / "a", **sandbox)
    assert done.returncode == 2 and "sandbox" in done.stderr and calls == []
    (tmp_path / "b").mkdir()
    done, _ = run_deploy(tmp_path / "b", MIDTRANS_SANDBOX="true", **sandbox)
    assert done.returncode == 0, done.stderr


# -- docs/deploy-swarm.md, followed literally -----------------------------------------------------------------------

DOC = os.path.join(ROOT, "docs", "deploy-swarm.md")


def _doc() -> str:
    with open(DOC, encoding="utf-8") as fh:
        return fh.read()


def test_the_guide_creates_every_secret_the_stack_needs_and_no_other():
    with open(STACK, encoding="utf-8") as fh:
        declared = set(yaml.safe_load(fh)["secrets"])
    created = set(re.findall(r"docker secret create (\w+)", _doc()))
    assert created == declared, (declared - created, created - declared)


def test_the_guide_sets_every_variable_the_stack_requires():
    with open(STACK, encoding="utf-8") as fh:
        required = set(re.findall(r"\$\{(\w+):\?", fh.read())) - {"MIGRATE_IMAGE"}  # deploy.sh sets it
    doc = _doc()
    env_block = doc[doc.index("Non-secret settings"):doc.index("swarm-fallback/deploy.sh` — as a member")]
    given = set(re.findall(r"^\s*(\w+)=", env_block, re.M)) | {"TAG"}  # TAG on the deploy command line
    assert required <= given, required - given


def test_the_guide_never_runs_a_container_on_the_non_attachable_networks(stack):
    doc = _doc()
    assert not re.search(r"docker run[^`\n]*--network[ =]\w", doc)  # a command, not the sentence saying why not
    for name, network in stack["networks"].items():
        assert network.get("attachable") is not True, name
    # admin commands run inside a task through the entrypoint, which exports the object-store keys
    assert "entrypoint.sh admin load-areas" in doc and "entrypoint.sh admin restore" in doc
    with open(os.path.join(FALLBACK, "entrypoint.sh"), encoding="utf-8") as fh:
        entrypoint = fh.read()
    assert re.search(r"^\s*admin\)\s+exec python -m tools.admin", entrypoint, re.M)
    assert re.search(r"^\s*backup\)\s+exec python -m tools.admin backup --loop", entrypoint, re.M)


def test_the_guide_opens_the_swarm_ports_and_names_the_three_hosts():
    doc = _doc()
    for port in ("2377 proto tcp", "port 7946", "4789 proto udp", "proto esp"):
        assert port in doc, port
    for host in ("shop.example.com", "staff.shop.example.com", "traefik.shop.example.com"):
        assert host in doc, host
    assert "docker login ghcr.io" in doc and "git clone" in doc and "~/openmerce" in doc


# -- alertcheck.sh: alerts without a monitoring stack ---------------------------------------------------------------

FAKE_DOCKER_FOR_ALERTS = r"""#!/bin/sh
case "$1 $2" in
  "service ls") printf '%s\n' "$FAKE_SERVICES" ;;
  "service logs")
    for last; do :; done
    case "$last" in
      *_backup) printf '%s\n' "$FAKE_BACKUP_LOG" ;;
      *_api) printf '%s\n' "$FAKE_API_LOG" ;;
    esac ;;
esac
"""


@pytest.fixture
def receiver():
    """A local HTTP server: GET /ready answers `ready_status`; POST /hook records the JSON body."""
    import http.server
    import json as _json
    import threading

    state = {"ready_status": 200, "alerts": []}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(state["ready_status"])
            self.end_headers()

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state["alerts"].append(_json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["base"] = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()


def run_alertcheck(tmp_path, receiver, *, services, backup_log, api_log):
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    (bindir / "docker").write_text(FAKE_DOCKER_FOR_ALERTS)
    (bindir / "docker").chmod(0o755)
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(tmp_path), "STACK": "openmerce",
           "READY_URL": receiver["base"] + "/ready", "ALERT_WEBHOOK_URL": receiver["base"] + "/hook",
           "FAKE_SERVICES": services, "FAKE_BACKUP_LOG": backup_log, "FAKE_API_LOG": api_log}
    return subprocess.run(["bash", os.path.join(FALLBACK, "alertcheck.sh")], env=env, capture_output=True,
                          text=True, timeout=60)


HEALTHY = "openmerce_api 3/3\nopenmerce_backup 1/1\nopenmerce_migrate 0/1\nopenmerce_mysql 1/1"
BACKUP_OK = '{"level": "INFO", "message": "backup written", "event": "backup_ok"}'


def test_alertcheck_is_quiet_on_a_healthy_shop(tmp_path, receiver):
    done = run_alertcheck(tmp_path, receiver, services=HEALTHY, backup_log=BACKUP_OK,
                          api_log='{"message": "request", "status": 200}')
    assert done.returncode == 0, done.stderr
    assert receiver["alerts"] == []


def test_alertcheck_posts_every_problem_to_the_webhook(tmp_path, receiver):
    receiver["ready_status"] = 503
    api_log = "\n".join('{"message": "request", "status": 503}' for _ in range(25))
    done = run_alertcheck(tmp_path, receiver, services=HEALTHY.replace("api 3/3", "api 1/3"),
                          backup_log='{"event": "backup_failed", "error": "NoSuchBucket"}', api_log=api_log)
    assert done.returncode == 1
    (alert,) = receiver["alerts"]
    text = alert["text"]
    assert "openmerce_api runs 1 of 3 tasks" in text
    assert "no successful backup" in text
    assert "/ready does not answer 200" in text
    assert "25 API answers with status 5xx" in text
    assert "migrate" not in text  # the finished one-off task is not a missing replica
