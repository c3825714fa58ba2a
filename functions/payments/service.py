"""The Midtrans payment notification (webhook): verified, confirmed with Midtrans, then applied through the order
state machine.

* The signature SHA512(order_id + status_code + gross_amount + server key) is checked in constant time (401,
  nothing changed), then the order-id prefix, the order, and that gross_amount equals the order's total.
* The signature does not cover ``transaction_status`` (a captured ``pending`` notification rewritten to
  ``settlement`` still verifies), so the notification is only a hint: Midtrans is asked with the Get Status API
  (``omcommerce.midtrans.confirmed_status``) and ONLY the status, fraud status and gross amount it returns are
  acted on. Midtrans unreachable, timing out or answering garbage → 503 (Midtrans retries), nothing changed;
  Midtrans knows no such transaction → 404; Midtrans reports another gross amount → 409; both change nothing.
* Mapping (of the confirmed status): settlement, or capture with fraud_status accept → paid; capture + challenge
  → payment_review; deny / cancel / expire / failure (and capture + deny) → cancelled with the reservation
  released; refund → refunded; partial_refund → partially_refunded; pending → recorded only.
* The state machine only moves forward under the order's row lock, so duplicated, replayed, reordered or
  concurrent notifications change nothing the second time and still answer 200; stock moves at most once.
* A payment for an order already cancelled locally is recorded and the order flagged ``need_refund`` — never
  re-opened.
* Every notification whose signature verifies is stored in ``payment_notifications``: raw body, what it claimed
  (transaction_status, fraud_status, gross_amount...), what Midtrans confirmed (``confirmed_*``) and the outcome.
  Malformed and badly signed ones are not stored (anyone can send them: 1,071 junk rows a second once filled the
  table); each is counted per client, logged with a short sample, and past ``WEBHOOK_BAD_PER_IP`` per window the
  client is answered 429 before its body is parsed.
"""
from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from omauth import ratelimit
from omcommerce import midtrans, orders
from omcore import config
from omcore.errors import BadRequest, Conflict, NotFound, ServiceUnavailable, Unauthorized
from omcore.log import bind as log_bind
from omcore.log import get_logger
from omdb import db

log = get_logger("payments")

REQUIRED = ("transaction_status", "status_code", "signature_key", "order_id", "gross_amount")
FAILED = ("deny", "cancel", "expire", "failure")


def _text(mapping: dict | None, name: str, size: int):
    value = (mapping or {}).get(name)
    return None if value is None else str(value)[:size]


def _store(raw: str, payload: dict | None, outcome: str, order_id: int | None, signature_ok: bool,
           confirmed: dict | None = None) -> None:
    """The audit row: what the notification claimed, what Midtrans confirmed (``confirmed``, when it was asked)
    and the outcome."""
    p = payload or {}
    try:
        db.execute("INSERT INTO payment_notifications (order_refer, midtrans_order_id, transaction_id,"
                   " transaction_status, fraud_status, status_code, gross_amount, signature_valid, outcome, raw_body,"
                   " confirmed_status, confirmed_fraud_status, confirmed_gross_amount, confirmed_transaction_id,"
                   " confirmed_at)"
                   " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
                   + (" UTC_TIMESTAMP(3))" if confirmed is not None else " NULL)"),
                   (order_id, _text(p, "order_id", 64), _text(p, "transaction_id", 64),
                    _text(p, "transaction_status", 32), _text(p, "fraud_status", 32), _text(p, "status_code", 8),
                    _text(p, "gross_amount", 32), signature_ok, outcome[:48],
                    raw[:1_000_000] if signature_ok else raw[:2048],  # junk stays small
                    _text(confirmed, "transaction_status", 32), _text(confirmed, "fraud_status", 32),
                    _text(confirmed, "gross_amount", 32), _text(confirmed, "transaction_id", 64)))
    except Exception as exc:  # the audit row must never turn a handled notification into a failure
        log.error("could not store notification: %s", type(exc).__name__)


def _bad_limits() -> tuple[int, int]:
    return config.get_int("WEBHOOK_BAD_PER_IP"), config.get_int("WEBHOOK_BAD_WINDOW_SECONDS")


