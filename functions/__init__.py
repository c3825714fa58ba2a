"""Openmerce capabilities, one folder each. Every folder holds:

* ``routes.py``  — the capability's HTTP routes (a ``Routes`` table around a Chalice Blueprint): thin translators,
* ``service.py`` — the business logic as plain functions (no Lambda, no HTTP),
* ``app.py``     — the capability's own deployable Chalice app (one Lambda function per capability),
* optional ``events.py`` (non-HTTP handlers) and ``demo.py`` (demo data for local runs).

The shared layers live in ``layers/<name>/python`` (the layout a Lambda layer zip needs). On Lambda they are
mounted at ``/opt/python``; everywhere else importing this package puts them on ``sys.path``.
"""
import os as _os
import sys as _sys

LAYERS = ("core", "mysql", "auth", "commerce")

_root = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
for _layer in LAYERS:
    _path = _os.path.join(_root, "layers", _layer, "python")
    if _os.path.isdir(_path) and _path not in _sys.path:
        _sys.path.insert(0, _path)

# Capabilities in registration order (the composed app in ../app.py registers them all).
CAPABILITIES = (
    "health",
    "auth",
    "staff_auth",
    "catalogue",
    "backoffice",
    "account",
    "cart",
    "freight",
    "checkout",
    "payments",
    "images",
)


def capability_modules(suffix: str):
    """(name, module) for every capability that has ``functions/<name>/<suffix>.py`` (events, demo, localdev, cli),
    in registration order. A capability without one is skipped; an import error inside one is not hidden."""
    import importlib

    for name in CAPABILITIES:
        module_name = f"functions.{name}.{suffix}"
        try:
            yield name, importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise


def load_demo_data():
    """Run every capability's demo loader; returns one summary line per capability that loaded something."""
    lines = []
    for name, module in capability_modules("demo"):
        summary = module.load()
        if summary:
            lines.append(f"demo {name}: {summary}")
    return lines
