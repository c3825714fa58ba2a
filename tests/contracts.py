"""Every answer the HTTP tests receive is held to the OpenAPI document (``GET /api/v1/openapi.json``, generated from
the routes' ``responses=``/``errors=``): ``ApiClient`` hands each JSON answer here, and an answer whose route and
status the document gives a schema must match it — a route's declared success shape, the ``Error`` schema for every
failure. So the whole HTTP suite checks the contracts with the answers it already provokes.

``OM_CONTRACTS=0`` switches the check off (e.g. to see a test's own failure first)."""
from __future__ import annotations

import os
import re

_checker = None


class ContractMismatch(AssertionError):
    pass


class Contracts:
    def __init__(self, document: dict):
        import jsonschema

        self.document = document
        self._jsonschema = jsonschema
        self._routes = []
        for path in document["paths"]:
            regex = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"
            # literal paths first, so /a/count wins over /a/{id}
            self._routes.append((path.count("{"), re.compile(regex), path))
        self._routes.sort(key=lambda r: r[0])
        self.checked: set[tuple[str, str, str]] = set()

    def template(self, path: str) -> str | None:
        for _, regex, template in self._routes:
            if regex.match(path):
                return template
        return None

    def schema(self, method: str, path: str, status: int) -> tuple[str, dict] | None:
        template = self.template(path.split("?", 1)[0])
        op = self.document["paths"].get(template, {}).get(method.lower()) if template else None
        if op is None:
            return None
        answer = op["responses"].get(str(status))
        if answer is None and status >= 400:
            answer = op["responses"].get("default")
        content = (answer or {}).get("content", {}).get("application/json")
        return (template, content["schema"]) if content else None

    def check(self, method: str, path: str, resp) -> None:
        if not resp.body or not resp.headers.get("content-type", "").startswith("application/json"):
            return
        found = self.schema(method, path, resp.status)
        if found is None:
            return
        template, schema = found
        try:
            self._jsonschema.validate(resp.json, {"components": self.document["components"], **schema})
        except self._jsonschema.ValidationError as exc:
            raise ContractMismatch(f"{method} {path} answered {resp.status} outside its declared schema "
                                   f"({template}): {exc.message} at {list(exc.absolute_path)}\n"
                                   f"body: {resp.body[:500]!r}") from None
        self.checked.add((method.upper(), template, str(resp.status)))


def checker() -> Contracts | None:
    global _checker
    if os.environ.get("OM_CONTRACTS", "1") == "0":
        return None
    if _checker is None:
        from functions.health.openapi import build

        _checker = Contracts(build())
    return _checker
