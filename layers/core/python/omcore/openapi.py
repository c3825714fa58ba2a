"""The OpenAPI 3.1 document, generated from what the routes declare (``omcore.spec``) — never written by hand.

Per operation: the path and method from the route table; query/header parameters and the request body from the
route's specs; the security scheme from its guard; summary, description and answers from the view's docstring::

    def cancel(req):
        \"\"\"Cancel an unpaid order (?id=) and release its stock (idempotent).

        200: cancelled (idempotent)
        409: already paid
        \"\"\"

The first docstring line is the summary, ``NNN: text`` lines describe the answers with that status, the other
lines are the description. The answers' shapes come from the route's ``responses=`` (``omcore.spec.obj``/``arr``),
its explicit error codes from ``errors=``; every documented failure and the ``default`` answer carry the
``Error`` schema (``{"error": message, "code": kind}``, ``omcore.spec.ERROR``).
Imported only where the document is built (at packaging time, or by the health route where no bundled copy
exists), never on a request's cold path.
"""
from __future__ import annotations

import inspect
import re

from .spec import ERROR

_STATUS_LINE = re.compile(r"^\s*([1-5][0-9][0-9]):\s+(.*)$")
_PATH_PARAM = re.compile(r"\{([^}]+)\}")

ERROR_REF = {"$ref": "#/components/schemas/Error"}
INFO = {"title": "Openmerce Serverless API", "version": "1.0.0",
        "description": "Wire-compatible with the Openmerce v1 backend (see docs/compat.md). Generated from the "
                       "route declarations (functions/*/routes.py)."}


def parse_docstring(view) -> tuple[str, str, dict[str, str]]:
    """(summary, description, {status: description}) from a view's docstring."""
    doc = inspect.getdoc(view) or view.__name__.replace("_", " ")
    lines = doc.splitlines()
    summary = lines[0].strip()
    described, responses = [], {}
    last = None
    for line in lines[1:]:
        match = _STATUS_LINE.match(line)
        if match:
            last = match.group(1)
            responses[last] = match.group(2).strip()
        elif last is not None and line.startswith((" ", "\t")) and line.strip():
            responses[last] += " " + line.strip()  # an answer's description continued on an indented line
        else:
            last = None
            described.append(line)
    return summary, "\n".join(described).strip(), responses


def operation(contract, method: str) -> dict:
    summary, description, responses = parse_docstring(contract.view)
    op: dict = {"operationId": f"{contract.capability}.{contract.view.__name__}.{method.lower()}",
                "tags": [contract.capability], "summary": summary}
    if description:
        op["description"] = description
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in _PATH_PARAM.findall(contract.path)]
    if contract.query is not None:
        parameters += contract.query.parameters("query")
    if contract.headers is not None:
        parameters += contract.headers.parameters("header")
    if parameters:
        op["parameters"] = parameters
    if contract.body is not None and method not in ("GET", "HEAD"):
        body = contract.body.request_body()
        if body is not None:
            op["requestBody"] = body
    answers = {status: {"description": text} for status, text in responses.items()}
    for status in contract.responses:
        answers.setdefault(status, {"description": "success" if status.startswith("2") else "an error"})
    for status in contract.errors:
        answers.setdefault(status, {"description": "an error"})
    if not any(status.startswith("2") for status in answers):
        answers["200"] = {"description": "success"}
    for status, answer in answers.items():
        schema = contract.responses.get(status)
        if schema is None and status[0] in "45":
            schema = ERROR_REF
        if schema is not None:
            answer["content"] = {"application/json": {"schema": schema}}
        if status in contract.errors:
            codes = list(contract.errors[status])
            answer["description"] += " — codes: " + ", ".join(f"`{c}`" for c in codes)
            answer["x-error-codes"] = codes
    answers["default"] = {"description": "an error: `{\"error\": message, \"code\": kind}`",
                          "content": {"application/json": {"schema": ERROR_REF}}}
    op["responses"] = answers
    if contract.guard is not None:
        op["security"] = [{getattr(contract.guard, "cookie_scheme", None) or "customerCookie": []}]
    return op


def build(route_sets) -> dict:
    """The document for the given ``Routes`` tables (in order)."""
    doc = {
        "openapi": "3.1.0",
        "info": dict(INFO),
        "servers": [{"url": "/"}],
        "paths": {},
        "components": {
            "securitySchemes": {
                "customerCookie": {"type": "apiKey", "in": "cookie", "name": "ac_cus"},
                "staffCookie": {"type": "apiKey", "in": "cookie", "name": "ac_stf"},
            },
            "schemas": {"Error": ERROR},
        },
    }
    for routes in route_sets:
        for contract in routes.contracts():
            entry = doc["paths"].setdefault(contract.path, {})
            for method in contract.methods:
                entry[method.lower()] = operation(contract, method)
    return doc
