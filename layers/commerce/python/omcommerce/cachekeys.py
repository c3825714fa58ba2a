"""Every Redis cache key, and the invalidation each kind of write needs, in one place.

Readers call ``kv.cache_get(key)``/``kv.cache_set``; writers call the ``invalidate_*`` helper for what they changed.
Every key here lives on the cache Redis (``REDIS_CACHE_*``, allowed to evict; see ``omcore.kv``), never beside the
sessions; a deletion here also reaches every process's near cache at once (Redis pushes the invalidation).
"""
from __future__ import annotations

import hashlib

from omcore import kv

HOME = "cache:home"
CATEGORIES = "cache:categories"
BANNERS = "cache:banners"


def product(product_id: str) -> str:
    return f"cache:product:{product_id}"


def product_reviews(product_id: str) -> str:
    return f"cache:reviews:{product_id}"


def sold(product_id: str) -> str:
    return f"cache:sold:{product_id}"


def area_suggest(search: str) -> str:
    return "cache:area:" + hashlib.sha256(search.strip().lower().encode()).hexdigest()[:40]


def freight(product_id: str, area_id: int) -> str:
    return f"cache:freight:{product_id}:{area_id}"


def cart_count(customer_id: str) -> str:
    return f"cart:count:{customer_id}"


def invalidate_product(product_id: str, *, listing: bool = True, freight_too: bool = False) -> None:
    """After a product row, its stock, images or reviews changed."""
    keys = [product(product_id), product_reviews(product_id)]
    if listing:
        keys.append(HOME)
    kv.cache_delete(*keys)
    if listing:
        kv.cache_delete_pattern("cache:search:*")
    if freight_too:
        kv.cache_delete_pattern(f"cache:freight:{product_id}:*")


def invalidate_sold(*product_ids: str) -> None:
    kv.cache_delete(*[sold(p) for p in product_ids], HOME)


def invalidate_categories() -> None:
    kv.cache_delete(CATEGORIES, HOME)
    kv.cache_delete_pattern("cache:search:*")


def invalidate_banners() -> None:
    kv.cache_delete(BANNERS)


def search(params: str) -> str:
    return "cache:search:" + hashlib.sha256(params.encode()).hexdigest()[:40]
