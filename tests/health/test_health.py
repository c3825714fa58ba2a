def test_liveness(api):
    resp = api.get("/api/v1/health")
    assert resp.status == 200
    assert resp.json == {"status": "ok"}


def test_readiness_checks_mysql_and_redis(api):
    resp = api.get("/api/v1/health/ready")
    assert resp.status == 200
    assert resp.json["checks"] == {"mysql": "ok", "redis": "ok", "cache": "ok"}


def test_unknown_path_is_an_api_gateway_style_403(api):
    resp = api.get("/api/v1/no-such-thing")
    assert resp.status in (403, 404)


def test_openapi_lists_every_route_of_the_app(api, app):
    resp = api.get("/api/v1/openapi.json")
    assert resp.status == 200
    doc = resp.json
    assert doc["openapi"].startswith("3.")
    for path, entry in app.routes.items():
        for method in entry:
            assert method.lower() in doc["paths"][path], (method, path)


def test_served_openapi_is_the_document_generated_from_the_route_declarations(api):
    """No hand-written fragment: the served document is exactly what omcore.openapi generates from the routes'
    specs, it is valid OpenAPI 3 and it carries the rules the code enforces."""
    import json

    from openapi_spec_validator import validate

    from functions.health.openapi import build

    resp = api.get("/api/v1/openapi.json")
    assert resp.status == 200
    validate(resp.json)
    assert resp.json == json.loads(json.dumps(build()))
    checkout = resp.json["paths"]["/api/v1/customer/checkout"]["post"]["requestBody"]["content"]["application/json"]
    assert checkout["schema"]["properties"]["courier_code"]["maxLength"] == 64
    address = resp.json["paths"]["/api/v1/customer/address"]["post"]["requestBody"]["content"]["application/json"]
    assert {alt["type"] for alt in address["schema"]["properties"]["postal_code"]["oneOf"]} == {"string", "integer"}


def test_docs_routes_table_is_current():
    import os

    from tools.admin.__main__ import routes_markdown

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "docs", "routes.md"), encoding="utf-8") as fh:
        assert fh.read() == routes_markdown(), "run: python -m tools.admin routes --markdown > docs/routes.md"


def test_liveness_does_not_depend_on_mysql_while_data_routes_answer_503(api, monkeypatch):
    """The container healthcheck calls /api/v1/health: a MySQL outage must not fail it (Swarm would replace every
    API task), while data routes answer a clean 503 and readiness reports the outage."""
    import socket

    from omdb import db

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]  # nothing listens there once the socket is closed
    monkeypatch.setenv("DB_PORT", str(closed_port))
    monkeypatch.setenv("DB_CONNECT_TIMEOUT", "1")
    db.reset()
    try:
        live = api.get("/api/v1/health")
        assert live.status == 200 and live.json == {"status": "ok"}
        ready = api.get("/api/v1/health/ready")
        assert ready.status == 503
        assert ready.json["checks"]["mysql"].startswith("unavailable") and ready.json["checks"]["redis"] == "ok"
        data = api.get("/api/v1/product?id=5d7b9d55-8c0e-4d7a-9a53-2c1f1e6f2b10")
        assert data.status == 503 and "error" in data.json
    finally:
        monkeypatch.undo()
        db.reset()


def test_what_the_schema_says_is_what_the_route_enforces(api):
    """The declared limits are the enforced ones: a 65-character courier_code is refused naming the field, and a
    postal code is accepted as a JSON number as well as a string (both documented)."""
    from support import create_customer, login_customer

    create_customer()
    login_customer(api)
    too_long = api.post("/api/v1/customer/checkout", json={"address_code": "5d7b9d55-8c0e-4d7a-9a53-2c1f1e6f2b10",
                                                            "courier_code": "c" * 65})
    assert too_long.status == 400 and too_long.json["error"] == "courier_code must be at most 64 characters"
    review = api.post("/api/v1/customer/order-review", json={"order_id": 1, "rating": 5, "review": "r" * 256})
    assert review.status == 400 and review.json["error"] == "review must be at most 255 characters"
    address = {"label": "Rumah", "full_address": "Jl. Merdeka 1", "recipient_name": "Budi",
               "phone_number": "081234567890", "shipping_area": 1}
    for postal in ("10110", 10110):
        resp = api.post("/api/v1/customer/address", json={**address, "postal_code": postal})
        assert resp.status in (200, 201, 404, 409), resp  # past validation (the area may not exist here)
        assert "postal_code" not in (resp.json or {}).get("error", "")
    bad = api.post("/api/v1/customer/address", json={**address, "postal_code": 1011.5})
    assert bad.status == 400 and bad.json["error"].startswith("postal_code")
