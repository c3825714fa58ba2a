"""The customer account through HTTP: profile and email change, addresses, wishlist, reviews, order history, and
that no customer can read or change another's data through any id-taking endpoint."""
import re
import uuid

import pytest

from support import create_customer, create_order, create_product, login_customer

ADDRESS = {"label": "Rumah", "full_address": "Jl. Merdeka 1", "note": "", "recipient_name": "Budi",
           "phone_number": "081234567890", "shipping_area": 25410, "postal_code": "10110"}


@pytest.fixture
def buyer(api, areas):
    cid = create_customer()
    login_customer(api)
    return cid


@pytest.fixture
def intruder(make_api):
    create_customer("intruder@example.com")
    client = make_api()
    login_customer(client, "intruder@example.com")
    return client


def test_profile_get_and_partial_update(api, buyer):
    profile = api.get("/api/v1/customer/profile").json
    assert profile == {"email": "buyer@example.com", "phone_number": "", "first_name": "Budi",
                       "last_name": "Santoso", "birth_date": "1995-05-17T00:00:00Z", "gender": "male"}
    resp = api.patch("/api/v1/customer/profile", json={"first_name": "Budiman", "phone_number": "0812-3456-789",
                                                       "birth_date": "1990-01-02T00:00:00.000Z", "gender": "male",
                                                       "email": "buyer@example.com"})
    assert resp.status == 200
    assert resp.json["first_name"] == "Budiman" and resp.json["phone_number"] == "08123456789"
    assert resp.json["birth_date"] == "1990-01-02T00:00:00Z" and resp.json["last_name"] == "Santoso"
    assert api.patch("/api/v1/customer/profile", json={"gender": "robot"}).status == 400


def test_profile_birth_date_must_be_plausible(api, buyer):
    """Issue 18 (low): 2999-01-01 and 0001-01-01 were stored as given."""
    for bad in ("2999-01-01", "0001-01-01T00:00:00.000Z", "1899-12-31"):
        resp = api.patch("/api/v1/customer/profile", json={"birth_date": bad})
        assert resp.status == 400 and "birth_date must be between" in resp.json["error"], bad
    assert api.get("/api/v1/customer/profile").json["birth_date"] == "1995-05-17T00:00:00Z"
    assert api.patch("/api/v1/customer/profile", json={"birth_date": "1950-02-03"}).status == 200


def test_duplicate_phone_is_409(api, buyer):
    create_customer("other@example.com", phone="0811111111")
    resp = api.patch("/api/v1/customer/profile", json={"phone_number": "0811111111"})
    assert resp.status == 409 and "error" in resp.json


def test_email_change_needs_the_code_sent_to_the_new_address(api, buyer, outbox):
    resp = api.patch("/api/v1/customer/profile", json={"email": "new@example.com"})
    assert resp.status == 202 and resp.json["pending_email"] == "new@example.com"
    assert api.get("/api/v1/customer/profile").json["email"] == "buyer@example.com"
    code = outbox.last_code("new@example.com")
    assert api.post("/api/v1/customer/email-change", json={"code": 111111 if code != "111111" else 222222}).status == 401
    resp = api.post("/api/v1/customer/email-change", json={"code": int(code)})
    assert resp.status == 200 and resp.json["email"] == "new@example.com"
    assert api.post("/api/v1/customer/email-change", json={"code": int(code)}).status == 401  # single use


def test_confirmed_email_change_tells_the_old_address_and_ends_other_sessions(api, make_api, buyer, outbox):
    """Issue 12 #8: the old address learns what changed, when and how to recover; every other session (and its
    access token) ends; the session that confirmed goes on."""
    laptop = make_api()
    login_customer(laptop)
    thief = make_api()
    thief.cookies["ac_cus"] = laptop.cookies["ac_cus"]
    assert thief.get("/api/v1/customer/profile").status == 200
    assert api.patch("/api/v1/customer/profile", json={"email": "new@example.com"}).status == 202
    code = int(outbox.last_code("new@example.com"))
    assert outbox.messages("buyer@example.com") == []  # nothing is said before the change happens
    resp = api.post("/api/v1/customer/email-change", json={"code": code})
    assert resp.status == 200 and resp.json["email"] == "new@example.com"
    notice = outbox.last_text("buyer@example.com")
    assert "changed from buyer@example.com" in notice and "ne***" not in notice and "new@" not in notice
    assert "UTC" in notice and "did not" in notice and "support" in notice
    assert thief.get("/api/v1/customer/profile").status == 401
    assert laptop.get("/api/v1/customer/profile").status == 401
    assert laptop.get("/api/v1/auth/refresh").status == 401
    assert api.get("/api/v1/customer/profile").json["email"] == "new@example.com"


