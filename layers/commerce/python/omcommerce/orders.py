"""The order lifecycle as an explicit state machine, shared by checkout, the payment webhook, the expiry job and
the staff back office.

    awaiting_payment ──settlement / capture+accept──▶ paid ──▶ packed ──▶ shipped ──▶ delivered ──▶ completed
          │  └─capture+challenge──▶ payment_review ──accept──▶ paid
          └─deny / cancel / expire / customer cancel / expiry job──▶ cancelled   (stock released once)
    paid, packed ──refund──▶ refunded (stock restored once); shipped and later ──refund──▶ refunded (goods are out)
    any paid state ──partial_refund──▶ partially_refunded

``move`` is the one way services change an order's state: lock → read items → ``transition`` → record the customer's
mail, returning an ``AfterCommit`` (cache keys to drop, outbox rows to hand on) that the caller runs once its
transaction committed (``db.run_in_transaction`` then ``.run()``). ``transition`` is the step inside it that changes
``orders.status``: it locks the order row (or takes the row the
caller already locked in the same transaction — one lock, one read), refuses anything not in ``TRANSITIONS``
(``IllegalTransition``, HTTP 409; the one place the table is checked) and writes ``order_status_history`` with the
actor. Transitions are compare-and-set on the locked row, so a duplicate, replayed or concurrent request changes
nothing the second time. It returns the row as written, which callers pass on (mails, cache invalidation) instead
of reading the order again.
"""
from __future__ import annotations

from typing import NamedTuple

from omcore import log
from omdb.sql import NOW, update_statement

from . import stock

AWAITING_PAYMENT = "awaiting_payment"
PAYMENT_REVIEW = "payment_review"
PAID = "paid"
PACKED = "packed"
SHIPPED = "shipped"
DELIVERED = "delivered"
COMPLETED = "completed"
CANCELLED = "cancelled"
REFUNDED = "refunded"
PARTIALLY_REFUNDED = "partially_refunded"

STATUSES = (AWAITING_PAYMENT, PAYMENT_REVIEW, PAID, PACKED, SHIPPED, DELIVERED, COMPLETED, CANCELLED, REFUNDED,
            PARTIALLY_REFUNDED)

# The largest order total (items + freight, integer IDR) checkout accepts. Midtrans documents gross_amount as an
# integer ("Long", no decimals: docs.midtrans.com/reference/json-object) without publishing a Snap ceiling; each
# payment channel applies its own lower limit when the customer pays. 99,999,999,999 (eleven digits) is our bound:
# far above any real basket, it keeps every amount exact in a JSON number and in BIGINT columns (migration 0311),
# so an absurd price x quantity is a clear 409 instead of MySQL error 1264 (out of range) and a 500.
MAX_ORDER_AMOUNT = 99_999_999_999

PAID_STATES = frozenset({PAID, PACKED, SHIPPED, DELIVERED, COMPLETED, PARTIALLY_REFUNDED})

TRANSITIONS: dict[str, frozenset] = {
    AWAITING_PAYMENT: frozenset({PAID, PAYMENT_REVIEW, CANCELLED}),
    PAYMENT_REVIEW: frozenset({PAID, CANCELLED}),
    PAID: frozenset({PACKED, REFUNDED, PARTIALLY_REFUNDED}),
    PACKED: frozenset({SHIPPED, REFUNDED, PARTIALLY_REFUNDED}),
    SHIPPED: frozenset({DELIVERED, REFUNDED, PARTIALLY_REFUNDED}),
    DELIVERED: frozenset({COMPLETED, REFUNDED, PARTIALLY_REFUNDED}),
    COMPLETED: frozenset({REFUNDED, PARTIALLY_REFUNDED}),
    PARTIALLY_REFUNDED: frozenset({PACKED, SHIPPED, DELIVERED, COMPLETED, REFUNDED, PARTIALLY_REFUNDED}),
    CANCELLED: frozenset(),
    REFUNDED: frozenset(),
}

# States in which the units are still in the warehouse: leaving them by cancel/refund restocks.
_STOCK_HELD = frozenset({AWAITING_PAYMENT, PAYMENT_REVIEW, PAID, PACKED})

# Actor types recorded in the history
CUSTOMER = "customer"
STAFF = "staff"
MIDTRANS = "midtrans"
SYSTEM = "system"