def _refuse_unverified(raw: str, outcome: str, ip: str) -> None:
    """Not stored: counted per client and logged with a short sample (enough to recognise a misconfigured
    sender, never a whole junk body)."""
    window = _bad_limits()[1]
    count = ratelimit.count("webhook-bad", ip, window=window)
    log.warning("unverified notification refused (%s), %d from this client in the window; sample %r", outcome,
                count, raw[:120])


def handle(raw: str, ip: str = "unknown") -> dict:
    limit, window = _bad_limits()
    ratelimit.check("webhook-bad", ip, limit=limit, window=window,
                    message="too many unverified notifications from your network, please try again later")
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or any(not isinstance(payload.get(k), str) for k in REQUIRED):
        _refuse_unverified(raw, "malformed", ip)
        raise BadRequest("malformed notification", code="malformed_notification")
    if not midtrans.signature_valid(payload):
        _refuse_unverified(raw, "bad_signature", ip)
        raise Unauthorized("invalid signature", code="invalid_signature")
    order_id = midtrans.parse_order_id(payload["order_id"])
    log_bind(order_id=order_id)
    row = db.query_one("SELECT id, gross_amount FROM orders WHERE id = %s", (order_id,)) if order_id else None
    if row is None:
        _store(raw, payload, "unknown_order", None, True)
        raise NotFound("unknown order", code="unknown_order")
    if not _same_amount(payload["gross_amount"], row["gross_amount"]):
        _store(raw, payload, "amount_mismatch", order_id, True)
        raise BadRequest("gross_amount does not match the order", code="amount_mismatch")
    # the signature does not cover transaction_status: act only on what Midtrans itself confirms
    try:
        confirmed = midtrans.confirmed_status(order_id)
    except midtrans.MidtransError as exc:
        log.warning("notification for order %s not confirmed, Midtrans unavailable: %s", order_id, exc)
        _store(raw, payload, "unconfirmed_midtrans_unavailable", order_id, True)
        raise ServiceUnavailable("could not confirm the payment status with Midtrans; nothing was changed,"
                                 " please retry", code="payment_provider_unavailable") from None
    if confirmed is None:
        log.warning("notification for order %s: Midtrans has no such transaction", order_id)
        _store(raw, payload, "unconfirmed_unknown_at_midtrans", order_id, True)
        raise NotFound("Midtrans has no transaction for this order; nothing was changed",
                       code="unknown_at_payment_provider")
    if not _same_amount(confirmed["gross_amount"], row["gross_amount"]):
        log.error("order %s: Midtrans confirms gross_amount %s, the order's total is %s", order_id,
                  str(confirmed["gross_amount"])[:32], row["gross_amount"])
        _store(raw, payload, "confirmed_amount_mismatch", order_id, True, confirmed)
        raise Conflict("Midtrans reports another gross_amount for this order; nothing was changed",
                       code="amount_mismatch")
    effective = {
        "transaction_status": confirmed["transaction_status"],
        "fraud_status": confirmed.get("fraud_status") if isinstance(confirmed.get("fraud_status"), str) else None,
        "payment_type": confirmed.get("payment_type") if isinstance(confirmed.get("payment_type"), str)
        else payload.get("payment_type"),
        "transaction_id": confirmed.get("transaction_id") if isinstance(confirmed.get("transaction_id"), str)
        else payload.get("transaction_id"),
    }
    if effective["transaction_status"] != payload["transaction_status"]:
        log.warning("order %s: notification claimed %s, Midtrans confirms %s", order_id,
                    payload["transaction_status"][:32], effective["transaction_status"][:32])

    outcome, moved = db.run_in_transaction(lambda tx: _apply_confirmed_status(tx, order_id, effective))
    _store(raw, payload, outcome, order_id, True, confirmed)
    if moved is not None:
        moved.after.run()
    return {"outcome": outcome}


