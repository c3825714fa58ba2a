"""The OpenAPI 3.1 document of the whole API, generated from every capability's route declarations
(``omcore.openapi``; nothing is written by hand).

A deployed health function ships without the other capabilities' code, so the packager (``infra/packages.py``)
calls ``build()`` at build time and bundles the result as ``openapi.generated.json``; elsewhere (the container, the
local run, tests) the document is generated from the live route table on first request.
"""
from __future__ import annotations

import importlib
import json
import os

_cached = None


def build() -> dict:
    from omcore import openapi

    import functions

    return openapi.build(importlib.import_module(f"functions.{name}.routes").routes for name in functions.CAPABILITIES)


def document() -> dict:
    """The bundled document when there is one, else the generated one (cached per process)."""
    global _cached
    if _cached is None:
        bundled = os.path.join(os.path.dirname(os.path.abspath(__file__)), "openapi.generated.json")
        if os.path.exists(bundled):
            with open(bundled, encoding="utf-8") as fh:
                _cached = json.load(fh)
        else:
            _cached = build()
    return _cached
