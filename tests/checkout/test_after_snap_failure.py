"""A database that does not answer right after the Snap call (every pooled connection lent: 503) must not leave the
order awaiting payment without its page — holding its stock for the whole payment window while the customer, told
503, never saw the page. The write is tried once more; if that fails too the order is cancelled (stock back, cart
kept); if even the cancel cannot be written, the expiry sweep cancels the abandoned order.

The database is made unavailable by holding the only pooled connection (DB_POOL_SIZE=1) from another thread while
the checkout waits on a held provider; when it is given back is decided by what the checkout has logged, so nothing
here depends on timing (the guard only keeps a regression from hanging the suite)."""
import logging
import threading
from datetime import datetime, timedelta, timezone

import pytest

from omdb import db

from shopping import make_shop, stock_of
from support import create_product
from tools.payments.fake_midtrans import FakeMidtrans

GUARD = 60


class _Watch(logging.Handler):
    """Events for the checkout's log lines about the after-Snap write."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.retrying, self.cancelling = threading.Event(), threading.Event()

    def emit(self, record):
        message = record.getMessage()
        if "failed again" in message:
            self.cancelling.set()
        elif "trying again" in message:
            self.retrying.set()


@pytest.fixture
def stalled(monkeypatch, freight_rates):
    """(fake provider in hold mode, log watch, hold(release_on) → the holder thread)."""
    fake = FakeMidtrans(server_key="SB-Mid-server-TEST", notification_url="http://127.0.0.1:9/unused").start()
    fake.mode = "hold"
    for key, value in {**fake.env(), "MIDTRANS_BASE_ORDER_ID": "TEST", "MIDTRANS_TIMEOUT_SECONDS": "120",
                       "DB_POOL_SIZE": "1", "DB_POOL_TIMEOUT_SECONDS": "1"}.items():
        monkeypatch.setenv(key, value)
    db.reset()  # the pool is sized when first used
    watch = _Watch()
    logger = logging.getLogger("om.checkout")
    logger.addHandler(watch)
    held = threading.Event()

    def hold(release_on: threading.Event):
        def run():
            with db.transaction() as tx:
                tx.query("SELECT 1")
                held.set()
                release_on.wait(GUARD)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        assert held.wait(GUARD)
        return thread

    try:
        yield fake, watch, hold
    finally:
        logger.removeHandler(watch)
        fake.stop()
        monkeypatch.undo()
        db.reset()


def _checkout_against_a_stalled_database(api, stalled, release_on):
    """Checkout → the provider holds the Snap call → the only DB connection is taken → the provider answers."""
    fake, watch, hold = stalled
    shop = make_shop(api)
    pid = create_product("Kopi Gayo", price=50000, stock=10)
    shop.add(pid, 2)
    box = {}
    done = threading.Event()

    def checkout():
        box["resp"] = shop.checkout()
        done.set()

    threading.Thread(target=checkout, daemon=True).start()
    for _ in range(GUARD * 20):
        if fake.requests:
            break
        done.wait(0.05)
    assert fake.requests, "the checkout never reached the provider"
    holder = hold(release_on if release_on is not None else done)
    fake.release.set()
    assert done.wait(GUARD)
    holder.join(GUARD)
    return shop, pid, box["resp"]


def _order(customer_id):
    from omdb.ids import to_bin

    return db.query_one("SELECT id, status, payment_token FROM orders WHERE customer_refer = %s ORDER BY id DESC"
                        " LIMIT 1", (to_bin(customer_id),))


def test_the_after_snap_write_is_tried_again(api, stalled):
    _, watch, _ = stalled
    shop, pid, resp = _checkout_against_a_stalled_database(api, stalled, watch.retrying)
    assert resp.status == 200, resp
    order = _order(shop.customer_id)
    assert order["status"] == "awaiting_payment" and order["payment_token"] == resp.json["token"]
    assert stock_of(pid) == 8


def test_a_checkout_that_cannot_store_its_page_cancels_its_order(api, stalled):
    _, watch, _ = stalled
    shop, pid, resp = _checkout_against_a_stalled_database(api, stalled, watch.cancelling)
    assert resp.status == 503 and resp.headers.get("retry-after"), resp
    order = _order(shop.customer_id)
    assert order["status"] == "cancelled" and order["payment_token"] is None
    assert stock_of(pid) == 10  # the reservation went back at once
    assert api.get("/api/v1/customer/cart").json  # the cart is as it was: the customer can try again


def test_the_sweep_cancels_an_order_whose_checkout_could_not_even_cancel_it(api, stalled):
    from functions.checkout import service

    shop, pid, resp = _checkout_against_a_stalled_database(api, stalled, None)  # held until the checkout answered
    assert resp.status == 503, resp
    order = _order(shop.customer_id)
    assert order["status"] == "awaiting_payment" and order["payment_token"] is None and stock_of(pid) == 8
    now = datetime.now(timezone.utc)
    assert service.expire_unpaid(now) == 0  # a checkout may still be storing it
    assert service.expire_unpaid(now + service.ABANDONED_AFTER + timedelta(minutes=1)) == 1
    assert _order(shop.customer_id)["status"] == "cancelled" and stock_of(pid) == 10
