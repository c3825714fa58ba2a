"""Issue 12 items 2 and 12 in the staff back office: values that were accepted with 2xx although they break
checkout or freight (price 0, weight or a dimension 0), stock numbers that overflowed MySQL into a 500, and the
product form's `expected` that was ignored instead of guarding the stock write."""
import pytest

from support import create_category, create_product, create_staff, login_staff

INV = "/api/v1/staff/dashboard/inventory"
PRODUCT = {"category_id": None, "name": "Kopi Gayo", "description": "Arabika", "price": 85000, "weight": 1,
           "initial_stock": 0, "length": 18, "width": 10, "height": 6}
HUGE = 4_294_967_295


@pytest.fixture
def clerk(api):
    create_staff("clerk", inv=True)
    login_staff(api, "clerk")
    return api


def _product(pid):
    from omdb import db
    from omdb.ids import to_bin

    return db.query_one("SELECT p.price, p.weight, p.length, p.width, p.height, i.quantity FROM products p"
                        " JOIN inventories i ON i.product_refer = p.id WHERE p.id = %s", (to_bin(pid),))


def _movements(pid):
    from omdb import db
    from omdb.ids import to_bin

    return db.query_one("SELECT COUNT(*) AS n FROM stock_movements WHERE product_refer = %s", (to_bin(pid),))["n"]


ZERO_VALUES = [("price", 0), ("weight", 0), ("weight", 0.004), ("length", 0), ("width", 0), ("height", 0)]


@pytest.mark.parametrize("field,value", ZERO_VALUES)
def test_zero_price_weight_or_dimension_is_refused_on_create(clerk, field, value):
    """Staff create with price/weight/length/width/height 0: 400 naming the field."""
    cid = create_category("Kopi")
    resp = clerk.post(f"{INV}/product-1", json={**PRODUCT, "category_id": cid, field: value})
    assert resp.status == 400, resp
    assert resp.json["error"].startswith(f"{field} must be at least"), resp.json  # names the refused field
    assert clerk.get(f"{INV}/product").json == []


@pytest.mark.parametrize("field,value", ZERO_VALUES)
def test_zero_price_weight_or_dimension_is_refused_on_update(clerk, field, value):
    """Staff update with price/weight/length/width/height 0: 400 naming the field, nothing saved."""
    pid = create_product("Kopi Gayo", price=85000, weight=1, dims=(18, 10, 6), stock=5)
    before = _product(pid)
    resp = clerk.patch(f"{INV}/product-1", json={"id": pid, "stock": 5, field: value})
    assert resp.status == 400 and resp.json["error"].startswith(f"{field} must be at least"), resp
    assert _product(pid) == before


def test_smallest_valid_values_are_accepted(clerk):
    cid = create_category("Kopi")
    resp = clerk.post(f"{INV}/product-1", json={**PRODUCT, "category_id": cid, "price": 1, "weight": 0.01,
                                                 "length": 1, "width": 1, "height": 1})
    assert resp.status == 201, resp
    row = _product(resp.json["id"])
    assert (row["price"], float(row["weight"]), row["length"], row["width"], row["height"]) == (1, 0.01, 1, 1, 1)


def test_stock_numbers_that_overflowed_are_clear_4xx(clerk):
    """Stock delta/quantity 4,294,967,295 (was MySQL error 1264, a 500): 400 naming the field, or 409 with curr_stock."""
    pid = create_product(stock=10)
    resp = clerk.post(f"{INV}/stock", json={"product_id": pid, "delta": HUGE})  # was MySQL 1264 → 500
    assert resp.status == 400 and resp.json["error"].startswith("delta must be at most"), resp
    resp = clerk.post(f"{INV}/stock", json={"product_id": pid, "delta": -HUGE})
    assert resp.status == 400 and resp.json["error"].startswith("delta must be at least"), resp
    resp = clerk.post(f"{INV}/stock", json={"product_id": pid, "delta": 2_147_483_647})  # in range, sum is not
    assert resp.status == 409 and resp.json["curr_stock"] == 10 and "exceed" in resp.json["error"], resp
    resp = clerk.put(f"{INV}/stock", json={"product_id": pid, "quantity": HUGE, "expected": 10})
    assert resp.status == 400 and resp.json["error"].startswith("quantity must be at most"), resp
    resp = clerk.patch(f"{INV}/product-1", json={"id": pid, "stock": HUGE})
    assert resp.status == 400 and resp.json["error"].startswith("stock must be at most"), resp
    cid = create_category("Emas")
    resp = clerk.post(f"{INV}/product-1", json={**PRODUCT, "category_id": cid, "name": "Emas", "initial_stock": HUGE})
    assert resp.status == 400 and resp.json["error"].startswith("initial_stock must be at most"), resp
    assert _product(pid)["quantity"] == 10 and _movements(pid) == 1
    # the largest stock is still accepted exactly
    top = clerk.put(f"{INV}/stock", json={"product_id": pid, "quantity": 2_147_483_647, "expected": 10})
    assert top.status == 200 and top.json == {"stock": 2_147_483_647}
    assert clerk.post(f"{INV}/stock", json={"product_id": pid, "delta": 1}).status == 409


def test_product_form_expected_guards_the_stock_write_like_put_stock(clerk):
    """PATCH product-1 with a stale expected: 409 with curr_stock and nothing saved, like PUT inventory/stock."""
    pid = create_product(price=50000, stock=8)
    form = {"id": pid, "price": 60000, "stock": 3, "expected": 5}  # the clerk read 5, someone sold meanwhile
    stale = clerk.patch(f"{INV}/product-1", json=form)
    assert stale.status == 409 and stale.json["curr_stock"] == 8, stale
    row = _product(pid)
    assert row["quantity"] == 8 and row["price"] == 50000  # nothing of the form was written
    assert _movements(pid) == 1
    put = clerk.put(f"{INV}/stock", json={"product_id": pid, "quantity": 3, "expected": 5})
    assert put.status == stale.status and put.json.keys() == stale.json.keys()  # exactly like PUT inventory/stock
    ok = clerk.patch(f"{INV}/product-1", json={**form, "expected": 8})
    assert ok.status == 200, ok
    row = _product(pid)
    assert row["quantity"] == 3 and row["price"] == 60000
    resp = clerk.patch(f"{INV}/product-1", json={"id": pid, "expected": 3})
    assert resp.status == 400 and "expected" in resp.json["error"]
    resp = clerk.patch(f"{INV}/product-1", json={"id": pid, "stock": 1, "expected": "3"})
    assert resp.status == 400 and resp.json["error"].startswith("expected")
    assert clerk.patch(f"{INV}/product-1", json={"id": pid, "stock": 3}).status == 200  # v1 form: no expected
