"""Issue 18 (low): state-changing routes accepted `text/plain` and form-encoded bodies, which any other site can
make a browser send without a CORS preflight, so SameSite was the only CSRF defence. A state-changing request with
a JSON body must now say `application/json` (415 otherwise), as the v1 frontends do; multipart uploads stay
multipart, and the Midtrans webhook (JSON) is held to the same rule."""
import json

import pytest

from support import DEFAULT_PASSWORD, create_customer, create_product, create_staff, login_customer, login_staff

CROSS_SITE_TYPES = ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
                    "multipart/form-data; boundary=x", None]


@pytest.fixture
def customer(api, areas):
    create_customer()
    login_customer(api)
    return api


@pytest.mark.parametrize("content_type", CROSS_SITE_TYPES)
def test_a_cross_site_shaped_body_is_refused_with_415(customer, make_api, content_type):
    pid = create_product()
    headers = {"content-type": content_type} if content_type else {}
    attempts = [
        (customer, "POST", "/api/v1/customer/cart", {"id": pid, "quantity": 1}),
        (customer, "PATCH", "/api/v1/customer/profile", {"first_name": "Mallory"}),
        (customer, "PATCH", "/api/v1/customer/creds", {"old_password": DEFAULT_PASSWORD, "new_password": "X#y12345"}),
        (make_api(), "POST", "/api/v1/auth/login", {"email": "buyer@example.com", "password": DEFAULT_PASSWORD}),
        (make_api(), "POST", "/api/v1/webhook/midtrans", {"order_id": "x"}),
    ]
    for client, method, path, body in attempts:
        resp = client.request(method, path, body=json.dumps(body).encode(), headers=headers)
        assert resp.status == 415 and "application/json" in resp.json["error"], (path, content_type, resp)
    cart = customer.get("/api/v1/customer/cart")
    assert cart.status == 404 or cart.json == []  # nothing was added
    assert customer.get("/api/v1/customer/profile").json["first_name"] == "Budi"


def test_json_with_a_charset_and_multipart_uploads_still_work(customer, make_api):
    pid = create_product()
    resp = customer.request("POST", "/api/v1/customer/cart", body=json.dumps({"id": pid, "quantity": 1}).encode(),
                            headers={"content-type": "application/json; charset=utf-8"})
    assert resp.status == 200, resp
    create_staff("clerk", inv=True)
    clerk = make_api()
    login_staff(clerk, "clerk")
    # multipart stays multipart: the request reaches the upload's own checks (here: no picture → 400, not 415)
    resp = clerk.multipart("POST", "/api/v1/staff/dashboard/inventory/product-2", {"product_id": pid}, {})
    assert resp.status == 400, resp
    # a body-less state change (logout) needs no content type
    assert customer.request("POST", "/api/v1/auth/logout").status == 200
