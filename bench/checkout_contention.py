"""Checkout under contention: 200 concurrent buyers for 20 units, over HTTP against the container server (gunicorn,
2 workers) with a fake Midtrans: orders per second, p99, and zero oversell."""
from __future__ import annotations

import os
import sys
import threading
import time

from common import ROOT, Section, pct

BUYERS = int(os.environ.get("BENCH_BUYERS", "200"))
UNITS = 20


def run(functions_list) -> Section:
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from loadgen import Server, Shopper, free_port  # noqa: F401

    from functions.catalogue import demo as catalogue_demo
    from functions.freight import demo as freight_demo
    from functions.payments.fake_midtrans import FakeMidtrans
    from omauth.passwords import hash_password
    from omcommerce import stock
    from omdb import db
    from omdb.ids import new_id, to_bin

    catalogue_demo.load()
    freight_demo.load()
    fake = FakeMidtrans(server_key="SB-Mid-server-RUSH", notification_url="http://127.0.0.1:9/").start()
    os.environ.update({**fake.env(), "MIDTRANS_BASE_ORDER_ID": f"RUSH{int(time.time())}"})
    category = db.query_one("SELECT id FROM categories ORDER BY id LIMIT 1")["id"]
    pid = new_id()
    with db.transaction() as tx:
        tx.execute("INSERT INTO products (id, name, description, price, weight, category_refer, length, width, height)"
                   " VALUES (%s, 'Flash Sale Kopi', 'limited', 99000, 0.3, %s, 10, 10, 10)", (pid.bytes, category))
        stock.create(tx, pid, UNITS)
    password = hash_password("Rush#Pass1")
    buyers = []
    server = Server({"WEB_CONCURRENCY": "2"})
    try:
        for i in range(BUYERS):
            cid = new_id()
            db.execute("INSERT INTO customers (id, email, hashed_password, first_name, last_name) VALUES"
                       " (%s, %s, %s, 'R', 'U')", (cid.bytes, f"rush{i}@example.com", password))
            address = new_id()
            db.execute("INSERT INTO customer_addresses (id, customer_refer, label, full_address, recipient_name,"
                       " phone_number, shipping_area_refer, postal_code) VALUES (%s, %s, 'Rumah', 'Jl. 1', 'R',"
                       " '0812345678', 25410, '10110')", (address.bytes, cid.bytes))
            db.execute("INSERT INTO cart_items (product_refer, customer_refer, quantity, checked) VALUES (%s, %s, 1,"
                       " TRUE)", (pid.bytes, cid.bytes))
            shopper = Shopper(server.base, f"rush{i}@example.com", "Rush#Pass1")
            assert shopper.login() == 200
            buyers.append((shopper, str(address)))
        barrier = threading.Barrier(len(buyers))
        results = []

        def buy(shopper, address_id):
            barrier.wait()
            start = time.perf_counter()
            status, _ = shopper.call("POST", "/api/v1/customer/checkout",
                                     {"courier_code": "sicepat-REG", "address_code": address_id})
            results.append((status, time.perf_counter() - start))

        threads = [threading.Thread(target=buy, args=b) for b in buyers]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
    finally:
        server.stop()
        fake.stop()
    ok = [r for r in results if r[0] == 200]
    statuses = sorted({r[0] for r in results})
    left = db.query_one("SELECT quantity FROM inventories WHERE product_refer = %s", (to_bin(pid),))["quantity"]
    orders = db.query_one("SELECT COUNT(*) AS n FROM order_items WHERE product_refer = %s", (to_bin(pid),))["n"]
    section = Section(
        "Checkout under contention",
        f"{BUYERS} buyers with one unit each in their cart press Checkout at the same moment (threads released by a "
        f"barrier) for a product with {UNITS} units, over HTTP against gunicorn (2 workers) with a fake Midtrans.",
        ["buyers", "orders", "units left", "oversold", "statuses", "orders/s", "p50 ms", "p99 ms"])
    section.rows.append([BUYERS, len(ok), left, max(0, orders - UNITS), ", ".join(map(str, statuses)),
                         f"{len(ok) / elapsed:.1f}", f"{pct([r[1] for r in results], 50) * 1000:.0f}",
                         f"{pct([r[1] for r in results], 99) * 1000:.0f}"])
    section.notes.append(f"all {BUYERS} answered in {elapsed:.2f} s; every refused buyer got 409 (not enough stock)")
    return section
