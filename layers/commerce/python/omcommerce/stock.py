"""Stock: availability lives in ``inventories.quantity`` (units that can still be sold) and changes only here.

Rules (after Saleor): inventory rows are locked ``FOR UPDATE`` in product-id order inside the caller's
transaction, so concurrent checkouts and staff adjustments never deadlock each other into a client error and never
lose an update; every change writes a ``stock_movements`` row saying who and why; a reservation made at checkout
is released at most once per order (guarded by ``orders.stock_released`` under the order's row lock).
"""
from __future__ import annotations

from omdb.ids import from_bin, to_bin
from omdb.sql import placeholders

# reasons recorded in stock_movements.reason
INITIAL = "initial"
STAFF_ADJUST = "staff_adjust"
STAFF_SET = "staff_set"
CHECKOUT_RESERVE = "checkout_reserve"
ORDER_RELEASE = "order_release"
ORDER_RESTOCK = "order_restock"


# The largest stock a product may hold, and the largest single change: stock_movements.delta is a signed INT, so
# any change between 0 and MAX_STOCK units fits it (inventories.quantity itself is INT UNSIGNED). Staff input is
# bounded to this at the edge; ``adjust`` refuses a sum above it (``StockLimit``).
MAX_STOCK = 2_147_483_647


class StockLimit(Exception):
    """A change would take the stock above ``MAX_STOCK`` (HTTP 409)."""

    def __init__(self, current: int):
        super().__init__(f"stock cannot exceed {MAX_STOCK}")
        self.current = current


class InsufficientStock(Exception):
    def __init__(self, shortages: list[dict]):
        super().__init__("insufficient stock")
        #: [{"id": product uuid, "requested": n, "available": m}]
        self.shortages = shortages


class StaleStock(Exception):
    """A guarded set's ``expected`` value no longer holds (HTTP 409)."""

    def __init__(self, current: int):
        super().__init__("stock changed")
        self.current = current


# the states in which an order holds a reservation and is not paid (omcommerce.orders.AWAITING_PAYMENT and
# PAYMENT_REVIEW; orders imports this module, so the names are repeated here)
UNPAID_STATES = ("awaiting_payment", "payment_review")


def max_unpaid_units() -> int:
    """Units of one product one customer may hold across unpaid orders (0 or less: no cap)."""
    from omcore import config

    return config.get_int("MAX_UNPAID_UNITS_PER_PRODUCT")


def check_unpaid_units(runner, customer_id, lines) -> None:
    """Stock hoarding: the units of each product ``customer_id`` already holds in unpaid orders plus ``lines``
    (``[{"id", "name", "quantity"}]``, the order being placed) may not exceed ``max_unpaid_units()``; 409 naming the
    products and the cap otherwise. Three unpaid orders could hold 2,997 of 3,000 units for a day. Checkouts of one
    customer are serialised, so counting outside the reservation's transaction is exact."""
    from omcore.errors import Conflict

    cap = max_unpaid_units()
    wanted: dict[bytes, int] = {}
    for line in lines:
        pb = to_bin(line["id"])
        wanted[pb] = wanted.get(pb, 0) + int(line["quantity"])
    if cap <= 0 or not wanted:
        return
    keys = sorted(wanted)
    rows = runner.query(
        "SELECT oi.product_refer, SUM(oi.quantity) AS held FROM order_items oi JOIN orders o ON o.id = oi.order_refer"
        f" WHERE o.customer_refer = %s AND o.status IN ({placeholders(len(UNPAID_STATES))})"
        f" AND oi.product_refer IN ({placeholders(len(keys))}) GROUP BY oi.product_refer",
        (to_bin(customer_id), *UNPAID_STATES, *keys))
    held = {bytes(r["product_refer"]): int(r["held"]) for r in rows}
    names = {to_bin(line["id"]): line.get("name") or from_bin(to_bin(line["id"])) for line in lines}
    over = [{"id": from_bin(pb), "name": names[pb], "requested": wanted[pb], "held_unpaid": held.get(pb, 0),
             "max_unpaid_units": cap} for pb in keys if held.get(pb, 0) + wanted[pb] > cap]
    if over:
        raise Conflict(f"at most {cap} units of one product may wait for payment across your unpaid orders; pay or"
                       " cancel an unpaid order, or order fewer of: " + ", ".join(o["name"] for o in over),
                       products=over, max_unpaid_units=cap, code="unpaid_units_limit")


def lock(tx, product_ids) -> dict[bytes, int]:
    """Lock the inventory rows of ``product_ids`` in product-id order; return {product bin: quantity}."""
    keys = sorted({to_bin(p) for p in product_ids})
    if not keys:
        return {}
    rows = tx.query("SELECT product_refer, quantity FROM inventories"
                    f" WHERE product_refer IN ({placeholders(len(keys))}) ORDER BY product_refer FOR UPDATE", keys)
    return {bytes(r["product_refer"]): int(r["quantity"]) for r in rows}


