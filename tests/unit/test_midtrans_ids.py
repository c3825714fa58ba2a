"""``omcommerce.midtrans``: our order id inside Midtrans' ``order_id`` and the notification signature check."""
import hashlib

import pytest

from omcommerce import midtrans

KEY = "SB-Mid-server-UNIT"


@pytest.fixture(autouse=True)
def midtrans_env(monkeypatch):
    monkeypatch.setenv("MIDTRANS_BASE_ORDER_ID", "SHOP")
    monkeypatch.setenv("MIDTRANS_SERVER_KEY", KEY)


def test_order_ids_round_trip():
    assert midtrans.midtrans_order_id(42) == "SHOP-42"
    assert midtrans.parse_order_id("SHOP-42") == 42
    assert midtrans.parse_order_id(midtrans.midtrans_order_id(9_000_000_001)) == 9_000_000_001


@pytest.mark.parametrize("value", ["OTHER-42", "SHOP42", "SHOP-", "SHOP-0", "SHOP--1", "SHOP-4x", "SHOP-1.5",
                                   "SHOP- 1", "SHOP-" + "9" * 20, "shop-42", "", None, 42])
def test_foreign_or_malformed_order_ids_are_none(value):
    assert midtrans.parse_order_id(value) is None


def test_signature_is_sha512_of_id_status_amount_and_key():
    expected = hashlib.sha512(b"SHOP-42" + b"200" + b"150000.00" + KEY.encode()).hexdigest()
    assert midtrans.signature("SHOP-42", "200", "150000.00") == expected
    assert midtrans.signature("SHOP-42", "200", "150000.00", server_key="other") != expected


def notification(**overrides):
    body = {"order_id": "SHOP-42", "status_code": "200", "gross_amount": "150000.00"}
    body["signature_key"] = midtrans.signature(body["order_id"], body["status_code"], body["gross_amount"])
    body.update(overrides)
    return body


def test_a_correctly_signed_notification_is_valid():
    assert midtrans.signature_valid(notification())
    assert midtrans.signature_valid(notification(signature_key=notification()["signature_key"].upper()))


@pytest.mark.parametrize("change", [{"gross_amount": "1.00"}, {"status_code": "201"}, {"order_id": "SHOP-43"},
                                    {"signature_key": "0" * 128}, {"signature_key": None}, {"signature_key": 5},
                                    {"signature_key": ""}])
def test_any_change_breaks_the_signature(change):
    assert not midtrans.signature_valid(notification(**change))


def test_missing_fields_are_invalid_not_errors():
    body = notification()
    del body["gross_amount"]
    assert not midtrans.signature_valid(body)
    assert not midtrans.signature_valid({})


def test_the_signature_depends_on_the_configured_key(monkeypatch):
    body = notification()
    monkeypatch.setenv("MIDTRANS_SERVER_KEY", "SB-Mid-server-ROTATED")
    assert not midtrans.signature_valid(body)
