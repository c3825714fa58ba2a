"""Checkout: pre-items, pre-freight, placing an order with a stock reservation, cancelling, and expiring unpaid
orders.

Placing an order is one business step in one transaction: the checked cart lines are locked, the stock is
reserved (inventory rows locked in product-id order), prices, names, weights and the address are snapshotted and
the order and its items are written. Freight is priced before the transaction and Midtrans is called after the
commit — never inside it. If Midtrans fails, the order is cancelled (the reservation released) in the same request
and the cart is left as it was.

Limits checked before anything is reserved (409, nothing changed): at most ``MAX_UNPAID_ORDERS_PER_CUSTOMER``
orders awaiting payment per customer (stock hoarding), at most ``CART_MAX_QUANTITY`` units per line, and an order
total (items + freight) of at most ``orders.MAX_ORDER_AMOUNT`` IDR. An ``Idempotency-Key`` is bound to the request
it was first used with: the same key with another body is refused with 422.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

from omcommerce import cachekeys, catalog, freight, midtrans, notify, orders, stock
from omcore import config, kv
from omcore.errors import ApiError, BadGateway, Conflict, NotFound
from omcore.log import bind as log_bind
from omcore.log import get_logger
from omdb import db
from omdb.errors import DatabaseError, DatabaseUnavailable, DuplicateKey
from omdb.ids import from_bin, to_bin

log = get_logger("checkout")

NOTHING_SELECTED = "you haven't selected any item in the cart"
LINES_SQL = ("SELECT ci.id AS line_id, p.id, p.name, p.description, p.price, p.weight, p.length, p.width, p.height,"
             " ci.quantity, COALESCE(i.quantity, 0) AS stock, {image} AS image_id FROM cart_items ci"
             " JOIN products p ON p.id = ci.product_refer AND p.deleted_at IS NULL"
             " LEFT JOIN inventories i ON i.product_refer = p.id"
             " WHERE ci.customer_refer = %s AND ci.checked = TRUE ORDER BY p.id")


def payment_window_hours() -> int:
    return config.get_int("PAYMENT_WINDOW_HOURS")


def max_unpaid_orders() -> int:
    """Orders a customer may have awaiting payment at once (0 or less: no limit)."""
    return config.get_int("MAX_UNPAID_ORDERS_PER_CUSTOMER")


def max_line_quantity() -> int:
    """The cart's per-product limit, enforced again at checkout (a line may predate a lowered limit)."""
    return config.get_int("CART_MAX_QUANTITY")


UNPAID_STATES = (orders.AWAITING_PAYMENT, orders.PAYMENT_REVIEW)


def _checked_lines(runner, customer_id: str, *, lock: bool = False) -> list[dict]:
    sql = LINES_SQL.format(image=catalog.first_image_sql()) + (" FOR UPDATE" if lock else "")
    return runner.query(sql, (to_bin(customer_id),))


def _parcels(lines) -> list[dict]:
    return [{"weight_kg": line["weight"], "length": line["length"], "width": line["width"], "height": line["height"],
             "quantity": line["quantity"], "value": int(line["price"]) * int(line["quantity"])} for line in lines]


def pre_items(customer_id: str) -> list[dict]:
    lines = [line for line in _checked_lines(db, customer_id) if line["stock"] >= line["quantity"]]
    if not lines:
        raise Conflict(NOTHING_SELECTED, code="nothing_selected")
    return [{"id": from_bin(line["id"]), "name": line["name"], "price": int(line["price"]),
             "image": catalog.image_file(line["image_id"]),
             "quantity": int(line["quantity"])} for line in lines]


def _address(customer_id: str, address_id) -> dict:
    row = db.query_one("SELECT a.*, s.full_name AS area_name FROM customer_addresses a JOIN shipping_areas s"
                       " ON s.id = a.shipping_area_refer WHERE a.id = %s AND a.customer_refer = %s",
                       (to_bin(address_id), to_bin(customer_id)))
    if row is None:
        raise NotFound("address not found")
    return row


def pre_freight(customer_id: str, address_id) -> list[dict]:
    address = _address(customer_id, address_id)
    lines = [line for line in _checked_lines(db, customer_id) if line["stock"] >= line["quantity"]]
    if not lines:
        raise Conflict(NOTHING_SELECTED, code="nothing_selected")
    return freight.choices(int(address["shipping_area_refer"]), _parcels(lines))


