"""Issue 12 items 2, 3 and 13 through the checkout endpoint: amounts that overflowed MySQL (a 500), stock hoarding
with unpaid orders, quantities above the cart limit, and an Idempotency-Key reused for another request."""
from shopping import stock_of
from support import create_product

TOP_PRICE = 4_294_967_295  # the largest price the products.price column holds


def _orders():
    from omdb import db

    return db.query("SELECT id, status, item_cost, freight_cost, gross_amount FROM orders ORDER BY id")


def test_top_price_times_two_is_an_exact_order_not_a_500(shop, midtrans):
    """Price 4,294,967,295 x 2 at checkout (was MySQL error 1264, a 500): an exact order."""
    pid = create_product("Emas Batangan", price=TOP_PRICE, stock=10, weight=0.5)
    shop.add(pid, 2)
    resp = shop.checkout()
    assert resp.status == 200, resp  # was MySQL error 1264 (out of range) → 500
    [order] = _orders()
    assert order["item_cost"] == 2 * TOP_PRICE and order["gross_amount"] == 2 * TOP_PRICE + order["freight_cost"]
    assert midtrans.requests[-1]["transaction_details"]["gross_amount"] == order["gross_amount"]
    listed = shop.api.get("/api/v1/customer/order").json[0]
    assert listed["gross_amount"] == order["gross_amount"]
    assert stock_of(pid) == 8


def test_order_total_above_the_payment_ceiling_is_a_clear_409(shop, midtrans):
    """An order total above 99,999,999,999 IDR: 409 naming the ceiling, nothing reserved."""
    pid = create_product("Emas Batangan", price=TOP_PRICE, stock=100, weight=0.5)
    shop.add(pid, 24)  # 103,079,215,080 IDR: above the 99,999,999,999 one payment can carry
    resp = shop.checkout()
    assert resp.status == 409, resp
    assert "99,999,999,999" in resp.json["error"] and resp.json["max_amount"] == 99_999_999_999
    assert _orders() == [] and stock_of(pid) == 100 and midtrans.requests == []
    assert len(shop.api.get("/api/v1/customer/cart").json) == 1  # the cart is untouched


def test_a_line_above_the_cart_quantity_limit_is_refused_at_checkout(shop, midtrans):
    """A cart line above CART_MAX_QUANTITY is refused at checkout (409 naming the product)."""
    from omdb import db
    from omdb.ids import to_bin

    pid = create_product("Kopi Gayo", price=1000, stock=5000, weight=0.01, dims=(1, 1, 1))
    shop.add(pid, 2)
    # a line written before CART_MAX_QUANTITY (999) was lowered, or straight into the table
    db.execute("UPDATE cart_items SET quantity = 1500 WHERE product_refer = %s", (to_bin(pid),))
    resp = shop.checkout()
    assert resp.status == 409, resp
    assert "at most 999 units" in resp.json["error"] and "Kopi Gayo" in resp.json["error"]
    assert resp.json["products"][0]["requested"] == 1500
    assert _orders() == [] and stock_of(pid) == 5000
    db.execute("UPDATE cart_items SET quantity = 10 WHERE product_refer = %s", (to_bin(pid),))
    assert shop.checkout().status == 200
    assert stock_of(pid) == 5000 - 10


def test_unpaid_orders_per_customer_are_limited(shop, midtrans):
    """Stock hoarding: a fourth unpaid order is refused with 409 saying why; cancelling one frees a slot."""
    products = [create_product(f"Kopi {i}", price=1000, stock=10) for i in range(5)]
    placed = []
    for pid in products[:3]:
        shop.add(pid, 1)
        resp = shop.checkout()
        assert resp.status == 200, resp
        placed.append(resp.json["order_id"])
    shop.add(products[3], 10)  # the fourth unpaid order would hold the whole stock of another product
    resp = shop.checkout()
    assert resp.status == 409, resp
    assert "3 unpaid orders" in resp.json["error"] and "pay or cancel" in resp.json["error"]
    assert resp.json["max_unpaid_orders"] == 3
    assert stock_of(products[3]) == 10 and len(_orders()) == 3
    # paying (or cancelling) one frees a slot
    assert shop.api.delete(f"/api/v1/customer/checkout?id={placed[0]}").status == 200
    assert shop.checkout().status == 200
    assert stock_of(products[3]) == 0


def test_units_of_one_product_across_unpaid_orders_are_capped(shop, midtrans):
    """Issue 18 medium #5: three unpaid orders of 999 units held 2,997 of 3,000 units for a day. At most
    `MAX_UNPAID_UNITS_PER_PRODUCT` (10) units of one product may wait for payment across a customer's unpaid
    orders; the 409 says so. Paying or cancelling frees the units."""
    pid = create_product("Kopi Langka", price=1000, stock=3000)
    other = create_product("Teh Melati", price=1000, stock=100)
    shop.add(pid, 6)
    first = shop.checkout()
    assert first.status == 200, first
    shop.add(pid, 5)  # 6 + 5 = 11 units of one product waiting for payment
    resp = shop.checkout()
    assert resp.status == 409, resp
    assert "at most 10 units" in resp.json["error"] and "unpaid" in resp.json["error"]
    assert "Kopi Langka" in resp.json["error"] and resp.json["max_unpaid_units"] == 10
    assert resp.json["products"][0]["held_unpaid"] == 6 and resp.json["products"][0]["requested"] == 5
    assert stock_of(pid) == 3000 - 6 and len(_orders()) == 1
    shop.add(pid, 4)  # 6 + 4 = 10 is allowed, and another product is not affected
    shop.add(other, 10)
    assert shop.checkout().status == 200
    assert stock_of(pid) == 3000 - 10 and stock_of(other) == 90
    assert shop.api.delete(f"/api/v1/customer/checkout?id={first.json['order_id']}").status == 200
    shop.add(pid, 6)  # the cancelled order's units are free again
    assert shop.checkout().status == 200


def test_idempotency_key_reused_with_another_body_is_422(shop, product, freight_rates):
    """An Idempotency-Key reused with another body: 422; the same key and body still answer the first order."""
    shop.add(product, 1)
    key = {"Idempotency-Key": "order-attempt-0042"}
    first = shop.checkout(headers=key)
    assert first.status == 200, first
    shop.add(product, 2)
    other = shop.checkout("anteraja-REG", headers=key)  # another courier under the same key
    assert other.status == 422, other
    assert "another" in other.json["error"] and "Idempotency-Key" in other.json["error"]
    same = shop.checkout(headers=key)  # the same request again still answers with the first order
    assert same.status == 200 and same.json == first.json
    assert len(_orders()) == 1 and stock_of(product) == 9
    assert shop.checkout("anteraja-REG", headers={"Idempotency-Key": "order-attempt-0043"}).status == 200
