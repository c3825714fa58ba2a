"""A running v1 shop (used by tests/upgrade/conftest.py): a database built from the v1 DDL (tests/upgrade/v1_schema.sql) on this machine's MariaDB,
filled the way the Go backend filled it (uuids as BINARY(16) written from Python, bcrypt ``$2a$10$`` hashes in
BINARY(60), several inventory rows per product, orders in every v1 state, a review through the v1 trigger, soft
deleted rows), and a helper that runs ``python -m tools.admin`` as a separate process."""
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta

import pymysql

import settings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
V1_DB = f"v1_{settings.NAMESPACE}{settings.WORKER_INDEX}"


def v1_hash(password: str) -> bytes:
    """What the Go backend stored: bcrypt cost 10 with the $2a$ prefix (Go's x/crypto/bcrypt)."""
    import bcrypt

    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10))
    assert hashed.startswith(b"$2b$10$")
    return b"$2a$" + hashed[4:]


class V1Shop:
    """Handles on the rows of the v1 shop, for assertions."""

    def __init__(self, name):
        self.name = name
        self.ids = {}

    def connect(self):
        return pymysql.connect(host=os.environ["DB_HOST"], port=int(os.environ["DB_PORT"]),
                               user=os.environ["DB_USER"], password=os.environ["DB_PASS"], database=self.name,
                               autocommit=True, cursorclass=pymysql.cursors.DictCursor)

    def query(self, sql, args=None):
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return list(cur.fetchall())
        finally:
            conn.close()


PASSWORDS = {"alice@example.com": "Alice#Passw0rd", "bob@example.com": "Bob#Passw0rd2",
             "admin": "V1-Admin#pass", "gudang": "Gudang#Pass1"}