# ---------------------------------------------------------------- placing an order

def _existing(customer_id: str, key: str | None) -> dict | None:
    if not key:
        return None
    return db.query_one("SELECT id, status, payment_token, payment_redirect_url, idempotency_fingerprint FROM orders"
                        " WHERE customer_refer = %s AND idempotency_key = %s", (to_bin(customer_id), key))


def _fingerprint(address_id, courier_code: str) -> str:
    """What an Idempotency-Key is bound to: the checkout request's body, normalised."""
    canonical = json.dumps({"address_code": str(address_id), "courier_code": courier_code}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(existing: dict, fingerprint: str) -> dict:
    """The first order's answer for a repeated key — unless the key was first used with another request."""
    stored = existing.get("idempotency_fingerprint")
    if stored is not None and stored != fingerprint:
        raise ApiError("this Idempotency-Key was already used for another checkout request (another address or"
                       " courier); send a new key for a new checkout", status=422, code="idempotency_key_reused")
    return _answer_for(existing)


def _answer_for(existing: dict) -> dict:
    if existing["payment_token"] and existing["status"] == orders.AWAITING_PAYMENT:
        return {"token": existing["payment_token"], "redirect_url": existing["payment_redirect_url"],
                "order_id": int(existing["id"])}
    if existing["status"] == orders.AWAITING_PAYMENT:
        raise Conflict("this checkout is still being processed, please wait a moment", code="checkout_in_progress")
    raise Conflict("this checkout already ended (order #%d is %s)" % (existing["id"], existing["status"]),
                   code="checkout_ended")


def _lock_customer(customer_id: str) -> bool:
    return bool(kv.required(lambda c: c.set(f"lock:checkout:{customer_id}", "1", nx=True, ex=60)))


def _unlock_customer(customer_id: str) -> None:
    try:
        kv.required(lambda c: c.delete(f"lock:checkout:{customer_id}"))
    except Exception:  # the lock expires by itself
        pass


def place_order(customer_id: str, address_id, courier_code: str, idempotency_key: str | None) -> dict:
    fingerprint = _fingerprint(address_id, courier_code)
    existing = _existing(customer_id, idempotency_key)
    if existing:
        return _replay(existing, fingerprint)
    if not _lock_customer(customer_id):
        raise Conflict("a checkout for this account is already in progress", code="checkout_in_progress")
    try:
        return _place_order(customer_id, address_id, courier_code, idempotency_key, fingerprint)
    finally:
        _unlock_customer(customer_id)


def _check_unpaid_limit(customer_id: str) -> None:
    """Stock hoarding: a customer may hold only a few unpaid reservations (checkouts of one customer are serialised
    by the per-customer lock, so counting here is exact)."""
    limit = max_unpaid_orders()
    if limit <= 0:
        return
    unpaid = int(db.query_one("SELECT COUNT(*) AS n FROM orders WHERE customer_refer = %s AND status IN"
                              f" ({db.placeholders(len(UNPAID_STATES))})",
                              (to_bin(customer_id), *UNPAID_STATES))["n"])
    if unpaid >= limit:
        raise Conflict(f"you already have {unpaid} unpaid orders (at most {limit} at a time): pay or cancel one of"
                       f" them before placing a new order", code="too_many_unpaid", unpaid_orders=unpaid,
                       max_unpaid_orders=limit)


def check_quantities(lines, limit: int) -> None:
    """Rule: at most ``limit`` units of one product per order (409 naming the lines above it)."""
    over = [line for line in lines if int(line["quantity"]) > limit]
    if over:
        raise Conflict(f"at most {limit} units of one product per order; too many of: "
                       + ", ".join(line["name"] for line in over), code="quantity_limit",
                       products=[{"id": from_bin(line["id"]), "name": line["name"], "requested": int(line["quantity"]),
                                  "max_quantity": limit} for line in over])


def check_stock(lines) -> None:
    """Rule: every line's quantity is in stock by the last commit (409 naming the short lines). The fast fail of
    issue 13: refuse before pricing freight and queueing for the inventory row locks behind the buyers who got it;
    the locked re-check of ``stock.reserve`` stays the rule."""
    gone = [line for line in lines if int(line["stock"]) < int(line["quantity"])]
    if gone:
        raise Conflict("not enough stock for: " + ", ".join(line["name"] for line in gone), code="out_of_stock",
                       products=[{"id": from_bin(line["id"]), "name": line["name"], "requested": int(line["quantity"]),
                                  "available": int(line["stock"])} for line in gone])


def items_total(lines) -> int:
    return sum(int(line["price"]) * int(line["quantity"]) for line in lines)


def check_amount(amount: int, what: str) -> None:
    """Rule: one payment carries at most ``orders.MAX_ORDER_AMOUNT`` IDR."""
    if amount > orders.MAX_ORDER_AMOUNT:
        raise Conflict(f"the {what} of {amount:,} IDR is above the {orders.MAX_ORDER_AMOUNT:,} IDR one payment can"
                       f" carry: order fewer units", code="amount_too_large", max_amount=orders.MAX_ORDER_AMOUNT)


def _place_order(customer_id: str, address_id, courier_code: str, idempotency_key: str | None,
                 fingerprint: str) -> dict:
    """Check → price freight → write the order and reserve (one transaction) → open the payment page (after the
    commit; a failure cancels the order) → store the page, mail, clear the ordered lines from the cart."""
    address = _address(customer_id, address_id)
    _check_unpaid_limit(customer_id)
    preview = _checked_lines(db, customer_id)
    if not preview:
        raise Conflict(NOTHING_SELECTED, code="nothing_selected")
    check_quantities(preview, max_line_quantity())
    check_stock(preview)
    check_amount(items_total(preview), "items total")
    stock.check_unpaid_units(db, customer_id, preview)  # hoarding: units per product across unpaid orders (409)
    parcels = _parcels(preview)
    choice = freight.price_for(int(address["shipping_area_refer"]), parcels, courier_code)  # outside the transaction
    if choice is None:
        raise Conflict("invalid courier code", code="invalid_courier")
    freight_cost = int(choice["rates"])
    check_amount(sum(p["value"] for p in parcels) + freight_cost, "order total (items and freight)")
    customer = db.query_one("SELECT first_name, last_name, email, phone_number FROM customers WHERE id = %s",
                            (to_bin(customer_id),))
    try:
        order_id, lines = db.run_in_transaction(lambda tx: _write_order_and_reserve(
            tx, customer_id, address, parcels, courier_code, freight_cost, idempotency_key, fingerprint))
    except stock.InsufficientStock as exc:
        names = {from_bin(line["id"]): line["name"] for line in preview}
        short = [{"id": s["id"], "name": names.get(s["id"], ""), "requested": s["requested"],
                  "available": s["available"]} for s in exc.shortages]
        raise Conflict("not enough stock for: " + ", ".join(s["name"] or s["id"] for s in short),
                       code="out_of_stock", products=short) from None
    except DuplicateKey:
        existing = _existing(customer_id, idempotency_key)
        if existing:
            return _replay(existing, fingerprint)
        raise
    snap = _open_payment(order_id, lines, freight_cost, courier_code, customer)
    _store_payment_page_or_cancel(customer_id, order_id, lines, snap).run()
    return {"token": snap["token"], "redirect_url": snap["redirect_url"], "order_id": order_id}


def _write_order_and_reserve(tx, customer_id: str, address: dict, parcels: list[dict], courier_code: str,
                             freight_cost: int, idempotency_key: str | None, fingerprint: str):
    """The one transaction: lock the checked lines (unchanged since they were priced), write the order and its
    items, reserve the stock, record the initial state. Returns (order id, the locked lines)."""
    lines = _checked_lines(tx, customer_id, lock=True)
    if not lines:
        raise Conflict(NOTHING_SELECTED, code="nothing_selected")
    if _parcels(lines) != parcels:
        raise Conflict("your cart changed while checking out, please review it and try again", code="cart_changed")
    item_cost = items_total(lines)
    check_amount(item_cost + freight_cost, "order total (items and freight)")
    expires = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(hours=payment_window_hours())
    order_id = tx.execute(
        "INSERT INTO orders (customer_refer, customer_address_refer, ship_recipient_name, ship_phone_number,"
        " ship_full_address, ship_note, ship_area_id, ship_area_name, ship_postal_code, courier_code, freight_cost,"
        " item_cost, gross_amount, status, payment_expires_at, idempotency_key, idempotency_fingerprint)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (to_bin(customer_id), address["id"], address["recipient_name"], address["phone_number"],
         address["full_address"], address["note"], int(address["shipping_area_refer"]), address["area_name"],
         address["postal_code"], courier_code, freight_cost, item_cost, item_cost + freight_cost,
         orders.AWAITING_PAYMENT, expires, idempotency_key, fingerprint if idempotency_key else None)).lastrowid
    log_bind(order_id=order_id)
    tx.executemany("INSERT INTO order_items (order_refer, product_refer, on_buy_name, on_buy_description,"
                   " on_buy_price, on_buy_weight, quantity) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                   [(order_id, line["id"], line["name"], line["description"], line["price"], line["weight"],
                     line["quantity"]) for line in lines])
    stock.reserve(tx, order_id, [(line["id"], line["quantity"]) for line in lines])
    orders.record(tx, order_id, None, orders.AWAITING_PAYMENT, orders.CUSTOMER, customer_id, "order placed")
    return order_id, lines