def _same_amount(value, order_total) -> bool:
    """True when a Midtrans amount ("116000.00", 116000) equals the order's integer total."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return False
    try:
        return Decimal(str(value)) == Decimal(int(order_total))
    except InvalidOperation:
        return False


# the payment facts the webhook writes on an order outside a status change (the status itself: orders.transition)
_PAYMENT_FACTS = ("transaction_status", "payment_type", "need_refund")


class Decision(NamedTuple):  # not a dataclass: keeps `dataclasses` + `inspect` out of the cold start
    """What a confirmed payment status means for an order in a given state: a move to ``target`` (with the history
    ``note`` and, for a failed payment, a ``description``), or no move and the ``outcome`` to audit — possibly with a
    payment fact to write (``flag_refund``: paid after a local cancel; ``record_pending``)."""
    target: str | None = None
    note: str = ""
    description: str | None = None
    outcome: str | None = None
    flag_refund: bool = False
    record_pending: bool = False


def decide(status: str, fraud_status, current: str) -> Decision:
    """The webhook's rules, pure: Midtrans' confirmed ``status`` and ``fraud_status`` for an order now in
    ``current`` → the ``Decision``. Whether a move is legal is still ``orders.transition``'s to say."""
    fraud = fraud_status.lower() if isinstance(fraud_status, str) else ""
    paid = status == "settlement" or (status == "capture" and fraud in ("accept", ""))
    unpaid = current in (orders.AWAITING_PAYMENT, orders.PAYMENT_REVIEW)
    if paid:
        if current == orders.CANCELLED:
            return Decision(outcome="paid_after_cancel", flag_refund=True)
        return Decision(orders.PAID, status) if unpaid else Decision(outcome="duplicate")
    if status == "capture" and fraud == "challenge":
        return Decision(orders.PAYMENT_REVIEW, "fraud challenge") if current == orders.AWAITING_PAYMENT \
            else Decision(outcome="ignored_" + current)
    if status in FAILED or (status == "capture" and fraud == "deny"):
        return Decision(orders.CANCELLED, status, f"payment {status}") if unpaid \
            else Decision(outcome="ignored_" + current)
    if status == "refund":
        return Decision(orders.REFUNDED, "refund")
    if status == "partial_refund":
        return Decision(orders.PARTIALLY_REFUNDED, "partial refund")
    if status == "pending":
        return Decision(outcome="pending_recorded", record_pending=current == orders.AWAITING_PAYMENT)
    return Decision(outcome="ignored_unknown_status")


def _apply_confirmed_status(tx, order_id: int, p: dict) -> tuple[str, orders.Moved | None]:
    """Apply the status Midtrans confirmed (``p``: transaction_status, fraud_status, payment_type,
    transaction_id — never the notification's own claims): lock the order once, ``decide``, then either
    ``orders.move`` (which alone decides whether the move is legal, records the mail and returns the after-commit
    work) or write the payment facts. Returns (outcome, the move or None)."""
    status = p["transaction_status"]
    row = orders.lock_order(tx, order_id)
    current = row["status"]
    decision = decide(status, p.get("fraud_status"), current)
    details = {"transaction_status": status[:32]}
    if isinstance(p.get("payment_type"), str):
        details["payment_type"] = p["payment_type"][:64]
    if decision.target is not None:
        if decision.description:
            details["status_description"] = decision.description
        try:
            moved = orders.move(tx, order_id, decision.target, actor_type=orders.MIDTRANS,
                                actor_id=p.get("transaction_id"), note=decision.note, updates=details, locked=row)
        except orders.IllegalTransition:
            return "ignored_" + current, None
        return f"{current}->{decision.target}", moved
    if decision.flag_refund and not row["need_refund"]:
        tx.update("orders", {"need_refund": True, "transaction_status": status[:32]}, "id = %s",
                  (order_id,), allowed=_PAYMENT_FACTS)
        orders.record(tx, order_id, current, current, orders.MIDTRANS, p.get("transaction_id"),
                      "paid after cancellation: refund needed")
    if decision.record_pending:
        facts = {"transaction_status": "pending"}
        if details.get("payment_type") is not None:
            facts["payment_type"] = details["payment_type"]
        tx.update("orders", facts, "id = %s", (order_id,), allowed=_PAYMENT_FACTS)
    return decision.outcome, None
