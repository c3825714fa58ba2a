"""Order emails (confirmation, paid, shipped, cancelled): plain text + HTML, best effort — a mail failure is
logged and never fails the request that changed the order."""
from __future__ import annotations

from omcore import mail
from omcore.log import get_logger

log = get_logger("notify")

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


def order_event(runner, order_id: int, event: str, *, reason: str = "", order: dict | None = None) -> None:
    """Mail the order's customer about ``event``. ``order``: the order row as the caller's transaction wrote it
    (``orders.transition`` returns it) — then only the customer's address is looked up, the order is not read
    again. Never raises."""
    try:
        if order is not None:
            customer = runner.query_one("SELECT email FROM customers WHERE id = %s", (order["customer_refer"],))
            row = None if customer is None else {**order, "email": customer["email"]}
        else:
            row = runner.query_one("SELECT o.id, o.gross_amount, o.payment_redirect_url, o.courier_tracking_code,"
                                   " c.email FROM orders o JOIN customers c ON c.id = o.customer_refer"
                                   " WHERE o.id = %s", (order_id,))
        if row is None:
            return
        values = {"id": row["id"], "total": int(row["gross_amount"]), "url": row["payment_redirect_url"] or "",
                  "tracking": row["courier_tracking_code"] or "-", "reason": f" ({reason})" if reason else ""}
        mail.send(mail.Message(row["email"], _SUBJECTS[event].format(**values), _BODIES[event].format(**values)))
    except Exception as exc:  # noqa: BLE001 - mail is best effort by design
        log.warning("order %s %s mail not sent: %s", order_id, event, type(exc).__name__)
