"""Product cards — the ``{id, name, price, image, rating, sold}`` shape the homepage, search, wishlist and staff
lists all return — computed in one place.

* ``image``: the product's first image file name (``<uuid>.webp``, oldest first), or ``""`` when it has none.
* ``rating``: ``products.cumulative_review`` (the true average of its reviews) as a float.
* ``sold``: units sold = SUM(order_items.quantity) over orders in a paid state (paid and later, not cancelled or
  refunded) — v1 counted order lines of every status.
"""
from __future__ import annotations

from omdb.ids import from_bin
from omdb.sql import placeholders

from . import orders

_SOLD_STATES = tuple(sorted(orders.PAID_STATES))
_SOLD_IN = placeholders(len(_SOLD_STATES))

_IMAGE_ORDER = "pi.created_at, pi.id"  # a product's images in the order shown; the first one is its card image


def first_image_sql(product_ref: str = "p.id") -> str:
    """The subquery giving a product's first image id (oldest first, ties by id), or NULL when it has none.
    ``product_ref`` is the SQL expression naming the product id — written in code (``p.id``,
    ``oi.product_refer``, ``%s``), never taken from input."""
    return (f"(SELECT pi.id FROM product_images pi WHERE pi.product_refer = {product_ref}"
            f" ORDER BY {_IMAGE_ORDER} LIMIT 1)")


CARD_COLUMNS = (
    "p.id AS id, p.name AS name, p.price AS price, p.cumulative_review AS rating,"
    f" {first_image_sql()} AS image_id,"
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
        "image": image_file(row.get("image_id")),
        "rating": float(row["rating"] or 0),
        "sold": int(row["sold"] or 0),
    }


def units_sold(runner, product_id_bin: bytes) -> int:
    """Units of one product sold on paid orders (``runner`` is ``omdb.db`` or a transaction)."""
    row = runner.query_one(
        "SELECT COALESCE(SUM(oi.quantity), 0) AS n FROM order_items oi JOIN orders o ON o.id = oi.order_refer"
        f" WHERE oi.product_refer = %s AND o.status IN ({_SOLD_IN})", (product_id_bin, *_SOLD_STATES))
    return int(row["n"])


# ---------------------------------------------------------------- images (the first image: first_image_sql above)

def product_images(runner, product_id_bin: bytes) -> list[str]:
    """All image file names of one product, first image first (``runner`` is ``omdb.db`` or a transaction)."""
    rows = runner.query(f"SELECT pi.id FROM product_images pi WHERE pi.product_refer = %s ORDER BY {_IMAGE_ORDER}",
                        (product_id_bin,))
    return [image_file(r["id"]) for r in rows]


def image_file(image_id) -> str:
    """The name the storefront uses for an image: ``<uuid>.webp`` (the UIs prefix ``/usercontent/``); ``""`` for
    no image. ``image_id``: the BINARY(16) id from the database, a ``uuid.UUID`` or its text."""
    if not image_id:
        return ""
    if isinstance(image_id, (bytes, bytearray)):
        return f"{from_bin(image_id)}.webp"
    return f"{image_id}.webp"


def variant_file(image_id, width: int) -> str:
    """The name of an image's ``width``-px variant: ``<uuid>-<width>.webp`` beside ``<uuid>.webp``."""
    return image_file(image_id)[:-len(".webp")] + f"-{width}.webp"
