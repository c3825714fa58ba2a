"""Issue 12 item 1: the notification signature SHA512(order_id + status_code + gross_amount + server key) does not
cover transaction_status, so a captured notification with its status rewritten still verifies. The webhook must
confirm every notification with Midtrans' Get Status API and act only on what Midtrans answers; when Midtrans
cannot be asked it answers 503 (Midtrans retries) and changes nothing.

The fake Midtrans answers the status endpoint from its own record of each transaction, so these tests exercise the
real HTTP path: a forged status never reaches the order."""
import pytest

from shopping import stock_of

HOOK = "/api/v1/webhook/midtrans"


def _order(order_id):
    from omdb import db

    return db.query_one("SELECT status, is_paid, need_refund, transaction_status FROM orders WHERE id = %s",
                        (order_id,))


def _stored():
    from omdb import db

    return db.query("SELECT transaction_status, status_code, confirmed_status, confirmed_gross_amount, outcome"
                    " FROM payment_notifications ORDER BY id")


def _history(order_id):
    from omdb import db

    return [r["to_status"] for r in db.query("SELECT to_status FROM order_status_history WHERE order_refer = %s"
                                             " ORDER BY id", (order_id,))]


@pytest.mark.parametrize("forged", ["settlement", "capture"])
def test_captured_pending_notification_rewritten_to_paid_does_not_pay(api, placed, midtrans, forged):
    """A captured pending notification (status_code 201) rewritten to settlement/capture still verifies; Midtrans
    confirms pending, so the order is not paid."""
    _, order_id, pid = placed
    mid = f"TEST-{order_id}"
    midtrans.set_status(mid, "pending")  # the customer picked bank transfer and has not paid
    body = midtrans.notification(mid, "pending")  # the genuine notification, status_code 201
    assert body["status_code"] == "201"
    body["transaction_status"] = forged  # the attacker's rewrite: the signature still verifies
    if forged == "capture":
        body["fraud_status"] = "accept"
    resp = api.post(HOOK, json=body)
    assert resp.status == 200, resp
    row = _order(order_id)
    assert row["status"] == "awaiting_payment" and not row["is_paid"]
    assert stock_of(pid) == 8
    assert "paid" not in _history(order_id)
    stored = _stored()[-1]
    assert stored["transaction_status"] == forged and stored["confirmed_status"] == "pending"
    assert stored["outcome"] == "pending_recorded"
    shop = placed[0]
    assert shop.api.get(f"/api/v1/customer/order?id={order_id}").json["status"] == "pending"


@pytest.mark.parametrize("forged", ["deny", "expire", "cancel"])
def test_captured_pending_notification_rewritten_to_failed_does_not_cancel(api, placed, midtrans, forged):
    """A pending notification rewritten to deny/expire/cancel does not cancel the order nor release its stock."""
    _, order_id, pid = placed
    mid = f"TEST-{order_id}"
    midtrans.set_status(mid, "pending")
    body = midtrans.notification(mid, "pending")
    body["transaction_status"] = forged
    assert api.post(HOOK, json=body).status == 200
    assert _order(order_id)["status"] == "awaiting_payment" and stock_of(pid) == 8
    # the real payment still goes through afterwards
    midtrans.set_status(mid, "settlement")
    assert api.post(HOOK, json=midtrans.notification(mid, "settlement")).status == 200
    assert _order(order_id)["status"] == "paid"


def test_captured_settlement_rewritten_to_refund_does_not_refund(api, placed, midtrans):
    """A captured settlement rewritten to refund (same status_code, valid signature) does not refund the paid order."""
    _, order_id, pid = placed
    mid = f"TEST-{order_id}"
    midtrans.set_status(mid, "settlement")
    settlement = midtrans.notification(mid, "settlement")
    assert api.post(HOOK, json=settlement).status == 200
    assert _order(order_id)["status"] == "paid"
    forged = dict(settlement, transaction_status="refund")  # same status_code 200: the signature still verifies
    assert api.post(HOOK, json=forged).status == 200
    row = _order(order_id)
    assert row["status"] == "paid" and row["is_paid"]
    assert stock_of(pid) == 8  # a refund of a paid order would have put the units back
    assert _history(order_id).count("refunded") == 0
    assert _stored()[-1]["confirmed_status"] == "settlement"