def _open_payment(order_id: int, lines: list[dict], freight_cost: int, courier_code: str, customer: dict) -> dict:
    """The Snap payment page for the committed order; when Midtrans fails, the order is cancelled (its reservation
    released, no mail: the customer sees the 502) and nothing was charged."""
    params = midtrans.snap_params(order_id, lines, freight_cost, courier_code, customer,
                                  window_hours=payment_window_hours(), now=datetime.now(timezone.utc))
    try:
        return midtrans.create_snap_transaction(params)
    except midtrans.MidtransError as exc:
        log.warning("snap transaction for order %s failed: %s", order_id, exc)
        db.run_in_transaction(lambda tx: orders.move(
            tx, order_id, orders.CANCELLED, actor_type=orders.SYSTEM, note="payment provider unavailable",
            updates={"status_description": "payment provider unavailable, nothing was charged"}, mail=False)
        ).after.run()
        raise BadGateway("the payment provider is unavailable, nothing was charged: please try again",
                         code="payment_provider_unavailable") from None


def _store_payment_page_or_cancel(customer_id: str, order_id: int, lines: list[dict],
                                  snap: dict) -> orders.AfterCommit:
    """The write after the Snap call. A database that does not answer then (every pooled connection lent for
    ``DB_POOL_TIMEOUT_SECONDS``, a lost connection) would leave the order awaiting payment without a page — the
    customer, answered 503, never saw it — holding its stock for the whole payment window. So the write is tried once
    more (both steps are idempotent: the mail is recorded once per event, the cart delete repeats harmlessly); if it
    fails again the order is cancelled (reservation released, no mail) and its Snap transaction expired, and the
    customer gets the 503 to try again. If even the cancel cannot be written, the expiry sweep cancels the order
    once it has been without a page for ``ABANDONED_AFTER`` (``expire_unpaid``)."""
    try:
        return _store_payment_page(customer_id, order_id, lines, snap)
    except DatabaseUnavailable as exc:
        log.warning("storing the payment page of order %s failed (%s), trying again", order_id, type(exc).__name__)
    try:
        return _store_payment_page(customer_id, order_id, lines, snap)
    except DatabaseUnavailable as exc:
        log.warning("storing the payment page of order %s failed again (%s), cancelling it", order_id,
                    type(exc).__name__)
        _abandon(order_id)
        raise


