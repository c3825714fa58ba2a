"""Cold start of every function: a fresh interpreter imports the function's own entry module and answers its first
request, against a bare ``python -c pass`` in the same run. The function runs as Lambda would run it: from its own
package built by ``infra/build.py`` plus its layers, with ``-S`` so nothing from the development venv leaks in
(the venv has extras such as cryptography that the layers do not ship). Also lists each function's top import-time
offenders (``python -X importtime``)."""
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
sys.path[:0] = {paths!r}
import app as entry
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
    done = subprocess.run(args, capture_output=True, text=True, env=env, cwd="/")
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-1500:])
    return elapsed, done.stdout


def _offenders(name: str, env, paths) -> str:
    done = subprocess.run([PYTHON, "-S", "-X", "importtime", "-c", f"import sys; sys.path[:0] = {paths!r}; import app"],
                          capture_output=True, text=True, env=env, cwd=paths[0])
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


def _packages() -> dict[str, list[str]]:
    """Build the Lambda packages if needed and unpack each function with its layers; returns sys.path per function."""
    import json as _json
    import tempfile
    import zipfile

    build = os.path.join(ROOT, "build")
    if not os.path.isdir(os.path.join(build, "functions")):
        subprocess.run([PYTHON, os.path.join(ROOT, "infra", "build.py")], check=True, cwd=ROOT,
                       env=dict(os.environ, OPENMERCE_PACKAGING="1"), stdout=subprocess.DEVNULL)
    with open(os.path.join(ROOT, "infra", "spec.json"), encoding="utf-8") as fh:
        spec = _json.load(fh)
    base = tempfile.mkdtemp(prefix="om-cold-")
    unpacked = {}
    for layer_zip in os.listdir(os.path.join(build, "layers")):
        target = os.path.join(base, "layers", layer_zip[:-4])
        with zipfile.ZipFile(os.path.join(build, "layers", layer_zip)) as zf:
            zf.extractall(target)
        unpacked[layer_zip[:-4]] = os.path.join(target, "python")
    paths = {}
    for name in os.listdir(os.path.join(build, "functions")):
        pkg = os.path.join(build, "functions", name, "deployment.zip")
        if not os.path.exists(pkg):
            continue
        target = os.path.join(base, "functions", name)
        with zipfile.ZipFile(pkg) as zf:
            zf.extractall(target)
        layers = spec["functions"].get(name, {}).get("layers", spec["defaults"]["layers"])
        paths[name] = [target] + [unpacked[layer] for layer in layers]
    return paths


def run(functions_list) -> Section:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    paths_by_function = _packages()
    base_times = [_time_process([PYTHON, "-c", "pass"], env)[0] for _ in range(RUNS)]
    base = median(base_times)
    section = Section(
        "Cold start per function",
        f"Median of {RUNS} fresh interpreters each (spawn → import of the function's Lambda package (`app.py` → "
        f"`functions/<name>/app.py`) with its layers only → first answer → exit), minus the median of `python -c pass` measured in the same run ({base * 1000:.1f} ms). Targets: "
        f"API functions ≤ {DEFAULT_TARGET_MS} ms, images ≤ {TARGET_MS['images']} ms.",
        ["function", "first request", "cold start (ms)", "× bare interpreter", "target", "top import offenders"])
    for name in functions_list:
        if name not in paths_by_function:
            continue
        paths = paths_by_function[name]
        probe = _PROBE.format(paths=paths)
        try:
            samples, out = [], ""
            for _ in range(RUNS):
                elapsed, out = _time_process([PYTHON, "-S", "-c", probe], env)
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
                             f"{total / base:.2f}", f"≤ {target} ({verdict})", _offenders(name, env, paths)])
    # what a first request that reaches the stores adds on top (the clients are imported on first use)
    deps = paths_by_function.get("health", [None, None])[1]
    if deps:
        probe = ("import sys, time; sys.path[:0] = [%r]; t = time.perf_counter(); import redis; "
                 "r = time.perf_counter(); import pymysql; p = time.perf_counter(); "
                 "print(round((r - t) * 1000), round((p - r) * 1000))" % deps)
        costs = [subprocess.run([PYTHON, "-S", "-c", probe], capture_output=True, text=True, env=env,
                                cwd="/").stdout.split() for _ in range(RUNS)]
        redis_ms = median([int(c[0]) for c in costs])
        mysql_ms = median([int(c[1]) for c in costs])
        section.notes.append(f"The Redis and MySQL clients are imported on first use: a first request that reaches "
                             f"them adds about {redis_ms:.0f} ms (redis-py) + {mysql_ms:.0f} ms (PyMySQL) of imports "
                             f"plus the connections. Packages ship bytecode (Lambda's file system is read-only; "
                             f"without .pyc files every cold start here took 440–530 ms).")
    return section
