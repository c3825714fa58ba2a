"""The order status path: ``orders.transition`` is the one place a move is checked, the order row is locked and
read once per transaction (the webhook hands its locked row and the order lines on instead of reading them again),
and the stock release trusts the caller's lock. Checked on the statements a fake transaction receives."""
import pytest

from omcommerce import orders, stock
from omcommerce.orders import AWAITING_PAYMENT, CANCELLED, PAID, PAYMENT_REVIEW, REFUNDED, SHIPPED
from omdb.sql import update_statement

from functions.payments import service as payments

P1, P2 = b"\x01" * 16, b"\x02" * 16


class FakeTx:
    """A transaction stand-in: the order row for reads of ``orders``, two lines for ``order_items``, ten units of
    stock for the inventory lock; every statement is recorded."""

    def __init__(self, status: str, **extra):
        self.row = {"id": 7, "status": status, "is_paid": False, "need_refund": False, "stock_released": False,
                    "customer_refer": b"\x09" * 16, "gross_amount": 116000, "payment_redirect_url": None,
                    "courier_tracking_code": None, "transaction_status": None, **extra}
        self.statements: list[tuple[str, tuple]] = []

    def _log(self, sql, args):
        self.statements.append((" ".join(sql.split()), tuple(args or ())))

    def query_one(self, sql, args=()):
        self._log(sql, args)
        return dict(self.row) if "FROM orders" in sql else None

    def query(self, sql, args=()):
        self._log(sql, args)
        if "FROM order_items" in sql:
            return [{"product_refer": P1, "quantity": 2}, {"product_refer": P2, "quantity": 1},
                    {"product_refer": P1, "quantity": 1}]
        if "FROM inventories" in sql:
            return [{"product_refer": pb, "quantity": 10} for pb in args]
        return []

    def execute(self, sql, args=()):
        self._log(sql, args)

    def update(self, table, values, where, where_args=(), *, allowed, touch="updated_at"):
        statement = update_statement(table, values, where, where_args, allowed=allowed, touch=touch)
        if statement:
            self.execute(*statement)

    def count(self, fragment: str) -> int:
        return sum(fragment in sql for sql, _ in self.statements)

    def writes(self) -> list[str]:
        return [sql for sql, _ in self.statements if not sql.startswith("SELECT")]


def test_transition_on_a_row_the_caller_locked_reads_the_order_and_its_lines_nothing_more():
    tx = FakeTx(AWAITING_PAYMENT)
    row = orders.lock_order(tx, 7)
    items = orders.order_items(tx, 7)
    moved = orders.transition(tx, 7, CANCELLED, actor_type=orders.SYSTEM, locked=row, items=items)
    assert moved is row and row["status"] == CANCELLED and row["stock_released"] is True
    assert tx.count("FROM orders") == 1 and tx.count("FOR UPDATE") == 2  # the order, then the inventory rows
    assert tx.count("FROM order_items") == 1
    # the release gave back what the lines say: 3 units of P1, 1 of P2, each with a movement
    restocked = [args for sql, args in tx.statements if sql.startswith("UPDATE inventories")]
    assert restocked == [(13, P1), (11, P2)]
    assert tx.count("INSERT INTO stock_movements") == 2 and tx.count("SET stock_released = TRUE") == 1


def test_transition_without_a_locked_row_locks_the_order_once_even_when_it_releases_stock():
    tx = FakeTx(PAYMENT_REVIEW)
    orders.transition(tx, 7, CANCELLED, actor_type=orders.MIDTRANS)
    assert tx.count("FROM orders") == 1  # was: transition's lock, then the release's own lock of the same row
    assert tx.count("FROM order_items") == 1


def test_the_release_trusts_the_locked_row_and_happens_once():
    tx = FakeTx(CANCELLED, stock_released=True)
    assert stock.release(tx, dict(tx.row), reason=stock.ORDER_RELEASE) is False
    assert tx.statements == []


def test_an_illegal_move_on_a_locked_row_writes_nothing_and_leaves_the_row_as_read():
    tx = FakeTx(SHIPPED)
    row = orders.lock_order(tx, 7)
    with pytest.raises(orders.IllegalTransition):
        orders.transition(tx, 7, CANCELLED, actor_type=orders.STAFF, locked=row)
    assert row["status"] == SHIPPED and tx.writes() == []


def test_updates_outside_the_orders_allow_list_are_refused_before_anything_is_written():
    tx = FakeTx(AWAITING_PAYMENT)
    with pytest.raises(ValueError):
        orders.transition(tx, 7, PAID, actor_type=orders.SYSTEM, updates={"gross_amount": 1})
    assert tx.writes() == []


def confirmed(status, fraud=None):
    return {"transaction_status": status, "fraud_status": fraud, "payment_type": "bank_transfer",
            "transaction_id": "tx-1"}


def test_webhook_settlement_locks_once_and_hands_the_written_row_and_lines_on():
    tx = FakeTx(AWAITING_PAYMENT)
    outcome, moved = payments._apply_confirmed_status(tx, 7, confirmed("settlement"))
    assert outcome == "awaiting_payment->paid"
    order = moved.order
    assert order["status"] == PAID and order["payment_type"] == "bank_transfer"
    assert orders.product_ids(moved.items) == [P1, P2]
    assert tx.count("FROM orders") == 1 and tx.count("FROM order_items") == 1
    history = [args for sql, args in tx.statements if "order_status_history" in sql]
    assert history == [(7, AWAITING_PAYMENT, PAID, orders.MIDTRANS, "tx-1", "settlement")]


def test_webhook_expiry_releases_stock_with_one_read_of_the_order_and_one_of_its_lines():
    tx = FakeTx(AWAITING_PAYMENT)
    outcome, moved = payments._apply_confirmed_status(tx, 7, confirmed("expire"))
    assert (outcome, moved.order["status"]) == ("awaiting_payment->cancelled", CANCELLED)
    assert tx.count("FROM orders") == 1 and tx.count("FROM order_items") == 1
    assert tx.count("SET stock_released = TRUE") == 1


def test_webhook_move_the_state_machine_refuses_is_ignored_and_writes_nothing():
    tx = FakeTx(CANCELLED, stock_released=True)
    outcome, moved = payments._apply_confirmed_status(tx, 7, confirmed("refund"))
    assert (outcome, moved) == ("ignored_cancelled", None)
    assert tx.writes() == [] and tx.count("FROM orders") == 1


def test_webhook_payment_after_cancel_flags_a_refund_through_the_allow_listed_update():
    tx = FakeTx(CANCELLED, stock_released=True)
    outcome, moved = payments._apply_confirmed_status(tx, 7, confirmed("settlement"))
    assert (outcome, moved) == ("paid_after_cancel", None)
    assert [sql for sql in tx.writes() if sql.startswith("UPDATE orders")] == [
        "UPDATE orders SET need_refund = %s, transaction_status = %s, updated_at = UTC_TIMESTAMP(3) WHERE id = %s"]


def test_webhook_refund_of_a_paid_order_restocks_once():
    tx = FakeTx(PAID, is_paid=True)
    outcome, moved = payments._apply_confirmed_status(tx, 7, confirmed("refund"))
    assert (outcome, moved.order["status"]) == ("paid->refunded", REFUNDED)
    reasons = [args[3] for sql, args in tx.statements if sql.startswith("INSERT INTO stock_movements")]
    assert reasons == [stock.ORDER_RESTOCK, stock.ORDER_RESTOCK]
