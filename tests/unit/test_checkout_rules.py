"""Checkout's rules without services: the per-line limit, the stock fast-fail, the payment ceiling, and the Snap
payload (``omcommerce.midtrans.snap_params``) with its 50-character cuts."""
from datetime import datetime, timezone

import pytest

from omcommerce import midtrans, orders
from omcore.errors import Conflict

from functions.checkout import service

P1 = b"\x01" * 16


def line(**kw):
    return {"id": P1, "name": "Kopi Gayo", "price": 50000, "quantity": 2, "stock": 10, **kw}


def test_a_line_above_the_limit_is_refused_with_the_limit():
    service.check_quantities([line(quantity=5)], 5)
    with pytest.raises(Conflict) as err:
        service.check_quantities([line(quantity=6)], 5)
    assert err.value.extra["products"][0]["max_quantity"] == 5 and err.value.status == 409


def test_a_line_short_of_stock_is_refused_naming_what_is_available():
    service.check_stock([line(quantity=10, stock=10)])
    with pytest.raises(Conflict) as err:
        service.check_stock([line(quantity=3, stock=2)])
    assert err.value.extra["products"][0] | {"id": None} == {"id": None, "name": "Kopi Gayo", "requested": 3,
                                                              "available": 2}


def test_the_payment_ceiling_is_inclusive():
    service.check_amount(orders.MAX_ORDER_AMOUNT, "order total")
    with pytest.raises(Conflict) as err:
        service.check_amount(orders.MAX_ORDER_AMOUNT + 1, "order total")
    assert err.value.extra["max_amount"] == orders.MAX_ORDER_AMOUNT


def test_items_total():
    assert service.items_total([line(), line(price=1000, quantity=3)]) == 103000


def test_snap_payload_adds_freight_cuts_long_texts_and_sums_to_the_gross_amount():
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    params = midtrans.snap_params(42, [line(name="N" * 80)], 18000, "jne-" + "x" * 60,
                                  {"first_name": "Budi", "last_name": "S", "email": "b@example.com",
                                   "phone_number": None}, window_hours=24, now=now)
    items = params["item_details"]
    assert items[0]["name"] == "N" * 50 and len(items[0]["id"]) <= 50
    assert items[1] == {"id": "freight-42", "price": 18000, "quantity": 1, "name": ("jne-" + "x" * 60)[:50]}
    assert params["transaction_details"] == {"order_id": midtrans.midtrans_order_id(42), "gross_amount": 118000}
    assert "phone" not in params["customer_details"]
    assert params["expiry"] == {"start_time": "2026-01-02 03:04:05 +0000", "unit": "hour", "duration": 24}


def test_snap_payload_carries_a_phone_number_when_there_is_one():
    params = midtrans.snap_params(1, [line()], 0, "jne", {"first_name": "A", "last_name": "B", "email": "e",
                                                           "phone_number": "0812"}, window_hours=1,
                                  now=datetime.now(timezone.utc))
    assert params["customer_details"]["phone"] == "0812"