class IllegalTransition(Exception):
    def __init__(self, current: str, target: str):
        super().__init__(f"cannot move an order from {current} to {target}")
        self.current = current
        self.target = target


class OrderNotFound(Exception):
    pass


def lock_order(tx, order_id: int) -> dict:
    """The order row, locked ``FOR UPDATE`` for the rest of the transaction (``OrderNotFound`` if none)."""
    row = tx.query_one("SELECT * FROM orders WHERE id = %s FOR UPDATE", (order_id,))
    if row is None:
        raise OrderNotFound(order_id)
    return row


def order_items(tx, order_id: int) -> list[dict]:
    """The order's lines (``product_refer``, ``quantity``), read once and passed to ``transition(items=...)`` and
    on to whatever runs after the commit (cache invalidation)."""
    return tx.query("SELECT product_refer, quantity FROM order_items WHERE order_refer = %s ORDER BY id",
                    (order_id,))


def product_ids(items: list[dict]) -> list[bytes]:
    """The distinct product ids (BINARY(16)) of ``order_items`` rows, in first-seen order."""
    return list(dict.fromkeys(bytes(i["product_refer"]) for i in items))


def record(tx, order_id: int, from_status, to_status: str, actor_type: str, actor_id=None, note=None) -> None:
    tx.execute("INSERT INTO order_status_history (order_refer, from_status, to_status, actor_type, actor_id, note)"
               " VALUES (%s, %s, %s, %s, %s, %s)",
               (order_id, from_status, to_status, actor_type, None if actor_id is None else str(actor_id)[:64],
                None if note is None else str(note)[:255]))


def transition(tx, order_id: int, target: str, *, actor_type: str, actor_id=None, note=None,
               expect_from=None, updates: dict | None = None, locked: dict | None = None,
               items: list[dict] | None = None) -> dict:
    """Move the order to ``target`` or raise ``IllegalTransition`` (nothing written). ``expect_from`` narrows the
    legal sources. ``updates`` are extra column values written in the same UPDATE (``_ALLOWED_COLUMNS``; names
    are fixed by callers, never client input). Releases/restocks stock exactly once where the transition calls for
    it. Returns the row as written (the ``locked`` dict itself when given).

    ``locked``: the row this transaction already locked with ``lock_order`` — it is not locked or read again.
    ``items``: the order's lines when the caller already read them (``order_items``); a stock release uses them
    instead of reading them again."""
    log.bind(order_id=order_id)  # every further line of this request or job names the order
    if target not in TRANSITIONS:
        raise ValueError(f"unknown status {target!r}")
    row = locked if locked is not None else lock_order(tx, order_id)
    current = row["status"]
    if target not in TRANSITIONS.get(current, ()) or (expect_from is not None and current not in expect_from):
        raise IllegalTransition(current, target)
    columns = {"status": target}
    if target == PAID and not row["is_paid"]:
        columns["is_paid"] = True
    if target == PAID:
        columns["paid_at"] = NOW
    if target == SHIPPED:
        columns["is_shipped"] = True
    if target == CANCELLED:
        columns["is_cancelled"] = True
    if target == REFUNDED:
        columns["need_refund"] = False
    columns.update(updates or {})
    tx.execute(*update_statement("orders", columns, "id = %s", (order_id,), allowed=_ALLOWED_COLUMNS))
    if target in (CANCELLED, REFUNDED) and current in _STOCK_HELD:
        stock.release(tx, row, reason=stock.ORDER_RELEASE if target == CANCELLED else stock.ORDER_RESTOCK,
                      items=items)
    record(tx, order_id, current, target, actor_type, actor_id, note)
    row.update({k: v for k, v in columns.items() if v is not NOW})
    return row


# the orders columns transition() may write (its own plus the callers' ``updates``)
_ALLOWED_COLUMNS = frozenset({
    "status", "is_paid", "is_shipped", "is_cancelled", "need_refund", "paid_at", "transaction_status",
    "status_description", "payment_type", "courier_tracking_code", "payment_token", "payment_redirect_url"})


def wire_status(row: dict) -> str:
    """The v1 ``status`` string the storefront renders (it colours pending/settlement/expire/cancel and offers
    "Pay Now"/"Cancel" only for ``pending``). Always a string, never null."""
    status = row["status"]
    if status in (AWAITING_PAYMENT,):
        return "pending"
    if status == PAYMENT_REVIEW:
        return "challenge"
    if status == PAID:
        return "settlement"
    if status == CANCELLED:
        return "expire" if row.get("transaction_status") == "expire" else "cancel"
    if status == REFUNDED:
        return "refund"
    if status == PARTIALLY_REFUNDED:
        return "partial_refund"
    return status  # packed, shipped, delivered, completed


