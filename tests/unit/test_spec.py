"""Route contracts (``omcore.spec``): every route declares its input once, the wrapper validates from the declaration
and the OpenAPI document is generated from the same declaration (``omcore.openapi``)."""
import importlib
import uuid as uuid_module
from datetime import date as date_type

import pytest

from omcore.errors import BadRequest
from omcore.http import Routes
from omcore.spec import (
    Multipart,
    Raw,
    Spec,
    anything,
    boolean,
    choice,
    custom,
    date,
    email,
    file,
    integer,
    page_of,
    paged,
    paging,
    pattern,
    query_id,
    text,
    uuid,
)

import functions


def refused(call) -> str:
    with pytest.raises(BadRequest) as info:
        call()
    assert info.value.status == 400
    return info.value.message


def all_routes():
    return [importlib.import_module(f"functions.{name}.routes").routes for name in functions.CAPABILITIES]


def routes_without_spec(route_sets) -> list[str]:
    return [f"{'/'.join(c.methods)} {c.path}" for routes in route_sets for c in routes.contracts()
            if c.body is None or c.query is None]


@pytest.fixture(scope="module")
def document():
    from functions.health.openapi import build

    return build()


def operation(document, method, path):
    return document["paths"][path][method]


def body_schema(document, method, path, media="application/json"):
    return operation(document, method, path)["requestBody"]["content"][media]["schema"]


# ---------------------------------------------------------------------------------------- every route has a spec

def test_every_route_declares_its_body_and_query():
    assert routes_without_spec(all_routes()) == []
    assert sum(len(r.contracts()) for r in all_routes()) == sum(len(r.described()) for r in all_routes()) > 60


def test_a_route_without_a_spec_is_reported():
    routes = Routes("functions.example.routes")

    @routes.route("/x", methods=["POST"], body=Spec(), query=Spec())
    def declared(req):
        return {}

    @routes.route("/y", methods=["POST"])
    def undeclared(req):
        return {}

    @routes.route("/z", methods=["GET"], query=Spec())
    def half(req):
        return {}

    assert routes_without_spec([routes]) == ["POST /y", "GET /z"]


# ---------------------------------------------------------------------------------------- validation from a spec

def test_fields_validate_in_order_with_messages_naming_the_field():
    spec = Spec(uuid("address_code"), text("courier_code", max_len=64), integer("quantity", min=1, max=999))
    good = {"address_code": "5d7b9d55-8c0e-4d7a-9a53-2c1f1e6f2b10", "courier_code": " jne:reg ", "quantity": 2.0}
    values = spec.validate(good, "body")
    assert values == {"address_code": uuid_module.UUID(good["address_code"]), "courier_code": "jne:reg",
                      "quantity": 2}
    assert refused(lambda: spec.validate({}, "body")) == "address_code is required"
    assert refused(lambda: spec.validate({**good, "address_code": "x"}, "body")) == "address_code must be a UUID"
    assert refused(lambda: spec.validate({**good, "courier_code": "c" * 65}, "body")) == \
        "courier_code must be at most 64 characters"
    assert spec.validate({**good, "courier_code": "c" * 64}, "body")["courier_code"] == "c" * 64
    assert refused(lambda: spec.validate({**good, "quantity": 0}, "body")) == "quantity must be at least 1"
    assert refused(lambda: spec.validate({**good, "quantity": "2"}, "body")) == "quantity must be an integer"


def test_query_strings_treat_empty_as_absent_and_parse_numbers():
    spec = Spec(uuid("id", required=False), *paging(), choice("status", ("paid", "shipped"), required=False),
                date("from", required=False), boolean("flag", required=False))
    values = spec.validate({"id": "", "page": "2", "page_size": "", "status": "", "from": "2026-01-02",
                            "flag": "true"}, "query")
    assert values == {"id": None, "page": 2, "page_size": None, "status": None, "from": date_type(2026, 1, 2),
                      "flag": True}
    assert paged(values) and page_of(values) == (2, 20) and page_of({}, 50) == (1, 50) and not paged({})
    assert refused(lambda: query_id().validate({"id": ""}, "query")) == "id is required"
    assert refused(lambda: spec.validate({"page": "0"}, "query")) == "page must be at least 1"
    assert refused(lambda: spec.validate({"page_size": "101"}, "query")) == "page_size must be at most 100"
    # in a JSON body "" is a value, not an absence (unless a field says blank=True)
    assert refused(lambda: Spec(integer("n")).validate({"n": ""}, "body")) == "n must be an integer"
    assert Spec(choice("g", ("a",), required=False, blank=True)).validate({"g": ""}, "body") == {"g": None}


def test_custom_fields_callable_bounds_then_and_missing_message():
    limit = {"max": 3}
    spec = Spec(integer("quantity", max=lambda: limit["max"]),
                text("phone", then=lambda v: v.replace("-", "")),
                custom("href", lambda v: v, {"type": "string"}, missing="href must be a site path"),
                anything("code"), pattern("key", r"^[a-z]{3}$", "key must be 3 letters", required=False))
    body = {"quantity": 3, "phone": "0812-3", "href": "/x", "code": 123456}
    assert spec.validate(body, "body") == {"quantity": 3, "phone": "08123", "href": "/x", "code": 123456,
                                           "key": None}
    limit["max"] = 2  # read per request (e.g. CART_MAX_QUANTITY)
    assert refused(lambda: spec.validate(body, "body")) == "quantity must be at most 2"
    assert refused(lambda: spec.validate({**body, "quantity": 1, "href": None}, "body")) == "href must be a site path"
    assert refused(lambda: spec.validate({**body, "quantity": 1, "key": "abcd"}, "body")) == "key must be 3 letters"


