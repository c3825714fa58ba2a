"""The public catalogue: product detail, search, homepage grouping, sold counts, reviews, categories, banners and
area suggestions. Reads go through the cache Redis (keys in omcommerce.cachekeys; staff writes invalidate them) and
fall through to MySQL when Redis is down; the hot public reads (homepage, categories, banners, product detail, sold
counts, reviews) are also kept in the process's near cache, which Redis invalidates the moment an entry changes
(``omcore.kv``). Search and area suggestions stay Redis-only: their keyspace is whatever people type."""
from __future__ import annotations

import json
import re

from omcommerce import cachekeys, catalog
from omcore import kv
from omcore.errors import NotFound
from omdb.ids import from_bin, to_bin


class _LazyDB:
    """``omdb.db``, imported on first use: a request answered from the caches (homepage, categories, banners,
    product cards from a warm Redis or the near cache) never loads PyMySQL and the ``cryptography`` package it
    imports — about half of this function's import time (issue 13, cold start)."""

    def __getattr__(self, name):
        from omdb import db as module

        return getattr(module, name)


db = _LazyDB()

DETAIL_TTL = 300
HOME_TTL = 300
LIST_TTL = 600
SOLD_TTL = 300
# area suggestions are anonymous and their keyspace is whatever people type: cache only searches that found
# something, for an hour, so random strings cannot fill the cache Redis (issue 11)
AREA_TTL = 3600
SEARCH_TTL = 60

HOME_CATEGORIES = 5
HOME_PRODUCTS = 12
AREA_SUGGESTIONS = 5
_TOKEN_RE = re.compile(r"\w+", re.UNICODE)


def _cached_json(key: str, ttl: int, compute, *, near: bool = True, keep=None) -> str:
    """The JSON text of a read, from the cache when cached: a hit is served as stored, never decoded and
    re-encoded (that is most of a cached read's cost). ``near``: hot public reads are also kept in this process's
    near cache (``kv.cache_get``; invalidated by Redis the moment the entry changes). ``keep(value)`` decides
    whether a computed value is worth caching (default: always)."""
    raw = kv.cache_get(key, near=near)
    if raw is not None:
        return raw
    value = compute()
    text = json.dumps(value, separators=(",", ":"))
    if keep is None or keep(value):
        kv.cache_set(key, text, ttl)
    return text


def _cached(key: str, ttl: int, compute):
    return json.loads(_cached_json(key, ttl, compute))


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def tokens(text: str, limit: int = 8) -> list[str]:
    """Words of the user's text. Every operator character (FULLTEXT boolean ``+-<>()~*"@``, LIKE ``%_``, quotes)
    is dropped here, so no input can change the query's meaning or make it fail."""
    return _TOKEN_RE.findall(text.lower())[:limit]


# ---------------------------------------------------------------- products

def product_detail(product_id) -> dict:
    key = cachekeys.product(str(product_id))

    def compute():
        row = db.query_one(
            "SELECT p.id, p.name, p.description, p.price, p.weight, p.cumulative_review, p.length, p.width, p.height,"
            " c.name AS category_name, p.category_refer FROM products p JOIN categories c ON c.id = p.category_refer"
            " WHERE p.id = %s AND p.deleted_at IS NULL", (to_bin(product_id),))
        if row is None:
            return None
        images = catalog.product_images(db, row["id"])
        return {
            "id": from_bin(row["id"]), "name": row["name"], "description": row["description"],
            "price": int(row["price"]), "weight": float(row["weight"]), "category_name": row["category_name"],
            "category_id": int(row["category_refer"]),
            "cumulative_review": float(row["cumulative_review"]),
            "image_urls": images or None,
            "dimension": f"{row['length']} x {row['width']} x {row['height']}",
        }

    detail = _cached(key, DETAIL_TTL, compute)
    if detail is None:
        kv.cache_delete(key)
        raise NotFound("product not found")
    # stock changes with every sale: always read live (one primary-key lookup), never cached
    stock = db.query_one("SELECT quantity FROM inventories WHERE product_refer = %s", (to_bin(product_id),))
    return {**detail, "stock": int(stock["quantity"]) if stock else 0}


