"""The webhook's rules as a table (``functions.payments.service.decide``): Midtrans' confirmed status and fraud
status, and the order's state, to a move or an audited no-move. No database: a rule change fails here first."""
import pytest

from omcommerce.orders import AWAITING_PAYMENT, CANCELLED, PAID, PARTIALLY_REFUNDED, PAYMENT_REVIEW, REFUNDED, SHIPPED

from functions.payments.service import Decision, decide


@pytest.mark.parametrize("status,fraud,current,expected", [
    ("settlement", None, AWAITING_PAYMENT, Decision(PAID, "settlement")),
    ("settlement", None, PAYMENT_REVIEW, Decision(PAID, "settlement")),
    ("capture", "accept", AWAITING_PAYMENT, Decision(PAID, "capture")),
    ("capture", "ACCEPT", AWAITING_PAYMENT, Decision(PAID, "capture")),
    ("capture", None, AWAITING_PAYMENT, Decision(PAID, "capture")),
    ("settlement", None, PAID, Decision(outcome="duplicate")),
    ("settlement", None, SHIPPED, Decision(outcome="duplicate")),
    ("settlement", None, CANCELLED, Decision(outcome="paid_after_cancel", flag_refund=True)),
    ("capture", "challenge", AWAITING_PAYMENT, Decision(PAYMENT_REVIEW, "fraud challenge")),
    ("capture", "challenge", PAYMENT_REVIEW, Decision(outcome="ignored_payment_review")),
    ("capture", "deny", AWAITING_PAYMENT, Decision(CANCELLED, "capture", "payment capture")),
    ("deny", None, AWAITING_PAYMENT, Decision(CANCELLED, "deny", "payment deny")),
    ("expire", None, PAYMENT_REVIEW, Decision(CANCELLED, "expire", "payment expire")),
    ("cancel", None, PAID, Decision(outcome="ignored_paid")),
    ("failure", None, CANCELLED, Decision(outcome="ignored_cancelled")),
    ("refund", None, PAID, Decision(REFUNDED, "refund")),
    ("partial_refund", None, SHIPPED, Decision(PARTIALLY_REFUNDED, "partial refund")),
    ("pending", None, AWAITING_PAYMENT, Decision(outcome="pending_recorded", record_pending=True)),
    ("pending", None, PAID, Decision(outcome="pending_recorded")),
    ("authorize", None, AWAITING_PAYMENT, Decision(outcome="ignored_unknown_status")),
])
def test_decide(status, fraud, current, expected):
    assert decide(status, fraud, current) == expected


def test_a_fraud_status_that_is_not_text_counts_as_none():
    assert decide("capture", 1, AWAITING_PAYMENT) == Decision(PAID, "capture")
