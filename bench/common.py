"""Shared bits of the benchmarks: environment, statistics, machine facts, a report section type."""
from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = sys.executable
# figures one benchmark measured and a later one uses (the cost table reads the warm and cold-start durations)
RESULTS: dict = {}


def target(figure: str, measured: str, goal: str, met: bool) -> None:
    """One line of the report's head table: a figure of issue 13's table, measured in this run against its
    baseline, and whether the target is met."""
    RESULTS.setdefault("summary", []).append([figure, measured, goal, "**met**" if met else "**missed**"])

BENCH_ENV = {
    "DB_HOST": os.environ.get("BENCH_DB_HOST", "127.0.0.1"),
    "DB_PORT": os.environ.get("BENCH_DB_PORT", "3306"),
    "DB_USER": os.environ.get("BENCH_DB_USER", "root"),
    "DB_PASS": os.environ.get("BENCH_DB_PASS", ""),
    "DB_NAME": os.environ.get("BENCH_DB_NAME", "om_bench"),
    "REDIS_HOST": os.environ.get("BENCH_REDIS_HOST", "127.0.0.1"),
    "REDIS_PORT": os.environ.get("BENCH_REDIS_PORT", "6379"),
    "REDIS_DB": os.environ.get("BENCH_REDIS_DB", "14"),
    "REDIS_CACHE_DB": os.environ.get("BENCH_REDIS_CACHE_DB", "15"),  # the caches apart from sessions (issue 11), as on the real targets
    "JWT_KEY_CUSTOMER": "bench-customer-key-0123456789abcdef0123456789",
    "JWT_KEY_STAFF": "bench-staff-key-0123456789abcdef0123456789abcd",
    "ADMIN_USERNAME": "admin",
    "ADMIN_PASSWORD": "Bench#Passw0rd",
    "COOKIE_SECURE": "false",
    "MAIL_TRANSPORT": "log",
    "MAIL_OUTBOX_DIR": "/tmp/om-bench-outbox",
    "LOG_LEVEL": "ERROR",
    "BCRYPT_COST": "4",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_DEFAULT_REGION": "us-east-1",
    "IMAGES_ORIGINALS_BUCKET": "om-originals",
    "IMAGES_PUBLIC_BUCKET": "om-public",
    "MIDTRANS_SERVER_KEY": "SB-Mid-server-BENCH",
    # nothing in a benchmark reaches Midtrans: a closed local port unless a section starts its fake (which also keeps
    # the production check, that refuses a sandbox key on Midtrans' own hosts, out of the way)
    "MIDTRANS_BASE_URL_SNAP": "http://127.0.0.1:9/snap/v1",
    "MIDTRANS_BASE_URL_CORE_API": "http://127.0.0.1:9",
    # the warm table checks one shopper out 60 times: no unpaid-orders limit, so every checkout is a real order
    "MAX_UNPAID_ORDERS_PER_CUSTOMER": "0",
}


def apply_env() -> None:
    os.environ.update(BENCH_ENV)
    sys.path.insert(0, ROOT)
    sys.path.insert(0, os.path.join(ROOT, "swarm-fallback"))  # the container bridge (chalice_wsgi)


def pct(values, p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values) -> float:
    return statistics.median(values)


def machine_facts() -> list[str]:
    facts = [f"Python {platform.python_version()} on {platform.system()} {platform.release()} ({platform.machine()})",
             f"{os.cpu_count()} CPUs"]
    try:
        with open("/proc/cpuinfo") as fh:
            model = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "?")
        facts.append(f"CPU: {model}")
        with open("/proc/meminfo") as fh:
            facts.append("Memory: " + fh.readline().split(":", 1)[1].strip())
    except OSError:
        pass
    for cmd in (["mariadbd", "--version"], ["redis-server", "--version"], ["cwebp", "-version"]):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip().splitlines()
            if out:
                facts.append(f"{cmd[0]}: {out[0][:120]}")
        except (OSError, subprocess.TimeoutExpired):
            facts.append(f"{cmd[0]}: not installed")
    return facts


@dataclass
class Section:
    title: str
    intro: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        out = [f"## {self.title}", ""]
        if self.intro:
            out += [self.intro, ""]
        if self.header:
            out.append("| " + " | ".join(self.header) + " |")
            out.append("|" + "|".join("---" for _ in self.header) + "|")
            out += ["| " + " | ".join(str(c) for c in row) + " |" for row in self.rows]
            out.append("")
        out += [f"- {n}" for n in self.notes]
        return "\n".join(out) + "\n"
