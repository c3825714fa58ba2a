"""What the order desk needs from the API (search, totals, sales per day, the moves allowed now and who made each
one, the signed-in member) and what the desk's own function serves (the pages, their headers), over HTTP."""
import re

import pytest

from omdb import db

from support import (
    create_customer,
    create_order,
    create_product,
    create_staff,
    login_customer,
    login_staff,
)

INV = "/api/v1/staff/dashboard/inventory"


@pytest.fixture
def clerk(api):
    create_staff("clerk", inv=True)
    login_staff(api, "clerk")
    return api


def _paid(customer, pid, quantity=1, days_ago=0, status="paid"):
    order_id = create_order(customer, [(pid, quantity)], status=status)
    db.execute("UPDATE orders SET transaction_status = 'settlement', payment_type = 'qris',"
               " paid_at = UTC_TIMESTAMP(3) - INTERVAL %s DAY WHERE id = %s", (days_ago, order_id))
    return order_id


def test_one_search_box_finds_an_order_by_number_or_by_part_of_the_email_and_totals_match(clerk):
    siti = create_customer("siti.rahma@example.com")
    budi = create_customer("budi@example.org")
    pid = create_product(price=50000)
    first = _paid(siti, pid, 1)
    second = _paid(siti, pid, 2, status="shipped")
    third = _paid(budi, pid, 1)

    found = clerk.get(f"{INV}/order?q=RAHMA@example").json
    assert [o["id"] for o in found] == [second, first]  # newest first, case-insensitive part of the email
    assert found[0]["transaction_status"] == "settlement" and found[0]["payment_type"] == "qris"
    assert [o["id"] for o in clerk.get(f"{INV}/order?q=%23{third}").json] == [third]  # "#1042"
    assert [o["id"] for o in clerk.get(f"{INV}/order?q={third}").json] == [third]
    assert clerk.get(f"{INV}/order?q=99999999999999999999").json == []
    # LIKE wildcards are text, not patterns: "_" and "%" match only themselves
    assert clerk.get(f"{INV}/order?q=siti_rahma").json == []
    assert clerk.get(f"{INV}/order?q=%25").json == []
    assert [o["id"] for o in clerk.get(f"{INV}/order?q=siti&status=shipped").json] == [second]

    totals = clerk.get(f"{INV}/order-totals?q=siti").json
    assert totals == {"count": 2, "gross_amount": (50000 + 10000) + (100000 + 10000)}
    assert clerk.get(f"{INV}/order-totals").json["count"] == 3
    assert clerk.get(f"{INV}/order-totals?status=cancelled").json == {"count": 0, "gross_amount": 0}
    assert clerk.get(f"{INV}/order-totals?status=nope").status == 400
    page = clerk.get(f"{INV}/order?page=2&page_size=2").json
    assert [o["id"] for o in page] == [first]


def test_sales_per_day_counts_paid_orders_on_their_day_of_payment_and_nothing_else(clerk):
    buyer = create_customer()
    pid = create_product(price=40000, stock=50)
    _paid(buyer, pid, 1, days_ago=0)
    _paid(buyer, pid, 2, days_ago=0, status="delivered")
    _paid(buyer, pid, 1, days_ago=5)
    _paid(buyer, pid, 1, days_ago=40)  # outside the window
    _paid(buyer, pid, 3, days_ago=1, status="refunded")  # not revenue any more
    create_order(buyer, [(pid, 1)], status="awaiting_payment")
    create_order(buyer, [(pid, 1)], status="cancelled")

    days = clerk.get(f"{INV}/sales").json
    assert len(days) == 30 and days == sorted(days, key=lambda d: d["day"])
    assert days[-1] == {"day": days[-1]["day"], "orders": 2, "revenue": 50000 + 90000}
    assert days[-6]["orders"] == 1 and days[-6]["revenue"] == 50000
    assert days[-2] == {"day": days[-2]["day"], "orders": 0, "revenue": 0}
    assert sum(d["orders"] for d in days) == 3
    assert len(clerk.get(f"{INV}/sales?days=7").json) == 7
    assert clerk.get(f"{INV}/sales?days=0").status == 400
    assert clerk.get(f"{INV}/sales?days=367").status == 400


def test_sales_and_totals_need_an_order_role(make_api):
    create_staff("banners")
    create_customer()
    nobody, customer, staff = make_api(), make_api(), make_api()
    assert nobody.get(f"{INV}/sales").status == 401
    login_customer(customer)
    assert customer.get(f"{INV}/order-totals").status == 401
    login_staff(staff, "banners")
    refused = staff.get(f"{INV}/sales")
    assert refused.status == 403 and "inv_user or fin_user" in refused.json["error"]