def test_email_change_codes_are_capped_per_day_across_reissues(api, buyer, outbox):
    from omcore import kv

    for round_ in range(4):
        kv.client().delete(*(kv.client().keys("throttle:email-change-mail:*") or ["none"]))
        assert api.patch("/api/v1/customer/profile", json={"email": f"new{round_}@example.com"}).status == 202
        code = int(outbox.last_code(f"new{round_}@example.com"))
        wrong = 100000 if code != 100000 else 100001
        for _ in range(5):
            assert api.post("/api/v1/customer/email-change", json={"code": wrong}).status == 401
    kv.client().delete(*(kv.client().keys("throttle:email-change-mail:*") or ["none"]))
    assert api.patch("/api/v1/customer/profile", json={"email": "last@example.com"}).status == 202
    assert outbox.messages("last@example.com") == []  # past the cap no code is mailed: it could not be used
    resp = api.post("/api/v1/customer/email-change", json={"code": 123456})
    assert resp.status == 429 and "error" in resp.json
    assert api.get("/api/v1/customer/profile").json["email"] == "buyer@example.com"


def test_email_change_to_a_taken_address_answers_like_a_free_one(api, make_api, buyer, outbox):
    """Issue 12 #8: 409 vs 202 told an attacker which addresses have accounts."""
    create_customer("taken@example.com")
    taken = api.patch("/api/v1/customer/profile", json={"email": "taken@example.com"})
    from omcore import kv

    kv.client().delete(*kv.client().keys("throttle:email-change-mail:*"))  # as if the 60 s between asks had passed
    free = api.patch("/api/v1/customer/profile", json={"email": "free@example.com"})
    assert taken.status == free.status == 202
    assert {**taken.json, "pending_email": "x"} == {**free.json, "pending_email": "x"}
    assert taken.json["pending_email"] == "taken@example.com"
    # the owner of the taken address gets a notice, never a code to move another account onto their address
    notice = outbox.last_text("taken@example.com")
    assert "already belongs to an account" in notice and not re.search(r"\b\d{6}\b", notice)
    assert api.get("/api/v1/customer/profile").json["email"] == "buyer@example.com"


def test_address_crud(api, buyer):
    assert api.get("/api/v1/customer/address").json == []
    created = api.post("/api/v1/customer/address", json=ADDRESS)
    assert created.status == 200
    address_id = created.json["id"]
    listed = api.get("/api/v1/customer/address").json
    assert listed == [{"id": address_id, "label": "Rumah", "full_address": "Jl. Merdeka 1", "note": "",
                       "recipient_name": "Budi", "phone_number": "081234567890"}]
    detail = api.get(f"/api/v1/customer/address?id={address_id}").json
    assert detail["area_id"] == 25410 and detail["postal_code"] == "10110" and "Gambir" in detail["shipping_area"]
    dup = api.post("/api/v1/customer/address", json=ADDRESS)
    assert dup.status == 409 and dup.json["message"] == dup.json["error"] == "address already exists"
    bad_area = api.post("/api/v1/customer/address", json={**ADDRESS, "label": "Kantor", "shipping_area": 1})
    assert bad_area.status == 409 and bad_area.json["message"] == "shipping area not found"
    patched = api.patch("/api/v1/customer/address", json={"id": address_id, "note": "pagar hijau", "label": None})
    assert patched.status == 200 and patched.json["note"] == "pagar hijau" and patched.json["label"] == "Rumah"
    assert api.delete(f"/api/v1/customer/address?id={address_id}").status == 200
    assert api.get(f"/api/v1/customer/address?id={address_id}").status == 404


def test_first_checkout_quirk_address_id_null_is_a_json_400(api, buyer):
    resp = api.get("/api/v1/customer/address?id=null")
    assert resp.status == 400 and "error" in resp.json


def test_postal_code_sent_as_a_number_is_accepted(api, buyer):
    resp = api.post("/api/v1/customer/address", json={**ADDRESS, "postal_code": 10110})
    assert resp.status == 200 and resp.json["postal_code"] == "10110"


def test_address_validation(api, buyer):
    for field, value in (("postal_code", "1011"), ("phone_number", "abc"), ("shipping_area", "x"), ("label", "")):
        assert api.post("/api/v1/customer/address", json={**ADDRESS, field: value}).status == 400, field


@pytest.mark.parametrize("postal", [123, "123", "00123", "01234", 1234, 0, 123456, "1011O", 10110.0, True, [],
                                    "10 110", "١٠١١٠"])
def test_postal_code_must_be_an_indonesian_postal_code(api, buyer, postal):
    """Issue 12 #12: 123 was stored as "00123". Five digits starting 1-9, as a string or as a number."""
    resp = api.post("/api/v1/customer/address", json={**ADDRESS, "postal_code": postal})
    assert resp.status == 400 and "postal_code" in resp.json["error"]
    assert api.get("/api/v1/customer/address").json == []


