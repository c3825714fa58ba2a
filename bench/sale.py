"""A sale (issue 19): 200 buyers press Checkout at once against one container started as deployed
(``swarm-fallback/entrypoint.sh api``, its default worker count and threads) while one shopper keeps browsing
``GET /api/v1/category``; the payment provider (a fake Midtrans in its own process) answers each Snap call after
0.8 s, then after 0 s. Every figure is a ratio against a baseline measured in this run.

    .venv/bin/python bench/run.py --only sale

``BENCH_SALE_SERVER`` = ``deployed`` (default: gunicorn.conf.py as it is) | ``sync`` (5 sync workers: the setup
before issue 19) | ``gevent`` (gevent workers; needs gevent importable) runs the same rush against another server
model, which is how docs/concurrency.md compares them.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from common import PYTHON, ROOT, Section, pct, target

BUYERS = int(os.environ.get("BENCH_SALE_BUYERS", "200"))
PRODUCTS = 20
SLOW = float(os.environ.get("BENCH_SALE_PROVIDER_SECONDS", "0.8"))
SERVER_MODELS = {
    "deployed": {},
    "sync": {"GUNICORN_CMD_ARGS": "--worker-class sync --threads 1 --workers 5"},
    "gevent": {"GUNICORN_CMD_ARGS": "--worker-class gevent --worker-connections 1000"},
}


class _Provider:
    """The fake Midtrans in its own process (the real one is another service), answering Snap after ``delay`` s."""

    def __init__(self, delay: float):
        from loadgen import free_port

        self.port = free_port()
        code = ("import sys, time; sys.path.insert(0, %r); "
                "from tools.payments.fake_midtrans import FakeMidtrans; "
                "f = FakeMidtrans(server_key='SB-Mid-server-SALE', notification_url='http://127.0.0.1:9/', port=%d); "
                "f.snap_delay = %r; f.start(); print('ready', flush=True); time.sleep(3600)"
                % (ROOT, self.port, delay))
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, cwd=ROOT)
        self.proc.stdout.readline()

    def env(self):
        base = f"http://127.0.0.1:{self.port}"
        return {"MIDTRANS_BASE_URL_SNAP": base + "/snap/v1", "MIDTRANS_BASE_URL_CORE_API": base,
                "MIDTRANS_SERVER_KEY": "SB-Mid-server-SALE", "MIDTRANS_TIMEOUT_SECONDS": "30",
                "MIDTRANS_BASE_ORDER_ID": f"SALE{time.time_ns()}"}

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def _rss_kb(pid: int) -> int:
    """Resident memory of a process and all its children (the gunicorn master and workers), in kB."""
    total = 0
    pending = [pid]
    while pending:
        p = pending.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                total += next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    pending += [int(c) for c in fh.read().split()]
        except (OSError, StopIteration, ValueError):
            pass
    return total


_BROWSER = r"""
import sys, time, urllib3
http = urllib3.PoolManager(maxsize=1, retries=False, timeout=urllib3.Timeout(connect=5, read=60))
url = sys.argv[1]
while True:
    start = time.monotonic()
    try:
        status = http.request("GET", url).status
    except urllib3.exceptions.HTTPError:
        status = 0
    print(f"{start} {time.monotonic() - start} {status}", flush=True)
    time.sleep(0.005)
