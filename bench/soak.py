"""Sustained load: mixed storefront traffic for a bounded time against the container entrypoint (gunicorn, 2 workers)
on loopback, with a fake Midtrans:

* browse 70 % (homepage, categories, banners, product detail, sold count, search, freight rates),
* cart 20 % (add, view, count),
* checkout + webhook 10 % (add, check all, checkout, then the signed Midtrans settlement notification).

Virtual shoppers run closed loops with a short think time (bounded rate: ``BENCH_SOAK_USERS`` shoppers,
``BENCH_SOAK_THINK`` seconds between requests). Reported: requests/s and p50/p99 per endpoint in 10 s buckets, 5xx
count, worker RSS sampled every second (growth after warm-up), stock exact at the end (initial − units of the
run's orders, per product), near-cache hit ratio of the workers, and two visibility checks under load: a staff-side
category change followed at once by reads from both workers, and each settlement followed at once by the sold
count. A PNG plot of p99 and RSS over time is written beside the report.

    .venv/bin/python bench/soak.py            # alone (120 s); BENCH_SOAK_SECONDS=30 for a short run
"""
from __future__ import annotations

import glob
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import PYTHON, RESULTS, ROOT, Section, pct, target  # noqa: E402

DURATION = int(os.environ.get("BENCH_SOAK_SECONDS", "120"))
USERS = int(os.environ.get("BENCH_SOAK_USERS", "6"))
RATE = float(os.environ.get("BENCH_SOAK_RPS", "80"))  # at most this many requests/s in all (bounded load)
THINK = float(os.environ.get("BENCH_SOAK_THINK", "0.05"))
WORKERS = "2"
BUCKET = 10
WARMUP = min(20, DURATION // 4)
STOCK = 100000
PASSWORD = "Soak#Pass1"

BROWSE = [("GET /product (homepage)", 25), ("GET /category", 10), ("GET /home-banner", 10),
          ("GET /product?id= (detail)", 25), ("GET /product-sold", 10), ("GET /product?search=", 10),
          ("GET /freight-rates", 10)]
CART = [("POST /customer/cart", 40), ("GET /customer/cart", 40), ("GET /customer/cart-count", 20)]
GROUP_OF = {**{n: "browse" for n, _ in BROWSE}, **{n: "cart" for n, _ in CART},
            "POST /customer/cart-checked-all": "checkout", "POST /customer/checkout": "checkout",
            "POST /webhook/midtrans": "checkout", "GET /category (after a staff change)": "checks",
            "GET /product-sold (after a settlement)": "checks"}


ERRORS: list[str] = []  # the first bodies of 5xx/failed answers, for the report
_slot = [0.0]
_slot_lock = threading.Lock()


def _pace():
    """Space all requests at least 1/RATE apart (open-loop cap on top of the shoppers' closed loops)."""
    if RATE <= 0:
        return
    with _slot_lock:
        now = time.perf_counter()
        _slot[0] = max(_slot[0] + 1 / RATE, now)
        wait = _slot[0] - now
    if wait > 0:
        time.sleep(wait)


class Client:
    """One keep-alive HTTP connection; records (start offset, endpoint, status, seconds)."""

    def __init__(self, port, records, t0):
        self.port, self.records, self.t0 = port, records, t0
        self.conn = None
        self.cookies = {}

    def call(self, name, method, path, body=None, record=True, fresh=False):
        _pace()
        headers = {"Content-Type": "application/json"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if fresh:
            headers["Connection"] = "close"
        data = json.dumps(body) if body is not None else None
        start = time.perf_counter()
        try:
            if self.conn is None or fresh:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
            payload = resp.read()
            status = resp.status
            for line in resp.headers.get_all("Set-Cookie") or []:
                cname, _, rest = line.partition("=")
                self.cookies[cname] = rest.split(";", 1)[0]
            if fresh or resp.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
        except (OSError, http.client.HTTPException):
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            status, payload = 0, b""
        elapsed = time.perf_counter() - start
        if record:
            self.records.append((start - self.t0, name, status, elapsed))
            if status >= 500 or status == 0:
                ERRORS.append(f"{name} → {status} {payload[:160]!r}")
        try:
            return status, json.loads(payload) if payload else None
        except ValueError:
            return status, None


def _pick(rng, table):
    total = sum(w for _, w in table)
    x = rng.uniform(0, total)
    for name, weight in table:
        x -= weight
        if x <= 0:
            return name
    return table[-1][0]


def _worker_pids(master: int) -> list[int]:
    pids = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == master:
                pids.append(int(stat.split("/")[2]))
        except (OSError, IndexError, ValueError):
            pass
    return sorted(pids)


def _rss_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _setup():
    from omauth.passwords import hash_password
    from omdb import db
    from omdb.ids import from_bin, new_id

    from tools.catalogue import demo as catalogue_demo
    from tools.freight import demo as freight_demo
    from tools.payments.fake_midtrans import FakeMidtrans

    catalogue_demo.load()
    freight_demo.load()
    fake = FakeMidtrans(server_key=os.environ["MIDTRANS_SERVER_KEY"], notification_url="http://127.0.0.1:9/").start()
    os.environ.update({**fake.env(), "MIDTRANS_BASE_ORDER_ID": f"SOAK{int(time.time())}"})
    rows = db.query("SELECT p.id FROM products p JOIN inventories i ON i.product_refer = p.id"
                    " WHERE p.deleted_at IS NULL ORDER BY p.name LIMIT 12")
    products = [r["id"] for r in rows]
    for pid in products:
        db.execute("UPDATE inventories SET quantity = %s WHERE product_refer = %s", (STOCK, pid))
    initial = {bytes(p): STOCK for p in products}
    password = hash_password(PASSWORD)
    users = []
    for i in range(USERS):
        email = f"soak{i}.{int(time.time())}@example.com"
        cid = new_id()
        db.execute("INSERT INTO customers (id, email, hashed_password, first_name, last_name) VALUES"
                   " (%s, %s, %s, 'S', 'K')", (cid.bytes, email, password))
        address = new_id()
        db.execute("INSERT INTO customer_addresses (id, customer_refer, label, full_address, recipient_name,"
                   " phone_number, shipping_area_refer, postal_code) VALUES (%s, %s, 'Rumah', 'Jl. 1', 'S',"
                   " '0812345678', 25410, '10110')", (address.bytes, cid.bytes))
        users.append({"email": email, "customer": cid.bytes, "address": str(address)})
    category = db.query_one("SELECT id, name FROM categories WHERE deleted_at IS NULL ORDER BY id LIMIT 1")
    return fake, [from_bin(p) for p in products], initial, users, category


def _start_server(port, stats_dir):
    # max_requests off: a worker recycled every ~5000 requests would hide a leak from the RSS figure
    env = dict(os.environ, WEB_CONCURRENCY=WORKERS, ACCESS_LOG="0", BIND=f"127.0.0.1:{port}",
               CACHE_NEAR_STATS_DIR=stats_dir, GUNICORN_CMD_ARGS="--max-requests 0",
               PATH=os.path.dirname(PYTHON) + ":" + os.environ["PATH"])
    log = open(os.path.join(stats_dir, "server.log"), "w")  # a file, never a pipe nobody reads (it would fill)
    proc = subprocess.Popen(["sh", os.path.join(ROOT, "swarm-fallback", "entrypoint.sh"), "api"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    proc.log_path = log.name
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
        except OSError:
            if proc.poll() is not None:
                with open(proc.log_path) as fh:
                    raise RuntimeError(fh.read()[-2000:])
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def soak():
    from omcommerce import cachekeys, catalog, midtrans
    from omdb import db
    fake, products, initial, users, category = _setup()
    from http_server import _free_port

    port = _free_port()
    stats_dir = tempfile.mkdtemp(prefix="om-soak-")
    server = _start_server(port, stats_dir)
    records, checks, rss = [], {"staff": [0, 0], "sold": [0, 0]}, []
    stop = threading.Event()
    t0 = time.perf_counter()
    lock = threading.Lock()

    def shopper(index, user):
        rng = random.Random(1000 + index)
        client = Client(port, records, t0)
        status, _ = client.call("login", "POST", "/api/v1/auth/login",
                                {"email": user["email"], "password": PASSWORD}, record=False)
        if status != 200:
            raise RuntimeError(f"soak login failed: {status}")
        while not stop.is_set():
            roll = rng.random()
            pid = rng.choice(products)
            if roll < 0.70:
                name = _pick(rng, BROWSE)
                path = {"GET /product (homepage)": "/api/v1/product", "GET /category": "/api/v1/category",
                        "GET /home-banner": "/api/v1/home-banner",
                        "GET /product?id= (detail)": f"/api/v1/product?id={pid}",
                        "GET /product-sold": f"/api/v1/product-sold?id={pid}",
                        "GET /product?search=": "/api/v1/product?search=" + rng.choice(["kopi", "teh", "batik",
                                                                                        "madu", "kain"]),
                        "GET /freight-rates": f"/api/v1/freight-rates?product_id={pid}&area_id=25410"}[name]
                client.call(name, "GET", path)
            elif roll < 0.90:
                name = _pick(rng, CART)
                if name == "POST /customer/cart":
                    client.call(name, "POST", "/api/v1/customer/cart", {"id": pid, "quantity": 1})
                elif name == "GET /customer/cart":
                    client.call(name, "GET", "/api/v1/customer/cart")
                else:
                    client.call(name, "GET", "/api/v1/customer/cart-count")
            else:
                client.call("POST /customer/cart", "POST", "/api/v1/customer/cart", {"id": pid, "quantity": 1})
                client.call("POST /customer/cart-checked-all", "POST", "/api/v1/customer/cart-checked-all",
                            {"state": True})
                status, order = client.call("POST /customer/checkout", "POST", "/api/v1/customer/checkout",
                                            {"courier_code": "sicepat-REG", "address_code": user["address"]})
                if status == 200 and order:
                    gross = db.query_one("SELECT gross_amount FROM orders WHERE id = %s", (order["order_id"],))
                    fake.set_status(midtrans.midtrans_order_id(order["order_id"]), "settlement")  # confirmed by GET
                    mid = midtrans.midtrans_order_id(order["order_id"])
                    fake.set_status(mid, "settlement")  # the customer paid: Midtrans' status API confirms it
                    body = fake.notification(mid, "settlement", gross_amount=f"{int(gross['gross_amount'])}.00")
                    status, _ = client.call("POST /webhook/midtrans", "POST", "/api/v1/webhook/midtrans", body)
                    if status == 200:
                        # the settlement invalidated the sold count: it must show at once, on any worker
                        item = db.query_one("SELECT product_refer FROM order_items WHERE order_refer = %s LIMIT 1",
                                            (order["order_id"],))
                        truth = catalog.units_sold(db, bytes(item["product_refer"]))
                        from omdb.ids import from_bin

                        status, sold = client.call("GET /product-sold (after a settlement)", "GET",
                                                   f"/api/v1/product-sold?id={from_bin(item['product_refer'])}",
                                                   fresh=True)
                        with lock:
                            checks["sold"][0] += 1
                            if status != 200 or sold["count"] < truth:
                                checks["sold"][1] += 1
            if THINK:
                time.sleep(THINK)

    def staff():
        """Every 5 s a staff-side change to a category name, then reads on fresh connections (both workers)."""
        client = Client(port, records, t0)
        n = 0
        while not stop.wait(5):
            n += 1
            new_name = f"{category['name'][:40]} {n}"
            db.execute("UPDATE categories SET name = %s WHERE id = %s", (new_name, category["id"]))
            cachekeys.invalidate_categories()
            for _ in range(4):
                status, body = client.call("GET /category (after a staff change)", "GET", "/api/v1/category",
                                           fresh=True)
                with lock:
                    checks["staff"][0] += 1
                    if status != 200 or new_name not in [c["name"] for c in body or []]:
                        checks["staff"][1] += 1
        db.execute("UPDATE categories SET name = %s WHERE id = %s", (category["name"], category["id"]))
        cachekeys.invalidate_categories()

    def sampler():
        while not stop.is_set():
            now = time.perf_counter() - t0
            for pid in _worker_pids(server.pid):
                kb = _rss_kb(pid)
                if kb:
                    rss.append((now, pid, kb))
            stop.wait(1)

    threads = [threading.Thread(target=shopper, args=(i, u), daemon=True) for i, u in enumerate(users)]
    threads += [threading.Thread(target=staff, daemon=True), threading.Thread(target=sampler, daemon=True)]
    for t in threads:
        t.start()
    time.sleep(DURATION)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    elapsed = time.perf_counter() - t0
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
    fake.stop()
    with open(server.log_path, errors="replace") as fh:
        tracebacks = [block for block in fh.read().split("Traceback (most recent call last):")[1:]][:2]
    near = []
    for path in glob.glob(os.path.join(stats_dir, "near-*.json")):
        with open(path) as fh:
            near.append(json.load(fh))
    shutil.rmtree(stats_dir, ignore_errors=True)
    # stock exact: initial − units on the run's orders that still hold stock, per product
    customers = [u["customer"] for u in users]
    marks = ",".join(["%s"] * len(customers))
    held = {bytes(r["product_refer"]): int(r["n"]) for r in db.query(
        "SELECT oi.product_refer, SUM(oi.quantity) AS n FROM order_items oi JOIN orders o ON o.id = oi.order_refer"
        f" WHERE o.customer_refer IN ({marks}) AND o.stock_released = FALSE GROUP BY oi.product_refer",
        tuple(customers))}
    wrong = []
    for pb, start_qty in initial.items():
        now = db.query_one("SELECT quantity FROM inventories WHERE product_refer = %s", (pb,))["quantity"]
        if int(now) != start_qty - held.get(pb, 0):
            wrong.append((pb.hex(), int(now), start_qty - held.get(pb, 0)))
    orders = db.query_one(f"SELECT COUNT(*) AS n FROM orders WHERE customer_refer IN ({marks})", tuple(customers))["n"]
    return {"records": records, "rss": rss, "elapsed": elapsed, "near": near, "checks": checks, "wrong": wrong,
            "orders": int(orders), "units": sum(held.values()), "tracebacks": tracebacks}


def _plot(result, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records, rss = result["records"], result["rss"]
    buckets = int(max((r[0] for r in records), default=0) // BUCKET) + 1
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True)
    for group in ("browse", "cart", "checkout"):
        xs, ys = [], []
        for b in range(buckets):
            lat = [r[3] for r in records if int(r[0] // BUCKET) == b and GROUP_OF.get(r[1]) == group]
            if lat:
                xs.append(b * BUCKET + BUCKET / 2)
                ys.append(pct(lat, 99) * 1000)
        ax1.plot(xs, ys, marker="o", label=f"{group} p99")
    ax1.set_ylabel("p99 latency (ms)")
    ax1.set_title(f"Soak: {len(records)} requests in {result['elapsed']:.0f} s against gunicorn ({WORKERS} workers)")
    ax1.legend()
    ax1.grid(alpha=0.3)
    for pid in sorted({r[1] for r in rss}):
        pts = [(t, kb / 1024) for t, p, kb in rss if p == pid]
        ax2.plot([p[0] for p in pts], [p[1] for p in pts], label=f"worker {pid}")
    ax2.axvline(WARMUP, color="grey", linestyle="--", linewidth=1)
    ax2.set_ylabel("RSS (MB)")
    ax2.set_xlabel("seconds")
    ax2.legend()
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def run(functions_list=None) -> Section:
    result = soak()
    result["records"] = [r for r in result["records"] if r[0] < DURATION]  # whole buckets only
    records, rss = result["records"], [x for x in result["rss"] if x[0] < DURATION]
    RESULTS["soak"] = result
    errors = [r for r in records if r[2] >= 500 or r[2] == 0]
    buckets = int(max((r[0] for r in records), default=0) // BUCKET) + 1
    section = Section(
        "Sustained load (soak)",
        f"{USERS} virtual shoppers (closed loops, {THINK * 1000:.0f} ms think time, at most {RATE:.0f} requests/s in "
        f"all) for {DURATION} s against the container entrypoint (gunicorn, {WORKERS} sync workers, worker recycling "
        "(max_requests) off so that a leak cannot hide) on loopback: browse 70 %, cart 20 %, checkout + "
        "webhook 10 %, plus a staff-side category change every 5 s. Targets: 0 5xx, worker RSS growth ≤ 5 % after "
        f"the {WARMUP} s warm-up, stock exact at the end.",
        ["window", "requests/s", "p50 ms", "p99 ms", "5xx / failed", "workers' RSS MB"])
    for b in range(buckets):
        inside = [r for r in records if int(r[0] // BUCKET) == b]
        lat = [r[3] for r in inside]
        mem = [kb for t, _, kb in rss if int(t // BUCKET) == b]
        pids = {p for t, p, _ in rss if int(t // BUCKET) == b}
        total_mb = sum(mem) / max(1, len(mem)) * len(pids) / 1024 if mem else 0
        section.rows.append([f"{b * BUCKET}–{(b + 1) * BUCKET} s", f"{len(inside) / BUCKET:.0f}",
                             f"{pct(lat, 50) * 1000:.1f}" if lat else "-", f"{pct(lat, 99) * 1000:.1f}" if lat else "-",
                             str(sum(1 for r in inside if r[2] >= 500 or r[2] == 0)), f"{total_mb:.0f}"])
    per = ["", "| endpoint | requests | p50 ms | p99 ms | worst 10 s p99 ms | statuses |", "|---|---|---|---|---|---|"]
    for name in sorted({r[1] for r in records}, key=lambda n: (GROUP_OF.get(n, "z"), n)):
        mine = [r for r in records if r[1] == name]
        lat = [r[3] for r in mine]
        worst = max(pct([r[3] for r in mine if int(r[0] // BUCKET) == b] or [0], 99) for b in range(buckets))
        statuses = sorted({r[2] for r in mine})
        per.append(f"| {name} | {len(mine)} | {pct(lat, 50) * 1000:.1f} | {pct(lat, 99) * 1000:.1f} | "
                   f"{worst * 1000:.1f} | {', '.join(map(str, statuses))} |")
    section.notes.append("Per endpoint over the whole run:\n" + "\n".join(per) + "\n")
    growth = []
    for pid in sorted({p for _, p, _ in rss}):
        pts = [(t, kb) for t, p, kb in rss if p == pid]
        base = [kb for t, kb in pts if t >= WARMUP][:3]
        if pts[0][0] <= WARMUP and base and pts[-1][0] >= result["elapsed"] - 5:
            growth.append((pid, base[0], pts[-1][1], (pts[-1][1] - base[0]) / base[0]))
    worst_growth = max((g[3] for g in growth), default=float("nan"))
    section.notes.append(
        f"{len(records)} requests in {result['elapsed']:.0f} s ({len(records) / result['elapsed']:.0f}/s); 5xx or "
        f"failed: **{len(errors)}** (target 0: **{'met' if not errors else 'missed'}**)."
        + (" Answers: " + "; ".join(ERRORS[:3]) if ERRORS else "")
        + ("\n\n  Server log, first traceback:\n\n```\n" + result["tracebacks"][0].strip()[-1500:] + "\n```\n"
           if result.get("tracebacks") else ""))
    section.notes.append(
        "Worker RSS after warm-up → end: " + "; ".join(f"pid {p}: {a / 1024:.1f} → {b / 1024:.1f} MB ({g:+.1%})"
                                                    for p, a, b, g in growth)
        + f" — worst **{worst_growth:+.1%}** (target ≤ +5 %: **{'met' if worst_growth <= 0.05 else 'missed'}**). "
        "A worker that did not live from the warm-up to the end (a crash) would be left out of this figure.")
    section.notes.append(
        f"Stock exact at the end: **{'yes' if not result['wrong'] else 'NO ' + repr(result['wrong'][:3])}** "
        f"({result['orders']} orders, {result['units']} units held, checked per product against the initial stock).")
    target(f"soak, {DURATION} s mixed traffic: 5xx, worker RSS growth after warm-up, stock exact",
           f"{len(errors)} 5xx, RSS {worst_growth:+.1%}, stock {'exact' if not result['wrong'] else 'WRONG'}",
           "0, ≤ +5 %, exact", not errors and worst_growth <= 0.05 and not result["wrong"])
    hits = sum(n.get("near_hits", 0) for n in result["near"])
    misses = sum(n.get("near_misses", 0) for n in result["near"])
    inval = sum(n.get("invalidations", 0) for n in result["near"])
    if hits + misses:
        section.notes.append(
            f"Near cache (the workers' counters at exit): {hits}/{hits + misses} hot reads served in process "
            f"(**{hits / (hits + misses):.1%} hit ratio**), {inval} entries dropped by Redis invalidation pushes.")
    staff, sold = result["checks"]["staff"], result["checks"]["sold"]
    section.notes.append(
        f"Visible at once under load: {staff[0]} category reads right after a staff change, **{staff[1]} stale**; "
        f"{sold[0]} sold-count reads right after a settlement, **{sold[1]} stale** (fresh connections, so both "
        "workers answer).")
    png = os.path.join(ROOT, "docs", "soak.png")
    try:
        _plot(result, png)
        os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
        shutil.copy(png, os.path.join(ROOT, "bench", "results", "soak.png"))
        section.notes.append("Plot of p99 and worker RSS over time: ![soak: p99 and RSS over time](soak.png)")
    except ImportError:
        section.notes.append("No plot: matplotlib is not installed (`.venv/bin/pip install matplotlib`).")
    return section


if __name__ == "__main__":
    from common import apply_env

    apply_env()
    import run as runner

    runner.prepare_database()
    print(run().markdown())
