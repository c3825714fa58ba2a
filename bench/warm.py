"""Warm request cost in process: each route called the way Lambda calls it (``app(event, context)``), with the time
spent inside MySQL and Redis round trips measured separately, so the handler's own overhead is visible. Also a
cached catalogue read against a raw Redis GET plus framework dispatch (``/api/v1/health``)."""
from __future__ import annotations

import json
import time

from common import RESULTS, Section, pct, target

N = 300


class Meter:
    """Accumulates the time spent in MySQL statements and Redis commands."""

    def __init__(self):
        self.db = 0.0
        self.redis = 0.0
        self.db_calls = 0
        self.redis_calls = 0

    def install(self):
        import redis

        from omdb import db as dbmod

        meter = self
        original_run = dbmod._Runner._cursor_run

        def timed_run(self, conn, sql, args, many=False):
            start = time.perf_counter()
            try:
                return original_run(self, conn, sql, args, many)
            finally:
                meter.db += time.perf_counter() - start
                meter.db_calls += 1

        dbmod._Runner._cursor_run = timed_run
        original_exec = redis.Redis.execute_command

        def timed_exec(self, *args, **kwargs):
            start = time.perf_counter()
            try:
                return original_exec(self, *args, **kwargs)
            finally:
                meter.redis += time.perf_counter() - start
                meter.redis_calls += 1

        redis.Redis.execute_command = timed_exec
        original_pipe = redis.client.Pipeline.execute

        def timed_pipe(self, *args, **kwargs):
            start = time.perf_counter()
            try:
                return original_pipe(self, *args, **kwargs)
            finally:
                meter.redis += time.perf_counter() - start
                meter.redis_calls += 1

        redis.client.Pipeline.execute = timed_pipe
        from omcore import resp

        # every round trip of omcore's lean clients (main Redis and cache) goes through execute_many
        original_lean = resp.Connection.execute_many

        def timed_lean(self, *args, **kwargs):
            start = time.perf_counter()
            try:
                return original_lean(self, *args, **kwargs)
            finally:
                meter.redis += time.perf_counter() - start
                meter.redis_calls += 1

        resp.Connection.execute_many = timed_lean

    def reset(self):
        self.db = self.redis = 0.0
        self.db_calls = self.redis_calls = 0


def event(method, path, query=None, body=None, cookies=None):
    headers = {"user-agent": "bench", "content-type": "application/json"}
    if cookies:
        headers["cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    return {"resource": path, "path": path, "httpMethod": method, "headers": headers,
            "multiValueHeaders": {}, "queryStringParameters": query,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
            "pathParameters": None, "stageVariables": None,
            "body": json.dumps(body) if body is not None else None, "isBase64Encoded": False,
            "requestContext": {"resourcePath": path, "httpMethod": method, "path": path,
                               "identity": {"sourceIp": "127.0.0.1"}}}


def setup_data():
    """Demo catalogue and rates, one customer with a cart and an address, and a fake Midtrans."""
    import os

    from omauth import sessions, tokens
    from omdb import db
    from omdb.ids import from_bin, new_id

    from tools.catalogue import demo as catalogue_demo
    from tools.freight import demo as freight_demo
    from tools.payments.fake_midtrans import FakeMidtrans

    catalogue_demo.load()
    freight_demo.load()
    fake = FakeMidtrans(server_key="SB-Mid-server-BENCH", notification_url="http://127.0.0.1:9/").start()
    os.environ.update(fake.env())
    os.environ["MIDTRANS_BASE_ORDER_ID"] = f"BENCH{int(time.time())}"
    from omauth.passwords import hash_password

    existing = db.query_one("SELECT id FROM customers WHERE email = 'bench@example.com'")
    if existing:  # a second benchmark in the same run reuses the shopper
        cid = __import__("uuid").UUID(bytes=bytes(existing["id"]))
        address = __import__("uuid").UUID(bytes=bytes(db.query_one(
            "SELECT id FROM customer_addresses WHERE customer_refer = %s", (cid.bytes,))["id"]))
    else:
        cid = new_id()
        db.execute("INSERT INTO customers (id, email, hashed_password, first_name, last_name) VALUES (%s, %s, %s,"
                   " 'B', 'N')", (cid.bytes, "bench@example.com", hash_password("Bench#Pass1")))
        address = new_id()
        db.execute("INSERT INTO customer_addresses (id, customer_refer, label, full_address, recipient_name,"
                   " phone_number, shipping_area_refer, postal_code) VALUES (%s, %s, 'Rumah', 'Jl. 1', 'B',"
                   " '0812345678', 25410, '10110')", (address.bytes, cid.bytes))
    session = sessions.create("cus", str(cid), remember_me=False)
    token = tokens.issue(tokens.AUD_CUSTOMER, str(cid), 3600, {"sid": session.family})
    product = db.query_one("SELECT p.id FROM products p JOIN inventories i ON i.product_refer = p.id"
                           " WHERE p.deleted_at IS NULL AND i.quantity > 0 ORDER BY p.name LIMIT 1")["id"]
    db.execute("UPDATE inventories SET quantity = 1000000 WHERE product_refer = %s", (product,))
    return {"customer": str(cid), "cookies": {"ac_cus": token}, "product": from_bin(product),
            "address": str(address), "fake": fake}


