"""The OpenAPI 3.1 document for the whole API, built from the live route table plus each capability's
``functions/<name>/openapi.json`` fragment (request/response schemas, parameters, descriptions).

The route table guarantees every path and method is listed; the fragments add the detail. A route that a fragment
does not describe still appears, with its summary taken from the view's docstring.
"""
from __future__ import annotations

import copy
import importlib
import json
import os

import functions

_FUNCTIONS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_cached = None


def _merge(base: dict, extra: dict) -> dict:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _security_for(view) -> list | None:
    return getattr(view, "_openapi_security", None)


def build() -> dict:
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "Openmerce Serverless API", "version": "1.0.0",
                 "description": "Wire-compatible with the Openmerce v1 backend (see docs/compat.md)."},
        "servers": [{"url": "/"}],
        "paths": {},
        "components": {
            "securitySchemes": {
                "customerCookie": {"type": "apiKey", "in": "cookie", "name": "ac_cus"},
                "staffCookie": {"type": "apiKey", "in": "cookie", "name": "ac_stf"},
            },
            "schemas": {"Error": {"type": "object", "required": ["error"],
                                  "properties": {"error": {"type": "string"}}}},
        },
    }
    for name in functions.CAPABILITIES:
        routes = importlib.import_module(f"functions.{name}.routes").routes
        for path, methods, view_name, view, guard in routes.described():
            entry = doc["paths"].setdefault(path, {})
            for method in methods:
                summary = (view.__doc__ or view_name).strip().splitlines()[0]
                op = {"operationId": f"{name}.{view.__name__}.{method.lower()}", "tags": [name],
                      "summary": summary,
                      "responses": {"default": {"description": "error",
                                                "content": {"application/json": {
                                                    "schema": {"$ref": "#/components/schemas/Error"}}}}}}
                if guard is not None:
                    kind = getattr(guard, "cookie_scheme", None) or "customerCookie"
                    op["security"] = [{kind: []}]
                entry[method.lower()] = op
        fragment = os.path.join(_FUNCTIONS_DIR, name, "openapi.json")
        if os.path.exists(fragment):
            with open(fragment, encoding="utf-8") as fh:
                _merge(doc, json.load(fh))
    return doc


def document() -> dict:
    """The document; a deployed health function reads the copy the packager bundled (it ships without the other
    capabilities' code), everywhere else it is built from the live route table."""
    global _cached
    if _cached is None:
        bundled = os.path.join(os.path.dirname(os.path.abspath(__file__)), "openapi.generated.json")
        if os.path.exists(bundled):
            with open(bundled, encoding="utf-8") as fh:
                _cached = json.load(fh)
        else:
            _cached = build()
    return _cached
