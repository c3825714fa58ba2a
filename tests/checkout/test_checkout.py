"""Checkout through HTTP on real MariaDB/Redis with a fake Midtrans over real HTTP."""
import threading

from shopping import make_shop, stock_of
from support import create_product


def test_pre_items_and_pre_freight(shop, product):
    api = shop.api
    assert api.get("/api/v1/customer/pre-items").status == 409
    shop.add(product, 2)
    assert api.get("/api/v1/customer/pre-items").json == [
        {"id": product, "name": "Kopi Gayo", "price": 50000, "image": "", "quantity": 2}]
    choices = api.get(f"/api/v1/customer/pre-freight?id={shop.address_id}").json
    codes = {c["product_code"]: c for c in choices}
    assert codes["anteraja-REG"]["rates"] == 0 and codes["anteraja-REG"]["courier_name"] == "anteraja"
    assert codes["sicepat-REG"]["rates"] == 10000
    assert api.get("/api/v1/customer/pre-freight?id=not-a-uuid").status == 400
    import uuid

    assert api.get(f"/api/v1/customer/pre-freight?id={uuid.uuid4()}").status == 404


def test_checkout_reserves_stock_snapshots_and_calls_snap(shop, product, midtrans):
    other = create_product("Teh", price=20000, stock=5)
    shop.add(product, 3)
    shop.add(other, 1, checked=False)  # not selected: stays in the cart
    resp = shop.checkout()
    assert resp.status == 200, resp
    assert resp.json["token"] and resp.json["redirect_url"].startswith("http://127.0.0.1:")
    assert stock_of(product) == 7 and stock_of(other) == 5
    snap = midtrans.requests[-1]
    assert snap["transaction_details"]["gross_amount"] == 3 * 50000 + 16000  # 1.5 kg → 2 kg chargeable
    assert sum(i["price"] * i["quantity"] for i in snap["item_details"]) == snap["transaction_details"]["gross_amount"]
    cart = shop.api.get("/api/v1/customer/cart").json
    assert [line["name"] for line in cart] == ["Teh"]
    assert shop.api.get("/api/v1/customer/cart-count").json == {"count": 1}
    orders = shop.api.get("/api/v1/customer/order").json
    assert orders[0]["status"] == "pending" and orders[0]["gross_amount"] == 166000
    detail = shop.api.get(f"/api/v1/customer/order?id={orders[0]['id']}").json
    assert detail["payment_url"] == resp.json["redirect_url"]
    assert detail["address_detail"]["full_address"] == "Jl. Medan Merdeka 1"
    assert detail["status_history"][0]["status"] == "awaiting_payment"


def test_free_shipping_is_a_valid_choice(shop, product):
    shop.add(product, 1)
    assert shop.checkout("anteraja-REG").status == 200


def test_invalid_courier_and_nothing_selected(shop, product):
    assert shop.checkout().status == 409
    shop.add(product, 1)
    resp = shop.checkout("pigeon-FAST")
    assert resp.status == 409 and resp.json == {"error": "invalid courier code", "code": "invalid_courier"}
    assert stock_of(product) == 10
    assert shop.api.post("/api/v1/customer/checkout", json={"courier_code": "x"}).status == 400


def test_insufficient_stock_names_the_products_and_leaves_nothing(shop, product):
    from omcommerce import stock
    from omdb import db

    shop.add(product, 5)
    with db.transaction() as tx:
        stock.adjust(tx, product, -8)  # someone else bought most of it meanwhile
    resp = shop.checkout()
    assert resp.status == 409 and "Kopi Gayo" in resp.json["error"]
    assert resp.json["products"][0]["available"] == 2
    assert db.query_one("SELECT COUNT(*) AS n FROM orders")["n"] == 0
    assert stock_of(product) == 2


def test_midtrans_error_cancels_the_order_and_releases_the_stock(shop, product, midtrans):
    midtrans.mode = "error"
    shop.add(product, 4)
    resp = shop.checkout()
    assert resp.status == 502 and "nothing was charged" in resp.json["error"]
    assert stock_of(product) == 10
    from omdb import db

    assert [r["status"] for r in db.query("SELECT status FROM orders")] == ["cancelled"]
    assert len(shop.api.get("/api/v1/customer/cart").json) == 1  # the cart is left as it was