def test_postal_code_patch_is_checked_the_same_way(api, buyer):
    address_id = api.post("/api/v1/customer/address", json={**ADDRESS, "postal_code": 99351}).json["id"]
    assert api.get(f"/api/v1/customer/address?id={address_id}").json["postal_code"] == "99351"
    assert api.patch("/api/v1/customer/address", json={"id": address_id, "postal_code": 123}).status == 400
    assert api.patch("/api/v1/customer/address", json={"id": address_id, "postal_code": "01234"}).status == 400
    assert api.patch("/api/v1/customer/address", json={"id": address_id, "postal_code": ""}).status == 200
    assert api.get(f"/api/v1/customer/address?id={address_id}").json["postal_code"] == "99351"


@pytest.mark.parametrize("gender", [[], {}, 1, True, ["male"]])
def test_profile_gender_of_a_wrong_type_is_a_400_naming_the_field(api, buyer, gender):
    """Issue 12 #12: `gender: []` was silently ignored."""
    resp = api.patch("/api/v1/customer/profile", json={"gender": gender, "first_name": "Changed"})
    assert resp.status == 400 and "gender" in resp.json["error"]
    assert api.get("/api/v1/customer/profile").json["first_name"] == "Budi"  # nothing applied


def test_profile_gender_empty_or_null_leaves_it_unchanged(api, buyer):
    for gender in ("", None):
        assert api.patch("/api/v1/customer/profile", json={"gender": gender}).status == 200
    assert api.get("/api/v1/customer/profile").json["gender"] == "male"
    assert api.patch("/api/v1/customer/profile", json={"gender": "female"}).json["gender"] == "female"


def test_deleting_an_address_used_by_an_order_keeps_the_order_snapshot(api, buyer):
    address_id = api.post("/api/v1/customer/address", json=ADDRESS).json["id"]
    order_id = create_order(buyer, [(create_product(), 1)], status="paid")
    assert api.delete(f"/api/v1/customer/address?id={address_id}").status == 200
    detail = api.get(f"/api/v1/customer/order?id={order_id}").json
    assert detail["address_detail"]["full_address"] == "Jl. Merdeka 1"


def test_wishlist(api, buyer):
    pid = create_product("Kopi Gayo")
    assert api.get(f"/api/v1/customer/wishlist?id={pid}").json == {"state": False}
    assert api.post(f"/api/v1/customer/wishlist?id={pid}").status == 200
    assert api.post(f"/api/v1/customer/wishlist?id={pid}").status == 409
    assert api.get(f"/api/v1/customer/wishlist?id={pid}").json == {"state": True}
    assert [p["name"] for p in api.get("/api/v1/customer/wishlist").json] == ["Kopi Gayo"]
    assert api.post(f"/api/v1/customer/wishlist?id={uuid.uuid4()}").status == 404
    from omdb import db
    from omdb.ids import to_bin

    db.execute("UPDATE products SET deleted_at = UTC_TIMESTAMP() WHERE id = %s", (to_bin(pid),))
    assert api.get("/api/v1/customer/wishlist").json == []
    db.execute("UPDATE products SET deleted_at = NULL WHERE id = %s", (to_bin(pid),))
    assert api.delete(f"/api/v1/customer/wishlist?id={pid}").status == 200
    assert api.delete(f"/api/v1/customer/wishlist?id={pid}").status == 404


def _item(order_id):
    from omdb import db

    return db.query_one("SELECT id FROM order_items WHERE order_refer = %s ORDER BY id", (order_id,))["id"]


def _rating(pid):
    from omdb import db
    from omdb.ids import to_bin

    row = db.query_one("SELECT cumulative_review, review_count FROM products WHERE id = %s", (to_bin(pid),))
    return float(row["cumulative_review"]), int(row["review_count"])


@pytest.mark.parametrize("status", ["awaiting_payment", "paid", "packed", "shipped", "cancelled", "refunded"])
def test_reviews_need_a_delivered_order(api, buyer, status):
    pid = create_product()
    item = _item(create_order(buyer, [(pid, 1)], status=status))
    resp = api.post("/api/v1/customer/order-review", json={"order_id": item, "rating": 5})
    assert resp.status == 409 and "error" in resp.json


