"""A small, bounded load generator: virtual shoppers over real HTTP (keep-alive connections, one per thread)."""
from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import urllib3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``swarm-fallback/entrypoint.sh api`` on a free loopback port. ``base``: variables under ``env`` (the tests run
    three workers); ``drop``: variables never passed (e.g. WEB_CONCURRENCY, to get gunicorn.conf.py's default as
    deployed); ``python``: the interpreter whose folder holds gunicorn."""

    def __init__(self, env, *, base=None, drop=(), python=None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        full = {**os.environ, **({"WEB_CONCURRENCY": "3"} if base is None else base), "ACCESS_LOG": "0", **env,
                "BIND": f"127.0.0.1:{self.port}",
                "PATH": os.path.dirname(python or sys.executable) + ":" + os.environ["PATH"]}
        for name in drop:
            full.pop(name, None)
        self.proc = subprocess.Popen(["sh", os.path.join(ROOT, "swarm-fallback", "entrypoint.sh"), "api"], cwd=ROOT,
                                     env=full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/api/v1/health", timeout=2):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(self.proc.stderr.read().decode()[-2000:])
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()




class Shopper:
    def __init__(self, base: str, email: str, password: str):
        self.base = base
        self.http = urllib3.PoolManager(maxsize=1, retries=False, timeout=urllib3.Timeout(connect=5, read=30))
        self.cookies: dict[str, str] = {}
        self.email, self.password = email, password
        self.statuses: list[int] = []
        self.latencies: list[float] = []

    def call(self, method, path, body=None, absolute=False):
        headers = {"content-type": "application/json"}
        if self.cookies:
            headers["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        start = time.perf_counter()
        try:
            resp = self.http.request(method, path if absolute else self.base + path,
                                     body=json.dumps(body) if body is not None else None, headers=headers)
        except urllib3.exceptions.HTTPError:
            self.statuses.append(0)
            return 0, None
        self.latencies.append(time.perf_counter() - start)
        self.statuses.append(resp.status)
        for line in resp.headers.getlist("Set-Cookie"):
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in line:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        try:
            data = json.loads(resp.data) if resp.data and resp.headers.get("content-type", "").startswith(
                "application/json") else resp.data
        except ValueError:
            data = None
        return resp.status, data

    def login(self):
        return self.call("POST", "/api/v1/auth/login", {"email": self.email, "password": self.password})[0]

    def session(self, products: list[str], address_id: str, rng: random.Random, pay: bool = True):
        """Browse, fill the cart, check out, then pay, cancel or walk away."""
        self.call("GET", "/api/v1/product")
        pid = rng.choice(products)
        self.call("GET", f"/api/v1/product?id={pid}")
        self.call("GET", "/api/v1/product?search=kopi&limit=15")
        self.call("GET", f"/api/v1/product-sold?id={pid}")
        status, _ = self.call("POST", "/api/v1/customer/cart", {"id": pid, "quantity": rng.randint(1, 2)})
        if status == 401:
            self.call("GET", "/api/v1/auth/refresh")
        if status != 200:
            return
        self.call("POST", "/api/v1/customer/cart-checked-all", {"state": True})
        self.call("GET", "/api/v1/customer/cart-count")
        self.call("GET", f"/api/v1/customer/pre-freight?id={address_id}")
        status, order = self.call("POST", "/api/v1/customer/checkout",
                                  {"courier_code": "sicepat-REG", "address_code": address_id})
        if status != 200:
            self.call("DELETE", f"/api/v1/customer/cart?id={pid}")
            return
        choice = rng.random()
        if pay and choice < 0.6:
            status, page = self.call("GET", order["redirect_url"], absolute=True)
            if status == 200:
                action = re.search(rb"action='([^']+)'", page).group(1).decode()
                self.call("POST", order["redirect_url"].split("/snap/")[0] + action, absolute=True)
        elif choice < 0.85:
            self.call("DELETE", f"/api/v1/customer/checkout?id={order['order_id']}")
        self.call("GET", "/api/v1/customer/order")


def run(shoppers: list[Shopper], rounds: int, products: list[str], addresses: dict, seed: int = 7,
        stop: threading.Event | None = None) -> float:
    """Each shopper runs `rounds` sessions in its own thread; returns the elapsed seconds."""
    def work(index, shopper):
        rng = random.Random(seed + index)
        for _ in range(rounds):
            if stop is not None and stop.is_set():
                return
            shopper.session(products, addresses[shopper.email], rng)

    threads = [threading.Thread(target=work, args=(i, s)) for i, s in enumerate(shoppers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


# ---- shop set-up and invariants shared by the reliability tests ----

from support import DEFAULT_PASSWORD, create_category, create_customer, create_product  # noqa: E402

INITIAL = 15


def setup_shop(base, n_shoppers):
    from omdb import db

    category = create_category("Kopi")
    products = [create_product(f"Kopi {i}", category, price=20000 + i * 1000, stock=INITIAL, weight=0.4)
                for i in range(4)]
    shoppers, addresses = [], {}
    for i in range(n_shoppers):
        email = f"load{i}@example.com"
        create_customer(email)
        shopper = Shopper(base, email, DEFAULT_PASSWORD)
        assert shopper.login() == 200
        status, address = shopper.call("POST", "/api/v1/customer/address", {
            "label": "Rumah", "full_address": "Jl. Merdeka 1", "note": "", "recipient_name": "L",
            "phone_number": "0812345678", "shipping_area": 25410, "postal_code": "10110"})
        assert status == 200
        addresses[email] = address["id"]
        shoppers.append(shopper)
    assert db.query_one("SELECT COUNT(*) AS n FROM customer_addresses")["n"] == n_shoppers
    return products, shoppers, addresses


def assert_stock_invariants(products):
    """For every product: stock = initial − units of orders still holding stock; movements add up."""
    from omdb import db
    from omdb.ids import to_bin

    for pid in products:
        stock = db.query_one("SELECT quantity FROM inventories WHERE product_refer = %s", (to_bin(pid),))["quantity"]
        held = db.query_one(
            "SELECT COALESCE(SUM(oi.quantity), 0) AS n FROM order_items oi JOIN orders o ON o.id = oi.order_refer"
            " WHERE oi.product_refer = %s AND o.stock_released = FALSE", (to_bin(pid),))["n"]
        moved = db.query_one("SELECT COALESCE(SUM(delta), 0) AS n FROM stock_movements WHERE product_refer = %s",
                             (to_bin(pid),))["n"]
        assert stock >= 0
        assert stock == INITIAL - int(held), (pid, stock, held)
        assert int(moved) == stock
    bad = db.query("SELECT id, status, stock_released FROM orders WHERE (status IN ('cancelled', 'refunded')"
                   " AND stock_released = FALSE) OR (status NOT IN ('cancelled', 'refunded') AND stock_released = TRUE)")
    assert bad == []