def test_midtrans_timeout_leaves_no_reservation(shop, product, midtrans):
    midtrans.mode = "timeout"
    shop.add(product, 4)
    resp = shop.checkout()
    assert resp.status == 502
    assert stock_of(product) == 10


def test_idempotency_key_returns_the_first_order(shop, product):
    shop.add(product, 1)
    first = shop.checkout(headers={"Idempotency-Key": "order-attempt-0001"})
    shop.add(product, 1)  # the double submit comes with the same key
    again = shop.checkout(headers={"Idempotency-Key": "order-attempt-0001"})
    assert first.status == again.status == 200
    assert again.json["token"] == first.json["token"]
    from omdb import db

    assert db.query_one("SELECT COUNT(*) AS n FROM orders")["n"] == 1
    assert shop.checkout(headers={"Idempotency-Key": "bad key!"}).status == 400


def test_cancel_releases_stock_once_and_is_idempotent(shop, product, midtrans):
    shop.add(product, 3)
    order_id = shop.checkout().json["order_id"]
    assert stock_of(product) == 7
    assert shop.api.delete(f"/api/v1/customer/checkout?id={order_id}").status == 200
    assert stock_of(product) == 10
    assert shop.api.delete(f"/api/v1/customer/checkout?id={order_id}").status == 200
    assert stock_of(product) == 10
    assert shop.api.get("/api/v1/customer/order").json[0]["status"] == "cancel"
    assert "payment_url" not in shop.api.get(f"/api/v1/customer/order?id={order_id}").json


def test_cancel_is_refused_for_paid_or_foreign_orders(shop, product, make_api):
    from omcommerce import orders
    from omdb import db

    shop.add(product, 1)
    order_id = shop.checkout().json["order_id"]
    intruder = make_shop(make_api(), "intruder@example.com")
    assert intruder.api.delete(f"/api/v1/customer/checkout?id={order_id}").status == 404
    db.run_in_transaction(lambda tx: orders.transition(tx, order_id, orders.PAID, actor_type=orders.SYSTEM))
    assert shop.api.delete(f"/api/v1/customer/checkout?id={order_id}").status == 409


def test_cart_lines_checked_after_the_order_survive(shop, product, midtrans):
    later = create_product("Later", stock=5)
    shop.add(product, 1)
    assert shop.checkout().status == 200
    shop.add(later, 1)
    assert [line["name"] for line in shop.api.get("/api/v1/customer/cart").json] == ["Later"]


def test_hundred_concurrent_checkouts_for_ten_units(freight_rates, midtrans, make_api):
    """100 buyers, stock 10: exactly 10 orders, stock never negative, no deadlock reaching a client."""
    from omcore.errors import ApiError
    from omdb import db

    from functions.checkout import service

    pid = create_product("Limited", price=10000, stock=10, weight=0.2)
    buyers = []
    for i in range(100):
        s = make_shop(make_api(), f"b{i}@example.com")
        s.add(pid, 1)
        buyers.append(s)
    outcomes, unexpected = [], []
    barrier = threading.Barrier(20)

    def buy(chunk):
        barrier.wait()
        for s in chunk:
            try:
                service.place_order(s.customer_id, s.address_id, "sicepat-REG", None)
                outcomes.append("ok")
            except ApiError as exc:
                outcomes.append(exc.status)
            except Exception as exc:  # noqa: BLE001 - anything else is a failure of the test
                unexpected.append(repr(exc))

    threads = [threading.Thread(target=buy, args=(buyers[i::20],)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not unexpected, unexpected[:3]
    assert outcomes.count("ok") == 10 and outcomes.count(409) == 90
    assert stock_of(pid) == 0
    assert db.query_one("SELECT COUNT(*) AS n FROM orders WHERE status = 'awaiting_payment'")["n"] == 10
    from omdb.ids import to_bin

    moved = db.query_one("SELECT SUM(delta) AS s FROM stock_movements WHERE product_refer = %s", (to_bin(pid),))
    assert int(moved["s"]) == 0
