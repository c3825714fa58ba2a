"""``orders.move``: the one way services change an order's state (lock → lines → transition → mail), and the
after-commit work it returns instead of doing it (cache keys, outbox rows)."""
import os
import re

import pytest

from omcommerce import cachekeys, orders
from omcommerce.orders import (
    AWAITING_PAYMENT,
    CANCELLED,
    COMPLETED,
    DELIVERED,
    PACKED,
    PAID,
    PARTIALLY_REFUNDED,
    PAYMENT_REVIEW,
    REFUNDED,
    SHIPPED,
)
from omdb.ids import from_bin

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
P1, P2 = b"\x01" * 16, b"\x02" * 16


class FakeTx:
    """The order row, two product lines, ten units of stock, a customer's address; an outbox insert answers id 55."""

    def __init__(self, status: str, **extra):
        self.row = {"id": 7, "status": status, "is_paid": status != AWAITING_PAYMENT, "need_refund": False,
                    "stock_released": False, "customer_refer": b"\x09" * 16, "gross_amount": 116000,
                    "payment_redirect_url": "https://pay/7", "courier_tracking_code": None, **extra}
        self.statements: list[tuple[str, tuple]] = []

    def query_one(self, sql, args=()):
        self.statements.append((sql, tuple(args)))
        if "FROM orders" in sql:
            return dict(self.row)
        if "FROM customers" in sql:
            return {"email": "buyer@example.com"}
        return None

    def query(self, sql, args=()):
        self.statements.append((sql, tuple(args)))
        if "FROM order_items" in sql:
            return [{"product_refer": P1, "quantity": 2}, {"product_refer": P2, "quantity": 1}]
        if "FROM inventories" in sql:
            return [{"product_refer": pb, "quantity": 10} for pb in args]
        return []

    def execute(self, sql, args=()):
        self.statements.append((sql, tuple(args)))

        class Result:
            rowcount, lastrowid = 1, 55
        return Result()

    def mails(self) -> list[tuple]:
        return [args for sql, args in self.statements if sql.startswith("INSERT INTO mail_outbox")]


def product_keys(*pids):
    return [k for p in pids for k in (cachekeys.product(from_bin(p)), cachekeys.product_reviews(from_bin(p)))]


def test_a_cancel_records_the_mail_with_its_reason_and_returns_the_work_for_after_the_commit():
    tx = FakeTx(AWAITING_PAYMENT)
    moved = orders.move(tx, 7, CANCELLED, actor_type=orders.CUSTOMER, actor_id="c", reason="at your request")
    assert (moved.previous, moved.order["status"]) == (AWAITING_PAYMENT, CANCELLED)
    [(key, to, subject, body, _status)] = tx.mails()
    assert key == "order:7:cancelled" and to == "buyer@example.com" and "(at your request)" in body
    assert moved.after.mail_ids == [55]
    assert moved.after.cache_keys == product_keys(P1, P2)  # stock came back; nothing was ever sold


def test_a_payment_makes_the_sold_counters_and_the_home_page_stale():
    moved = orders.move(FakeTx(AWAITING_PAYMENT, is_paid=False), 7, PAID, actor_type=orders.MIDTRANS)
    assert cachekeys.sold(from_bin(P1)) in moved.after.cache_keys and cachekeys.HOME in moved.after.cache_keys
    assert moved.after.mail_ids == [55]


def test_a_move_without_a_mail_event_records_none_and_packing_leaves_every_cache():
    tx = FakeTx(PAID)
    moved = orders.move(tx, 7, PACKED, actor_type=orders.STAFF, actor_id=1)
    assert tx.mails() == [] and moved.after == orders.AfterCommit([], [])


def test_mail_false_records_no_mail():
    tx = FakeTx(AWAITING_PAYMENT)
    assert orders.move(tx, 7, CANCELLED, actor_type=orders.SYSTEM, mail=False).after.mail_ids == []
    assert tx.mails() == []


def test_an_illegal_move_raises_before_anything_is_written():
    tx = FakeTx(SHIPPED)
    with pytest.raises(orders.IllegalTransition):
        orders.move(tx, 7, CANCELLED, actor_type=orders.STAFF)
    assert [s for s, _ in tx.statements if not s.lstrip().startswith("SELECT")] == []


@pytest.mark.parametrize("previous,target,product,sold", [
    (AWAITING_PAYMENT, PAID, False, True),
    (PAYMENT_REVIEW, PAID, False, True),
    (AWAITING_PAYMENT, PAYMENT_REVIEW, False, False),
    (AWAITING_PAYMENT, CANCELLED, True, False),
    (PAID, PACKED, False, False),
    (PACKED, SHIPPED, False, False),
    (SHIPPED, DELIVERED, False, False),
    (DELIVERED, COMPLETED, False, False),
    (PAID, PARTIALLY_REFUNDED, False, False),
    (PAID, REFUNDED, True, True),
    (SHIPPED, REFUNDED, True, True),
])
def test_which_caches_a_move_makes_stale(previous, target, product, sold):
    assert orders.stale_caches(previous, target) == (product, sold)


def test_every_mail_event_is_a_notify_template():
    from omcommerce import notify

    assert {"order." + e for e in orders.MAIL_EVENTS.values()} <= set(notify.TEMPLATES)
    assert set(orders.MAIL_EVENTS) <= set(orders.STATUSES)


def test_after_commit_work_adds_up_without_repeating_a_key():
    a = orders.AfterCommit(["k1", "k2"], [1])
    b = orders.AfterCommit(["k2", "k3"], [2])
    assert a + b == orders.AfterCommit(["k1", "k2", "k3"], [1, 2])


def test_no_service_changes_an_order_state_except_through_move():
    """``orders.transition`` is the step inside ``move``: a service calling it directly would skip the mail or the
    cache invalidation after the commit (the bug class of the five hand-wired places)."""
    offenders = []
    for top in ("functions", "tools"):
        for folder, _dirs, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    with open(path, encoding="utf-8") as fh:
                        if re.search(r"orders\.transition\(", fh.read()):
                            offenders.append(os.path.relpath(path, ROOT))
    assert offenders == []


def test_no_code_sends_mail_except_the_outbox_deliverer():
    """One way to send mail (issue 23, point 4): a service that called ``omcore.mail.send`` would put the mail
    server's time (and its errors) back on the request path."""
    offenders = []
    for top in ("functions", "tools", "layers"):
        for folder, _dirs, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                path = os.path.join(folder, name)
                if name.endswith(".py") and not path.endswith(os.path.join("omcommerce", "outbox.py")):
                    with open(path, encoding="utf-8") as fh:
                        if re.search(r"\bmail\.send\(|\.send_email\(|smtplib\.", fh.read()) \
                                and not path.endswith(os.path.join("omcore", "mail.py")):
                            offenders.append(os.path.relpath(path, ROOT))
    assert offenders == []
