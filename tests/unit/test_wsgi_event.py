"""``chalice_wsgi`` (swarm-fallback/): a WSGI request becomes the API Gateway proxy event Lambda would get, and the Chalice answer is
written back — checked on a tiny in-memory Chalice app, no server and no services."""
import base64
import io
import json

import pytest
from chalice import Chalice, Response

from chalice_wsgi import ChaliceWSGI


@pytest.fixture(scope="module")
def tiny():
    app = Chalice(app_name="tiny")
    app.api.binary_types = ["multipart/form-data", "application/octet-stream", "image/*"]

    @app.route("/api/v1/things/{thing_id}", methods=["GET", "POST"], content_types=["*/*"])
    def thing(thing_id):
        req = app.current_request
        return {"id": thing_id, "query": req.query_params, "method": req.method,
                "ip": req.context["identity"]["sourceIp"], "body_len": len(req.raw_body or b"")}

    @app.route("/api/v1/cookies", methods=["GET"])
    def cookies():
        return Response("{}", headers={"Set-Cookie": ["a=1; Path=/", "b=2; Path=/"],
                                       "Content-Type": "application/json"})

    return app


def environ(method="GET", path="/api/v1/things/abc", query="", body=b"", **extra):
    env = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "REMOTE_ADDR": "10.0.0.5",
           "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)) if body else ""}
    env.update(extra)
    return env


def call(wsgi, env):
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = status, headers

    body = b"".join(wsgi(env, start_response))
    return seen["status"], seen["headers"], body


def test_event_has_the_api_gateway_proxy_shape(tiny):
    wsgi = ChaliceWSGI(tiny, trusted_hops=0, max_body=1000)
    event = wsgi.build_event(environ(path="/api/v1/things/a%20b", query="x=1&x=2&empty=",
                                     HTTP_X_CUSTOM="yes", CONTENT_TYPE="application/json"), b'{"k": 1}')
    assert event["resource"] == "/api/v1/things/{thing_id}"
    assert event["httpMethod"] == "GET" and event["path"] == "/api/v1/things/a%20b"
    assert event["pathParameters"] == {"thing_id": "a b"}
    assert event["queryStringParameters"] == {"x": "2", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "empty": [""]}
    assert event["headers"]["x-custom"] == "yes" and event["headers"]["content-type"] == "application/json"
    assert event["body"] == '{"k": 1}' and event["isBase64Encoded"] is False
    assert event["requestContext"]["identity"]["sourceIp"] == "10.0.0.5"
    assert event["requestContext"]["requestId"]


def test_no_query_string_means_null_parameters(tiny):
    event = ChaliceWSGI(tiny, trusted_hops=0).build_event(environ(), b"")
    assert event["queryStringParameters"] is None and event["multiValueQueryStringParameters"] is None
    assert event["body"] is None


def test_binary_and_non_utf8_bodies_are_base64(tiny):
    wsgi = ChaliceWSGI(tiny, trusted_hops=0)
    png = b"\x89PNG\r\n\x1a\n\x00\x01"
    event = wsgi.build_event(environ(method="POST", CONTENT_TYPE="image/png"), png)
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == png
    event = wsgi.build_event(environ(method="POST", CONTENT_TYPE="text/plain"), b"\xff\xfe")
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\xff\xfe"
    event = wsgi.build_event(environ(method="POST", CONTENT_TYPE="text/plain"), "héllo".encode())
    assert event["isBase64Encoded"] is False and event["body"] == "héllo"


def test_each_request_gets_its_own_request_id(tiny):
    wsgi = ChaliceWSGI(tiny, trusted_hops=0)
    ids = {wsgi.build_event(environ(), b"")["requestContext"]["requestId"] for _ in range(3)}
    assert len(ids) == 3


def test_unknown_path_is_none_and_answers_api_gateway_403(tiny):
    wsgi = ChaliceWSGI(tiny, trusted_hops=0)
    assert wsgi.build_event(environ(path="/api/v1/nowhere"), b"") is None
    status, headers, body = call(wsgi, environ(path="/api/v1/nowhere"))
    assert status.startswith("403") and json.loads(body) == {"message": "Missing Authentication Token"}


def test_the_client_address_without_and_behind_a_trusted_proxy(tiny):
    env = environ(HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7", REMOTE_ADDR="127.0.0.1")  # a local proxy
    assert ChaliceWSGI(tiny, trusted_hops=0).build_event(env, b"")["requestContext"]["identity"]["sourceIp"] \
        == "127.0.0.1"
    assert ChaliceWSGI(tiny, trusted_hops=1).build_event(env, b"")["requestContext"]["identity"]["sourceIp"] \
        == "203.0.113.7"


def test_round_trip_through_the_chalice_app(tiny):
    wsgi = ChaliceWSGI(tiny, trusted_hops=0, max_body=1000)
    status, headers, body = call(wsgi, environ(method="POST", path="/api/v1/things/t1", query="q=v",
                                               body=b"hello", CONTENT_TYPE="text/plain"))
    assert status == "200 OK"
    assert json.loads(body) == {"id": "t1", "query": {"q": "v"}, "method": "POST", "ip": "10.0.0.5",
                                "body_len": 5}
    assert ("Content-Length", str(len(body))) in headers


def test_head_has_headers_but_no_body(tiny):
    status, headers, body = call(ChaliceWSGI(tiny, trusted_hops=0), environ(method="HEAD"))
    assert body == b"" and dict(headers).get("Content-Length") not in (None, "0")


def test_every_cookie_is_its_own_header(tiny):
    status, headers, _ = call(ChaliceWSGI(tiny, trusted_hops=0), environ(path="/api/v1/cookies"))
    assert sorted(v for n, v in headers if n.lower() == "set-cookie") == ["a=1; Path=/", "b=2; Path=/"]


def test_size_limit_and_bad_length_answer_json(tiny):
    wsgi = ChaliceWSGI(tiny, trusted_hops=0, max_body=4)
    status, headers, body = call(wsgi, environ(method="POST", body=b"12345"))
    assert status.startswith("413") and "error" in json.loads(body)
    status, _, body = call(wsgi, environ(method="POST", CONTENT_LENGTH="many"))
    assert status.startswith("400") and "error" in json.loads(body)


def test_a_plain_request_id_from_a_trusted_proxy_is_kept_and_anything_else_replaced(tiny):
    wsgi = ChaliceWSGI(tiny, trusted_hops=1, forwarded_allow_ips="127.0.0.1")
    kept = wsgi.build_event(environ(HTTP_X_REQUEST_ID="edge-1234:abcd.EF_9", REMOTE_ADDR="127.0.0.1"), b"")
    assert kept["requestContext"]["requestId"] == "edge-1234:abcd.EF_9"
    # issue 18: from a peer that is not a trusted proxy (or with no proxy trusted at all) the id is never taken
    for adapter, remote in ((wsgi, "10.0.0.5"), (ChaliceWSGI(tiny, trusted_hops=0), "127.0.0.1")):
        event = adapter.build_event(environ(HTTP_X_REQUEST_ID="edge-1234:abcd.EF_9", REMOTE_ADDR=remote), b"")
        assert event["requestContext"]["requestId"] != "edge-1234:abcd.EF_9"
    for hostile in ("short", 'x" {"level": "ERROR"}', "a" * 129, "line\nbreak-1234"):
        event = wsgi.build_event(environ(HTTP_X_REQUEST_ID=hostile, REMOTE_ADDR="127.0.0.1"), b"")
        assert event["requestContext"]["requestId"] != hostile
        assert len(event["requestContext"]["requestId"]) == 36
