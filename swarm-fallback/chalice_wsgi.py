"""Serve a Chalice app over WSGI — the container/Swarm target and the local run (the container bridge: it lives
here, on the container side, and ships in the image only, never in a Lambda function or layer).

Each HTTP request is translated into the API Gateway (REST, proxy integration) event that Lambda receives, the
Chalice app is called exactly as Lambda calls it, and its response dict is written back — so a route behaves the
same on both targets. What API Gateway does in front of Lambda is reproduced here: route matching (unknown path →
403 ``Missing Authentication Token``), base64 bodies for binary media types, the client IP in
``requestContext.identity.sourceIp`` (see "Client address" below), and a request size limit (413 JSON;
``MAX_BODY_BYTES``, default 16 MiB).

Client address: the TCP peer (``REMOTE_ADDR``), unless that peer is a configured proxy — ``FORWARDED_ALLOW_IPS``,
comma-separated addresses or CIDRs (default ``127.0.0.1,::1``; ``*`` trusts every peer and is only for a network
where nothing else can reach the server). Only then is ``X-Forwarded-For`` read, from the right, for at most
``TRUSTED_PROXY_HOPS`` proxies, each of which must itself be a configured proxy address: the client is the first
address, from the right, that was appended by a trusted proxy and is not one itself. Anyone who can reach the
server directly therefore gets their own address, whatever header they send.

Concurrency: Chalice keeps the request being served on the app object (``current_request``, ``lambda_context``),
which would mix up two requests served at once. The adapter gives each thread its own (``per_thread_request``: the
app's class gets properties backed by a ``threading.local``, as ``chalice local`` does), so calls into one app run
concurrently — under gunicorn's threaded workers, the local run's threaded server, and gevent, whose patching makes
that local per greenlet. Nothing is serialised; the database and Redis pools bound what concurrency costs.

Optionally serves ``/usercontent/<name>`` (the WebP images) from the public bucket, as Traefik/CloudFront do on
the real targets, with immutable caching headers.
"""
from __future__ import annotations

import base64
import ipaddress
import json
import re
import threading
import time
import uuid
from urllib.parse import parse_qs, unquote

from omcore import config
from omcore.log import get_logger

log = get_logger("wsgi")

_STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 304: "Not Modified",
                400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large", 415: "Unsupported Media Type",
                429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
                503: "Service Unavailable", 504: "Gateway Timeout"}
_USERCONTENT_RE = re.compile(r"^/usercontent/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
                             r"(?:-\d{2,4})?\.webp)$")


class _Context:
    """The parts of the Lambda context object Chalice and our handlers read."""

    def __init__(self, function_name: str, timeout_ms: int, request_id: str | None = None):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = ""
        self.memory_limit_in_mb = 0
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = self.log_stream_name = ""
        self.identity = self.client_context = None
        self._deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


# An incoming X-Request-Id set by a trusted proxy (the peer is in FORWARDED_ALLOW_IPS and TRUSTED_PROXY_HOPS > 0, the
# X-Forwarded-For rule) is kept when it is a plain token; from anyone else, or anything else, a fresh id is made, so a
# client can neither plant ids in the logs nor make its requests look like someone else's.
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def _request_id(incoming: str | None) -> str:
    return incoming if incoming and _REQUEST_ID_RE.match(incoming) else str(uuid.uuid4())


_HEADER_NAMES: dict[str, str] = {}  # WSGI environ key → header name, filled as requests arrive
_STATUS_LINES: dict[int, str] = {}


def _status_line(code: int) -> str:
    line = _STATUS_LINES.get(code)
    if line is None:
        line = _STATUS_LINES[code] = f"{code} {_STATUS_TEXT.get(code, 'Unknown')}"
    return line


def _json(start_response, code: int, body: dict, headers: list | None = None):
    data = json.dumps(body).encode()
    start_response(_status_line(code), [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                                        *(headers or [])])
    return [data]


