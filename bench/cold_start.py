"""Cold start of every function: a fresh interpreter imports the function's own entry module
(``functions/<name>/app.py``) and answers its first request, against a bare ``python -c pass`` in the same run.
Also lists each function's top import-time offenders (``python -X importtime``)."""
from __future__ import annotations

import json
import os
import subprocess
import time

from common import PYTHON, ROOT, Section, median

RUNS = int(os.environ.get("BENCH_COLD_RUNS", "7"))
TARGET_MS = {"images": 250}
DEFAULT_TARGET_MS = 120

_PROBE = r"""
import json, sys
sys.path.insert(0, {root!r})
import functions.{name}.app as entry
app = entry.app
routes = sorted((p, m) for p, e in app.routes.items() for m in e)
gets = [p for p, m in routes if m == "GET" and "{{" not in p]
if gets:
    path = gets[0]
    event = {{"resource": path, "path": path, "httpMethod": "GET", "headers": {{"user-agent": "bench"}},
             "multiValueHeaders": {{}}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
             "pathParameters": None, "stageVariables": None, "body": None, "isBase64Encoded": False,
             "requestContext": {{"resourcePath": path, "httpMethod": "GET", "path": path,
                                "identity": {{"sourceIp": "127.0.0.1"}}}}}}
    status = app(event, None)["statusCode"]
    print(json.dumps({{"route": "GET " + path, "status": status}}))
elif routes:
    print(json.dumps({{"route": "(no GET route; import only)", "status": None}}))
else:
    handlers = sorted(app.handler_map)
    print(json.dumps({{"route": "(event handlers: " + ", ".join(handlers) + "; import only)", "status": None}}))
"""


def _time_process(args, env) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-1500:])
    return elapsed, done.stdout


def _offenders(name: str, env) -> str:
    done = subprocess.run([PYTHON, "-X", "importtime", "-c", f"import functions.{name}.app"], capture_output=True,
                          text=True, env=env, cwd=ROOT)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, self_us, cumulative, module = [part.strip() for part in line.split("|", 1)[0].split(":")[0:1]] + [
            p.strip() for p in line.split(":", 1)[1].split("|")]
        depth = (len(module) - len(module.lstrip())) // 2
        if depth <= 1:
            rows.append((int(cumulative), module.strip()))
    rows.sort(reverse=True)
    return ", ".join(f"{mod} {us / 1000:.0f} ms" for us, mod in rows[1:6])


def run(functions_list) -> Section:
    env = dict(os.environ)
    base_times = [_time_process([PYTHON, "-c", "pass"], env)[0] for _ in range(RUNS)]
    base = median(base_times)
    section = Section(
        "Cold start per function",
        f"Median of {RUNS} fresh interpreters each (spawn → import of `functions/<name>/app.py` → first answer → "
        f"exit), minus the median of `python -c pass` measured in the same run ({base * 1000:.1f} ms). Targets: "
        f"API functions ≤ {DEFAULT_TARGET_MS} ms, images ≤ {TARGET_MS['images']} ms.",
        ["function", "first request", "cold start (ms)", "× bare interpreter", "target", "top import offenders"])
    for name in functions_list:
        probe = _PROBE.format(root=ROOT, name=name)
        try:
            samples, out = [], ""
            for _ in range(RUNS):
                elapsed, out = _time_process([PYTHON, "-c", probe], env)
                samples.append(elapsed)
        except RuntimeError as exc:
            section.rows.append([name, "failed", "-", "-", "-", str(exc).splitlines()[-1][:80]])
            continue
        info = json.loads(out.strip().splitlines()[-1])
        total = median(samples)
        extra_ms = (total - base) * 1000
        target = TARGET_MS.get(name, DEFAULT_TARGET_MS)
        verdict = "met" if extra_ms <= target else "missed"
        section.rows.append([name, f"{info['route']} → {info['status']}", f"{extra_ms:.0f}",
                             f"{total / base:.2f}", f"≤ {target} ({verdict})", _offenders(name, env)])
    return section
