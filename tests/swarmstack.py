"""The Swarm stack file as the deploy guide fills it in: the variables an operator sets and `docker stack config`,
the validator `docker stack deploy` enforces (shared by tests/infra/test_swarm.py and tests/ops/test_swarm_ops.py)."""
from __future__ import annotations

import os
import shutil
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FALLBACK = os.path.join(ROOT, "swarm-fallback")
STACK = os.path.join(FALLBACK, "stack.yml")
DOCKER = shutil.which("docker")
ENV = {"DOMAIN": "shop.example.com", "ACME_EMAIL": "ops@example.com", "IMAGE": "ghcr.io/acme/openmerce",
       "TAG": "1.0.0", "SMTP_HOST": "smtp.example.com", "MIGRATE_IMAGE": "ghcr.io/acme/openmerce:1.0.0",
       "MIDTRANS_BASE_URL_SNAP": "https://app.midtrans.com/snap/v1",
       "MIDTRANS_BASE_URL_CORE_API": "https://api.midtrans.com", "BACKUP_S3_BUCKET": "acme-shop-backups"}


def stack_config(env: dict) -> subprocess.CompletedProcess:
    """`docker stack config` of the stack file with exactly these variables (and PATH/HOME)."""
    full = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), **env}
    return subprocess.run([DOCKER, "stack", "config", "-c", STACK], capture_output=True, text=True, env=full)
