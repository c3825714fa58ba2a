"""Cold start to the first *data* answer, per function: a fresh interpreter (``python -S``: nothing from the
development venv) with exactly the Lambda layout on ``sys.path`` — the function's package as ``/var/task`` and its
layers as ``/opt/python`` — imports the handler module and answers the first request of a route that really reads
MySQL and/or Redis (homepage, category list, product detail, login, cart/addresses with a valid session,
pre-freight...), then exits; against a bare ``python -S -c pass`` measured in the same run. Target: the first data
answer within 12× the bare interpreter's start, and a login within 12× plus its bcrypt verification (measured in the
same run, in a fresh interpreter: the one cost of a login that is the point).

The layout comes from ``infra/build.py --offline`` when that works (``build/``); otherwise it is laid out here the
way Lambda would see it (``functions/<name>`` + ``app.py`` as the task root, ``layers/*/python`` plus the third-party
packages the layers ship as ``/opt/python``, all byte-compiled), and the report says which one was used.

Also, per function: the modules imported *by the first request* (what a SnapStart snapshot taken after import and
warm-up would still have to import after restore — the hooks' job is to make this empty), the import costs that
drove the figures before (redis-py, PyJWT, cryptography: none of them in the API functions' layers now) and the
parser measurement behind ``hiredis`` (omcore.resp).
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
TARGET_X = 12  # × a bare interpreter start, measured in the same run
# third-party packages the API functions' Lambda layer ships (boto3/botocore come with the runtime)
LAYER_PACKAGES = ["pymysql", "hiredis", "bcrypt", "midtransclient", "requests", "urllib3", "idna", "certifi",
                  "charset_normalizer", "chalice", "boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six"]
LOGINS = {"auth: login": "Bench#Pass1", "staff_auth: login": "Bench#Passw0rd"}
EXCLUDE = {"demo.py", "cli.py", "localdev.py", "worker.py"}

# (label, function, method, path, query, body, auth) — the first data answer of each function
CASES = [
    ("health", "health", "GET", "/api/v1/health/ready", None, None, None),
    ("catalogue: homepage", "catalogue", "GET", "/api/v1/product", None, None, None),
    ("catalogue: homepage, empty cache", "catalogue", "GET", "/api/v1/product", None, None, "flush"),
    ("catalogue: category list", "catalogue", "GET", "/api/v1/category", None, None, None),
    ("catalogue: product detail", "catalogue", "GET", "/api/v1/product", {"id": "{product}"}, None, None),
    ("auth: login", "auth", "POST", "/api/v1/auth/login", None,
     {"email": "bench@example.com", "password": "Bench#Pass1"}, None),
    ("staff_auth: login", "staff_auth", "POST", "/api/v1/staff/auth/login", None,
     {"username": "admin", "password": "Bench#Passw0rd"}, None),
    ("cart: cart", "cart", "GET", "/api/v1/customer/cart", None, None, "customer"),
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
    """What the functions no longer import, measured in the same layout with this venv's packages behind it (the
    API functions' layer ships none of them), against what they import instead."""
    import site

    site_dir = next(p for p in site.getsitepackages() if p.endswith("site-packages"))
    lean = ("import sys, time; sys.path[:0] = %r; import socket, ssl, hashlib, json; t0 = time.perf_counter(); "
            "import hiredis; t1 = time.perf_counter(); import pymysql; t2 = time.perf_counter(); "
            "print(round((t1 - t0) * 1000, 1), round((t2 - t1) * 1000, 1))" % (paths,))
    shipped = [_run([PYTHON, "-S", "-c", lean], env)[2].split() for _ in range(RUNS)]
    hiredis_ms, mysql = (median([float(c[i]) for c in shipped]) for i in range(2))
    probe = ("import sys, time; sys.path[:0] = %r; sys.path.append(%r); import socket, ssl, hashlib, json; "
             "t0 = t1 = time.perf_counter(); "
             "t2 = time.perf_counter(); import cryptography.hazmat.primitives.serialization, "
             "cryptography.hazmat.primitives.asymmetric.padding; t3 = time.perf_counter(); import jwt; "
             "t4 = time.perf_counter(); import redis; t5 = time.perf_counter(); import boto3; "
             "boto3.client('ssm', region_name='us-east-1', aws_access_key_id='x', aws_secret_access_key='y'); "
             "t6 = time.perf_counter(); print(*(round((b - a) * 1000, 1) for a, b in "
             "((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5), (t5, t6))))" % (paths, site_dir))
    costs = [_run([PYTHON, "-S", "-c", probe], env)[2].split() for _ in range(RUNS)]
    _, _, crypto, jwt_ms, redis_ms, ssm_ms = (median([float(c[i]) for c in costs]) for i in range(6))
    return (f"Import costs in the same layout (median of {RUNS}, after socket/ssl/hashlib/json): what the API "
            f"functions import — hiredis {hiredis_ms:.1f} ms (the lean Redis client's parser), PyMySQL "
            f"{mysql:.0f} ms (without `cryptography`: the API functions' layer leaves it out); what they no longer "
            f"import — cryptography {crypto:.0f} ms (PyMySQL imports it for RSA logins when installed; only the "
            f"image converter's layer keeps it), PyJWT {jwt_ms:.0f} ms on top of that (its JWKS client's "
            f"urllib.request; HS256 is signed in `omauth.tokens`), redis-py {redis_ms:.0f} ms (asyncio, cluster, "
            "sentinel, observability modules; the main Redis and the caches use `omcore.redismain`/`omcore.nearcache` "
            "over `omcore.resp`). Not in these rows, which pass settings as plain variables: on AWS the template "
            "hands secrets over as `*_SSM` parameters, which `omcore.config` reads at start with boto3 (the "
            f"runtime's): import + SSM client {ssm_ms:.0f} ms here, more than a whole cold start above; with "
            "SnapStart it happens once, before the snapshot (docs/deploy-aws.md).")