def _abandon(order_id: int) -> None:
    """Cancel an order whose checkout could not be completed (best effort: the sweep is the backstop)."""
    try:
        moved = db.run_in_transaction(lambda tx: orders.move(
            tx, order_id, orders.CANCELLED, actor_type=orders.SYSTEM, note="checkout could not be completed",
            expect_from=(orders.AWAITING_PAYMENT,), mail=False,
            updates={"status_description": "the checkout could not be completed, nothing was charged"}))
    except (DatabaseError, orders.IllegalTransition) as exc:
        log.error("could not cancel order %s after its checkout failed (%s); the expiry sweep will", order_id,
                  type(exc).__name__)
        return
    _expire_at_midtrans(order_id)
    moved.after.run()


def _store_payment_page(customer_id: str, order_id: int, lines: list[dict], snap: dict) -> orders.AfterCommit:
    """Store the payment page and record the "created" mail (it carries the page's address); then only the lines
    that went into this order leave the cart (lines checked meanwhile stay). Returns the after-commit work."""

    def store_payment_page_and_mail(tx):
        tx.update("orders", {"payment_token": snap["token"], "payment_redirect_url": snap["redirect_url"]},
                  "id = %s", (order_id,), allowed=("payment_token", "payment_redirect_url"))
        return notify.order_event(tx, order_id, "created")

    mail_id = db.run_in_transaction(store_payment_page_and_mail)
    line_ids = [line["line_id"] for line in lines]
    db.execute(f"DELETE FROM cart_items WHERE customer_refer = %s AND id IN ({db.placeholders(len(line_ids))})",
               (to_bin(customer_id), *line_ids))
    keys = [cachekeys.cart_count(customer_id)]
    for line in lines:
        pid = from_bin(line["id"])
        keys += [cachekeys.product(pid), cachekeys.product_reviews(pid)]
    return orders.AfterCommit(keys, [mail_id] if mail_id else [])


