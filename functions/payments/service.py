"""The Midtrans payment notification (webhook): verified, then applied through the order state machine.

* The signature SHA512(order_id + status_code + gross_amount + server key) is checked in constant time (401,
  nothing changed), then the order-id prefix, the order, and that gross_amount equals the order's total.
* Mapping: settlement, or capture with fraud_status accept → paid; capture + challenge → payment_review;
  deny / cancel / expire / failure (and capture + deny) → cancelled with the reservation released;
  refund → refunded; partial_refund → partially_refunded; pending → recorded only.
* The state machine only moves forward under the order's row lock, so duplicated, replayed, reordered or
  concurrent notifications change nothing the second time and still answer 200; stock moves at most once.
* A payment for an order already cancelled locally is recorded and the order flagged ``need_refund`` — never
  re-opened.
* Every notification is stored in ``payment_notifications`` (raw body, outcome).
"""
from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from omcommerce import cachekeys, midtrans, notify, orders
from omcore.errors import BadRequest, NotFound, Unauthorized
from omcore.log import get_logger
from omdb import db
from omdb.ids import from_bin

log = get_logger("payments")

REQUIRED = ("transaction_status", "status_code", "signature_key", "order_id", "gross_amount")
FAILED = ("deny", "cancel", "expire", "failure")


def _store(raw: str, payload: dict | None, outcome: str, order_id: int | None, signature_ok: bool) -> None:
    p = payload or {}

    def text(name, size):
        value = p.get(name)
        return None if value is None else str(value)[:size]

    try:
        db.execute("INSERT INTO payment_notifications (order_refer, midtrans_order_id, transaction_id,"
                   " transaction_status, fraud_status, status_code, gross_amount, signature_valid, outcome, raw_body)"
                   " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                   (order_id, text("order_id", 64), text("transaction_id", 64), text("transaction_status", 32),
                    text("fraud_status", 32), text("status_code", 8), text("gross_amount", 32), signature_ok,
                    outcome[:48], raw[:1_000_000]))
    except Exception as exc:  # the audit row must never turn a handled notification into a failure
        log.error("could not store notification: %s", type(exc).__name__)


def handle(raw: str) -> dict:
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or any(not isinstance(payload.get(k), str) for k in REQUIRED):
        _store(raw, payload if isinstance(payload, dict) else None, "malformed", None, False)
        raise BadRequest("malformed notification")
    if not midtrans.signature_valid(payload):
        _store(raw, payload, "bad_signature", None, False)
        raise Unauthorized("invalid signature")
    order_id = midtrans.parse_order_id(payload["order_id"])
    row = db.query_one("SELECT id, gross_amount FROM orders WHERE id = %s", (order_id,)) if order_id else None
    if row is None:
        _store(raw, payload, "unknown_order", None, True)
        raise NotFound("unknown order")
    try:
        amount = Decimal(payload["gross_amount"])
    except InvalidOperation:
        amount = None
    if amount is None or amount != Decimal(int(row["gross_amount"])):
        _store(raw, payload, "amount_mismatch", order_id, True)
        raise BadRequest("gross_amount does not match the order")
    outcome, event = db.run_in_transaction(lambda tx: _apply(tx, order_id, payload))
    _store(raw, payload, outcome, order_id, True)
    if event:
        _after(order_id, event)
    return {"outcome": outcome}


def _apply(tx, order_id: int, p: dict) -> tuple[str, str | None]:
    status = p["transaction_status"]
    fraud = (p.get("fraud_status") or "").lower() if isinstance(p.get("fraud_status"), str) else ""
    row = orders.lock_order(tx, order_id)
    current = row["status"]
    details = {"transaction_status": status[:32]}
    if isinstance(p.get("payment_type"), str):
        details["payment_type"] = p["payment_type"][:64]

    def move(target, note, event):
        if target not in orders.TRANSITIONS.get(current, ()):
            return "ignored_" + current, None
        orders.transition(tx, order_id, target, actor_type=orders.MIDTRANS, actor_id=p.get("transaction_id"),
                          note=note, updates=details)
        return f"{current}->{target}", event

    paid = status == "settlement" or (status == "capture" and fraud in ("accept", ""))
    if paid:
        if current == orders.CANCELLED:
            if not row["need_refund"]:
                tx.execute("UPDATE orders SET need_refund = TRUE, transaction_status = %s, updated_at ="
                           " UTC_TIMESTAMP(3) WHERE id = %s", (status[:32], order_id))
                orders.record(tx, order_id, current, current, orders.MIDTRANS, p.get("transaction_id"),
                              "paid after cancellation: refund needed")
            return "paid_after_cancel", None
        if current in (orders.AWAITING_PAYMENT, orders.PAYMENT_REVIEW):
            return move(orders.PAID, f"{status}", "paid")
        return "duplicate", None
    if status == "capture" and fraud == "challenge":
        return move(orders.PAYMENT_REVIEW, "fraud challenge", None) if current == orders.AWAITING_PAYMENT \
            else ("ignored_" + current, None)
    if status in FAILED or (status == "capture" and fraud == "deny"):
        if current in (orders.AWAITING_PAYMENT, orders.PAYMENT_REVIEW):
            details["status_description"] = f"payment {status}"
            return move(orders.CANCELLED, status, "cancelled")
        return "ignored_" + current, None
    if status == "refund":
        return move(orders.REFUNDED, "refund", "refunded")
    if status == "partial_refund":
        return move(orders.PARTIALLY_REFUNDED, "partial refund", None)
    if status == "pending":
        if current == orders.AWAITING_PAYMENT:
            tx.execute("UPDATE orders SET transaction_status = %s, payment_type = COALESCE(%s, payment_type),"
                       " updated_at = UTC_TIMESTAMP(3) WHERE id = %s",
                       ("pending", details.get("payment_type"), order_id))
        return "pending_recorded", None
    return "ignored_unknown_status", None


def _after(order_id: int, event: str) -> None:
    product_ids = [from_bin(r["product_refer"]) for r in db.query(
        "SELECT DISTINCT product_refer FROM order_items WHERE order_refer = %s", (order_id,))]
    if event in ("paid", "refunded"):
        cachekeys.invalidate_sold(*product_ids)
    if event in ("cancelled", "refunded"):
        for pid in product_ids:
            cachekeys.invalidate_product(pid, listing=False)
    notify.order_event(db, order_id, event)
