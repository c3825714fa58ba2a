"""``omcommerce.orders``: the transition table, the refusal of illegal moves, and the v1 wire status."""
import pytest

from omcommerce import orders
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
    STATUSES,
    TRANSITIONS,
)


class FakeTx:
    """Stands in for a transaction: answers the order row lock with ``row`` and records every statement."""

    def __init__(self, row: dict):
        self.row = dict(row)
        self.statements: list[tuple[str, tuple]] = []

    def query_one(self, sql, args=()):
        self.statements.append((sql, tuple(args)))
        return dict(self.row) if sql.lstrip().upper().startswith("SELECT") and "FROM orders" in sql else None

    def query(self, sql, args=()):
        self.statements.append((sql, tuple(args)))
        return []

    def execute(self, sql, args=()):
        self.statements.append((sql, tuple(args)))

    def writes(self) -> list[str]:
        return [sql for sql, _ in self.statements if not sql.lstrip().upper().startswith("SELECT")]


def order_row(status: str, **extra) -> dict:
    return {"id": 7, "status": status, "is_paid": status not in (AWAITING_PAYMENT, PAYMENT_REVIEW, CANCELLED),
            "is_shipped": False, "is_cancelled": False, "stock_released": False, "transaction_status": None, **extra}


def test_every_status_has_a_row_and_only_known_targets():
    assert set(TRANSITIONS) == set(STATUSES)
    for source, targets in TRANSITIONS.items():
        assert targets <= set(STATUSES), source


def test_the_happy_path_is_legal_step_by_step():
    path = [AWAITING_PAYMENT, PAID, PACKED, SHIPPED, DELIVERED, COMPLETED]
    for source, target in zip(path, path[1:]):
        assert target in TRANSITIONS[source], (source, target)
    assert PAID in TRANSITIONS[PAYMENT_REVIEW] and PAYMENT_REVIEW in TRANSITIONS[AWAITING_PAYMENT]


def test_cancelled_and_refunded_are_final():
    assert TRANSITIONS[CANCELLED] == frozenset()
    assert TRANSITIONS[REFUNDED] == frozenset()


def test_only_unpaid_orders_can_be_cancelled_and_unpaid_ones_cannot_be_refunded():
    cancellable = {s for s, targets in TRANSITIONS.items() if CANCELLED in targets}
    assert cancellable == {AWAITING_PAYMENT, PAYMENT_REVIEW}
    refundable = {s for s, targets in TRANSITIONS.items() if REFUNDED in targets}
    assert refundable == {PAID, PACKED, SHIPPED, DELIVERED, COMPLETED, PARTIALLY_REFUNDED}


def test_no_skipping_fulfilment_steps_and_no_way_back():
    assert SHIPPED not in TRANSITIONS[PAID]
    assert DELIVERED not in TRANSITIONS[PACKED]
    assert PAID not in TRANSITIONS[SHIPPED]
    assert AWAITING_PAYMENT not in set().union(*TRANSITIONS.values())


@pytest.mark.parametrize("current,target", [(CANCELLED, PAID), (REFUNDED, PACKED), (AWAITING_PAYMENT, SHIPPED),
                                            (PAID, CANCELLED), (DELIVERED, PACKED)])
def test_illegal_transitions_raise_and_write_nothing(current, target):
    tx = FakeTx(order_row(current))
    with pytest.raises(orders.IllegalTransition) as info:
        orders.transition(tx, 7, target, actor_type=orders.STAFF, actor_id=1)
    assert (info.value.current, info.value.target) == (current, target)
    assert tx.writes() == []


def test_expect_from_narrows_the_legal_sources():
    tx = FakeTx(order_row(PAYMENT_REVIEW))
    with pytest.raises(orders.IllegalTransition):
        orders.transition(tx, 7, PAID, actor_type=orders.MIDTRANS, expect_from=(AWAITING_PAYMENT,))
    assert tx.writes() == []


def test_a_legal_transition_updates_the_row_and_records_history():
    tx = FakeTx(order_row(PAID))
    row = orders.transition(tx, 7, PACKED, actor_type=orders.STAFF, actor_id=3, note="packed by clerk")
    assert row["status"] == PACKED
    writes = tx.writes()
    assert any(sql.startswith("UPDATE orders") for sql in writes)
    history = [args for sql, args in tx.statements if "order_status_history" in sql]
    assert history and history[-1][:5] == (7, PAID, PACKED, orders.STAFF, "3")


@pytest.mark.parametrize("status,extra,wire", [
    (AWAITING_PAYMENT, {}, "pending"), (PAYMENT_REVIEW, {}, "challenge"), (PAID, {}, "settlement"),
    (CANCELLED, {"transaction_status": "expire"}, "expire"), (CANCELLED, {"transaction_status": "cancel"}, "cancel"),
    (CANCELLED, {}, "cancel"), (REFUNDED, {}, "refund"), (PARTIALLY_REFUNDED, {}, "partial_refund"),
    (PACKED, {}, "packed"), (SHIPPED, {}, "shipped"), (DELIVERED, {}, "delivered"), (COMPLETED, {}, "completed")])
def test_wire_status_is_what_the_v1_storefront_renders(status, extra, wire):
    assert orders.wire_status({"status": status, **extra}) == wire