# ---------------------------------------------------------------- cancel and expiry

def cancel(customer_id: str, order_id: int) -> dict:
    row = db.query_one("SELECT status FROM orders WHERE id = %s AND customer_refer = %s",
                       (order_id, to_bin(customer_id)))
    if row is None:
        raise NotFound("order not found")
    if row["status"] == orders.CANCELLED:
        return {"id": order_id, "status": "cancel"}

    def cancel_and_release(tx):
        return orders.move(tx, order_id, orders.CANCELLED, actor_type=orders.CUSTOMER, actor_id=customer_id,
                           expect_from=(orders.AWAITING_PAYMENT, orders.PAYMENT_REVIEW),
                           updates={"status_description": "customer request for cancel"},
                           reason="at your request").after

    try:
        after = db.run_in_transaction(cancel_and_release)
    except orders.IllegalTransition as exc:
        raise Conflict(f"the order can no longer be cancelled (it is {exc.current})", code="illegal_transition",
                       current_status=exc.current) from None
    _expire_at_midtrans(order_id)
    after.run()
    return {"id": order_id, "status": "cancel"}


def _expire_at_midtrans(order_id: int) -> None:
    """Best effort, after the local cancel: a payment that still arrives is recorded and flagged for refund."""
    try:
        midtrans.expire(order_id)
    except midtrans.MidtransError as exc:
        log.warning("could not expire the Midtrans transaction of order %s: %s", order_id, exc)


# an order still without its payment page this long after it was written was abandoned by its checkout (a checkout
# holds its account's lock for at most 60 s)
ABANDONED_AFTER = timedelta(minutes=10)


def expire_unpaid(now: datetime | None = None, *, batch: int = 200) -> int:
    """Cancel every order still awaiting payment after its window and release its stock. Idempotent and safe
    next to the webhook: each order is moved under its row lock by the state machine, so a settlement racing this
    job ends in exactly one outcome (if the payment wins, the order is paid; if expiry wins, a late payment is
    recorded and flagged for refund). Returns the number of orders expired now."""
    now = (now or datetime.now(timezone.utc)).replace(tzinfo=None)
    abandoned = now - ABANDONED_AFTER
    candidates = db.query("SELECT id FROM orders WHERE status = %s AND (payment_expires_at < %s OR"
                          " (payment_token IS NULL AND created_at < %s)) ORDER BY id LIMIT %s",
                          (orders.AWAITING_PAYMENT, now, abandoned, batch))
    expired = 0
    for row in candidates:
        order_id = int(row["id"])

        def cancel_if_still_expired(tx, order_id=order_id):
            row = orders.lock_order(tx, order_id)
            if row["status"] != orders.AWAITING_PAYMENT:
                return None
            if row["payment_expires_at"] >= now:
                if row["payment_token"] is not None or row["created_at"] >= abandoned:
                    return None
                # a checkout that never stored its payment page (its after-Snap write and cancel both failed)
                return orders.move(tx, order_id, orders.CANCELLED, actor_type=orders.SYSTEM, locked=row,
                                   note="checkout could not be completed", mail=False,
                                   updates={"status_description": "the checkout could not be completed, nothing "
                                                                  "was charged"}).after
            return orders.move(tx, order_id, orders.CANCELLED, actor_type=orders.SYSTEM,
                               note="payment window expired", locked=row, reason="the payment window expired",
                               updates={"transaction_status": "expire",
                                        "status_description": "the payment window expired"}).after

        after = db.run_in_transaction(cancel_if_still_expired)
        if after is not None:
            expired += 1
            _expire_at_midtrans(order_id)
            after.run()
    return expired
