"""Every JSON route declares its answer's shape (``responses=`` beside its input), and the HTTP tests hold the real
answers to it: ``ApiClient`` validates each JSON answer against the OpenAPI document (``tests/contracts.py``), so
a route whose answer drifts from its declaration fails every test that calls it."""
import json

import pytest

from contracts import ContractMismatch, Contracts, checker
from support import DEFAULT_PASSWORD, create_customer, create_product, create_staff, login_customer, login_staff

# answers that are not JSON documents of the API: the order desk's and the reset page's files
PAGES = ("/desk", "/account/reset")


@pytest.fixture(scope="module")
def document():
    from functions.health.openapi import build

    return build()


def test_every_json_route_declares_its_success_shape(document):
    undeclared = []
    for path, operations in document["paths"].items():
        if path.startswith(PAGES):
            continue
        for method, op in operations.items():
            shaped = [s for s, answer in op["responses"].items() if s[0] == "2" and "content" in answer]
            if not shaped:
                undeclared.append(f"{method.upper()} {path}")
    assert not undeclared, "declare responses={200: ...} on: " + ", ".join(undeclared)


class Answer:
    def __init__(self, status, body):
        self.status, self.body = status, json.dumps(body).encode()
        self.headers = {"content-type": "application/json"}
        self.json = body


@pytest.mark.parametrize("method,path,status,body", [
    ("GET", "/api/v1/customer/cart-count", 200, {"count": "3"}),  # a string where an integer is declared
    ("GET", "/api/v1/customer/cart-count", 200, {}),  # a required key missing
    ("GET", "/api/v1/category", 200, {"id": 1, "name": "x"}),  # an object where a list is declared
    ("GET", "/api/v1/customer/address", 200, [{"id": "a"}]),  # a list line without its keys
    ("GET", "/api/v1/staff/console/staff", 200, [{"id": 1}]),  # neither the member nor the list of them
    ("GET", "/api/v1/freight-rates", 200, {"jne": [{"product_code": "REG"}]}),  # a rate without its price
    ("DELETE", "/api/v1/customer/wishlist", 404, {"error": "not in wishlist"}),  # an error without its code
])
def test_an_answer_outside_its_declaration_fails_the_request(document, method, path, status, body):
    with pytest.raises(ContractMismatch):
        Contracts(document).check(method, f"{path}?id=1", Answer(status, body))


def test_an_answer_within_its_declaration_passes_and_is_counted(document):
    contracts = Contracts(document)
    contracts.check("GET", "/api/v1/customer/cart-count", Answer(200, {"count": 3}))
    contracts.check("GET", "/api/v1/staff/console/staff?id=1", Answer(200, []))
    contracts.check("GET", "/api/v1/product?id=x", Answer(404, {"error": "product not found", "code": "not_found"}))
    assert contracts.checked == {("GET", "/api/v1/customer/cart-count", "200"),
                                 ("GET", "/api/v1/staff/console/staff", "200"),
                                 ("GET", "/api/v1/product", "404")}


def test_the_http_client_checks_real_answers_of_every_capability(make_api, areas):
    """A representative walk through the capabilities whose answers were declared last: the client's checker saw
    each answer and found it within its declaration (a mismatch would have raised in the call)."""
    contracts = checker()
    assert contracts is not None, "OM_CONTRACTS=0 switched the check off"
    contracts.checked.clear()
    product = create_product()
    create_customer()
    customer = make_api()
    login_customer(customer)
    create_staff("walker", inv=True, fin=True, sys=True)
    staff = make_api()
    login_staff(staff, "walker", DEFAULT_PASSWORD)
    anonymous = make_api()
    calls = [
        (anonymous, "GET", "/api/v1/category"), (anonymous, "GET", "/api/v1/product"),
        (anonymous, "GET", f"/api/v1/product?id={product}"), (anonymous, "GET", "/api/v1/home-banner"),
        (anonymous, "GET", f"/api/v1/product-review?id={product}"), (anonymous, "GET", "/api/v1/area/suggest?search=a"),
        (customer, "GET", "/api/v1/customer/address"), (customer, "GET", "/api/v1/customer/wishlist"),
        (customer, "GET", "/api/v1/customer/order"), (customer, "GET", "/api/v1/customer/order-review"),
        (customer, "GET", "/api/v1/auth/refresh"),
        (staff, "GET", "/api/v1/staff/auth/me"), (staff, "GET", "/api/v1/staff/console/staff"),
        (staff, "GET", "/api/v1/staff/dashboard/inventory/category"),
        (staff, "GET", "/api/v1/staff/dashboard/inventory/product"),
        (staff, "GET", "/api/v1/staff/dashboard/inventory/order"),
        (staff, "GET", "/api/v1/staff/dashboard/inventory/order-totals"),
        (staff, "GET", "/api/v1/staff/dashboard/inventory/sales"),
        (staff, "GET", f"/api/v1/staff/dashboard/inventory/stock-movements?product_id={product}"),
    ]
    for client, method, path in calls:
        assert client.request(method, path).status == 200, path
    assert {(m, p.split("?")[0], "200") for _, m, p in calls} <= contracts.checked
