"""The thin HTTP glue between Chalice and business functions.

A capability declares its routes on a ``Routes`` object that wraps a Chalice ``Blueprint``::

    routes = Routes(__name__)

    @routes.route("/api/v1/auth/login", methods=["POST"],
                  body=Spec(email("email"), text("password", strip=False, max_len=200)), query=Spec())
    def login(req: Request) -> Reply:
        email, password = req.body["email"], req.body["password"]
        ...
        return Reply({"first_name": ...}, cookies=[...])

Every route declares its input (``omcore.spec``): ``body``, ``query`` and optionally ``headers``. The wrapper
validates from the declaration (lazily, on the view's first ``req.body`` / ``req.params``: 400 naming the field) and
the OpenAPI document is generated from it (``omcore.openapi``). The wrapper enforces the body-size limit (413), runs
the route's guard (401/403) before any input is read, and turns every exception into a JSON ``{"error": ...}`` answer: ``ApiError`` subclasses keep their status, registered lower
level failures (database/Redis down) become 503, anything else is logged and becomes a JSON 500. Views never
build Chalice objects themselves.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable

from chalice import Blueprint, Chalice, Response

from . import config
from . import log as request_log
from .errors import ApiError, BadRequest, PayloadTooLarge, UnsupportedMediaType, classify, code_for, register
from .log import get_logger
from .spec import Spec
from .validate import json_too_deep, parse_json_object

log = get_logger("http")

# A setting missing at request time (a function deployed without it): the operator's fault, never the client's.
register(config.ConfigError, 503, "this service is not fully configured yet; please try again later")

DEFAULT_MAX_BODY = 64 * 1024
# Midtrans HTTP notifications are a flat JSON object of 1-3 KB (a few optional arrays: va_numbers,
# payment_amounts; custom fields of at most 255 characters each); 16 KB leaves ample room.
WEBHOOK_MAX_BODY = 16 * 1024
JSON_HEADERS = {"Content-Type": "application/json", "X-Content-Type-Options": "nosniff"}
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_json_type(content_type: str) -> bool:
    """``application/json``, with or without parameters (``; charset=utf-8``)."""
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


def _parse_cookie_header(header: str | None) -> dict[str, str]:
    cookies: dict[str, str] = {}
    if not header:
        return cookies
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name and name not in cookies:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            cookies[name.strip()] = value
    return cookies


class Request:
    """What a view needs from the incoming request; nothing Chalice-specific leaks past it."""

    def __init__(self, chalice_request, max_body: int, body_spec: Spec | None = None,
                 query_spec: Spec | None = None, header_spec: Spec | None = None):
        self._req = chalice_request
        self._specs = (body_spec, query_spec, header_spec)
        self._validated: dict[str, object] = {}
        self.method: str = chalice_request.method
        self.path: str = chalice_request.context.get("path") or ""
        self.headers = chalice_request.headers  # case-insensitive
        self.query: dict[str, str] = dict(chalice_request.query_params or {})
        self.cookies = _parse_cookie_header(self.headers.get("cookie"))
        self.principal = None  # set by the route's guard
        self._max_body = max_body
        self._raw = None

    @property
    def raw_body(self) -> bytes:
        if self._raw is None:
            raw = self._req.raw_body or b""
            if isinstance(raw, str):
                raw = raw.encode("utf-8")
            if len(raw) > self._max_body:
                raise PayloadTooLarge(f"request body too large (limit {self._max_body} bytes)")
            self._raw = raw
        return self._raw

    def _require_json_type(self) -> None:
        """A state-changing request with a body must say ``application/json``: a cross-site form or ``fetch`` can
        only send ``text/plain``, form-encoded or multipart bodies without a CORS preflight, so this (not SameSite
        alone) keeps other sites from posting JSON-shaped bodies on a signed-in user's behalf."""
        if self.method in STATE_CHANGING and self.raw_body and not is_json_type(self.content_type):
            raise UnsupportedMediaType("send the request body as application/json")

    def json(self) -> dict:
        self._require_json_type()
        return parse_json_object(self.raw_body)

    def body_text(self) -> str:
        """The body as text (invalid UTF-8 replaced) for a view that parses and audits it itself (the payment
        webhook); a body nested more deeply than any JSON we accept is refused (400) before anything decodes it."""
        self._require_json_type()
        if json_too_deep(self.raw_body):
            raise BadRequest("request body is nested too deeply")
        return self.raw_body.decode("utf-8", errors="replace")

    def _declared(self, which: str, spec: Spec | None, read):
        if which not in self._validated:
            if spec is None:
                raise RuntimeError(f"the route declares no {which} spec")
            self._validated[which] = read(spec)
        return self._validated[which]

    @property
    def body(self):
        """The body as the route's ``body`` spec declares it: a dict of every declared field (``None`` when absent),
        a ``Multipart`` body's fields and files, or a ``Raw`` body's text. Validated on first use (400 naming the
        field)."""
        return self._declared("body", self._specs[0], lambda spec: spec.read(self))

    @property
    def params(self) -> dict:
        """The query string as the route's ``query`` spec declares it (``""`` is absent)."""
        return self._declared("query", self._specs[1], lambda spec: spec.validate(self.query, "query"))

    @property
    def header_values(self) -> dict:
        """The headers the route's ``headers`` spec declares."""
        return self._declared("headers", self._specs[2], lambda spec: spec.validate(
            {f.name: self.headers.get(f.name) for f in spec.fields}, "header"))

    @property
    def client_ip(self) -> str:
        identity = (self._req.context or {}).get("identity") or {}
        return identity.get("sourceIp") or "unknown"

    @property
    def user_agent(self) -> str:
        return (self.headers.get("user-agent") or "")[:512]

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type") or ""


