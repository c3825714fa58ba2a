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
