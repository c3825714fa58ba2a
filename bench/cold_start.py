"""Cold start to the first *data* answer, per function: a fresh interpreter (``python -S``: nothing from the
development venv) with exactly the Lambda layout on ``sys.path`` — the function's package as ``/var/task`` and its
layers as ``/opt/python`` — imports the handler module and answers the first request of a route that really reads
MySQL and/or Redis (homepage, category list, product detail, login, cart/addresses with a valid session,
pre-freight...), then exits; against a bare ``python -S -c pass`` measured in the same run.

The layout comes from ``infra/build.py --offline`` when that works (``build/``); otherwise it is laid out here the
way Lambda would see it (``functions/<name>`` + ``app.py`` as the task root, ``layers/*/python`` plus the third-party
packages the layers ship as ``/opt/python``, all byte-compiled), and the report says which one was used.

Also, per function: the modules imported *by the first request* (what a SnapStart snapshot taken after import and
warm-up would still have to import after restore — the hooks' job is to make this empty), and the redis-py /
PyMySQL / cryptography import costs that drive the figures.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import tempfile
import time

from common import PYTHON, RESULTS, ROOT, Section, median, target

RUNS = int(os.environ.get("BENCH_COLD_RUNS", "7"))
TARGET_MS = 120
# third-party packages the Lambda layers ship (boto3/botocore come with the runtime)
LAYER_PACKAGES = ["pymysql", "redis", "jwt", "bcrypt", "midtransclient", "requests", "urllib3", "idna", "certifi",
                  "charset_normalizer", "cryptography", "cffi", "_cffi_backend", "pycparser", "chalice",
                  "boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six"]
EXCLUDE = {"demo.py", "cli.py", "localdev.py", "worker.py"}

# (label, function, method, path, query, body, auth) — the first data answer of each function
CASES = [
    ("health", "health", "GET", "/api/v1/health/ready", None, None, None),
    ("catalogue: homepage", "catalogue", "GET", "/api/v1/product", None, None, None),
    ("catalogue: homepage, empty cache", "catalogue", "GET", "/api/v1/product", None, None, "flush"),
    ("catalogue: category list", "catalogue", "GET", "/api/v1/category", None, None, None),
    ("catalogue: product detail", "catalogue", "GET", "/api/v1/product", {"id": "{product}"}, None, None),
    ("catalogue: product detail, layers without cryptography", "catalogue", "GET", "/api/v1/product",
     {"id": "{product}"}, None, "nocrypto"),
    ("auth: login", "auth", "POST", "/api/v1/auth/login", None,
     {"email": "bench@example.com", "password": "Bench#Pass1"}, None),
    ("staff_auth: login", "staff_auth", "POST", "/api/v1/staff/auth/login", None,
     {"username": "admin", "password": "Bench#Passw0rd"}, None),
    ("cart: cart", "cart", "GET", "/api/v1/customer/cart", None, None, "customer"),
    ("cart: cart, layers without cryptography", "cart", "GET", "/api/v1/customer/cart", None, None,
     "customer-nocrypto"),
    ("account: addresses", "account", "GET", "/api/v1/customer/address", None, None, "customer"),
    ("freight: rates", "freight", "GET", "/api/v1/freight-rates", {"product_id": "{product}", "area_id": "25410"},
     None, None),
    ("checkout: pre-freight", "checkout", "GET", "/api/v1/customer/pre-freight", {"id": "{address}"}, None,
     "customer"),
    ("backoffice: categories", "backoffice", "GET", "/api/v1/staff/dashboard/inventory/category", None, None,
     "staff"),
]

_PROBE = r"""
import sys, time
sys.path[:0] = {paths!r}
t0 = time.perf_counter()
import app as entry
t1 = time.perf_counter()
before = set(sys.modules)
event = {event!r}
response = entry.app(event, None)
t2 = time.perf_counter()
late = sorted(m for m in set(sys.modules) - before if "." not in m)
import json
print(json.dumps({{"status": response["statusCode"], "import_ms": (t1 - t0) * 1000, "first_ms": (t2 - t1) * 1000,
                  "late": late, "body": str(response.get("body"))[:200]}}))