class Reply:
    """A view's answer: a JSON-able body, a status, extra headers and ``Set-Cookie`` values."""

    def __init__(self, body=None, status: int = 200, *, headers: dict | None = None,
                 cookies: Iterable[str] = (), etag: bool = False, raw: bytes | str | None = None,
                 content_type: str | None = None):
        self.body = {} if body is None and raw is None else body
        self.status = status
        self.headers = dict(headers or {})
        self.cookies = list(cookies)
        self.etag = etag
        self.raw = raw
        self.content_type = content_type


def _error_response(status: int, message: str, headers: dict | None = None, extra: dict | None = None,
                    code: str | None = None) -> Response:
    body = {"error": message, "code": code or code_for(status)}
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    return Response(json.dumps(body), status_code=status, headers={**JSON_HEADERS, **(headers or {})})


def _to_response(reply, req: Request) -> Response:
    if not isinstance(reply, Reply):
        reply = Reply(reply)
    headers = dict(JSON_HEADERS)
    if reply.content_type:
        headers["Content-Type"] = reply.content_type
    headers.update(reply.headers)
    body = reply.raw if reply.raw is not None else json.dumps(reply.body, separators=(",", ":"), default=str)
    status = reply.status
    if reply.etag and status == 200:
        digest = hashlib.sha256(body if isinstance(body, bytes) else body.encode()).hexdigest()[:32]
        tag = f'W/"{digest}"'
        headers["ETag"] = tag
        inm = req.headers.get("if-none-match")
        if inm and tag in [t.strip() for t in inm.split(",")]:
            status, body = 304, ""
    if reply.cookies:
        headers["Set-Cookie"] = reply.cookies
    return Response(body, status_code=status, headers=headers)


class Routes:
    """A capability's route table: a Chalice Blueprint plus the error and auth handling every route shares."""

    def __init__(self, import_name: str):
        self.blueprint = Blueprint(import_name)
        self.package = import_name.rpartition(".")[0] or import_name  # functions.<capability> (SnapStart priming)
        # functions.<capability>.routes → "<capability>": every log line of its requests says which capability
        parts = import_name.split(".")
        self.capability = parts[-2] if len(parts) >= 2 and parts[-1] == "routes" else import_name
        self._contracts: list[Contract] = []

    def route(self, path: str, methods: Iterable[str] = ("GET",), *, guard: Callable | None = None,
              body: Spec | None = None, query: Spec | None = None, headers: Spec | None = None,
              max_body: int | None = None, responses: dict | None = None, errors: dict | None = None):
        """``body``/``query`` (and optional ``headers``) declare the route's input; ``Spec()`` = takes none. The
        body-size limit is ``max_body``, else the body spec's ``max_bytes``, else ``DEFAULT_MAX_BODY``.
        ``responses``: {status: JSON Schema} of its answers (``omcore.spec.obj``/``arr``); ``errors``: {status:
        (code, ...)} the explicit error codes it answers with (both go into the OpenAPI document)."""
        methods = tuple(m.upper() for m in methods)
        limit = max_body or getattr(body, "max_bytes", None) or DEFAULT_MAX_BODY

        def decorator(view: Callable[[Request], Reply]):
            specs = (body, query, headers)

            @functools.wraps(view)
            def handler(*_args):
                return dispatch(self.blueprint.current_request, view, guard, limit, self.capability, specs)

            self.blueprint.route(path, methods=list(methods), content_types=["*/*"])(handler)
            self._contracts.append(Contract(path, methods, view, guard, body, query, headers, self.capability,
                                            responses, errors))
            return view

        return decorator

    @property
    def table(self) -> list[tuple[str, tuple[str, ...], str]]:
        """(path, methods, dotted view name) for every route (``tools.admin routes``, docs/routes.md): a view of
        the declared contracts, the one list the table keeps."""
        return [(c.path, c.methods, c.view.__module__ + "." + c.view.__name__) for c in self._contracts]

    def described(self):
        """(path, methods, dotted view name, view, guard) for every route (OpenAPI generation, route checks)."""
        return [(c.path, c.methods, c.view.__module__ + "." + c.view.__name__, c.view, c.guard)
                for c in self._contracts]

    def contracts(self) -> list[Contract]:
        """Every route's declared contract (the OpenAPI generator and the "every route has a spec" check)."""
        return list(self._contracts)