def _record(tx, product_bin: bytes, delta: int, after: int, reason: str, order_id=None, staff_id=None,
            note=None) -> None:
    tx.execute("INSERT INTO stock_movements (product_refer, delta, quantity_after, reason, order_refer, staff_refer,"
               " note) VALUES (%s, %s, %s, %s, %s, %s, %s)",
               (product_bin, delta, after, reason, order_id, staff_id, (note or None) and note[:255]))


def create(tx, product_id, quantity: int, *, staff_id=None) -> None:
    """The inventory row of a new product (or reset it when a soft-deleted product is revived)."""
    pb = to_bin(product_id)
    if not 0 <= quantity <= MAX_STOCK:
        raise StockLimit(0)
    tx.execute("INSERT INTO inventories (product_refer, quantity, updated_at) VALUES (%s, %s, UTC_TIMESTAMP(3))"
               " ON DUPLICATE KEY UPDATE quantity = VALUES(quantity), updated_at = UTC_TIMESTAMP(3)",
               (pb, quantity))
    _record(tx, pb, quantity, quantity, INITIAL, staff_id=staff_id)


def adjust(tx, product_id, delta: int, *, reason: str = STAFF_ADJUST, staff_id=None, order_id=None,
           note=None) -> int:
    """Relative change; refuses to go below zero (``InsufficientStock``). Returns the new quantity."""
    pb = to_bin(product_id)
    current = lock(tx, [pb]).get(pb)
    if current is None:
        raise LookupError("no inventory row for product")
    after = current + delta
    if after < 0:
        raise InsufficientStock([{"id": from_bin(pb), "requested": -delta, "available": current}])
    if delta > 0 and after > MAX_STOCK:
        raise StockLimit(current)
    if delta:
        tx.execute("UPDATE inventories SET quantity = %s, updated_at = UTC_TIMESTAMP(3) WHERE product_refer = %s",
                   (after, pb))
        _record(tx, pb, delta, after, reason, order_id, staff_id, note)
    return after


def set_quantity(tx, product_id, quantity: int, *, expected: int | None = None, staff_id=None,
                 note=None) -> int:
    """Absolute set. With ``expected``, refuse (``StaleStock``) unless the current value still equals it.
    Setting the current value changes and records nothing."""
    pb = to_bin(product_id)
    current = lock(tx, [pb]).get(pb)
    if current is None:
        raise LookupError("no inventory row for product")
    if expected is not None and expected != current:
        raise StaleStock(current)
    if not 0 <= quantity <= MAX_STOCK:
        raise StockLimit(current)
    if quantity != current:
        tx.execute("UPDATE inventories SET quantity = %s, updated_at = UTC_TIMESTAMP(3) WHERE product_refer = %s",
                   (quantity, pb))
        _record(tx, pb, quantity - current, quantity, STAFF_SET, staff_id=staff_id, note=note)
    return quantity


def reserve(tx, order_id: int, lines: list[tuple]) -> None:
    """Take ``[(product_id, qty), ...]`` out of stock for an order, all or nothing (``InsufficientStock``
    names every short product). Locks rows in product-id order."""
    wanted: dict[bytes, int] = {}
    for product_id, qty in lines:
        pb = to_bin(product_id)
        wanted[pb] = wanted.get(pb, 0) + int(qty)
    available = lock(tx, wanted.keys())
    shortages = [{"id": from_bin(pb), "requested": q, "available": available.get(pb, 0)}
                 for pb, q in sorted(wanted.items()) if available.get(pb, 0) < q]
    if shortages:
        raise InsufficientStock(shortages)
    for pb, q in sorted(wanted.items()):
        after = available[pb] - q
        tx.execute("UPDATE inventories SET quantity = %s, updated_at = UTC_TIMESTAMP(3) WHERE product_refer = %s",
                   (after, pb))
        _record(tx, pb, -q, after, CHECKOUT_RESERVE, order_id=order_id)


def release(tx, order: dict, *, reason: str = ORDER_RELEASE, items: list[dict] | None = None) -> bool:
    """Give an order's units back, exactly once. ``order`` is the order row the caller locked in this
    transaction (``orders.lock_order``: ``SELECT * ... FOR UPDATE``), so ``stock_released`` is read under the lock
    and not again here; ``items`` the order's lines when already read. Returns False when the order's stock was
    already released. Only ``orders.transition`` calls this."""
    order_id = order["id"]
    if order["stock_released"]:
        return False
    if items is None:
        items = tx.query("SELECT product_refer, quantity FROM order_items WHERE order_refer = %s", (order_id,))
    totals: dict[bytes, int] = {}
    for item in items:
        pb = bytes(item["product_refer"])
        totals[pb] = totals.get(pb, 0) + int(item["quantity"])
    current = lock(tx, totals.keys())
    for pb, q in sorted(totals.items()):
        if pb not in current:
            continue  # product hard-deleted: nothing to give back to
        after = current[pb] + q
        tx.execute("UPDATE inventories SET quantity = %s, updated_at = UTC_TIMESTAMP(3) WHERE product_refer = %s",
                   (after, pb))
        _record(tx, pb, q, after, reason, order_id=order_id)
    tx.execute("UPDATE orders SET stock_released = TRUE, updated_at = UTC_TIMESTAMP(3) WHERE id = %s", (order_id,))
    order["stock_released"] = True
    return True
