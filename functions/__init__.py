"""Openmerce capabilities, one folder each: exactly what ships to Lambda (infra/packages.py packages the folder
whole). Every folder holds:

* ``routes.py``  — the capability's HTTP routes (a ``Routes`` table around a Chalice Blueprint): thin translators,
* ``service.py`` — the business logic as plain functions (no Lambda, no HTTP),
* ``app.py``     — the capability's own deployable Chalice app (one Lambda function per capability),
* optional ``events.py`` (non-HTTP handlers) and modules of its own.

Its dev and ops tooling (admin commands, demo data, local-run hooks, the Swarm image worker) lives in
``tools/<capability>/``. The shared layers live in ``layers/<name>/python`` (the layout a Lambda layer zip needs):
on Lambda they are mounted at ``/opt/python``, in the container ``PYTHONPATH`` names them, and in the checkout's
venv the editable install of ``pyproject.toml`` puts them on ``sys.path``.
"""
LAYERS = ("core", "mysql", "auth", "commerce")

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
    "desk",
)


def capability_modules(suffix: str, package: str = "functions"):
    """(name, module) for every capability that has ``<package>/<name>/<suffix>.py`` (``events`` here; ``cli``,
    ``demo``, ``localdev`` in ``tools``), in registration order. A capability without one is skipped; an import
    error inside one is not hidden."""
    import importlib

    for name in CAPABILITIES:
        module_name = f"{package}.{name}.{suffix}"
        try:
            yield name, importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name not in (module_name, f"{package}.{name}"):
                raise