"""


def _event(method, path, query, body, cookie):
    headers = {"user-agent": "bench", "content-type": "application/json"}
    if cookie:
        headers["cookie"] = cookie
    return {"resource": path, "path": path, "httpMethod": method, "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": query,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
            "pathParameters": None, "stageVariables": None,
            "body": json.dumps(body) if body is not None else None, "isBase64Encoded": False,
            "requestContext": {"resourcePath": path, "httpMethod": method, "path": path, "requestId": "cold",
                               "identity": {"sourceIp": "127.0.0.1", "userAgent": "bench"}}}


def _run(args, env) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the child, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env, cwd="/")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-1500:])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def _compile(folder):
    subprocess.run([PYTHON, "-m", "compileall", "-q", folder], check=False, stdout=subprocess.DEVNULL)


def _from_build() -> tuple[dict[str, list[str]], str] | tuple[None, str]:
    """sys.path per function from the real packaging (``infra/build.py`` for this machine's CPU, from the wheel
    cache when bin/setup made one, into a temporary folder), or None with the reason when that build fails."""
    import platform
    import zipfile

    arch = {"aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), "x86_64")
    base = tempfile.mkdtemp(prefix="om-cold-")
    out = os.path.join(base, "build")
    args = ["--arch", arch, "--out", out]
    wheels = os.path.join(ROOT, ".cache", "wheels")
    if os.path.isdir(os.path.join(wheels, arch)):
        args += ["--wheelhouse", wheels]
    # build.py also regenerates infra/template.yaml and docs/configuration.md (tracked files): the benchmark
    # packages only, so that step is switched off here (and the build is skipped if it cannot be)
    command = [PYTHON, "-c", "import sys; sys.path.insert(0, %r); import infra.build as b; "
               "sys.exit(3) if not hasattr(b, '_generated') else None; b._generated = lambda: {}; "
               "sys.exit(b.main(%r))" % (ROOT, args)]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return None, "infra/build.py took over 10 minutes"
    if done.returncode != 0 or not os.path.isdir(os.path.join(out, "functions")):
        return None, "infra/build.py failed: " + (done.stderr.strip().splitlines() or ["?"])[-1][:160]
    # which layers each API function gets, from the packaging code itself — in a child process: reading it imports
    # every function's own app module, which would re-bind the shared route blueprints away from the composed app
    # this process benchmarks next
    units = subprocess.run([PYTHON, "-c", "import json, sys; sys.path.insert(0, %r); "
                            "from infra.units import functions_of; print(json.dumps({f.capability: "
                            "f.settings.get('layers', []) for f in functions_of() if f.kind == 'api'}))" % ROOT],
                           cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, OPENMERCE_PACKAGING="1"))
    try:
        layers_of = json.loads(units.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):  # the packaging code is being rewritten: the default layers
        layers_of = {}
    unpacked = {}
    for layer_zip in os.listdir(os.path.join(out, "layers")):
        target = os.path.join(base, "opt", layer_zip[:-4])
        with zipfile.ZipFile(os.path.join(out, "layers", layer_zip)) as zf:
            zf.extractall(target)
        unpacked[layer_zip[:-4]] = os.path.join(target, "python")
    paths = {}
    for name in os.listdir(os.path.join(out, "functions")):
        pkg = os.path.join(out, "functions", name, "deployment.zip")
        if not os.path.exists(pkg):
            continue
        target = os.path.join(base, "task", name)
        with zipfile.ZipFile(pkg) as zf:
            zf.extractall(target)
        layers = layers_of.get(name) or ["deps", "core", "mysql", "auth", "commerce"]
        # Lambda merges every layer into one /opt/python: later layers win, as on Lambda
        opt = os.path.join(base, "optmerged", name)
        if not os.path.isdir(opt):
            os.makedirs(opt)
            for layer in layers:
                if layer in unpacked:
                    shutil.copytree(unpacked[layer], opt, dirs_exist_ok=True, symlinks=True)
        paths[name] = [target, opt]
    return paths or None, f"`infra/build.py --arch {arch}` packages, unzipped as /var/task and /opt/python"


def _without(folder: str, prefixes: tuple) -> str:
    """A copy of an /opt/python folder (symlinks) without the named packages: what a layer without them would
    import (PyMySQL falls back to no RSA login when ``cryptography`` is absent)."""
    target = folder.rstrip("/") + "-without-" + "-".join(prefixes)
    if not os.path.isdir(target):
        os.makedirs(target)
        for entry in os.listdir(folder):
            if not entry.startswith(prefixes):
                os.symlink(os.path.join(folder, entry), os.path.join(target, entry))
    return target


def _lay_out(names) -> dict[str, list[str]]:
    """The Lambda layout made here: /var/task = app.py + functions/__init__.py + functions/<name>; /opt/python =
    the code layers + the third-party packages, byte-compiled (Lambda's file system is read-only)."""
    import site

    site_dir = next(p for p in site.getsitepackages() if p.endswith("site-packages"))
    base = tempfile.mkdtemp(prefix="om-cold-")
    opt = os.path.join(base, "opt", "python")
    os.makedirs(opt)
    for layer in ("core", "mysql", "auth", "commerce"):
        src = os.path.join(ROOT, "layers", layer, "python")
        for entry in os.listdir(src):
            if entry != "__pycache__":
                shutil.copytree(os.path.join(src, entry), os.path.join(opt, entry),
                                ignore=shutil.ignore_patterns("__pycache__"))
    for package in LAYER_PACKAGES:
        for candidate in (package, package + ".py") + tuple(e for e in os.listdir(site_dir)
                                                             if e.startswith(package + ".") and e.endswith(".so")):
            src = os.path.join(site_dir, candidate)
            if os.path.exists(src) and not os.path.exists(os.path.join(opt, candidate)):
                os.symlink(src, os.path.join(opt, candidate))
    _compile(opt)
    paths = {}
    for name in names:
        task = os.path.join(base, "task", name)
        os.makedirs(os.path.join(task, "functions"))
        shutil.copy(os.path.join(ROOT, "functions", name, "app.py"), os.path.join(task, "app.py"))
        shutil.copy(os.path.join(ROOT, "functions", "__init__.py"), os.path.join(task, "functions", "__init__.py"))
        shutil.copytree(os.path.join(ROOT, "functions", name), os.path.join(task, "functions", name),
                        ignore=lambda d, files: [f for f in files if f in EXCLUDE or f.startswith("fake_")
                                                 or f == "__pycache__"])
        _compile(task)
        paths[name] = [task, opt]
    return paths


def _prepare():
    """Bench data: the demo catalogue, a customer with a session, an address and a cart line, warm Redis caches."""
    from omauth import sessions, staffroles, tokens  # noqa: F401
    from omdb import db
    from omdb.ids import to_bin

    from app import app
    from warm import event, setup_data

    data = setup_data()
    db.execute("INSERT INTO cart_items (product_refer, customer_refer, quantity, checked) VALUES (%s, %s, 1, TRUE)"
               " ON DUPLICATE KEY UPDATE checked = TRUE", (to_bin(data["product"]), to_bin(data["customer"])))
    cookie = "; ".join(f"{k}={v}" for k, v in data["cookies"].items())
    staff_cookie = ""
    resp = app(event("POST", "/api/v1/staff/auth/login", body={"username": "admin", "password": "Bench#Passw0rd"}),
               None)
    for value in (resp.get("multiValueHeaders") or {}).get("Set-Cookie", []):
        staff_cookie += ("; " if staff_cookie else "") + value.split(";", 1)[0]
    _warm_caches(data)
    return data, cookie, staff_cookie


def _warm_caches(data):
    """Fill the Redis caches the first requests read, as other instances would have."""
    from app import app
    from warm import event

    for path, query in (("/api/v1/product", None), ("/api/v1/category", None),
                        ("/api/v1/product", {"id": data["product"]})):
        app(event("GET", path, query), None)


def _fresh_customer_cookie(data) -> str:
    """A new session for the shopper (the login rows before may have ended older ones)."""
    from omauth import sessions, tokens

    session = sessions.create("cus", data["customer"], remember_me=False)
    return "ac_cus=" + tokens.issue(tokens.AUD_CUSTOMER, data["customer"], 3600, {"sid": session.family})


def _offenders(probe: str, env) -> str:
    """The largest packages imported by one cold start (``-X importtime``: each package's own line, cumulative,
    wherever it sits in the import tree; the function's own modules left out)."""
    done = subprocess.run([PYTHON, "-S", "-X", "importtime", "-c", probe], capture_output=True, text=True, env=env,
                          cwd="/")
    best: dict[str, int] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        parts = line.split(":", 1)[1].split("|")
        if len(parts) != 3:
            continue
        module = parts[2].strip()
        if "." in module or module in ("app", "functions", "encodings", "_frozen_importlib_external"):
            continue
        best[module] = max(best.get(module, 0), int(parts[1]))
    rows = sorted(((us, mod) for mod, us in best.items()), reverse=True)
    return ", ".join(f"{mod} {us / 1000:.0f} ms" for us, mod in rows[:7])


def _import_costs(paths, env) -> str:
    probe = ("import sys, time; sys.path[:0] = %r; import socket, ssl, hashlib, json; t = time.perf_counter(); "
             "import cryptography.hazmat.primitives.serialization, cryptography.hazmat.primitives.asymmetric.padding; "
             "c = time.perf_counter(); import pymysql; p = time.perf_counter(); import redis; "
             "r = time.perf_counter(); print(round((c - t) * 1000, 1), round((p - c) * 1000, 1), "
             "round((r - p) * 1000, 1))" % paths)
    costs = [_run([PYTHON, "-S", "-c", probe], env)[2].split() for _ in range(RUNS)]
    crypto, mysql, redis_ms = (median([float(c[i]) for c in costs]) for i in range(3))
    return (f"Import costs measured in the same layout (median of {RUNS}, after socket/ssl/hashlib): cryptography "
            f"{crypto:.0f} ms (PyMySQL imports it at import time for RSA logins, `PyMySQL[rsa]`), PyMySQL itself "
            f"{mysql:.0f} ms, redis-py {redis_ms:.0f} ms (asyncio, cluster, sentinel, observability modules). The "
            "cache and session-check path uses `omcore.kv`'s own RESP connection (socket only), so only routes that "
            "need redis-py's full API (login: rate limits + sessions; staff roles) import it.")


def run(functions_list) -> Section:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    data, cookie, staff_cookie = _prepare()
    names = sorted({case[1] for case in CASES} & set(functions_list))
    paths_by_function, layout = _from_build()
    if paths_by_function is None or not set(names) <= set(paths_by_function):
        paths_by_function = _lay_out(names)
        layout = (f"laid out by the benchmark ({layout}): functions/<name> + app.py as /var/task, layers/*/python + "
                  "the layers' third-party packages as /opt/python, byte-compiled")
    bare = [_run([PYTHON, "-S", "-c", "pass"], env) for _ in range(RUNS)]
    base_wall, base_cpu = median([b[0] for b in bare]), median([b[1] for b in bare])
    section = Section(
        "Cold start to the first data answer",
        f"Median of {RUNS} fresh interpreters per row: spawn → import of the function's Lambda package → first answer "
        "of a route that reads MySQL and/or Redis (Redis caches warm, as other instances leave them, unless the row "
        "says otherwise) → exit, minus a bare `python -S -c pass` measured in the same run "
        f"({base_wall * 1000:.1f} ms wall, {base_cpu * 1000:.1f} ms CPU). CPU time is the steadier figure on a "
        f"shared machine. Layout: {layout}. Target: ≤ {TARGET_MS} ms over the bare interpreter.",
        ["function: first request", "status", "import ms", "first answer ms", "cold start ms (wall)",
         "cold start ms (CPU)", "× bare interpreter", "target", "imported by the first request"])
    from omcore import kv

    worst, offenders = [], []
    for label, name, method, path, query, body, auth in CASES:
        if name not in paths_by_function:
            continue
        query = {k: v.format(**data) for k, v in query.items()} if query else None
        _warm_caches(data)
        if auth in ("customer", "customer-nocrypto"):
            cookie = _fresh_customer_cookie(data)
        cookie_header = cookie if auth in ("customer", "customer-nocrypto") else staff_cookie if auth == "staff" else None
        paths = paths_by_function[name]
        if auth in ("nocrypto", "customer-nocrypto"):
            paths = [paths[0], _without(paths[1], ("cryptography", "bcrypt"))]
        probe = _PROBE.format(paths=paths, event=_event(method, path, query, body, cookie_header))
        samples = []
        try:
            for _ in range(RUNS):
                if auth == "flush":
                    from omcommerce import cachekeys

                    kv.cache_delete(cachekeys.HOME)
                samples.append(_run([PYTHON, "-S", "-c", probe], env))
        except RuntimeError as exc:
            section.rows.append([label, "failed", "-", "-", "-", "-", "-", "-", str(exc).splitlines()[-1][:100]])
            continue
        infos = [json.loads(s[2].strip().splitlines()[-1]) for s in samples]
        wall = median([s[0] for s in samples]) - base_wall
        cpu = median([s[1] for s in samples]) - base_cpu
        status = infos[-1]["status"]
        if status >= 400:
            status = f"{status} {infos[-1]['body'][:80]}"
        verdict = "met" if wall * 1000 <= TARGET_MS else "missed"
        RESULTS.setdefault("cold_start_ms", {}).setdefault(name, wall * 1000)
        worst.append((wall * 1000, label, (wall + base_wall) / base_wall))
        if label == "catalogue: homepage":
            target("cold start of `GET /api/v1/product` (homepage) in a fresh interpreter, import + first answer",
                   f"{wall * 1000:.0f} ms over a bare interpreter ({(wall + base_wall) / base_wall:.1f}× its "
                   f"{base_wall * 1000:.0f} ms)", f"≤ {TARGET_MS} ms", wall * 1000 <= TARGET_MS)
        if verdict == "missed":
            offenders.append(f"{label}: {_offenders(probe, env)}")
        section.rows.append([f"{name}: {method} {path}" + (f"?{'&'.join(query)}" if query else "")
                             + f" ({label.split(': ', 1)[-1]})", status,
                             f"{median([i['import_ms'] for i in infos]):.0f}",
                             f"{median([i['first_ms'] for i in infos]):.0f}", f"{wall * 1000:.0f}",
                             f"{cpu * 1000:.0f}", f"{(wall + base_wall) / base_wall:.2f}",
                             f"≤ {TARGET_MS} ({verdict})", ", ".join(infos[-1]["late"]) or "nothing"])
    if worst:
        top = max(worst)
        met = sum(1 for w in worst if w[0] <= TARGET_MS)
        target("cold start per function to its first **data** answer", f"{met}/{len(worst)} rows within target; "
               f"slowest: {top[1]} {top[0]:.0f} ms ({top[2]:.1f}× bare)", f"≤ {TARGET_MS} ms each", met == len(worst))
    section.notes.append(_import_costs(paths_by_function[names[0]], env))
    if offenders:
        section.notes.append("Where the time of the rows over target goes (`python -X importtime` of the same cold "
                             "start, cumulative, largest top-level imports incl. those made by the first request): "
                             + "; ".join(offenders))
    section.notes.append("SnapStart: restore time cannot be measured here. The last column lists the top-level "
                         "modules the first request still imported after the handler module was loaded; a snapshot "
                         "hook that warms these (and reopens MySQL/Redis connections after restore) leaves nothing "
                         "to import after restore.")
    return section