def _bcrypt_ms(paths, env, stored_hash: str, password: str) -> float:
    """One bcrypt verification of the bench account's password in a fresh interpreter of the same layout (median
    of RUNS): the part of a login's cold start that is the point."""
    probe = ("import sys, time; sys.path[:0] = %r; import bcrypt; t = time.perf_counter(); "
             "assert bcrypt.checkpw(%r, %r); print((time.perf_counter() - t) * 1000)"
             % (paths, password.encode(), stored_hash.encode()))
    return median([float(_run([PYTHON, "-S", "-c", probe], env)[2]) for _ in range(RUNS)])


def _parser_note() -> str:
    """hiredis against the RESP parser in Python that omcore.kv had before (kept here only to measure it)."""
    import hiredis

    def bulk(text):
        raw = text.encode()
        return b"$%d\r\n%s\r\n" % (len(raw), raw)

    home = json.dumps([{"id": "x" * 36, "name": f"Kopi {i}", "price": 1000 * i, "img": "y" * 41} for i in range(40)])
    cases = {"GET of the homepage (7 KB)": bulk(home),
             "MULTI/EXEC of 8 commands": b"+OK\r\n" + b"+QUEUED\r\n" * 8 + b"*8\r\n" + b":1\r\n" * 8,
             "SCAN page of 500 keys": b"*2\r\n" + bulk("0") + b"*500\r\n"
             + b"".join(bulk(f"cache:search:{i}") for i in range(500)),
             "invalidation push": b">2\r\n" + bulk("invalidate") + b"*1\r\n" + bulk("cache:home")}
    missing = object()
    parts = []
    for label, data in cases.items():
        n = 300
        reader = hiredis.Reader(encoding="utf-8", errors="replace", notEnoughData=missing)
        t = time.perf_counter()
        for _ in range(n):
            reader.feed(data)
            while reader.gets() is not missing:
                pass
        fast = (time.perf_counter() - t) / n * 1e6
        t = time.perf_counter()
        for _ in range(n):
            buf, pos = bytes(data), 0
            while pos < len(buf):
                _, pos = _py_parse(buf, pos)
        slow = (time.perf_counter() - t) / n * 1e6
        parts.append(f"{label} {fast:.1f} µs vs {slow:.1f} µs ({slow / fast:.0f}×)")
    return ("Reply parsing, hiredis against the RESP parser in Python the lean client had before (per reply, this "
            "process): " + "; ".join(parts) + ".")


