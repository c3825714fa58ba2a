"""A route's input contract, declared once: the wrapper validates from it and the OpenAPI document is generated
from it (``omcore.openapi``), so the rules a client is held to and the rules it is told about cannot drift.

::

    @routes.route("/api/v1/customer/checkout", methods=["POST"], guard=guards.customer,
                  body=Spec(uuid("address_code"), text("courier_code", max_len=64)), query=Spec())
    def checkout(req):
        req.body["address_code"]  # a uuid.UUID; a bad value never reaches the view (400 naming the field)

A field validates through ``omcore.validate.Fields`` (the same messages everywhere) and describes itself as JSON
Schema. ``req.body`` / ``req.params`` / ``req.header_values`` are plain dicts holding every declared field (``None``
when absent); they are validated lazily on first use, in declaration order. In a query string ``""`` is absent.
Special bodies declare what they take: ``Multipart(...)`` (form fields and files), ``Raw(...)`` (a body the view
parses itself). Deliberately tiny: no validation library on the cold-start path.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .errors import BadRequest
from .validate import Fields, is_email, normalise_email  # noqa: F401  (re-exported helpers for custom fields)

_MISSING = object()


class Field:
    """One named input. ``blank=True``: ``""`` counts as absent (always so in a query string); ``then`` maps a
    present value after validation (e.g. normalising a phone number); ``missing`` replaces the 400's
    "<name> is required"."""

    def __init__(self, name: str, kind: str, *, required: bool = True, schema: dict | None = None,
                 blank: bool = False, then: Callable | None = None, description: str | None = None,
                 missing: str | None = None, **opts):
        self.missing = missing
        self.name = name
        self.kind = kind
        self.required = required
        self.blank = blank
        self.then = then
        self.opts = opts
        self._schema = schema or {}
        self.description = description

    # ---- validation

    def parse(self, data: dict, source: str):
        value = data.get(self.name)
        if value == "" and (self.blank or source == "query"):
            value = None
        if value is None:
            if self.required:
                raise BadRequest(self.missing or f"{self.name} is required")
            return None
        parsed = self.convert(value, source)
        if parsed is not None and self.then is not None:
            parsed = self.then(parsed)
        return parsed

    def convert(self, value, source: str):
        fields = Fields({self.name: value}, source=source)
        opts = {k: (v() if callable(v) else v) for k, v in self.opts.items()}
        return getattr(fields, self.kind)(self.name, required=self.required, **opts)

    # ---- description

    def schema(self, source: str = "body") -> dict:
        out = dict(self._schema)
        if self.description:
            out["description"] = self.description
        return out


def _bound(value):
    return value() if callable(value) else value


def text(name: str, *, required: bool = True, min_len: int = 0, max_len: int = 255, strip: bool = True,
         allow_empty: bool = False, clip: bool = False, **kw) -> Field:
    """A string (stripped; ``max_len`` characters at most, or cut to it with ``clip=True``)."""
    if clip:
        def cut(value: str) -> str:
            return value[:max_len]

        return Field(name, "str", required=required, min_len=min_len, max_len=2**31, strip=strip,
                     allow_empty=allow_empty, then=kw.pop("then", None) or cut, schema={"type": "string"}, **kw)
    schema: dict[str, Any] = {"type": "string", "maxLength": max_len}
    if min_len or (required and not allow_empty):
        schema["minLength"] = max(min_len, 1)
    return Field(name, "str", required=required, min_len=min_len, max_len=max_len, strip=strip,
                 allow_empty=allow_empty, schema=schema, **kw)


class _Bounded(Field):
    def schema(self, source: str = "body") -> dict:
        out = super().schema(source)
        low, high = _bound(self.opts.get("min_value")), _bound(self.opts.get("max_value"))
        if low is not None:
            out["minimum"] = low
        if high is not None:
            out["maximum"] = high
        return out


def integer(name: str, *, required: bool = True, min: int | Callable | None = None,
            max: int | Callable | None = None, **kw) -> Field:
    """A whole number (a query string's digits count); ``min``/``max`` may be callables read per request."""
    return _Bounded(name, "int", required=required, min_value=min, max_value=max, schema={"type": "integer"}, **kw)


def number(name: str, *, required: bool = True, min: float | None = None, max: float | None = None, **kw) -> Field:
    return _Bounded(name, "number", required=required, min_value=min, max_value=max, schema={"type": "number"}, **kw)


def boolean(name: str, *, required: bool = True, **kw) -> Field:
    return Field(name, "bool", required=required, schema={"type": "boolean"}, **kw)


def uuid(name: str, *, required: bool = True, **kw) -> Field:
    return Field(name, "uuid", required=required, schema={"type": "string", "format": "uuid"}, **kw)


def email(name: str = "email", *, required: bool = True, **kw) -> Field:
    return Field(name, "email", required=required, schema={"type": "string", "format": "email", "maxLength": 254},
                 **kw)


def choice(name: str, choices, *, required: bool = True, **kw) -> Field:
    values = list(choices)
    return Field(name, "choice", required=required, choices=tuple(values), schema={"enum": values}, **kw)


def date(name: str, *, required: bool = True, **kw) -> Field:
    """``YYYY-MM-DD`` or an RFC 3339 timestamp; the view gets a ``datetime.date``."""
    return Field(name, "date", required=required,
                 schema={"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]}, **kw)


class _Custom(Field):
    def __init__(self, name, parse: Callable, **kw):
        super().__init__(name, "custom", **kw)
        self._parse = parse

    def convert(self, value, source: str):
        return self._parse(value)


def custom(name: str, parse: Callable[[Any], Any], schema: dict, *, required: bool = True, **kw) -> Field:
    """A field with its own rule: ``parse(value)`` gets the present (non-null) value and returns it or raises
    ``BadRequest``; ``schema`` says the same rule in JSON Schema."""
    return _Custom(name, parse, required=required, schema=schema, **kw)


def anything(name: str, schema: dict | None = None, *, required: bool = True, **kw) -> Field:
    """Any present value, handed over as sent (the service checks it, e.g. a one-time code)."""
    return _Custom(name, lambda value: value, required=required, schema=schema or {}, **kw)


def pattern(name: str, regex: str, message: str, *, required: bool = True, **kw) -> Field:
    """A string matching ``regex`` exactly as sent (not stripped); ``message`` is the 400's error."""
    compiled = re.compile(regex)

    def check(value):
        if not isinstance(value, str) or not compiled.match(value):
            raise BadRequest(message)
        return value

    return _Custom(name, check, required=required, schema={"type": "string", "pattern": regex}, **kw)


def file(name: str, *, required: bool = True, description: str | None = None) -> Field:
    """A file part of a multipart body (an ``omcore.multipart.UploadedFile``)."""
    return Field(name, "file", required=required, description=description,
                 schema={"type": "string", "format": "binary"})


# ---------------------------------------------------------------------------------------------------- bodies

class Spec:
    """A JSON object body, a query string or headers: the named fields, validated in the order given.
    ``Spec()`` declares "takes nothing"; ``optional=True`` (bodies) documents a body the view may not read."""

    media_type = "application/json"
    max_bytes: int | None = None

    def __init__(self, *fields: Field, optional: bool = False, description: str | None = None):
        names = [f.name for f in fields]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate field in spec: {names}")
        self.fields = fields
        self.optional = optional
        self.description = description

    def __bool__(self) -> bool:
        return bool(self.fields)

    def validate(self, data: dict | None, source: str) -> dict:
        data = data or {}
        return {f.name: f.parse(data, source) for f in self.fields}

    def read(self, req) -> dict:
        """The body's declared fields; a body is parsed only when the spec declares fields."""
        if not self.fields:
            return {}
        return self.validate(req.json(), "body")

    def object_schema(self, source: str = "body") -> dict:
        schema: dict[str, Any] = {"type": "object",
                                  "properties": {f.name: f.schema(source) for f in self.fields}}
        required = [f.name for f in self.fields if f.required]
        if required:
            schema["required"] = required
        return schema

    def request_body(self) -> dict | None:
        """The OpenAPI ``requestBody`` (``None`` for a route that takes no body)."""
        if not self.fields:
            return None
        body = {"required": not self.optional, "content": {self.media_type: {"schema": self.object_schema()}}}
        if self.description:
            body["description"] = self.description
        return body

    def parameters(self, location: str) -> list[dict]:
        """OpenAPI parameters of a query or header spec."""
        out = []
        for f in self.fields:
            param = {"name": f.name, "in": location, "required": f.required, "schema": f.schema("query")}
            if f.description:
                param["description"] = f.description
            out.append(param)
        return out


class Multipart(Spec):
    """A ``multipart/form-data`` body: text fields and ``file(...)`` parts; ``max_bytes`` bounds the whole body."""

    media_type = "multipart/form-data"

    def __init__(self, *fields: Field, max_bytes: int, description: str | None = None):
        super().__init__(*fields, description=description)
        self.max_bytes = max_bytes

    def read(self, req) -> dict:
        from . import multipart

        values, files = multipart.parse(req.content_type, req.raw_body)
        out = {}
        for f in self.fields:
            if f.kind == "file":
                part = files.get(f.name)
                if part is None and f.required:
                    raise BadRequest(f"{f.name} (a file) is required")
                out[f.name] = part
            else:
                out[f.name] = f.parse(values, "multipart")
        return out


class Raw(Spec):
    """A body the view reads itself (``req.body`` is its text; invalid UTF-8 replaced, absurd nesting refused).
    ``schema`` documents it."""

    def __init__(self, *, max_bytes: int, media_type: str = "application/json", schema: dict | None = None,
                 description: str | None = None):
        super().__init__(description=description)
        self.max_bytes = max_bytes
        self.media_type = media_type
        self.schema = schema or {"type": "object"}

    def __bool__(self) -> bool:
        return True

    def read(self, req) -> str:
        return req.body_text()

    def request_body(self) -> dict:
        body = {"required": True, "content": {self.media_type: {"schema": dict(self.schema)}}}
        if self.description:
            body["description"] = self.description
        return body


# ---------------------------------------------------------------------------------------------------- shared pieces

MAX_PAGE = 100000


def paging(max_size: int = 100) -> tuple[Field, Field]:
    """The ``page``/``page_size`` query fields every paginated list takes (both optional, 1-based)."""
    return (integer("page", required=False, min=1, max=MAX_PAGE),
            integer("page_size", required=False, min=1, max=max_size))


def page_of(params: dict, default_size: int = 20) -> tuple[int, int]:
    """(page, page_size) from validated ``paging()`` params, defaults filled in."""
    return params.get("page") or 1, params.get("page_size") or default_size


def paged(params: dict) -> bool:
    """Whether the client asked for a page (``page`` or ``page_size`` given)."""
    return params.get("page") is not None or params.get("page_size") is not None


def query_id(kind: Callable[..., Field] = uuid, *, required: bool = True, **kw) -> Spec:
    """The ``?id=`` query most detail/delete routes take (a UUID unless ``kind`` says otherwise)."""
    return Spec(kind("id", required=required, **kw))


# ---------------------------------------------------------------- answers: response shapes, declared beside the input

def obj(*required: str, **properties: dict) -> dict:
    """A JSON object answer: ``obj("id", "status", id=INTEGER, status=STRING)`` (the names in ``required`` are
    always present; more keys may follow, as the v1 wire format sometimes adds them)."""
    return {"type": "object", "required": list(required), "properties": properties}


def arr(items: dict) -> dict:
    return {"type": "array", "items": items}


def map_of(values: dict) -> dict:
    """A JSON object keyed by data (``{"jne": [...], "sicepat": [...]}``), every value of the given shape."""
    return {"type": "object", "additionalProperties": values}


def any_of(*schemas: dict) -> dict:
    """An answer of one of several shapes (one object with ``?id=``, else the list; an empty list may fit two)."""
    return {"anyOf": list(schemas)}


def nullable(schema: dict) -> dict:
    return {**schema, "type": [schema["type"], "null"]}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}

# every non-2xx answer (omcore.http): the message the v1 UIs show and the machine-readable code (omcore.errors)
ERROR = obj("error", "code", error=STRING,
            code={"type": "string", "pattern": "^[a-z][a-z0-9_]*$",
                  "description": "the kind of failure, stable: the status's default (bad_request, unauthorized, "
                                 "forbidden, not_found, conflict, payload_too_large, unprocessable, rate_limited, "
                                 "bad_gateway, unavailable, ...) or a route's own (e.g. out_of_stock)"})