class Contract:
    """What one route declares: path, methods, view, guard, its input specs and its answers' shapes."""

    def __init__(self, path, methods, view, guard, body, query, headers, capability, responses=None, errors=None):
        self.path, self.methods, self.view, self.guard = path, methods, view, guard
        self.body, self.query, self.headers, self.capability = body, query, headers, capability
        self.responses = {str(k): v for k, v in (responses or {}).items()}
        self.errors = {str(k): tuple(v) for k, v in (errors or {}).items()}


def dispatch(chalice_request, view, guard, max_body, capability: str | None = None, specs=(None, None, None)
             ) -> Response:
    """Serve one request inside its log scope: every line logged meanwhile carries the request id (API Gateway's
    ``requestContext.requestId``; the container's WSGI bridge fills it too), the capability and what the guard and
    the service bind (customer/staff id, order id). The id is answered in ``X-Request-Id``, and one ``request``
    line per request records method, path, status, duration and, for a non-2xx answer, its error message."""
    started = time.perf_counter()
    token = request_log.begin(request_id=(getattr(chalice_request, "context", None) or {}).get("requestId"),
                              capability=capability)
    try:
        response = _answer(chalice_request, view, guard, max_body, specs)
        fields = {"method": getattr(chalice_request, "method", "?"),
                  "path": (getattr(chalice_request, "context", None) or {}).get("path"),
                  "status": response.status_code, "duration_ms": round((time.perf_counter() - started) * 1000, 1)}
        if response.status_code >= 400 and isinstance(response.body, str) and response.body.startswith("{"):
            try:
                fields["error"] = str(json.loads(response.body).get("error"))[:200]
            except ValueError:
                pass
        log.info("request", extra={"fields": fields})
        response.headers["X-Request-Id"] = request_log.context()["request_id"]
        return response
    finally:
        request_log.end(token)


def _answer(chalice_request, view, guard, max_body, specs=(None, None, None)) -> Response:
    req = None
    try:
        req = Request(chalice_request, max_body, *specs)
        if guard is not None:
            req.principal = guard(req)
        return _to_response(view(req), req)
    except ApiError as exc:
        return _error_response(exc.status, exc.message, exc.headers, exc.extra, exc.code)
    except Exception as exc:
        mapped = classify(exc)
        path = getattr(req, "path", "?")
        if mapped is not None:
            status, message = mapped
            level = log.warning if status >= 500 else log.info
            level("request failed: %s %s -> %s (%s)", getattr(req, "method", "?"), path, status, type(exc).__name__)
            headers = {"Retry-After": "2"} if status == 503 else None
            return _error_response(status, message, headers)
        log.exception("unhandled error on %s %s", getattr(req, "method", "?"), path)
        return _error_response(500, "internal server error")


BINARY_TYPES = ["multipart/form-data", "application/octet-stream", "image/*"]


def make_app(app_name: str, *route_sets: Routes, units: tuple) -> Chalice:
    """A Chalice app with our conventions, holding the given capabilities' routes. The settings the deployment
    units cannot work without (from the registry in ``omcore.settings``) are checked now, so a misconfigured function
    fails at start with a message naming the variable instead of answering its first request with an error."""
    from .settings import MIDTRANS, required_for

    config.require(*required_for(*units))
    if any(unit in MIDTRANS for unit in units):
        config.refuse_midtrans_sandbox()  # a production shop never starts on the sandbox by accident
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
        from . import snapstart

        # the packages of the routes served (functions.<capability>), known from the routes, not named here
        snapstart.register(tuple(dict.fromkeys(r.package for r in route_sets)))
    app = Chalice(app_name=app_name)
    app.debug = config.get_bool("CHALICE_DEBUG")
    # exactly the binary types the API uses (the template declares the same): Chalice checks every response
    # against each entry, so its long default list cost ~25 µs per request
    app.api.binary_types = list(BINARY_TYPES)
    for routes in route_sets:
        app.register_blueprint(routes.blueprint)
    return app
