def test_liveness(api):
    resp = api.get("/api/v1/health")
    assert resp.status == 200
    assert resp.json == {"status": "ok"}


def test_readiness_checks_mysql_and_redis(api):
    resp = api.get("/api/v1/health/ready")
    assert resp.status == 200
    assert resp.json["checks"] == {"mysql": "ok", "redis": "ok"}


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


def test_docs_routes_table_is_current():
    import os

    from functions.admin.__main__ import routes_markdown

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "docs", "routes.md"), encoding="utf-8") as fh:
        assert fh.read() == routes_markdown(), "run: python -m functions.admin routes --markdown > docs/routes.md"
