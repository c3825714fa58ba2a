"""Cost per 1,000 orders on AWS, from durations measured in this run and the template's memory sizes.

Every API route of a realistic storefront mix (about 50 page views per order) is called in process through the
Lambda entry (``app(event, context)``) and timed, split into time waiting on MySQL/Redis and the handler's own CPU
time. Lambda gives a function CPU in proportion to its memory (1,769 MB = one vCPU), so the CPU part is scaled by
``1769 / memory`` for functions below that (this machine's core is taken as one vCPU); waiting is not scaled. Each
invocation is billed rounded up to the next millisecond. Cold starts add their INIT time (billed since August 2025)
on an assumed share of invocations.
"""
from __future__ import annotations

import json
import math
import os
import time

from common import RESULTS, ROOT, Section, pct

# US East (N. Virginia) list prices, from aws.amazon.com/lambda/pricing and aws.amazon.com/api-gateway/pricing
PRICE_DATE = "list prices as published for US East (N. Virginia), taken on 2026-11-29"
LAMBDA_ARM_GB_S = 0.0000133334  # USD per GB-second, arm64, first 7.5 billion GB-s a month
LAMBDA_REQUEST = 0.20 / 1_000_000  # USD per request
APIGW_REST_REQUEST = 3.50 / 1_000_000  # USD per REST API call, first 333 million a month
FULL_VCPU_MB = 1769
COLD_SHARE = float(os.environ.get("BENCH_COST_COLD_SHARE", "0.01"))  # share of invocations that start cold
CALLS = int(os.environ.get("BENCH_COST_CALLS", "60"))

# (what the shopper does, function, method, path template, query template, body kind, per 1,000 orders)
# 50 page views per order: 15 homepage, 20 product pages, 8 search/category lists, 5 cart pages, 2 order pages
MIX = [
    ("homepage: products", "catalogue", "GET", "/api/v1/product", None, None, 15_000),
    ("homepage: categories", "catalogue", "GET", "/api/v1/category", None, None, 15_000),
    ("homepage: banners", "catalogue", "GET", "/api/v1/home-banner", None, None, 15_000),
    ("product page: detail", "catalogue", "GET", "/api/v1/product", {"id": "{product}"}, None, 20_000),
    ("product page: sold count", "catalogue", "GET", "/api/v1/product-sold", {"id": "{product}"}, None, 20_000),
    ("product page: reviews", "catalogue", "GET", "/api/v1/product-review", {"id": "{product}"}, None, 20_000),
    ("product page: freight rates", "freight", "GET", "/api/v1/freight-rates",
     {"product_id": "{product}", "area_id": "25410"}, None, 20_000),
    ("search / category list", "catalogue", "GET", "/api/v1/product", {"search": "kopi"}, None, 8_000),
    ("cart page: cart", "cart", "GET", "/api/v1/customer/cart", None, "customer", 5_000),
    ("cart page: count", "cart", "GET", "/api/v1/customer/cart-count", None, "customer", 5_000),
    ("order page", "account", "GET", "/api/v1/customer/order", None, "customer", 2_000),
    ("session refresh / login", "auth", "POST", "/api/v1/auth/login", None, "login", 1_000),
    ("add to cart (2 per order)", "cart", "POST", "/api/v1/customer/cart", None, "add", 2_000),
    ("checkout: pre-items", "checkout", "GET", "/api/v1/customer/pre-items", None, "customer", 1_000),
    ("checkout: pre-freight", "checkout", "GET", "/api/v1/customer/pre-freight", {"id": "{address}"}, "customer",
     1_000),
    ("checkout: place order", "checkout", "POST", "/api/v1/customer/checkout", None, "checkout", 1_000),
    ("Midtrans webhook (2 per order)", "payments", "POST", "/api/v1/webhook/midtrans", None, "webhook", 2_000),
]


def _memory() -> dict[str, int]:
    with open(os.path.join(ROOT, "infra", "spec.json"), encoding="utf-8") as fh:
        spec = json.load(fh)
    default = spec.get("defaults", {}).get("memory", 256)
    return {name: (conf or {}).get("memory", default) for name, conf in spec["functions"].items()}