def measure(app, ctx, meter, ev_factory, n=N):
    totals, own = [], []
    measure.statuses = set()
    for _ in range(n):
        ev = ev_factory()
        meter.reset()
        start = time.perf_counter()
        resp = app(ev, ctx)
        elapsed = time.perf_counter() - start
        assert resp["statusCode"] < 500, resp
        measure.statuses.add(resp["statusCode"])
        totals.append(elapsed)
        own.append(elapsed - meter.db - meter.redis)
    return totals, own, meter.db_calls, meter.redis_calls


def staleness(kv, cachekeys, trials: int = 200) -> str:
    """How stale can a near-cache read be? Another connection invalidates, the way a writer in another process does
    (``kv``'s DEL + PING), a key this process holds in its near cache; right after the writer returns, this process
    reads the key and must not get the old entry. Also measures how long after the writer returned the invalidation
    push was readable here (negative: it was there before the writer returned)."""
    import select

    settings = kv.cache_settings()
    writer = kv._CacheConnection(**settings, connect_timeout=1, timeout=1, tracking=False)
    key = "cache:bench:staleness"
    conn = kv.cache_client()
    stale, delays = 0, []
    for i in range(trials):
        writer.set(key, f"v{i}", ex=60)
        kv.cache_get(key, near=True)
        kv.cache_get(key, near=True)  # a near hit now
        writer.delete(key)
        done = time.perf_counter()
        already = bool(select.select([conn._sock], [], [], 0)[0])
        if kv.cache_get(key, near=True) is not None:
            stale += 1
        delays.append(0.0 if already else time.perf_counter() - done)
    writer.close()
    late = sum(1 for d in delays if d > 0)
    return (f"Near-cache staleness: {trials} invalidations by another connection (DEL, then one PING round trip, as "
            f"`kv.cache_delete` does); reads right after the writer returned: **{stale} stale**; the push was "
            f"already readable when the writer returned in {trials - late}/{trials} trials. A live connection is "
            "invalidated at once; a connection silent for over 1 s is asked again before a near hit is served.")