def search(text: str, *, category: int | None, price_from: int | None, price_to: int | None, limit: int,
           offset: int) -> str:
    words = tokens(text)
    if text.strip() and not words:
        return "[]"  # only operator characters: nothing to look for (an empty text with filters lists them all)
    where, args = ["p.deleted_at IS NULL"], []
    for word in words:
        where.append("p.name LIKE %s")
        args.append(f"%{like_escape(word)}%")
    if category is not None:
        where.append("p.category_refer = %s")
        args.append(category)
    if price_from is not None:
        where.append("p.price >= %s")
        args.append(price_from)
    if price_to is not None:
        where.append("p.price <= %s")
        args.append(price_to)
    key = cachekeys.search(json.dumps([words, category, price_from, price_to, limit, offset]))

    def compute():
        sql = catalog.card_sql("FROM products p WHERE " + " AND ".join(where), "p.name, p.id", "LIMIT %s OFFSET %s")
        return [catalog.to_card(r) for r in db.query(sql, (*catalog.sold_args(), *args, limit, offset))]

    # user-typed keyspace: Redis only, and only answers that found something (made-up words add no key)
    return _cached_json(key, SEARCH_TTL, compute, near=False, keep=bool)


def homepage() -> str:
    def compute():
        groups = []
        categories = db.query("SELECT id, name, description FROM categories WHERE homepage_visibility = TRUE"
                              " AND deleted_at IS NULL ORDER BY id LIMIT %s", (HOME_CATEGORIES,))
        for category in categories:
            sql = catalog.card_sql("FROM products p WHERE p.category_refer = %s AND p.deleted_at IS NULL",
                                   "p.created_at DESC, p.id", "LIMIT %s")
            products = db.query(sql, (*catalog.sold_args(), category["id"], HOME_PRODUCTS))
            groups.append({"category_id": int(category["id"]), "category_name": category["name"],
                           "category_desc": category["description"],
                           "products": [catalog.to_card(p) for p in products]})
        return groups

    return _cached_json(cachekeys.HOME, HOME_TTL, compute)


def sold_count(product_id) -> int:
    return _cached(cachekeys.sold(str(product_id)), SOLD_TTL,
                   lambda: catalog.units_sold(db, to_bin(product_id)))


def reviews(product_id) -> str:
    def compute():
        rows = db.query("SELECT r.id, r.rating, r.review, r.created_at, c.first_name, c.last_name FROM reviews r"
                        " JOIN customers c ON c.id = r.customer_refer WHERE r.product_refer = %s"
                        " ORDER BY r.created_at DESC, r.id", (to_bin(product_id),))
        return [{"id": from_bin(r["id"]), "rating": int(r["rating"]), "review": r["review"] or "",
                 "created_at": f"{r['created_at'].day:02d} {r['created_at']:%B %Y}",
                 "customer": f"{r['first_name']} {r['last_name']}".strip()} for r in rows]

    return _cached_json(cachekeys.product_reviews(str(product_id)), LIST_TTL, compute)


def categories() -> str:
    return _cached_json(cachekeys.CATEGORIES, LIST_TTL, lambda: [
        {"id": int(r["id"]), "name": r["name"]}
        for r in db.query("SELECT id, name FROM categories WHERE deleted_at IS NULL ORDER BY name, id")])


def banners() -> str:
    return _cached_json(cachekeys.BANNERS, LIST_TTL, lambda: [
        {"id": int(r["id"]), "image_url": r["file_name"], "href": r["href"]}
        for r in db.query("SELECT id, file_name, href FROM homepage_banner ORDER BY id")])


def suggest_areas(text: str) -> str:
    words = tokens(text, limit=6)
    if not words:
        return "[]"

    def compute():
        where = " AND ".join(["full_name LIKE %s"] * len(words))
        args = [f"%{like_escape(w)}%" for w in words]
        # districts whose own name starts with the first word first, then alphabetical: stable and useful
        rows = db.query(f"SELECT id, full_name FROM shipping_areas WHERE {where}"
                        " ORDER BY (district LIKE %s) DESC, full_name, id LIMIT %s",
                        (*args, f"{like_escape(words[0])}%", AREA_SUGGESTIONS))
        return [{"id": int(r["id"]), "name": r["full_name"]} for r in rows]

    return _cached_json(cachekeys.area_suggest(" ".join(words)), AREA_TTL, compute, near=False, keep=bool)
