"""Demo catalogue for local runs: the shipping areas, four homepage categories and a dozen products with stock."""
from __future__ import annotations

from omcommerce import stock
from omdb import db
from omdb.ids import new_id

from . import areas

CATEGORIES = [
    ("Kopi & Teh", "Biji kopi dan teh pilihan dari seluruh Nusantara", True),
    ("Batik", "Kain dan kemeja batik tulis dan cap", True),
    ("Kerajinan", "Kerajinan tangan rotan, bambu dan kayu", True),
    ("Camilan", "Keripik, kerupuk dan kue kering", True),
]
PRODUCTS = [
    ("Kopi Gayo Arabika 250g", "Kopi & Teh", 85000, 0.30, (18, 10, 6), 40),
    ("Kopi Toraja Sapan 250g", "Kopi & Teh", 92000, 0.30, (18, 10, 6), 25),
    ("Teh Hijau Tambi 100g", "Kopi & Teh", 35000, 0.15, (15, 8, 5), 60),
    ("Kemeja Batik Parang Lengan Panjang", "Batik", 275000, 0.40, (30, 25, 4), 12),
    ("Kain Batik Tulis Mega Mendung", "Batik", 450000, 0.50, (35, 25, 3), 5),
    ("Tas Rotan Bundar", "Kerajinan", 180000, 0.60, (30, 30, 10), 8),
    ("Tatakan Gelas Bambu isi 6", "Kerajinan", 45000, 0.20, (12, 12, 6), 30),
    ("Mangkuk Kayu Jati", "Kerajinan", 95000, 0.45, (20, 20, 8), 15),
    ("Keripik Tempe Malang 200g", "Camilan", 25000, 0.20, (20, 15, 5), 100),
    ("Kerupuk Udang Sidoarjo 500g", "Camilan", 55000, 0.50, (30, 20, 10), 50),
    ("Bagelen Roti Kering", "Camilan", 30000, 0.25, (20, 12, 6), 0),
    ("Kopi Luwak Liar 100g", "Kopi & Teh", 350000, 0.12, (12, 8, 5), 3),
]


def load() -> str:
    count = areas.load()
    category_ids = {}
    for name, description, visible in CATEGORIES:
        db.execute("INSERT INTO categories (name, description, homepage_visibility) VALUES (%s, %s, %s)"
                   " ON DUPLICATE KEY UPDATE deleted_at = NULL", (name, description, visible))
        category_ids[name] = db.query_one("SELECT id FROM categories WHERE name = %s", (name,))["id"]
    created = 0
    for name, category, price, weight, (length, width, height), quantity in PRODUCTS:
        if db.query_one("SELECT id FROM products WHERE name = %s", (name,)):
            continue
        product_id = new_id()
        with db.transaction() as tx:
            tx.execute("INSERT INTO products (id, name, description, price, weight, category_refer, length, width,"
                       " height) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                       (product_id.bytes, name, f"{name} — produk demo Openmerce.", price, weight,
                        category_ids[category], length, width, height))
            stock.create(tx, product_id, quantity)
        created += 1
    from omcommerce import cachekeys

    cachekeys.invalidate_categories()
    return f"{count} shipping areas, {len(CATEGORIES)} categories, {created} new products"
