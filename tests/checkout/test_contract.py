"""Answers have a contract: every answer of the checkout flow matches the schema the OpenAPI document declares for
its status (generated from the routes' ``responses=``), and every error carries a machine-readable ``code`` beside
the ``error`` text the v1 UIs show — an explicit one where a status has several meanings (checkout's 409s)."""
import jsonschema
import pytest

from shopping import stock_of


@pytest.fixture(scope="module")
def document():
    from functions.health.openapi import build

    return build()


def conforms(document, method: str, path: str, resp) -> dict:
    """Validate ``resp`` against the document's schema for (path, method, status); returns the body."""
    answers = document["paths"][path][method.lower()]["responses"]
    answer = answers.get(str(resp.status)) or answers["default"]
    schema = answer["content"]["application/json"]["schema"]
    resolver = {"components": document["components"], **schema}
    jsonschema.validate(resp.json, resolver)
    return resp.json


def test_the_checkout_flow_answers_as_declared(shop, product, document):
    api = shop.api
    pre = api.get("/api/v1/customer/pre-items")
    assert conforms(document, "GET", "/api/v1/customer/pre-items", pre)["code"] == "nothing_selected"
    shop.add(product, 2)
    conforms(document, "GET", "/api/v1/customer/pre-items", api.get("/api/v1/customer/pre-items"))
    conforms(document, "GET", "/api/v1/customer/pre-freight",
             api.get(f"/api/v1/customer/pre-freight?id={shop.address_id}"))
    conforms(document, "GET", "/api/v1/customer/cart", api.get("/api/v1/customer/cart"))
    conforms(document, "GET", "/api/v1/customer/cart-count", api.get("/api/v1/customer/cart-count"))
    conforms(document, "GET", "/api/v1/customer/profile", api.get("/api/v1/customer/profile"))
    placed = conforms(document, "POST", "/api/v1/customer/checkout", shop.checkout())
    cancelled = api.delete(f"/api/v1/customer/checkout?id={placed['order_id']}")
    assert conforms(document, "DELETE", "/api/v1/customer/checkout", cancelled) == {"id": placed["order_id"],
                                                                                     "status": "cancel"}


def sold_out_meanwhile(shop, product):
    from omdb import db
    from omdb.ids import to_bin

    shop.add(product, 2)
    db.execute("UPDATE inventories SET quantity = 1 WHERE product_refer = %s", (to_bin(product),))


@pytest.mark.parametrize("setup,code", [
    (lambda shop, product: None, "nothing_selected"),
    (sold_out_meanwhile, "out_of_stock"),
])
def test_checkout_409s_say_which_one_they_are(shop, product, document, setup, code):
    setup(shop, product)
    resp = shop.checkout()
    assert resp.status == 409 and conforms(document, "POST", "/api/v1/customer/checkout", resp)["code"] == code
    assert resp.json["error"]  # the text the v1 storefront shows is still there
    assert code in document["paths"]["/api/v1/customer/checkout"]["post"]["responses"]["409"]["x-error-codes"]


def test_an_invalid_courier_has_its_own_code(shop, product):
    shop.add(product, 1)
    assert shop.checkout("pigeon-FAST").json["code"] == "invalid_courier"
    assert stock_of(product) == 10


def test_a_cancel_the_state_machine_refuses_says_illegal_transition(shop, product, midtrans):
    shop.add(product, 1)
    order_id = shop.checkout().json["order_id"]
    from omcommerce import orders
    from omdb import db

    db.run_in_transaction(lambda tx: orders.move(tx, order_id, orders.PAID, actor_type=orders.SYSTEM))
    resp = shop.api.delete(f"/api/v1/customer/checkout?id={order_id}")
    assert resp.status == 409 and resp.json["code"] == "illegal_transition" and resp.json["current_status"] == "paid"


def test_errors_without_an_explicit_code_carry_their_status_default(api, document):
    resp = api.get("/api/v1/customer/cart")  # no session
    assert resp.status == 401 and conforms(document, "GET", "/api/v1/customer/cart", resp)["code"] == "unauthorized"
    resp = api.post("/api/v1/auth/login", json={"email": "nobody@example.com"})
    assert resp.status == 400 and resp.json["code"] == "bad_request"
    webhook = api.post("/api/v1/webhook/midtrans", json={"order_id": "x"})
    assert conforms(document, "POST", "/api/v1/webhook/midtrans", webhook)["code"] == "malformed_notification"


def test_the_document_declares_the_error_schema_with_its_code(document):
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "code"]
    op = document["paths"]["/api/v1/customer/checkout"]["post"]["responses"]
    assert op["200"]["content"]["application/json"]["schema"]["required"] == ["token", "redirect_url", "order_id"]
    assert op["409"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}

