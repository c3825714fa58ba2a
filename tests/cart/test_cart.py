"""The cart through HTTP, with the cart count checked against the real count after every kind of change."""
import uuid

from support import create_customer, create_product, login_customer


def _real_count(customer_id):
    from omdb import db
    from omdb.ids import to_bin

    return db.query_one("SELECT COUNT(*) AS n FROM cart_items WHERE customer_refer = %s", (to_bin(customer_id),))["n"]


def _assert_count(api, customer_id):
    assert api.get("/api/v1/customer/cart-count").json == {"count": _real_count(customer_id)}


def test_cart_lifecycle_and_count_consistency(api):
    cid = create_customer()
    login_customer(api)
    a = create_product("Kopi A", stock=5, images=1)
    b = create_product("Kopi B", stock=2)
    assert api.get("/api/v1/customer/cart").json == []
    _assert_count(api, cid)
    assert api.post("/api/v1/customer/cart", json={"id": a, "quantity": 2}).status == 200
    _assert_count(api, cid)
    assert api.post("/api/v1/customer/cart", json={"id": a, "quantity": 3}).status == 200  # replaces
    assert api.post("/api/v1/customer/cart", json={"id": b, "quantity": 1}).status == 200
    _assert_count(api, cid)
    lines = api.get("/api/v1/customer/cart").json
    assert [(line["name"], line["quantity"], line["curr_stock"], line["checked"]) for line in lines] == [
        ("Kopi A", 3, 5, False), ("Kopi B", 1, 2, False)]
    assert lines[0]["image"].endswith(".webp") and lines[1]["image"] == ""
    assert api.post("/api/v1/customer/cart-checked", json={"id": a, "state": True}).status == 200
    assert [line["checked"] for line in api.get("/api/v1/customer/cart").json] == [True, False]
    _assert_count(api, cid)
    assert api.delete(f"/api/v1/customer/cart?id={b}").status == 200
    _assert_count(api, cid)
    assert api.delete(f"/api/v1/customer/cart?id={b}").status == 404


def test_short_stock_is_409_with_current_stock(api):
    create_customer()
    login_customer(api)
    pid = create_product(stock=2)
    resp = api.post("/api/v1/customer/cart", json={"id": pid, "quantity": 3})
    assert resp.status == 409 and resp.json == {"error": "quantity is not enough", "code": "conflict", "curr_stock": 2}


def test_unknown_or_deleted_product_is_404_json(api):
    create_customer()
    login_customer(api)
    resp = api.post("/api/v1/customer/cart", json={"id": str(uuid.uuid4()), "quantity": 1})
    assert resp.status == 404 and resp.json == {"error": "product not found", "code": "not_found"}
    gone = create_product(deleted=True)
    assert api.post("/api/v1/customer/cart", json={"id": gone, "quantity": 1}).status == 404


def test_quantities_and_lines_are_bounded(api, monkeypatch):
    create_customer()
    login_customer(api)
    pid = create_product(stock=5000)
    for bad in (0, -1, 1000, "2", None, 1.5, True):
        assert api.post("/api/v1/customer/cart", json={"id": pid, "quantity": bad}).status == 400, bad
    monkeypatch.setenv("CART_MAX_LINES", "2")
    for i in range(2):
        assert api.post("/api/v1/customer/cart", json={"id": create_product(f"P{i}"), "quantity": 1}).status == 200
    resp = api.post("/api/v1/customer/cart", json={"id": create_product("P9"), "quantity": 1})
    assert resp.status == 409 and "at most" in resp.json["error"]
    assert api.post("/api/v1/customer/cart", json={"id": "not-a-uuid", "quantity": 1}).status == 400


def test_check_needs_stock_and_check_all(api):
    cid = create_customer()
    login_customer(api)
    a = create_product("A", stock=5)
    b = create_product("B", stock=5)
    api.post("/api/v1/customer/cart", json={"id": a, "quantity": 2})
    api.post("/api/v1/customer/cart", json={"id": b, "quantity": 5})
    from omcommerce import stock
    from omdb import db

    with db.transaction() as tx:
        stock.adjust(tx, b, -3)  # now only 2 left for a line of 5
    assert api.post("/api/v1/customer/cart-checked", json={"id": b, "state": True}).status == 409
    assert api.post("/api/v1/customer/cart-checked-all", json={"state": True}).json == {"checked": 1}
    assert api.post("/api/v1/customer/cart-checked-all", json={"state": False}).json == {"checked": 0}
    # the storefront's Select All always sends checkAll: true — it toggles
    assert api.post("/api/v1/customer/cart-checked-all", json={"checkAll": True}).json == {"checked": 1}
    assert api.post("/api/v1/customer/cart-checked-all", json={"checkAll": True}).json == {"checked": 0}
    assert api.post("/api/v1/customer/cart-checked-all", json={}).status == 400
    _assert_count(api, cid)


def test_count_stays_true_after_product_deletion_and_external_changes(api):
    from omcommerce import cachekeys
    from omcore import kv
    from omdb import db
    from omdb.ids import to_bin

    cid = create_customer()
    login_customer(api)
    a = create_product("A")
    api.post("/api/v1/customer/cart", json={"id": a, "quantity": 1})
    assert api.get("/api/v1/customer/cart-count").json == {"count": 1}
    # what the back office does on product deletion: soft delete, drop cart lines, delete the count keys
    db.execute("UPDATE products SET deleted_at = UTC_TIMESTAMP() WHERE id = %s", (to_bin(a),))
    db.execute("DELETE FROM cart_items WHERE product_refer = %s", (to_bin(a),))
    kv.cache_delete(cachekeys.cart_count(cid))
    _assert_count(api, cid)
    assert api.get("/api/v1/customer/cart").json == []


def test_customers_never_see_each_others_cart(api, make_api):
    create_customer("a@example.com")
    create_customer("b@example.com")
    login_customer(api, "a@example.com")
    other = make_api()
    login_customer(other, "b@example.com")
    pid = create_product()
    api.post("/api/v1/customer/cart", json={"id": pid, "quantity": 1})
    assert other.get("/api/v1/customer/cart").json == []
    assert other.delete(f"/api/v1/customer/cart?id={pid}").status == 404
    assert other.post("/api/v1/customer/cart-checked", json={"id": pid, "state": True}).status == 404
    assert api.get("/api/v1/customer/cart-count").json == {"count": 1}


def test_cart_needs_login(api):
    for method, path in (("GET", "/api/v1/customer/cart"), ("GET", "/api/v1/customer/cart-count"),
                         ("POST", "/api/v1/customer/cart-checked-all")):
        resp = api.request(method, path, json_body={})
        assert resp.status == 401 and "error" in resp.json