"""


class _Browser:
    """One shopper browsing the category list in a loop on its own keep-alive connection, in its own process (in
    the load generator's process its timings would include waiting for the GIL behind the 200 buyer threads)."""

    def __init__(self, base):
        self.proc = subprocess.Popen([PYTHON, "-c", _BROWSER, base + "/api/v1/category"], stdout=subprocess.PIPE,
                                     text=True)
        self.samples: list[tuple[float, float, int]] = []  # (time.monotonic() at start, seconds, status)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            start, seconds, status = line.split()
            self.samples.append((float(start), float(seconds), int(status)))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self._reader.join(timeout=10)

    def between(self, t0, t1):
        return [s[1] for s in self.samples if t0 <= s[0] <= t1]


def _setup(n):
    """``n`` customers with an address, ``PRODUCTS`` products with stock for every buyer; returns ids."""
    from omauth.passwords import hash_password
    from omcommerce import stock
    from omdb import db
    from omdb.ids import new_id

    from tools.catalogue import demo as catalogue_demo
    from tools.freight import demo as freight_demo

    catalogue_demo.load()
    freight_demo.load()
    category = db.query_one("SELECT id FROM categories ORDER BY id LIMIT 1")["id"]
    products = []
    for i in range(PRODUCTS):
        pid = new_id()
        with db.transaction() as tx:
            tx.execute("INSERT INTO products (id, name, description, price, weight, category_refer, length, width,"
                       " height) VALUES (%s, %s, 'sale', 49000, 0.3, %s, 10, 10, 10)",
                       (pid.bytes, f"Sale Kopi {i}", category))
            stock.create(tx, pid, 2 * n)  # enough for both rounds
        products.append(pid)
    password = hash_password("Sale#Pass1")
    buyers = []
    for i in range(n):
        cid, address = new_id(), new_id()
        db.execute("INSERT INTO customers (id, email, hashed_password, first_name, last_name) VALUES"
                   " (%s, %s, %s, 'S', 'B')", (cid.bytes, f"sale{i}@example.com", password))
        db.execute("INSERT INTO customer_addresses (id, customer_refer, label, full_address, recipient_name,"
                   " phone_number, shipping_area_refer, postal_code) VALUES (%s, %s, 'Rumah', 'Jl. 1', 'S',"
                   " '0812345678', 25410, '10110')", (address.bytes, cid.bytes))
        buyers.append((cid, str(address), f"sale{i}@example.com"))
    return products, buyers


def _fill_carts(products, buyers):
    from omdb import db

    db.execute("DELETE FROM cart_items")  # lines a failed checkout of the last round left behind
    for i, (cid, _, _) in enumerate(buyers):
        db.execute("INSERT INTO cart_items (product_refer, customer_refer, quantity, checked) VALUES (%s, %s, 1, TRUE)",
                   (products[i % PRODUCTS].bytes, cid.bytes))


def _rush(base, shoppers, addresses):
    """Every buyer presses Checkout at once (threads released by a barrier) while the browser keeps browsing."""
    browser = _Browser(base)
    time.sleep(3)  # browse alone first: the baseline
    barrier = threading.Barrier(len(shoppers) + 1)
    results = []

    def buy(shopper, address_id):
        barrier.wait()
        start = time.perf_counter()
        try:
            resp = shopper.http.request("POST", base + "/api/v1/customer/checkout", body=json.dumps(
                {"courier_code": "sicepat-REG", "address_code": address_id}), headers={
                "content-type": "application/json",
                "cookie": "; ".join(f"{k}={v}" for k, v in shopper.cookies.items())})
        except Exception as exc:  # no answer at all: counted as a failure with its reason
            results.append((0, time.perf_counter() - start, f"{type(exc).__name__}: {str(exc)[:80]}"))
            return
        error = ""
        if resp.status != 200:
            try:
                error = json.loads(resp.data).get("error", "")
            except (ValueError, AttributeError):
                error = resp.data[:80].decode(errors="replace")
        results.append((resp.status, time.perf_counter() - start, error))

    for shopper in shoppers:
        # 200 visitors arriving at once: fresh connections (the server has closed the idle keep-alive ones of the
        # logins by now; reusing them would race its keep-alive timeout, a client artefact, not the server's)
        shopper.http.clear()
    threads = [threading.Thread(target=buy, args=(s, a)) for s, a in zip(shoppers, addresses)]
    for t in threads:
        t.start()
    baseline_end = time.monotonic()
    barrier.wait()
    rush_start = time.monotonic()
    for t in threads:
        t.join()
    rush_end = time.monotonic()
    browser.stop()
    before = browser.between(baseline_end - 2.5, baseline_end)
    during = browser.between(rush_start, rush_end)
    return results, before, during, rush_end - rush_start, [s[2] for s in browser.samples]


def _start_server(env):
    """``swarm-fallback/entrypoint.sh api`` as deployed: no WEB_CONCURRENCY, so gunicorn.conf.py's default; order
    mails only written to the outbox, as stack.yml runs the api (the expiry role sends them)."""
    from loadgen import Server

    return Server(env, base={"MAIL_DELIVERY": "sweep"}, drop=("WEB_CONCURRENCY",), python=PYTHON)


def _wrk_ratio(base, model_env) -> tuple[float, float, float] | None:
    """Cached GET /category vs a hello-world WSGI app on the same gunicorn settings, with wrk."""
    if shutil.which("wrk") is None:
        return None
    from http_server import HELLO, _free_port, _start, _wrk

    folder = tempfile.mkdtemp()
    with open(os.path.join(folder, "hello.py"), "w") as fh:
        fh.write(HELLO)
    port = _free_port()
    env = dict(os.environ, BIND=f"127.0.0.1:{port}", ACCESS_LOG="0",
               PATH=os.path.dirname(PYTHON) + ":" + os.environ["PATH"], **model_env)
    env.pop("WEB_CONCURRENCY", None)
    # the same gunicorn.conf.py (workers, threads, worker class), serving hello-world instead of the app
    hello = _start([os.path.join(os.path.dirname(PYTHON), "gunicorn"), "--config",
                    os.path.join(ROOT, "swarm-fallback", "gunicorn.conf.py"), "--chdir", folder, "hello:application"],
                   env, port)
    try:
        hello_rps = _wrk(f"http://127.0.0.1:{port}/api/v1/health")[0]
    finally:
        hello.terminate()
        try:
            hello.wait(timeout=20)
        except subprocess.TimeoutExpired:
            hello.kill()
            hello.wait()
    cat_rps = _wrk(base + "/api/v1/category")[0]
    return cat_rps, hello_rps, cat_rps / hello_rps


def run(functions_list) -> Section:
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from omdb import db

    from loadgen import Shopper

    model = os.environ.get("BENCH_SALE_SERVER", "deployed")
    model_env = SERVER_MODELS[model]
    products, buyers = _setup(BUYERS)
    section = Section(
        f"A sale: {BUYERS} buyers at once while a shopper browses (server: {model})",
        f"One container as deployed (`swarm-fallback/entrypoint.sh api`, default workers and threads on this "
        f"{os.cpu_count()}-CPU machine; the load generator, MySQL, Redis and the fake provider share the cores). "
        f"{BUYERS} buyers, each with a different one-unit cart ({PRODUCTS} products, stock for all), press Checkout "
        "at once while one client browses `GET /api/v1/category` in a loop; the fake Midtrans (own process) "
        "answers each Snap call after the provider latency.",
        ["provider latency", "browse p99 before / during rush (ms)", "ratio (≤ 3)", "answered", "checkout p50 / p99 / "
         "max (ms)", "checkout p99 / provider", "statuses", "oversold", "5xx", "RSS before → after (MB)"])
    for delay in (SLOW, 0.0):
        provider = _Provider(delay)
        server = _start_server({**provider.env(), **model_env})
        try:
            shoppers, addresses = [], []
            for _, address, email in buyers:
                shopper = Shopper(server.base, email, "Sale#Pass1")
                assert shopper.login() == 200
                shoppers.append(shopper)
                addresses.append(address)
            _fill_carts(products, buyers)
            stock_before = int(db.query_one("SELECT SUM(quantity) AS n FROM inventories WHERE product_refer IN"
                                            f" ({db.placeholders(PRODUCTS)})", [p.bytes for p in products])["n"])
            rss_before = _rss_kb(server.proc.pid)
            results, before, during, elapsed, browse_statuses = _rush(server.base, shoppers, addresses)
            rss_after = _rss_kb(server.proc.pid)
            try:
                ratio = _wrk_ratio(server.base, model_env) if delay == 0 else None
            except Exception as exc:  # the rush's figures still count
                ratio = None
                section.notes.append(f"cached read vs hello-world failed: {type(exc).__name__}: {exc}")
        finally:
            server.stop()
            provider.stop()
        stock_after = int(db.query_one("SELECT SUM(quantity) AS n FROM inventories WHERE product_refer IN"
                                       f" ({db.placeholders(PRODUCTS)})", [p.bytes for p in products])["n"])
        ok = [r for r in results if r[0] == 200]
        times = [r[1] * 1000 for r in results]
        fivexx = sum(1 for r in results if r[0] >= 500 or r[0] == 0) + sum(1 for s in browse_statuses if s >= 500)
        # every unit an open order holds must have been reserved from stock: more would be overselling
        held = int(db.query_one(
            "SELECT COALESCE(SUM(oi.quantity), 0) AS n FROM order_items oi JOIN orders o ON o.id = oi.order_refer"
            f" WHERE o.status <> 'cancelled' AND oi.product_refer IN ({db.placeholders(PRODUCTS)})",
            [p.bytes for p in products])["n"])
        oversold = max(0, held - (2 * BUYERS * PRODUCTS - stock_after))
        lost = (stock_before - stock_after) - len(ok)  # reserved, but the buyer got no 200
        browse_before, browse_during = pct(before, 99) * 1000, pct(during, 99) * 1000
        browse_ratio = browse_during / browse_before
        p99 = pct(times, 99)
        section.rows.append([
            f"{delay:.1f} s", f"{browse_before:.1f} / {browse_during:.1f}",
            f"{browse_ratio:.1f} ({'met' if browse_ratio <= 3 else 'missed'})",
            f"{len(results)}/{BUYERS} ({len(ok)} orders)",
            f"{pct(times, 50):.0f} / {p99:.0f} / {max(times):.0f}",
            f"{p99 / 1000 / delay:.2f} ({'met' if p99 / 1000 <= 2 * delay else 'missed'})" if delay else
            f"p99 {p99:.0f} ms ({'met' if p99 <= 300 else 'missed'} ≤ 300)",
            ", ".join(sorted({str(r[0]) for r in results})), str(oversold), str(fivexx),
            f"{rss_before / 1024:.0f} → {rss_after / 1024:.0f} (+{(rss_after - rss_before) / 1024:.0f})"])
        label = f"sale ({model}), provider {delay:.1f} s"
        target(f"{label}: browse p99 during the rush vs before", f"{browse_ratio:.1f}× "
               f"({browse_during:.0f} vs {browse_before:.1f} ms)", "≤ 3×", browse_ratio <= 3)
        if delay:
            target(f"{label}: checkout p99 vs provider latency", f"{p99 / 1000 / delay:.2f}× ({p99:.0f} ms)", "≤ 2×",
                   p99 / 1000 <= 2 * delay)
        else:
            target(f"{label}: checkout rush p99", f"{p99:.0f} ms", "≤ 300 ms", p99 <= 300)
        target(f"{label}: every buyer answered, 0 oversold, 0 5xx",
               f"{len(results)}/{BUYERS}, {oversold} oversold, {fivexx} 5xx", "all, 0, 0",
               len(results) == BUYERS and oversold == 0 and fivexx == 0)
        failures = {}
        for r in results:
            if r[0] != 200:
                failures[f"{r[0]} {r[2]}"] = failures.get(f"{r[0]} {r[2]}", 0) + 1
        if failures:
            section.notes.append(f"provider {delay:.1f} s, failed checkouts: "
                                 + "; ".join(f"{n} × {what}" for what, n in sorted(failures.items())))
        if lost:
            section.notes.append(f"provider {delay:.1f} s: {lost} units reserved for orders whose buyer got no 200 "
                                 "(they expire with the payment window)")
        section.notes.append(f"provider {delay:.1f} s: the rush took {elapsed:.2f} s ({len(ok) / elapsed:.0f} "
                             f"orders/s); {len(during)} browse requests during it")
        if ratio is not None:
            cat_rps, hello_rps, r = ratio
            section.notes.append(f"cached `GET /api/v1/category` over HTTP: {cat_rps:.0f} requests/s vs hello-world "
                                 f"{hello_rps:.0f} on the same gunicorn settings (wrk): {r:.2f} "
                                 f"({'met' if r >= 0.6 else 'missed'} ≥ 0.6)")
            target(f"sale ({model}): cached GET /category over HTTP vs hello-world, same server", f"{r:.2f}",
                   "≥ 0.6", r >= 0.6)
        elif delay == 0:
            section.notes.append("cached read vs hello-world: **skipped**, wrk is not installed")
    return section