def run(functions_list) -> Section:
    from omcommerce import midtrans
    from omdb import db
    from omdb.ids import to_bin

    from app import app
    from warm import Meter, event, setup_data

    data = setup_data()
    meter = Meter()
    meter.install()
    memory = _memory()
    pid, address, cookies = data["product"], data["address"], data["cookies"]
    fake = data["fake"]

    def build(method, path, query, kind):
        query = {k: v.format(product=pid, address=address) for k, v in query.items()} if query else None
        if kind == "login":
            return event(method, path, body={"email": "bench@example.com", "password": "Bench#Pass1"})
        if kind == "add":
            return event(method, path, body={"id": pid, "quantity": 1}, cookies=cookies)
        if kind == "checkout":
            db.execute("INSERT INTO cart_items (product_refer, customer_refer, quantity, checked) VALUES (%s, %s, 1,"
                       " TRUE) ON DUPLICATE KEY UPDATE checked = TRUE, quantity = 1",
                       (to_bin(pid), to_bin(data["customer"])))
            db.execute("UPDATE orders SET status = 'cancelled', stock_released = TRUE WHERE customer_refer = %s"
                       " AND status = 'awaiting_payment'", (to_bin(data["customer"]),))  # the unpaid-orders limit
            return event(method, path, body={"courier_code": "sicepat-REG", "address_code": address}, cookies=cookies)
        if kind == "webhook":
            row = db.query_one("SELECT id, gross_amount FROM orders ORDER BY id DESC LIMIT 1")
            if row is None:
                raise RuntimeError(f"no order to notify about: checkout answered {statuses_seen}")
            mid = midtrans.midtrans_order_id(row["id"])
            if mid in fake.transactions:
                fake.set_status(mid, "pending")
            body = fake.notification(mid, "pending", gross_amount=f"{int(row['gross_amount'])}.00")
            return event(method, path, body=body)
        if kind == "customer":
            return event(method, path, query, cookies=cookies)
        return event(method, path, query)

    rows, total_lambda, total_requests = [], 0.0, 0
    statuses_seen: dict = {}
    per_function: dict[str, float] = {}
    for label, function, method, path, query, kind, per_1000 in MIX:
        mem = memory.get(function, 256)
        cpu_factor = max(1.0, FULL_VCPU_MB / mem)
        billed, statuses = [], set()
        n = 15 if kind in ("checkout", "login") else CALLS
        for _ in range(n):
            ev = build(method, path, query, kind)
            meter.reset()
            start = time.perf_counter()
            resp = app(ev, None)
            elapsed = time.perf_counter() - start
            statuses.add(resp["statusCode"])
            if resp["statusCode"] >= 400:
                statuses_seen[label] = resp["body"][:200]
            waiting = meter.db + meter.redis
            own = max(0.0, elapsed - waiting)
            billed.append(math.ceil((waiting + own * cpu_factor) * 1000))
        ms = pct(billed, 50)
        gb_s = mem / 1024 * ms / 1000
        cost = per_1000 * (gb_s * LAMBDA_ARM_GB_S + LAMBDA_REQUEST)
        total_lambda += cost
        total_requests += per_1000
        per_function[function] = per_function.get(function, 0.0) + cost
        rows.append([label, f"{function} ({mem} MB)", f"{per_1000:,}", ", ".join(map(str, sorted(statuses))),
                     f"{ms:.0f}", f"${cost:.4f}"])
    fake.stop()
    cold = RESULTS.get("cold_start_ms", {})
    cold_cost = 0.0
    for label, function, *_rest, per_1000 in MIX:
        init_ms = cold.get(function)
        if init_ms:
            mem = memory.get(function, 256)
            cold_cost += per_1000 * COLD_SHARE * mem / 1024 * init_ms * max(1.0, FULL_VCPU_MB / mem) / 1000 \
                * LAMBDA_ARM_GB_S
    apigw = total_requests * APIGW_REST_REQUEST
    section = Section(
        "Cost per 1,000 orders on AWS (arm64 Lambda + API Gateway REST)",
        "Durations measured in this run (median of in-process calls through the Lambda entry; MySQL/Redis waits as "
        f"measured, the handler's own CPU time scaled by 1769 MB / memory for the function's CPU share, rounded up to "
        f"1 ms), memory sizes from `infra/spec.json`. Prices: {PRICE_DATE}: Lambda arm64 ${LAMBDA_ARM_GB_S} per "
        f"GB-s and $0.20 per million requests; API Gateway REST $3.50 per million calls. Mix: 50 page views per "
        "order (15 homepage, 20 product pages, 8 lists, 5 cart pages, 2 order pages) plus the order's own calls.",
        ["request", "function (memory)", "calls per 1,000 orders", "statuses", "billed ms (p50)",
         "Lambda cost"])
    section.rows = rows
    section.notes.append(
        f"**Per 1,000 orders: Lambda ${total_lambda:.2f} (requests + duration), cold-start INIT ${cold_cost:.2f} "
        f"(assuming {COLD_SHARE:.0%} of invocations start cold, INIT time from the cold-start table), API Gateway "
        f"${apigw:.2f} for {total_requests:,} calls — total ${total_lambda + cold_cost + apigw:.2f}**, i.e. "
        f"${(total_lambda + cold_cost + apigw) / 1000:.4f} per order. API Gateway's per-call price dominates; an "
        "HTTP API ($1.00 per million) would cut that part by 71 %.")
    section.notes.append("By function: " + ", ".join(f"{f} ${c:.3f}" for f, c in sorted(per_function.items(),
                                                                                          key=lambda x: -x[1])))
    section.notes.append("Not included: RDS/Aurora, ElastiCache, NAT/VPC endpoints, CloudWatch Logs, data transfer "
                         "and S3/CloudFront for images (fixed or traffic-priced, independent of these durations).")
    return section