# ---------------------------------------------------------------- one way to move an order, and what follows it

# the customer mail a move to each state sends (``omcommerce.notify`` events); other moves send none
MAIL_EVENTS = {PAID: "paid", SHIPPED: "shipped", CANCELLED: "cancelled", REFUNDED: "refunded"}


def stale_caches(previous: str, target: str) -> tuple[bool, bool]:
    """Which caches of the order's products a move makes stale: ``(product, sold)``. The sold counters (and the
    home page that shows them) change when the order enters or leaves the paid states; the product caches when the
    order gives its units back (a cancel or a refund)."""
    sold = (previous in PAID_STATES) != (target in PAID_STATES) or target in (PAID, REFUNDED)
    product = target in (CANCELLED, REFUNDED)
    return product, sold


# NamedTuples, not dataclasses: checkout, payments and the back office import this module at start, and
# `dataclasses` (with `inspect`) costs ~8 ms of each of their cold starts (docs/benchmarks.md).
class AfterCommit(NamedTuple):
    """The work a committed order change leaves behind: cache keys to delete and mail outbox rows to hand to the
    deliverer. Plain data, built inside the transaction and run (``run()``) only after it committed: a rolled-back
    change leaves nothing to do. Combine several with ``+``."""
    cache_keys: list[str] | tuple = ()
    mail_ids: list[int] | tuple = ()

    def __add__(self, other: "AfterCommit") -> "AfterCommit":
        return AfterCommit(list(dict.fromkeys([*self.cache_keys, *other.cache_keys])),
                           [*self.mail_ids, *other.mail_ids])

    def run(self) -> None:
        """Never raises: a cache that cannot be reached falls through to MySQL, an outbox row that is not handed
        over now is delivered by the sweep."""
        from omcore import kv

        from . import outbox

        if self.cache_keys:
            kv.cache_delete(*self.cache_keys)
        outbox.after_commit(self.mail_ids)


def stale_keys(previous: str, target: str, product_ids_text: list[str]) -> list[str]:
    """The cache keys a move from ``previous`` to ``target`` makes stale for the order's products."""
    from . import cachekeys

    product, sold = stale_caches(previous, target)
    keys: list[str] = []
    for pid in product_ids_text:
        if product:
            keys += [cachekeys.product(pid), cachekeys.product_reviews(pid)]
        if sold:
            keys.append(cachekeys.sold(pid))
    if sold:
        keys.append(cachekeys.HOME)
    return keys


class Moved(NamedTuple):
    """What ``move`` did: the order row as written, its state before, its lines, and the after-commit work."""
    order: dict
    previous: str
    items: list[dict]
    after: AfterCommit


def move(tx, order_id: int, target: str, *, actor_type: str, actor_id=None, note=None, expect_from=None,
         updates: dict | None = None, reason: str = "", mail: bool = True, locked: dict | None = None,
         items: list[dict] | None = None) -> Moved:
    """Change the order's state in the caller's transaction ``tx``: lock the order (unless ``locked``: the row this
    transaction already locked), read its lines (unless ``items``), ``transition`` (``IllegalTransition``: nothing
    written), and record the customer's mail for the new state (``MAIL_EVENTS``; ``reason`` goes into a
    cancellation mail; ``mail=False``: none). Returns ``Moved`` whose ``after`` the caller runs after the commit."""
    from omdb.ids import from_bin

    from . import notify

    row = locked if locked is not None else lock_order(tx, order_id)
    previous = row["status"]
    if items is None:
        items = order_items(tx, order_id)
    order = transition(tx, order_id, target, actor_type=actor_type, actor_id=actor_id, note=note,
                       expect_from=expect_from, updates=updates, locked=row, items=items)
    mail_ids = []
    if mail and target in MAIL_EVENTS:
        mail_id = notify.order_event(tx, order_id, MAIL_EVENTS[target], reason=reason, order=order)
        if mail_id:
            mail_ids.append(mail_id)
    keys = stale_keys(previous, target, [from_bin(pb) for pb in product_ids(items)])
    return Moved(order, previous, items, AfterCommit(keys, mail_ids))
