"""Freight quotes for one unit of a product (the product page). The engine itself lives in omcommerce.freight
(checkout uses it too); this caches the answer per area and parcel shape (``cachekeys.freight``)."""
from __future__ import annotations

import json

from omcommerce import cachekeys, freight
from omcore import kv
from omcore.errors import NotFound
from omdb import db
from omdb.ids import to_bin

TTL = 24 * 3600

# re-exported: the interface checkout and others call
quote = freight.quote
choices = freight.choices
price_for = freight.price_for


def product_rates(product_id, area_id: int) -> dict:
    """One unit's quote. The product row is read first (a primary-key lookup) and the quote is cached by its shape
    and the area, only once it is known to have rates: an unknown product or area adds no key."""
    row = db.query_one("SELECT weight, length, width, height FROM products WHERE id = %s AND deleted_at IS NULL",
                       (to_bin(product_id),))
    if row is None:
        raise NotFound("product not found")
    parcel = {"weight_kg": row["weight"], "length": row["length"], "width": row["width"], "height": row["height"],
              "quantity": 1}
    key = cachekeys.freight(area_id, parcel)
    cached = kv.cache_get(key)
    if cached is not None:
        return json.loads(cached)
    result = freight.quote(area_id, [parcel])  # NotFound for an unknown area or one without rates: nothing cached
    kv.cache_set(key, json.dumps(result), TTL)
    return result