def _py_parse(buf: bytes, pos: int):
    """The former hand-written RESP2/RESP3 parser of omcore.kv, reduced to what the comparison feeds it."""
    end = buf.find(b"\r\n", pos)
    kind, line = buf[pos:pos + 1], buf[pos + 1:end]
    pos = end + 2
    if kind == b"$":
        length = int(line)
        return buf[pos:pos + length].decode("utf-8", errors="replace"), pos + length + 2
    if kind == b"+":
        return line.decode(), pos
    if kind == b":":
        return int(line), pos
    if kind in (b"*", b">"):
        items = []
        for _ in range(int(line)):
            value, pos = _py_parse(buf, pos)
            items.append(value)
        return items, pos
    raise ValueError(kind)


def _container_note(env) -> str:
    """The container roles and the admin CLI start from the venv (the image's packages): their start, for the record
    that the lean clients did not make them slower (no baseline of older code can run in the same process tree)."""
    api = [PYTHON, "-c", "import sys; sys.path.insert(0, %r); import wsgi" % os.path.join(ROOT, "swarm-fallback")]
    cli = [PYTHON, "-m", "tools.admin", "--help"]
    out = []
    for label, args in (("the API container's entrypoint (`import wsgi`: every capability)", api),
                        ("the admin CLI (`python -m tools.admin --help`)", cli)):
        walls = []
        for _ in range(RUNS):
            start = time.perf_counter()
            subprocess.run(args, env=env, cwd=ROOT, capture_output=True, check=True)
            walls.append(time.perf_counter() - start)
        out.append(f"{label} {median(walls) * 1000:.0f} ms")
    return "Container roles and the admin CLI (venv, full interpreter start, median of %d): %s." % (RUNS,
                                                                                                   "; ".join(out))


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
    from omdb import db

    stored = db.query_one("SELECT hashed_password FROM customers WHERE email = 'bench@example.com'")["hashed_password"]
    bcrypt_ms = _bcrypt_ms(paths_by_function.get("auth") or paths_by_function[names[0]], env, stored,
                           LOGINS["auth: login"])
    section = Section(
        "Cold start to the first data answer",
        f"Median of {RUNS} fresh interpreters per row: spawn → import of the function's Lambda package → first answer "
        "of a route that reads MySQL and/or Redis (Redis caches warm, as other instances leave them, unless the row "
        "says otherwise) → exit. Each sample follows a bare `python -S -c pass` (median over the run "
        f"{base_wall * 1000:.1f} ms wall, {base_cpu * 1000:.1f} ms CPU); the cold start column is the row's median "
        "minus its bare starts' median, and × bare the whole of it over them, so both starts of a ratio ran under the "
        f"same load. CPU time is the steadier figure on a shared machine (× bare, CPU: the row's CPU time over the bare "
        f"starts'). Layout: {layout}. Target, on wall time: ≤ {TARGET_X}× the "
        f"bare start; a login ≤ {TARGET_X}× plus one bcrypt verification of its password, measured in the same run "
        f"in a fresh interpreter of the same layout ({bcrypt_ms:.0f} ms, "
        f"{bcrypt_ms / 1000 / base_wall:.1f}× the bare start).",
        ["function: first request", "status", "import ms", "first answer ms", "cold start ms (wall)",
         "cold start ms (CPU)", "× bare interpreter", "× bare, CPU", "target", "imported by the first request"])
    from omcore import kv

    rows, offenders = [], []
    for label, name, method, path, query, body, auth in CASES:
        if name not in paths_by_function:
            continue
        query = {k: v.format(**data) for k, v in query.items()} if query else None
        _warm_caches(data)
        if auth == "customer":
            cookie = _fresh_customer_cookie(data)
        cookie_header = cookie if auth == "customer" else staff_cookie if auth == "staff" else None
        paths = paths_by_function[name]
        probe = _PROBE.format(paths=paths, event=_event(method, path, query, body, cookie_header))
        samples, bares = [], []
        try:
            for _ in range(RUNS):
                if auth == "flush":
                    from omcommerce import cachekeys

                    kv.cache_delete(cachekeys.HOME)
                else:  # warm again before every sample: other runs sharing this Redis may have emptied it
                    _warm_caches(data)
                # a bare start right before each sample: on a shared machine the load changes between rows, and the
                # ratio must compare two starts made under the same load
                bares.append(_run([PYTHON, "-S", "-c", "pass"], env))
                samples.append(_run([PYTHON, "-S", "-c", probe], env))
        except RuntimeError as exc:
            section.rows.append([label, "failed", "-", "-", "-", "-", "-", "-", "-", str(exc).splitlines()[-1][:100]])
            continue
        infos = [json.loads(s[2].strip().splitlines()[-1]) for s in samples]
        row_bare = median([b[0] for b in bares])
        wall = median([s[0] for s in samples]) - row_bare
        row_bare_cpu = median([b[1] for b in bares])
        cpu = median([s[1] for s in samples]) - row_bare_cpu
        status = infos[-1]["status"]
        if status >= 400:
            status = f"{status} {infos[-1]['body'][:80]}"
        times = (wall + row_bare) / row_bare
        allowed = TARGET_X + (bcrypt_ms / 1000 / row_bare if label in LOGINS else 0)
        met = times <= allowed
        RESULTS.setdefault("cold_start_ms", {}).setdefault(name, wall * 1000)
        rows.append((times - allowed, label, times, allowed, met))
        if label == "catalogue: homepage":
            target("cold start of `GET /api/v1/product` (homepage) in a fresh interpreter, import + first answer",
                   f"{times:.1f}× a bare interpreter's {row_bare * 1000:.0f} ms", f"≤ {TARGET_X}×", met)
        if not met:
            offenders.append(f"{label}: {_offenders(probe, env)}")
        goal = f"≤ {TARGET_X}×" if label not in LOGINS else f"≤ {TARGET_X}× + bcrypt = {allowed:.1f}×"
        section.rows.append([f"{name}: {method} {path}" + (f"?{'&'.join(query)}" if query else "")
                             + f" ({label.split(': ', 1)[-1]})", status,
                             f"{median([i['import_ms'] for i in infos]):.0f}",
                             f"{median([i['first_ms'] for i in infos]):.0f}", f"{wall * 1000:.0f}",
                             f"{cpu * 1000:.0f}", f"{times:.2f}", f"{(cpu + row_bare_cpu) / row_bare_cpu:.2f}",
                             f"{goal} ({'met' if met else 'missed'})",
                             ", ".join(infos[-1]["late"]) or "nothing"])
    if rows:
        top = max(rows)
        met_count = sum(1 for r in rows if r[4])
        target("cold start per function to its first **data** answer", f"{met_count}/{len(rows)} rows within target; "
               f"closest to or furthest over it: {top[1]} {top[2]:.1f}× (allowed {top[3]:.1f}×)",
               f"≤ {TARGET_X}× bare each (logins + bcrypt)", met_count == len(rows))
    section.notes.append(_import_costs(paths_by_function[names[0]], env))
    section.notes.append(_parser_note())
    try:
        section.notes.append(_container_note(env))
    except subprocess.CalledProcessError as exc:
        section.notes.append(f"Container start not measured: {exc}")
    if offenders:
        section.notes.append("Where the time of the rows over target goes (`python -X importtime` of the same cold "
                             "start, cumulative, largest top-level imports incl. those made by the first request): "
                             + "; ".join(offenders))
    section.notes.append("SnapStart (`EnableSnapStart=true`, the `live` alias): before the snapshot "
                         "`omcore.snapstart` imports every module of the function's route packages and the socket "
                         "modules a first connection needs, and closes every connection; the last column lists what "
                         "a first request imports beyond the handler module, which is what priming leaves nothing of "
                         "(tests/infra/test_artifacts.py checks it). Restore time cannot be measured off AWS "
                         "(docs/deploy-aws.md weighs it).")
    return section
