"""Product cards — the ``{id, name, price, image, rating, sold}`` shape the homepage, search, wishlist and staff
lists all return — computed in one place.

* ``image``: the product's first image file name (``<uuid>.webp``, oldest first), or ``""`` when it has none.
* ``rating``: ``products.cumulative_review`` (the true average of its reviews) as a float.
* ``sold``: units sold = SUM(order_items.quantity) over orders in a paid state (paid and later, not cancelled or
  refunded) — v1 counted order lines of every status.
"""
from __future__ import annotations

from omdb.ids import from_bin

from . import orders

_SOLD_STATES = tuple(sorted(orders.PAID_STATES))
_SOLD_IN = ",".join(["%s"] * len(_SOLD_STATES))

CARD_COLUMNS = (
    "p.id AS id, p.name AS name, p.price AS price, p.cumulative_review AS rating,"
    " (SELECT pi.id FROM product_images pi WHERE pi.product_refer = p.id"
    "   ORDER BY pi.created_at, pi.id LIMIT 1) AS image_id,"
    " (SELECT COALESCE(SUM(oi.quantity), 0) FROM order_items oi JOIN orders o ON o.id = oi.order_refer"
    f"   WHERE oi.product_refer = p.id AND o.status IN ({_SOLD_IN})) AS sold"
)


def card_sql(from_where: str, order_by: str = "p.name, p.id", limit_offset: str = "") -> str:
    """``SELECT <card columns> <from_where> ORDER BY <order_by> <limit_offset>``; ``from_where`` must alias
    products as ``p``. Prepend ``sold_args()`` to the statement's own arguments."""
    return f"SELECT {CARD_COLUMNS} {from_where} ORDER BY {order_by} {limit_offset}".rstrip()


def sold_args() -> tuple:
    return _SOLD_STATES


def to_card(row: dict) -> dict:
    return {
        "id": from_bin(row["id"]),
        "name": row["name"],
        "price": int(row["price"]),
        "image": f"{from_bin(row['image_id'])}.webp" if row.get("image_id") else "",
        "rating": float(row["rating"] or 0),
        "sold": int(row["sold"] or 0),
    }


def units_sold(runner, product_id_bin: bytes) -> int:
    """Units of one product sold on paid orders (``runner`` is ``omdb.db`` or a transaction)."""
    row = runner.query_one(
        "SELECT COALESCE(SUM(oi.quantity), 0) AS n FROM order_items oi JOIN orders o ON o.id = oi.order_refer"
        f" WHERE oi.product_refer = %s AND o.status IN ({_SOLD_IN})", (product_id_bin, *_SOLD_STATES))
    return int(row["n"])