def _fill(cur, shop: V1Shop):
    ids = shop.ids
    now = datetime(2026, 11, 28, 20, 0, 0)

    def new(name):
        ids[name] = uuid.uuid4()
        return ids[name].bytes

    cur.executemany("INSERT INTO shipping_areas (id, full_name) VALUES (%s, %s)", [
        (25410, "Gambir, Jakarta Pusat, Dki Jakarta"),  # same id as ours
        (777, "Menteng, Jakarta Pusat, Dki Jakarta"),  # another numbering: matched by name
        (5, "Atlantis, Laut Dalam, Samudra")])  # no match anywhere: must be reported, then mapped by file
    cur.execute("INSERT INTO areas (code, name) VALUES ('31', 'DKI JAKARTA'), ('31.71', 'KOTA JAKARTA PUSAT')")
    cur.execute("INSERT INTO categories (id, name, description, homepage_visibility) VALUES"
                " (1, 'Kopi', 'Kopi Nusantara', TRUE), (2, 'Teh', 'Teh pilihan', FALSE)")
    cur.execute("INSERT INTO categories (id, name, description, deleted_at) VALUES (3, 'Lama', 'dihapus', %s)",
                (now - timedelta(days=30),))
    products = [("kopi", "Kopi Gayo", 50000, 1, None), ("teh", "Teh Tubruk", 20000, 2, None),
                ("gula", "Gula Aren", 15000, 3, now - timedelta(days=30))]
    for key, name, price, cat, deleted in products:
        cur.execute("INSERT INTO products (id, name, description, price, weight, category_refer, length, width,"
                    " height, deleted_at) VALUES (%s, %s, %s, %s, 0.50, %s, 10, 10, 10, %s)",
                    (new(key), name, f"{name} asli", price, cat, deleted))
    for key in ("kopi_img1", "kopi_img2", "teh_img"):
        cur.execute("INSERT INTO product_images (id, product_refer) VALUES (%s, %s)",
                    (new(key), ids[key.split("_")[0]].bytes))
    # several inventory rows for one product (v1's index was not unique): 5 + 7 + 3 = 15
    cur.executemany("INSERT INTO inventories (product_refer, quantity) VALUES (%s, %s)",
                    [(ids["kopi"].bytes, 5), (ids["kopi"].bytes, 7), (ids["kopi"].bytes, 3),
                     (ids["teh"].bytes, 20), (ids["gula"].bytes, 0)])
    for key, email, first, phone in (("alice", "alice@example.com", "Alice", "081111111111"),
                                     ("bob", "bob@example.com", "Bob", None)):
        cur.execute("INSERT INTO customers (id, email, hashed_password, phone_number, first_name, last_name,"
                    " birth_date, gender) VALUES (%s, %s, %s, %s, %s, 'Lama', '1990-04-01 00:00:00', 'female')",
                    (new(key), email, v1_hash(PASSWORDS[email]), phone, first))
    cur.execute("INSERT INTO auth_logs (customer_refer, timestamp, action) VALUES (%s, %s, 'login')",
                (ids["alice"].bytes, now))
    addresses = [("alice_home", "alice", "Rumah", 25410, "10110"), ("alice_office", "alice", "Kantor", 777, "10310"),
                 ("bob_home", "bob", "Rumah", 25410, "10120"), ("bob_boat", "bob", "Kapal", 5, "99999")]
    for key, who, label, area, postal in addresses:
        cur.execute("INSERT INTO customer_addresses (id, customer_refer, label, full_address, note, recipient_name,"
                    " phone_number, shipping_area_refer, postal_code) VALUES (%s, %s, %s, %s, '', %s,"
                    " '081234567890', %s, %s)", (new(key), ids[who].bytes, label, f"Jl. {label} 1", who.title(),
                                                  area, postal))
    cur.executemany("INSERT INTO staffs (id, username, hashed_password, name, fin_user, inv_user, sys_admin)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    [(1, "admin", v1_hash(PASSWORDS["admin"]), "v1 owner", True, True, True),
                     (2, "gudang", v1_hash(PASSWORDS["gudang"]), "Gudang", False, True, False)])
    new("banner")
    cur.execute("INSERT INTO homepage_banner (id, file_name, href) VALUES (1, %s, '/category/1')",
                (f"{ids['banner']}.webp",))
    cur.execute("INSERT INTO cart_items (product_refer, customer_refer, quantity, checked) VALUES (%s, %s, 1, TRUE)",
                (ids["teh"].bytes, ids["alice"].bytes))
    cur.execute("INSERT INTO wishlists (product_refer, customer_refer) VALUES (%s, %s)",
                (ids["kopi"].bytes, ids["bob"].bytes))
    # orders in every v1 state: (key, customer, address, flags (paid, shipped, cancelled, need_refund),
    # transaction_status, items [(product, qty)])
    orders = [
        ("shipped", "alice", "alice_home", (1, 1, 0, 0), "settlement", [("kopi", 2)]),
        ("paid", "alice", "alice_office", (1, 0, 0, 0), "settlement", [("teh", 1)]),
        ("unpaid", "alice", "alice_home", (0, 0, 0, 0), None, [("kopi", 3)]),
        ("pending", "bob", "bob_home", (0, 0, 0, 0), "pending", [("teh", 2)]),
        ("pending_cancel", "bob", "bob_home", (0, 0, 0, 0), "pending cancel", [("teh", 1)]),
        ("expired", "bob", "bob_home", (0, 0, 1, 0), "expire", [("kopi", 1)]),
        ("cancelled", "alice", "alice_home", (0, 0, 1, 0), "cancel", [("teh", 4)]),
        ("stock_failed", "bob", "bob_boat", (1, 0, 0, 1), "deny", [("kopi", 9)]),
        ("refunded", "alice", "alice_home", (1, 0, 0, 0), "refund", [("teh", 1)]),
        ("old_gula", "bob", "bob_home", (1, 1, 0, 0), "settlement", [("gula", 2), ("kopi", 1)]),
    ]
    prices = {"kopi": 45000, "teh": 20000, "gula": 15000}  # on_buy prices: kopi cost less back then
    for n, (key, who, addr, flags, status, items) in enumerate(orders):
        item_cost = sum(prices[p] * q for p, q in items)
        cur.execute("INSERT INTO orders (customer_refer, customer_address_refer, courier_code, courier_tracking_code,"
                    " freight_cost, item_cost, gross_amount, transaction_status, status_description, payment_token,"
                    " payment_redirect_url, is_paid, is_shipped, is_cancelled, need_refund, payment_type,"
                    " created_at) VALUES (%s, %s, 'anteraja-REG', %s, 10000, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
                    " %s, %s, %s)",
                    (ids[who].bytes, ids[addr].bytes, "AA123" if flags[1] else None, item_cost, item_cost + 10000,
                     status, "sorry, stock is not enough to fulfill the orders" if flags[3] else None,
                     f"tok-{key}", f"https://app.sandbox.midtrans.com/snap/v3/redirection/tok-{key}", *flags,
                     "bank_transfer" if status else None, now - timedelta(hours=20 - n)))
        ids[key] = cur.lastrowid
        for product, qty in items:
            cur.execute("INSERT INTO order_items (order_refer, product_refer, on_buy_name, on_buy_description,"
                        " on_buy_price, on_buy_weight, quantity) SELECT %s, id, name, description, %s, weight, %s"
                        " FROM products WHERE id = %s", (ids[key], prices[product], qty, ids[product].bytes))
            ids[f"{key}_{product}_item"] = cur.lastrowid
    cur.execute("INSERT INTO reviews (id, order_item_refer, product_refer, rating, review) VALUES (%s, %s, %s, 4,"
                " 'mantap')", (new("review"), ids["shipped_kopi_item"], ids["kopi"].bytes))
    cur.execute("INSERT INTO reviews (id, order_item_refer, product_refer, rating, review) VALUES (%s, %s, %s, 5,"
                " NULL)", (new("review2"), ids["old_gula_kopi_item"], ids["kopi"].bytes))
    cur.execute("INSERT INTO logs (id, log_level, info) VALUES (%s, 'ERROR', 'redis timeout')", (uuid.uuid4().bytes,))
    cur.execute("INSERT INTO blacklist_domains (domain_name) VALUES ('mailinator.com')")


def build(name: str) -> V1Shop:
    """Create database ``name`` from the v1 DDL and fill it; returns the shop."""
    from omdb import migrate

    conn = pymysql.connect(host=os.environ["DB_HOST"], port=int(os.environ["DB_PORT"]), user=os.environ["DB_USER"],
                           password=os.environ["DB_PASS"], autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            cur.execute(f"USE `{name}`")
            with open(os.path.join(os.path.dirname(__file__), "v1_schema.sql"), encoding="utf-8") as fh:
                for statement in migrate.split_statements(fh.read()):
                    cur.execute(statement)
            shop = V1Shop(name)
            _fill(cur, shop)
    finally:
        conn.close()
    return shop


def drop(name: str) -> None:
    conn = pymysql.connect(host=os.environ["DB_HOST"], port=int(os.environ["DB_PORT"]), user=os.environ["DB_USER"],
                           password=os.environ["DB_PASS"], autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        conn.close()


def run_admin(*args, env=None):
    """``python -m tools.admin ...`` as its own process (as the one-off container task runs it)."""
    return subprocess.run([sys.executable, "-m", "tools.admin", *args], cwd=ROOT,
                          env=dict(os.environ, **(env or {})), capture_output=True, text=True, timeout=300)