def test_review_average_after_insert_edit_delete(api, buyer):
    pid = create_product()
    items = [_item(create_order(buyer, [(pid, 1)], status=s)) for s in ("delivered", "completed", "delivered")]
    ids = []
    for item, rating in zip(items, (5, 4, 2)):
        resp = api.post("/api/v1/customer/order-review", json={"order_id": item, "rating": rating, "review": "ok"})
        assert resp.status == 201
        ids.append(resp.json["id"])
    assert _rating(pid) == (3.7, 3)
    assert api.post("/api/v1/customer/order-review", json={"order_id": items[0], "rating": 1}).status == 409
    assert api.patch("/api/v1/customer/order-review", json={"id": ids[2], "rating": 5}).status == 200
    assert _rating(pid) == (4.7, 3)
    assert api.delete(f"/api/v1/customer/order-review?id={ids[0]}").status == 200
    assert _rating(pid) == (4.5, 2)
    assert api.get(f"/api/v1/product?id={pid}").json["cumulative_review"] == 4.5
    mine = api.get("/api/v1/customer/order-review").json
    assert sorted(r["rating"] for r in mine) == [4, 5]
    for bad in (0, 6, "5", None):
        assert api.post("/api/v1/customer/order-review", json={"order_id": items[0], "rating": bad}).status == 400


def test_order_history_order_and_shapes(api, buyer):
    from omdb import db

    pid = create_product("Kopi Gayo", images=1)
    first = create_order(buyer, [(pid, 2)], status="paid")
    second = create_order(buyer, [(pid, 1)], status="awaiting_payment")
    db.execute("UPDATE orders SET created_at = '2026-11-20 10:00:00' WHERE id = %s", (first,))
    db.execute("UPDATE orders SET created_at = '2026-11-25 10:00:00', payment_redirect_url = 'https://pay/x',"
               " payment_expires_at = '2099-01-01' WHERE id = %s", (second,))
    listed = api.get("/api/v1/customer/order").json
    assert [o["id"] for o in listed] == [first, second]  # v1 order: oldest first
    assert listed[0] == {"id": first, "created_at": "20 November 2026", "gross_amount": 110000,
                         "status": "settlement", "item_count": 1, "image": listed[0]["image"],
                         "product_name": "Kopi Gayo", "reviewed": False}
    assert listed[0]["image"].endswith(".webp")
    assert listed[1]["status"] == "pending"
    paged = api.get("/api/v1/customer/order?page=1&page_size=1").json
    assert [o["id"] for o in paged] == [second]  # paged: newest first
    detail = api.get(f"/api/v1/customer/order?id={second}").json
    assert detail["payment_url"] == "https://pay/x"
    assert detail["item_list"][0]["quantity"] == 1 and detail["item_list"][0]["reviewed"] is False
    assert detail["address_detail"]["recipient_name"] == "Budi"
    assert detail["total_cost"] == detail["item_cost"] + detail["shipping_cost"]
    assert "payment_url" not in api.get(f"/api/v1/customer/order?id={first}").json
    assert api.get("/api/v1/customer/order?id=abc").status == 400
    assert api.get("/api/v1/customer/order?id=999999").status == 404


def test_empty_lists_are_arrays(api, buyer):
    for path in ("/api/v1/customer/order", "/api/v1/customer/order-review", "/api/v1/customer/wishlist",
                 "/api/v1/customer/address"):
        resp = api.get(path)
        assert resp.status == 200 and resp.json == [], path


def test_no_customer_can_touch_another_customers_data(api, buyer, intruder):
    pid = create_product()
    address_id = api.post("/api/v1/customer/address", json=ADDRESS).json["id"]
    order_id = create_order(buyer, [(pid, 1)], status="delivered")
    review_id = api.post("/api/v1/customer/order-review", json={"order_id": _item(order_id), "rating": 4}).json["id"]
    api.post(f"/api/v1/customer/wishlist?id={pid}")

    assert intruder.get(f"/api/v1/customer/address?id={address_id}").status == 404
    assert intruder.patch("/api/v1/customer/address", json={"id": address_id, "label": "x"}).status == 404
    assert intruder.delete(f"/api/v1/customer/address?id={address_id}").status == 404
    assert intruder.get(f"/api/v1/customer/order?id={order_id}").status == 404
    assert intruder.get("/api/v1/customer/order").json == []
    assert intruder.post("/api/v1/customer/order-review", json={"order_id": _item(order_id), "rating": 1}).status == 404
    assert intruder.patch("/api/v1/customer/order-review", json={"id": review_id, "rating": 1}).status == 404
    assert intruder.delete(f"/api/v1/customer/order-review?id={review_id}").status == 404
    assert intruder.get(f"/api/v1/customer/wishlist?id={pid}").json == {"state": False}
    assert intruder.delete(f"/api/v1/customer/wishlist?id={pid}").status == 404
    # and the owner's data is untouched
    assert api.get(f"/api/v1/customer/address?id={address_id}").json["label"] == "Rumah"
    assert _rating(pid) == (4.0, 1)