def test_a_real_refund_is_applied_and_an_old_settlement_replayed_after_it_changes_nothing(api, placed, midtrans):
    """A refund Midtrans confirms is applied; replaying the old settlement afterwards does not pay the order again."""
    _, order_id, pid = placed
    mid = f"TEST-{order_id}"
    midtrans.set_status(mid, "settlement")
    settlement = midtrans.notification(mid, "settlement")
    assert api.post(HOOK, json=settlement).status == 200
    midtrans.set_status(mid, "refund")
    assert api.post(HOOK, json=midtrans.notification(mid, "refund")).status == 200
    assert _order(order_id)["status"] == "refunded" and stock_of(pid) == 10
    assert api.post(HOOK, json=settlement).status == 200  # replay of the captured settlement
    assert _order(order_id)["status"] == "refunded" and stock_of(pid) == 10
    assert _history(order_id).count("paid") == 1


@pytest.mark.parametrize("failure", ["error", "garbage", "timeout"])
def test_midtrans_unavailable_is_503_changes_nothing_and_the_retry_works(api, placed, midtrans, failure):
    """Midtrans status API down (500, garbage, timeout): 503 and nothing changed; the retry pays exactly once."""
    _, order_id, pid = placed
    mid = f"TEST-{order_id}"
    midtrans.set_status(mid, "settlement")
    body = midtrans.notification(mid, "settlement")
    midtrans.status_mode = failure
    resp = api.post(HOOK, json=body)
    assert resp.status == 503 and "retry" in resp.json["error"]
    row = _order(order_id)
    assert row["status"] == "awaiting_payment" and not row["is_paid"] and stock_of(pid) == 8
    assert _history(order_id) == ["awaiting_payment"]
    stored = _stored()[-1]
    assert stored["outcome"] == "unconfirmed_midtrans_unavailable" and stored["confirmed_status"] is None
    assert stored["transaction_status"] == "settlement"  # what the notification claimed is kept
    midtrans.status_mode = None  # Midtrans is back and retries the same notification
    assert api.post(HOOK, json=body).status == 200
    assert _order(order_id)["status"] == "paid" and stock_of(pid) == 8
    for _ in range(2):  # and its later duplicates change nothing
        assert api.post(HOOK, json=body).status == 200
    assert _history(order_id).count("paid") == 1
    assert [r["outcome"] for r in _stored()] == ["unconfirmed_midtrans_unavailable", "awaiting_payment->paid",
                                                 "duplicate", "duplicate"]


def test_notification_for_a_transaction_midtrans_does_not_know_changes_nothing(api, placed, midtrans):
    """A signed settlement for an order Midtrans has no transaction for: 404, nothing changed."""
    _, order_id, pid = placed
    mid = f"TEST-{order_id}"
    # the customer never picked a payment method: Midtrans has no transaction yet, whatever a notification says
    resp = api.post(HOOK, json=midtrans.notification(mid, "settlement"))
    assert resp.status == 404 and "error" in resp.json
    assert _order(order_id)["status"] == "awaiting_payment" and stock_of(pid) == 8
    assert _stored()[-1]["outcome"] == "unconfirmed_unknown_at_midtrans"


def test_midtrans_confirming_another_amount_changes_nothing(api, placed, midtrans):
    """Midtrans confirming another gross_amount than the order total: 409, nothing changed."""
    _, order_id, pid = placed
    mid = f"TEST-{order_id}"
    midtrans.set_status(mid, "settlement")
    body = midtrans.notification(mid, "settlement")  # signed for the order's real total
    midtrans.transactions[mid]["gross_amount"] = 1000  # Midtrans holds another amount for this order id
    resp = api.post(HOOK, json=body)
    assert resp.status == 409 and "gross_amount" in resp.json["error"]
    assert _order(order_id)["status"] == "awaiting_payment" and stock_of(pid) == 8
    stored = _stored()[-1]
    assert stored["outcome"] == "confirmed_amount_mismatch" and stored["confirmed_gross_amount"] == "1000.00"


def test_the_fake_status_endpoint_needs_the_server_key(midtrans):
    import urllib.error
    import urllib.request

    midtrans.transactions["TEST-1"] = {"token": "t", "gross_amount": 1, "status": "settlement",
                                       "transaction_id": "x"}
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(midtrans.base_url + "/v2/TEST-1/status", timeout=5)
    assert err.value.code == 401