def test_an_order_says_which_moves_are_allowed_now_and_who_made_each_one(clerk):
    buyer = create_customer()
    pid = create_product()
    order_id = _paid(buyer, pid)
    detail = clerk.get(f"{INV}/order?id={order_id}").json
    assert detail["next"] == ["packed", "refunded"]
    assert detail["paid_at"].endswith("Z")
    assert clerk.patch(f"{INV}/order", json={"id": order_id, "status": "packed"}).status == 200
    detail = clerk.get(f"{INV}/order?id={order_id}").json
    assert detail["next"] == ["shipped", "refunded"]
    last = detail["status_history"][-1]
    assert (last["from"], last["to"], last["actor"], last["actor_name"]) == ("paid", "packed", "staff", "clerk")
    unpaid = create_order(buyer, [(pid, 1)], status="awaiting_payment")
    assert clerk.get(f"{INV}/order?id={unpaid}").json["next"] == ["cancelled"]
    done = create_order(buyer, [(pid, 1)], status="cancelled")
    assert clerk.get(f"{INV}/order?id={done}").json["next"] == []


def test_me_answers_the_signed_in_member_with_roles_as_they_are_now(api, make_api):
    staff_id = create_staff("clerk", inv=True)
    assert api.get("/api/v1/staff/auth/me").status == 401
    login_staff(api, "clerk")
    me = api.get("/api/v1/staff/auth/me")
    assert me.status == 200 and me.headers["cache-control"] == "no-store"
    assert {k: me.json[k] for k in ("id", "username", "inv_user", "fin_user", "sys_admin", "super_admin")} == {
        "id": staff_id, "username": "clerk", "inv_user": True, "fin_user": False, "sys_admin": False,
        "super_admin": False}
    create_staff("root", sys=True)
    root = make_api()
    login_staff(root, "root")
    assert root.patch("/api/v1/staff/console/staff", json={"id": staff_id, "fin_user": True}).status == 200
    assert api.get("/api/v1/staff/auth/me").json["fin_user"] is True
    assert root.delete(f"/api/v1/staff/console/staff?id={staff_id}").status == 200
    assert api.get("/api/v1/staff/auth/me").status == 401


CSP = re.compile(r"default-src 'self'.*frame-ancestors 'none'")


@pytest.mark.parametrize("path", ["/desk", "/desk/desk.js", "/desk/pages.css", "/desk/pages.js", "/account/reset",
                                  "/account/reset/reset.js", "/account/reset/pages.css"])
def test_the_pages_and_their_files_carry_a_strict_policy(api, path):
    resp = api.get(path)
    assert resp.status == 200, resp
    assert CSP.search(resp.headers["content-security-policy"])
    assert "unsafe" not in resp.headers["content-security-policy"]
    assert resp.headers["x-frame-options"] == "DENY" and resp.headers["x-content-type-options"] == "nosniff"
    kind = "text/javascript" if path.endswith(".js") else "text/css" if path.endswith(".css") else "text/html"
    assert resp.headers["content-type"] == f"{kind}; charset=utf-8"
    again = api.get(path, headers={"If-None-Match": resp.headers["etag"]})
    assert again.status == 304


def test_the_pages_hold_no_inline_script_style_or_foreign_asset(api):
    for path in ("/desk", "/account/reset"):
        html = api.get(path).body
        html = html.decode() if isinstance(html, bytes) else html
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
        assert " style=" not in html and "<style" not in html, "inline style"
        assert not re.search(r"(src|href)=\"(https?:)?//", html), "an asset from another origin"
        assert not re.search(r"\son[a-z]+=", html), "an inline event handler"


def test_only_the_shipped_files_are_served(api):
    for path in ("/desk/service.py", "/desk/..%2Froutes.py", "/desk/reset.js", "/account/reset/desk.js",
                 "/desk/static"):
        assert api.get(path).status in (403, 404), path


def test_the_reset_mail_leads_to_the_reset_page(api, outbox, monkeypatch):
    create_customer("siti@example.com")
    monkeypatch.setenv("STOREFRONT_URL", "https://shop.example/")
    assert api.post("/api/v1/auth/reset-password-1", json={"email": "siti@example.com"}).status == 200
    assert "https://shop.example/account/reset" in outbox.last_text("siti@example.com")


def test_a_change_another_site_started_is_refused_even_with_the_cookies(clerk, make_api):
    buyer = create_customer()
    pid = create_product()
    order_id = _paid(buyer, pid)
    for site in ("same-site", "cross-site"):
        refused = clerk.patch(f"{INV}/order", json={"id": order_id, "status": "packed"},
                              headers={"Sec-Fetch-Site": site})
        assert refused.status == 403 and "not sent from a page of this site" in refused.json["error"]
    assert db.query_one("SELECT status FROM orders WHERE id = %s", (order_id,))["status"] == "paid"
    # reads stay open to links from anywhere; the desk's own calls are same-origin
    assert clerk.get(f"{INV}/order?id={order_id}", headers={"Sec-Fetch-Site": "cross-site"}).status == 200
    assert clerk.patch(f"{INV}/order", json={"id": order_id, "status": "packed"},
                       headers={"Sec-Fetch-Site": "same-origin"}).status == 200

    unpaid = create_order(buyer, [(pid, 1)], status="awaiting_payment")
    customer = make_api()
    login_customer(customer)
    assert customer.delete(f"/api/v1/customer/checkout?id={unpaid}",
                           headers={"Sec-Fetch-Site": "same-site"}).status == 403
    assert db.query_one("SELECT status FROM orders WHERE id = %s", (unpaid,))["status"] == "awaiting_payment"