def test_an_empty_string_is_absent_for_an_optional_text_field_and_refused_for_a_required_one():
    spec = Spec(text("first_name"), date("birth_date", required=False), text("note", required=False),
                email("email", required=False))
    assert spec.validate({"first_name": "Budi", "birth_date": "", "note": "  ", "email": ""}, "body") == {
        "first_name": "Budi", "birth_date": None, "note": None, "email": None}
    assert refused(lambda: spec.validate({"first_name": " "}, "body")) == "first_name must not be empty"


def test_a_spec_refuses_duplicate_names():
    with pytest.raises(ValueError):
        Spec(text("a"), integer("a"))


# ---------------------------------------------------------------------------------------- the generated document

def test_generated_document_is_valid_openapi_3(document):
    from openapi_spec_validator import validate

    validate(document)
    assert document["openapi"].startswith("3.")
    for path, entry in document["paths"].items():
        for method, op in entry.items():
            assert op["summary"] and op["summary"] != op["operationId"], (method, path)
            assert "default" in op["responses"], (method, path)


def test_postal_code_is_documented_as_the_string_or_number_it_accepts(document):
    for method in ("post", "patch"):
        schema = body_schema(document, method, "/api/v1/customer/address")["properties"]["postal_code"]
        kinds = {alt["type"]: alt for alt in schema["oneOf"]}
        assert kinds["string"]["pattern"] == "^[1-9][0-9]{4}$"
        assert kinds["integer"]["minimum"] == 10000 and kinds["integer"]["maximum"] == 99999
    assert "postal_code" in body_schema(document, "post", "/api/v1/customer/address")["required"]
    assert "postal_code" not in body_schema(document, "patch", "/api/v1/customer/address").get("required", [])


def test_courier_code_and_review_limits_are_in_the_schema(document):
    checkout = body_schema(document, "post", "/api/v1/customer/checkout")
    assert checkout["properties"]["courier_code"]["maxLength"] == 64
    assert checkout["properties"]["address_code"] == {"type": "string", "format": "uuid"}
    assert set(checkout["required"]) == {"address_code", "courier_code"}
    for method in ("post", "patch"):
        review = body_schema(document, method, "/api/v1/customer/order-review")["properties"]
        assert review["review"]["maxLength"] == 255
        assert review["rating"]["minimum"] == 1 and review["rating"]["maximum"] == 5
    key = [p for p in operation(document, "post", "/api/v1/customer/checkout")["parameters"]
           if p["in"] == "header"]
    assert key[0]["name"] == "Idempotency-Key" and key[0]["schema"]["pattern"] == r"^[A-Za-z0-9_.:-]{8,80}$"


def test_queries_special_bodies_security_and_answers_are_described(document):
    rates = operation(document, "get", "/api/v1/freight-rates")
    assert [(p["name"], p["required"], p["schema"]) for p in rates["parameters"]] == [
        ("product_id", True, {"type": "string", "format": "uuid"}),
        ("area_id", True, {"type": "integer", "minimum": 1, "maximum": 16777215})]
    upload = body_schema(document, "post", "/api/v1/staff/dashboard/inventory/product-2", "multipart/form-data")
    assert upload["properties"]["picture"] == {"type": "string", "format": "binary"}
    assert set(upload["required"]) == {"picture", "product_id"}
    webhook = operation(document, "post", "/api/v1/webhook/midtrans")
    assert "signature_key" in webhook["requestBody"]["content"]["application/json"]["schema"]["required"]
    assert "security" not in webhook
    assert operation(document, "get", "/api/v1/customer/cart")["security"] == [{"customerCookie": []}]
    assert operation(document, "get", "/api/v1/staff/console/staff")["security"] == [{"staffCookie": []}]
    cancel = operation(document, "delete", "/api/v1/customer/checkout")
    assert cancel["responses"]["409"]["description"].startswith("already paid")
    assert cancel["responses"]["409"]["x-error-codes"] == ["illegal_transition"]
    assert "requestBody" not in operation(document, "get", "/api/v1/customer/order")
    quantity = body_schema(document, "post", "/api/v1/customer/cart")["properties"]["quantity"]
    assert quantity["minimum"] == 1 and quantity["maximum"] >= 1


def test_docstring_status_lines_become_answers():
    from omcore.openapi import parse_docstring

    def view(req):
        """Do the thing.

        Longer words.
        200: done
        409: refused because
            of a long reason
        """

    assert parse_docstring(view) == ("Do the thing.", "Longer words.",
                                     {"200": "done", "409": "refused because of a long reason"})


def test_multipart_and_raw_specs_describe_their_media():
    upload = Multipart(file("picture"), text("href"), max_bytes=10)
    assert upload.max_bytes == 10 and list(upload.request_body()["content"]) == ["multipart/form-data"]
    raw = Raw(max_bytes=20, schema={"type": "object"})
    assert raw.request_body()["content"]["application/json"]["schema"] == {"type": "object"}
    assert Spec().request_body() is None and Spec(email()).request_body()["required"] is True
