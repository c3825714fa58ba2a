"""Order emails (confirmation, paid, shipped, cancelled): plain text + HTML. ``order_event`` writes the mail to the
outbox inside the transaction that changed the order (``omcommerce.outbox``); the caller hands the returned row id
to ``outbox.after_commit`` once that transaction committed. A mail never fails the request that changed the order."""
from __future__ import annotations

from omcore import mail

from . import outbox

_SUBJECTS = {
    "created": "Order #{id} received — please complete the payment",
    "paid": "Order #{id} is paid",
    "shipped": "Order #{id} is on its way",
    "cancelled": "Order #{id} was cancelled",
    "refunded": "Order #{id} was refunded",
}
_BODIES = {
    "created": "Thank you for your order #{id} of Rp {total:,}. Complete the payment here: {url}",
    "paid": "We received the payment of Rp {total:,} for order #{id}. We will pack it soon.",
    "shipped": "Order #{id} was handed to the courier. Tracking code: {tracking}.",
    "cancelled": "Order #{id} was cancelled{reason}. Nothing was charged; if you paid, we will refund you.",
    "refunded": "Order #{id} was refunded.",
}


def order_event(tx, order_id: int, event: str, *, reason: str = "", order: dict | None = None) -> int | None:
    """Record the mail telling the order's customer about ``event``, in the caller's transaction ``tx``. ``order``:
    the order row as that transaction wrote it (``orders.transition`` returns it) — then only the customer's address
    is looked up, the order is not read again. Returns the outbox row id (None: no customer, or this event of this
    order already has its mail)."""
    if order is not None:
        customer = tx.query_one("SELECT email FROM customers WHERE id = %s", (order["customer_refer"],))
        row = None if customer is None else {**order, "email": customer["email"]}
    else:
        row = tx.query_one("SELECT o.id, o.gross_amount, o.payment_redirect_url, o.courier_tracking_code,"
                           " c.email FROM orders o JOIN customers c ON c.id = o.customer_refer"
                           " WHERE o.id = %s", (order_id,))
    if row is None:
        return None
    values = {"id": row["id"], "total": int(row["gross_amount"]), "url": row["payment_redirect_url"] or "",
              "tracking": row["courier_tracking_code"] or "-", "reason": f" ({reason})" if reason else ""}
    return outbox.record(tx, f"order:{int(order_id)}:{event}",
                         mail.Message(row["email"], _SUBJECTS[event].format(**values), _BODIES[event].format(**values)))