class ChaliceWSGI:
    def __init__(self, app, *, usercontent: bool = False, max_body: int | None = None,
                 trusted_hops: int | None = None, timeout_ms: int = 30000, forwarded_allow_ips: str | None = None):
        from chalice.local import RouteMatcher  # only the container/local targets pay for this import

        per_thread_request(app)
        self.app = app
        self.matcher = RouteMatcher(list(app.routes))
        self.binary_types = list(app.api.binary_types)
        self.max_body = max_body if max_body is not None else config.get_int("MAX_BODY_BYTES")
        self.trusted_hops = trusted_hops if trusted_hops is not None else config.get_int("TRUSTED_PROXY_HOPS")
        self.trusted_proxies = parse_proxy_list(config.get("FORWARDED_ALLOW_IPS", DEFAULT_FORWARDED_ALLOW_IPS)
                                                if forwarded_allow_ips is None else forwarded_allow_ips)
        self.usercontent = usercontent
        self.timeout_ms = timeout_ms
        self._s3 = None
        self._routes: dict = {}

    # -- request → event -------------------------------------------------------------------------------------

    def _client_ip(self, environ) -> str:
        remote = environ.get("REMOTE_ADDR", "") or "unknown"
        if self.trusted_hops <= 0 or not _is_trusted(remote, self.trusted_proxies):
            return remote  # a direct client: its own address, whatever X-Forwarded-For says
        chain = [p.strip() for p in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        client = remote
        for hop in range(self.trusted_hops):
            # ``client`` is a trusted proxy, so the entry it appended (the next from the right) is believable
            if not chain:
                break
            candidate = _parse_ip(chain.pop())
            if candidate is None:
                break  # not an address: keep the last trusted hop rather than a forged string
            client = str(candidate)
            if hop + 1 < self.trusted_hops and _is_trusted(client, self.trusted_proxies):
                continue
            break
        return client

    @staticmethod
    def _headers(environ) -> dict:
        headers = {}
        names = _HEADER_NAMES
        for key, value in environ.items():
            name = names.get(key)
            if name is None:
                if not key.startswith("HTTP_"):
                    continue
                name = key[5:].replace("_", "-").lower()
                if len(names) < 512:  # the same few dozen header names arrive again and again
                    names[key] = name
            headers[name] = value
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        if environ.get("CONTENT_LENGTH"):
            headers["content-length"] = environ["CONTENT_LENGTH"]
        return headers

    def _is_binary(self, content_type: str) -> bool:
        ctype = content_type.split(";", 1)[0].strip().lower()
        for binary in self.binary_types:
            if binary == ctype or (binary.endswith("/*") and ctype.startswith(binary[:-1])):
                return True
        return False

    def build_event(self, environ, body: bytes) -> dict | None:
        method = environ["REQUEST_METHOD"].upper()
        raw_path = environ.get("PATH_INFO", "") or "/"
        try:
            # PEP 3333 hands PATH_INFO over as latin-1 decoded bytes
            path = raw_path.encode("latin-1").decode("utf-8")
        except UnicodeError:
            path = raw_path
        query = environ.get("QUERY_STRING", "")
        match = self._routes.get(path)
        if match is None:
            try:
                match = self.matcher.match_route(path)
            except ValueError:
                return None
            # Chalice's matcher walks every route per request; a path always matches the same way, so remember
            # it (bounded: paths with ids are many, but each is cheap to match again once the table is full)
            if len(self._routes) < 4096:
                self._routes[path] = match
        headers = self._headers(environ)
        multi_query = parse_qs(query, keep_blank_values=True) if query else None
        event = {
            "resource": match.route,
            "path": path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} if multi_query else None,
            "multiValueQueryStringParameters": multi_query,
            "pathParameters": {k: unquote(v) for k, v in match.captured.items()} or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": match.route,
                "httpMethod": method,
                "path": path,
                # a client-chosen id only from a trusted proxy (the X-Forwarded-For rule), else a fresh one
                "requestId": _request_id(headers.get("x-request-id") if self.trusted_hops > 0 and _is_trusted(
                    environ.get("REMOTE_ADDR", ""), self.trusted_proxies) else None),
                "identity": {"sourceIp": self._client_ip(environ), "userAgent": headers.get("user-agent", "")},
            },
            "body": None,
            "isBase64Encoded": False,
        }
        if body:
            if self._is_binary(headers.get("content-type", "")):
                event["body"] = base64.b64encode(body).decode("ascii")
                event["isBase64Encoded"] = True
            else:
                try:
                    event["body"] = body.decode("utf-8")
                except UnicodeDecodeError:
                    event["body"] = base64.b64encode(body).decode("ascii")
                    event["isBase64Encoded"] = True
        return event

    # -- WSGI ------------------------------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if self.usercontent and path.startswith("/usercontent/"):
            return self._usercontent(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _json(start_response, 400, {"error": "invalid Content-Length", "code": "bad_request"})
        if length > self.max_body:
            return _json(start_response, 413, {"error": f"request body too large (limit {self.max_body} bytes)",
                                               "code": "payload_too_large"},
                         [("Connection", "close")])
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        event = self.build_event(environ, body)
        if event is None:
            return _json(start_response, 403, {"message": "Missing Authentication Token"},
                         [("x-amzn-ErrorType", "MissingAuthenticationTokenException")])
        response = self.app(event, _Context(self.app.app_name, self.timeout_ms,
                                            event["requestContext"]["requestId"]))
        return self._write(response, start_response, head=event["httpMethod"] == "HEAD")

    @staticmethod
    def _write(response: dict, start_response, head: bool = False):
        status = int(response.get("statusCode", 500))
        body = response.get("body") or b""
        if response.get("isBase64Encoded"):
            body = base64.b64decode(body)
        elif isinstance(body, str):
            body = body.encode("utf-8")
        single = response.get("headers") or {}
        headers = [(name, value if type(value) is str else str(value)) for name, value in single.items()]
        multi = response.get("multiValueHeaders")
        if multi:
            for name, values in multi.items():
                for value in values:
                    headers.append((name, str(value)))
        if not any(n.lower() == "content-length" for n, _ in headers):
            headers.append(("Content-Length", str(len(body))))
        start_response(_status_line(status), headers)
        return [] if head else [body]

    def _usercontent(self, environ, start_response):
        match = _USERCONTENT_RE.match(environ.get("PATH_INFO", ""))
        if not match or environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            return _json(start_response, 404, {"error": "not found", "code": "not_found"})
        try:
            import boto3
            from botocore.exceptions import ClientError

            if self._s3 is None:
                self._s3 = boto3.client("s3")
            obj = self._s3.get_object(Bucket=config.get("IMAGES_PUBLIC_BUCKET"), Key=f"usercontent/{match.group(1)}")
        except ClientError:
            return _json(start_response, 404, {"error": "not found", "code": "not_found"})
        except Exception as exc:  # object store down: not the client's fault
            log.warning("usercontent read failed: %s", type(exc).__name__)
            return _json(start_response, 503, {"error": "image storage temporarily unavailable", "code": "unavailable"})
        data = obj["Body"].read()
        start_response("200 OK", [("Content-Type", obj.get("ContentType") or "image/webp"),
                                  ("Cache-Control", "public, max-age=31536000, immutable"),
                                  ("Content-Length", str(len(data))), ("X-Content-Type-Options", "nosniff")])
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [data]


DEFAULT_FORWARDED_ALLOW_IPS = "127.0.0.1,::1"


def parse_proxy_list(value: str | None):
    """``FORWARDED_ALLOW_IPS``: comma-separated addresses/CIDRs; ``*`` = every peer; empty = none. A malformed entry
    is a configuration error (raised at start), never silently ignored."""
    text = (value or "").strip()
    if text == "*":
        return "*"
    networks = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise config.ConfigError(f"FORWARDED_ALLOW_IPS: {part!r} is not an IP address or CIDR") from None
    return tuple(networks)


def _parse_ip(text: str):
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:51234"
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_trusted(address: str, proxies) -> bool:
    if proxies == "*":
        return True
    ip = _parse_ip(address)
    if ip is None:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in proxies)


_PER_THREAD = ("current_request", "lambda_context")


def per_thread_request(app) -> None:
    """Make the request state Chalice keeps on ``app`` per thread (per greenlet under gevent), so the app can serve
    several requests at once. Idempotent; the app behaves as before for a single caller."""
    cls = type(app)
    if getattr(cls, "_om_per_thread_request", False):
        return
    local = threading.local()

    def slot(name):
        return property(lambda self: getattr(local, name, None), lambda self, value: setattr(local, name, value))

    app.__class__ = type(cls.__name__, (cls,), {"_om_per_thread_request": True,
                                                **{name: slot(name) for name in _PER_THREAD}})
    for name in _PER_THREAD:
        app.__dict__.pop(name, None)


def make_wsgi_app(app, **kwargs) -> ChaliceWSGI:
    return ChaliceWSGI(app, **kwargs)
