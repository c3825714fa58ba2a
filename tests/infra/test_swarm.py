"""The Swarm stack file passes `docker stack config` (the schema `docker stack deploy` enforces, checked offline)
and keeps the deployment rules: no published database ports, Docker secrets only, health-gated start-first
updates with rollback, Traefik labels on the service, pinned images, persistent volumes pinned to their nodes."""
import os
import shutil
import subprocess

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STACK = os.path.join(ROOT, "swarm-fallback", "stack.yml")
ENV = {"DOMAIN": "shop.example.com", "ACME_EMAIL": "ops@example.com", "IMAGE": "ghcr.io/acme/openmerce",
       "TAG": "1.0.0", "SMTP_HOST": "smtp.example.com"}

pytestmark = pytest.mark.skipif(shutil.which("docker") is None, reason="docker CLI not installed")


def _config(env):
    full = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), **env}
    return subprocess.run(["docker", "stack", "config", "-c", STACK], capture_output=True, text=True, env=full)


@pytest.fixture(scope="module")
def stack():
    done = _config(ENV)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def test_required_variables_are_enforced():
    env = dict(ENV)
    del env["TAG"]
    done = _config(env)
    assert done.returncode != 0 and "TAG" in done.stderr


def test_no_database_or_cache_port_is_published(stack):
    for name in ("mysql", "redis", "objectstore", "api", "images", "expiry"):
        assert not stack["services"][name].get("ports"), name
    published = [p["published"] for p in stack["services"]["traefik"]["ports"]]
    assert sorted(published) == [80, 443]


def test_api_service_is_health_gated_and_rolls_back(stack):
    api = stack["services"]["api"]
    assert api["deploy"]["replicas"] == 3
    assert api["deploy"]["update_config"]["order"] == "start-first"
    assert api["deploy"]["update_config"]["failure_action"] == "rollback"
    assert "/api/v1/health/ready" in " ".join(api["healthcheck"]["test"])
    labels = api["deploy"]["labels"]
    assert labels["traefik.http.services.api.loadbalancer.server.port"] == "8000"
    assert "PathPrefix(`/api/v1`)" in labels["traefik.http.routers.api.rule"]
    assert not api.get("labels"), "Traefik reads service labels (deploy.labels) in Swarm"


def test_secrets_are_docker_secrets_read_through_file_variables(stack):
    api = stack["services"]["api"]
    env = api["environment"]
    for key, value in env.items():
        if any(word in key for word in ("PASS", "KEY", "AUTHORIZATION", "SECRET")):
            assert key.endswith("_FILE") and value.startswith("/run/secrets/"), key
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
