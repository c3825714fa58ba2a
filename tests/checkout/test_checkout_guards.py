"""The two checkout guards mutation testing found untested: the per-customer checkout lock (one checkout per account
at a time) and the "cart changed during checkout" check (the order is written only for the cart that was priced).

Both windows are opened deterministically by pausing checkout inside its freight re-pricing step — after the cart
was read and priced, before the order transaction — through ``omcommerce.freight.price_for``."""
import threading

import pytest

from shopping import make_shop, stock_of
from support import create_product

PAUSE_LIMIT = 30  # seconds; only a safety net so a broken test cannot hang the run


@pytest.fixture
def paused_pricing(monkeypatch):
    """Replace freight pricing with one that runs ``during`` (a callable) the first time it is called, or, when
    ``hold`` is set, parks that first caller until ``release`` is set. Later calls price normally."""
    from omcommerce import freight

    real = freight.price_for
    state = {"calls": 0, "during": None, "hold": False, "entered": threading.Event(), "release": threading.Event()}

    def price_for(*args, **kwargs):
        state["calls"] += 1
        if state["calls"] == 1:
            if state["during"] is not None:
                state["during"]()
            if state["hold"]:
                state["entered"].set()
                assert state["release"].wait(PAUSE_LIMIT), "the paused checkout was never released"
        return real(*args, **kwargs)

    monkeypatch.setattr(freight, "price_for", price_for)
    return state


def _orders_of(customer_id):
    from omdb import db
    from omdb.ids import to_bin

    return db.query("SELECT id, status, item_cost FROM orders WHERE customer_refer = %s", (to_bin(customer_id),))


def test_a_second_checkout_of_the_same_account_is_refused_while_the_first_runs(shop, product, make_api,
                                                                                paused_pricing):
    from omcore.errors import Conflict

    from functions.checkout import service

    shop.add(product, 2)
    other = make_shop(make_api(), "other@example.com")
    other.add(product, 1)
    paused_pricing["hold"] = True
    outcome = {}

    def first():
        try:
            outcome["first"] = service.place_order(shop.customer_id, shop.address_id, "sicepat-REG", None)
        except Exception as exc:  # noqa: BLE001 - reported by the assertions below
            outcome["first"] = exc

    worker = threading.Thread(target=first)
    worker.start()
    try:
        assert paused_pricing["entered"].wait(PAUSE_LIMIT)
        # the same account, e.g. a second tab or a double submit without an Idempotency-Key: refused at once
        with pytest.raises(Conflict) as refused:
            service.place_order(shop.customer_id, shop.address_id, "sicepat-REG", None)
        assert refused.value.status == 409 and "already in progress" in refused.value.message
        # the lock is per account: another customer checks out meanwhile
        assert other.checkout().status == 200
    finally:
        paused_pricing["release"].set()
        worker.join(PAUSE_LIMIT)
    assert isinstance(outcome["first"], dict) and outcome["first"]["order_id"], outcome
    assert len(_orders_of(shop.customer_id)) == 1
    assert stock_of(product) == 10 - 2 - 1
    # the lock is released when the checkout ends: the account can check out again
    shop.add(product, 1)
    assert shop.checkout().status == 200


def test_a_cart_changed_after_pricing_is_refused_and_nothing_is_reserved(shop, product, paused_pricing):
    from omdb import db
    from omdb.ids import to_bin

    shop.add(product, 1)
    # another tab raises the quantity after this checkout read and priced the cart (1 × 0.5 kg)
    paused_pricing["during"] = lambda: db.execute(
        "UPDATE cart_items SET quantity = 6 WHERE customer_refer = %s", (to_bin(shop.customer_id),))
    resp = shop.checkout()
    assert resp.status == 409 and "cart changed" in resp.json["error"]
    assert _orders_of(shop.customer_id) == [] and stock_of(product) == 10
    # the cart is left as the customer last set it, and checking out again prices and orders that cart
    assert [line["quantity"] for line in shop.api.get("/api/v1/customer/cart").json] == [6]
    resp = shop.checkout()
    assert resp.status == 200
    [order] = _orders_of(shop.customer_id)
    assert int(order["item_cost"]) == 6 * 50000 and stock_of(product) == 4


def test_a_line_checked_after_pricing_is_refused_too(shop, product, paused_pricing):
    extra = create_product("Teh Tarik", price=20000, stock=5, weight=3)
    shop.add(product, 1)
    shop.add(extra, 1, checked=False)

    def check_extra():
        from omdb import db
        from omdb.ids import to_bin

        db.execute("UPDATE cart_items SET checked = TRUE WHERE customer_refer = %s AND product_refer = %s",
                   (to_bin(shop.customer_id), to_bin(extra)))

    paused_pricing["during"] = check_extra
    resp = shop.checkout()
    assert resp.status == 409 and "cart changed" in resp.json["error"]
    assert _orders_of(shop.customer_id) == [] and stock_of(product) == 10 and stock_of(extra) == 5