def run(functions_list) -> Section:
    import redis as redis_mod

    from omcore import kv

    from app import app
    from chalice_wsgi import _Context

    data = setup_data()
    meter = Meter()
    meter.install()
    ctx = _Context("bench", 30000)
    cookies, pid, address = data["cookies"], data["product"], data["address"]
    app(event("GET", "/api/v1/product"), ctx)  # warm the caches
    app(event("GET", "/api/v1/category"), ctx)

    def add():
        return event("POST", "/api/v1/customer/cart", body={"id": pid, "quantity": 1}, cookies=cookies)

    def checkout():
        from omdb import db
        from omdb.ids import to_bin

        db.execute("INSERT INTO cart_items (product_refer, customer_refer, quantity, checked) VALUES (%s, %s, 1, TRUE)"
                   " ON DUPLICATE KEY UPDATE checked = TRUE", (to_bin(pid), to_bin(data["customer"])))
        return event("POST", "/api/v1/customer/checkout",
                     body={"courier_code": "sicepat-REG", "address_code": address}, cookies=cookies)

    order_ids = []

    def webhook():
        from omdb import db

        if not order_ids:
            order_ids.extend(r["id"] for r in db.query("SELECT id FROM orders WHERE status = 'awaiting_payment'"))
        order_id = order_ids.pop() if order_ids else 1
        body = data["fake"].notification(f"{__import__('os').environ['MIDTRANS_BASE_ORDER_ID']}-{order_id}",
                                         "settlement", gross_amount="0.00")
        from omcommerce import midtrans

        gross = db.query_one("SELECT gross_amount FROM orders WHERE id = %s", (order_id,))
        body["gross_amount"] = f"{int(gross['gross_amount'])}.00" if gross else "0.00"
        body["signature_key"] = midtrans.signature(body["order_id"], body["status_code"], body["gross_amount"])
        if body["order_id"] in data["fake"].transactions:
            data["fake"].set_status(body["order_id"], "settlement")  # paid: Midtrans' status API confirms it
        if body["order_id"] in data["fake"].transactions:  # the webhook confirms with the fake's status endpoint
            data["fake"].set_status(body["order_id"], "settlement")
        return event("POST", "/api/v1/webhook/midtrans", body=body)

    cases = [
        ("GET /product (homepage, cached)", lambda: event("GET", "/api/v1/product")),
        ("GET /product?id= (detail, cached + live stock)", lambda: event("GET", "/api/v1/product", {"id": pid})),
        ("GET /customer/cart", lambda: event("GET", "/api/v1/customer/cart", cookies=cookies)),
        ("GET /customer/order", lambda: event("GET", "/api/v1/customer/order", cookies=cookies)),
        ("POST /customer/cart (add)", add),
        ("POST /customer/checkout (fake Midtrans over HTTP)", checkout),
        ("POST /webhook/midtrans (settlement)", webhook),
    ]
    section = Section(
        "Warm requests in process",
        f"p50/p99 of {N} calls through `app(event, context)` (the Lambda entry), each split into time inside MySQL "
        "statements and Redis commands and the handler's own overhead (everything else: routing, JWT, JSON, "
        "business logic). Target: own overhead ≤ 1 ms at p50.",
        ["request", "p50 total ms", "p99 total ms", "MySQL/Redis calls", "own overhead p50 ms", "target"])
    for name, factory in cases:
        n = 60 if "checkout" in name else N
        totals, own, dbc, rc = measure(app, ctx, meter, factory, n)
        over = pct(own, 50) * 1000
        if "checkout" in name:
            RESULTS["checkout_success_ms"] = pct(totals, 50) * 1000
        section.rows.append([f"{name} → {', '.join(map(str, sorted(measure.statuses)))}", f"{pct(totals, 50) * 1000:.2f}", f"{pct(totals, 99) * 1000:.2f}",
                             f"{dbc} / {rc}", f"{over:.2f}",
                             "met" if over <= 1.0 or "checkout" in name else "missed"])
    # cached read against raw Redis GET + framework dispatch
    from omcommerce import cachekeys

    settings = kv.cache_settings()
    raw = redis_mod.Redis(host=settings["host"], port=settings["port"], db=settings["db"],
                          password=settings["password"])
    lean = kv._CacheConnection(**settings, connect_timeout=1, timeout=1, tracking=False)
    gets, lean_gets = [], []
    for _ in range(N):
        start = time.perf_counter()
        raw.get(cachekeys.CATEGORIES)
        gets.append(time.perf_counter() - start)
        start = time.perf_counter()
        lean.execute("GET", cachekeys.CATEGORIES)
        lean_gets.append(time.perf_counter() - start)
    dispatch = measure(app, ctx, meter, lambda: event("GET", "/api/v1/health"))[0]
    before = kv.near_stats()
    cached = measure(app, ctx, meter, lambda: event("GET", "/api/v1/category"))[0]
    after = kv.near_stats()
    base = pct(gets, 50) + pct(dispatch, 50)
    lean_base = pct(lean_gets, 50) + pct(dispatch, 50)
    ratio = pct(cached, 50) / base
    hits = after["near_hits"] - before.get("near_hits", 0)
    misses = after["near_misses"] - before.get("near_misses", 0)
    section.notes.append(
        f"Cached catalogue read (`GET /api/v1/category`, near cache) p50 {pct(cached, 50) * 1000:.3f} ms vs raw "
        f"Redis GET (redis-py) {pct(gets, 50) * 1000:.3f} ms + dispatch of `/api/v1/health` "
        f"{pct(dispatch, 50) * 1000:.3f} ms = **{ratio:.2f}×** (target ≤ 1.5×: **{'met' if ratio <= 1.5 else 'missed'}**"
        f"); against the lean RESP GET ({pct(lean_gets, 50) * 1000:.3f} ms) + dispatch: "
        f"{pct(cached, 50) / lean_base:.2f}×. Near-cache hits in that loop: {hits}/{hits + misses}.")
    target("cached read in process (`GET /category`) vs raw Redis GET + dispatch", f"{ratio:.2f}× "
           f"({pct(cached, 50) * 1000:.3f} ms vs {base * 1000:.3f} ms; {pct(cached, 50) / lean_base:.2f}× against the "
           "lean RESP GET)", "≤ 1.5×", ratio <= 1.5)
    section.notes.append(staleness(kv, cachekeys))
    lean.close()
    section.notes.append("Checkout includes its HTTP call to the fake Midtrans (Snap), counted as own overhead; its "
                         "target is not the 1 ms one.")
    data["fake"].stop()
    return section
