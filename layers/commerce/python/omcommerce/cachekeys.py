"""Every Redis cache key, and the invalidation each kind of write needs, in one place.

Readers call ``kv.cache_get(key)``/``kv.cache_set``; writers call the ``invalidate_*`` helper for what they changed.
Every key here lives on the cache Redis (``REDIS_CACHE_*``, allowed to evict; see ``omcore.kv``), never beside the
sessions; a deletion here also reaches every process's near cache at once (Redis pushes the invalidation).

Families of keys with an open-ended keyspace (searches) live under a *generation*: a random token kept in
``cache:gen:<family>`` and read with the key (from the near cache, so it costs nothing on a hot path). Invalidating
the family deletes that one key; the next reader draws a new token and the old entries are never read again (their
TTL removes them). Before, every review create/edit/delete SCANned the whole cache keyspace to find the search
entries (4 ms → 250 ms at 300 k keys). Freight quotes are keyed by what they depend on (area and parcel shape), so
a product's new size needs no invalidation and anonymous reads add at most one key per shape and area that has
rates, never per product or per made-up area.
"""
from __future__ import annotations

import hashlib
import secrets

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


GENERATION_TTL = 7 * 24 * 3600
SEARCH_GENERATION = "cache:gen:search"


def generation(gen_key: str) -> str:
    """The current token of a family of keys; a new one when there is none (first use, or just invalidated)."""
    token = kv.cache_get(gen_key, near=True)
    if token is None:
        # two readers racing here may each set a token: the loser's entries are never read again, nothing stale
        token = secrets.token_hex(6)
        kv.cache_set(gen_key, token, GENERATION_TTL)
    return token


def freight(area_id: int, parcel: dict) -> str:
    """One unit's freight quote to ``area_id``: keyed by the parcel's weight and size (what the quote depends on),
    so products of one shape share it and a resized product simply reads another key."""
    shape = "|".join(str(parcel[k]) for k in ("weight_kg", "length", "width", "height"))
    return f"cache:freight:{int(area_id)}:" + hashlib.sha256(shape.encode()).hexdigest()[:24]


def cart_count(customer_id: str) -> str:
    return f"cart:count:{customer_id}"


def invalidate_product(product_id: str, *, listing: bool = True, freight_too: bool = False) -> None:
    """After a product row, its stock, images or reviews changed: one DEL, never a SCAN. (``freight_too`` is kept
    for the callers; freight keys follow the product's shape and need nothing.)"""
    keys = [product(product_id), product_reviews(product_id)]
    if listing:
        keys += [HOME, SEARCH_GENERATION]
    kv.cache_delete(*keys)


def invalidate_sold(*product_ids: str) -> None:
    kv.cache_delete(*[sold(p) for p in product_ids], HOME)


def invalidate_categories() -> None:
    kv.cache_delete(CATEGORIES, HOME, SEARCH_GENERATION)


def invalidate_banners() -> None:
    kv.cache_delete(BANNERS)


def search(params: str) -> str:
    """Read before the query it caches (a write after this point moves the generation on)."""
    return f"cache:search:{generation(SEARCH_GENERATION)}:" + hashlib.sha256(params.encode()).hexdigest()[:40]
