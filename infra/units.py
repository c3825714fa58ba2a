"""What gets deployed: one API function per capability that has routes, plus one function per non-HTTP handler
(schedule, SQS), each with its settings from ``infra/spec.json`` (sizes, layers, IAM grants) and its environment
from the settings registry (``omcore.settings``)."""
from __future__ import annotations

import importlib
import json
import os
from contextlib import contextmanager
from typing import NamedTuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC_PATH = os.path.join(ROOT, "infra", "spec.json")
API_TIMEOUT_CEILING = 29  # API Gateway's integration timeout: an API function may not outlive it


class Function(NamedTuple):
    logical: str          # CloudFormation logical id, e.g. CheckoutExpireOrdersFunction
    capability: str
    handler: str          # Lambda Handler string, e.g. app.app / app.expire_orders
    kind: str             # api | schedule | sqs
    settings: dict        # memory, timeout, layers, permissions, reserved_concurrency, max_concurrency...
    source: object        # the Chalice event source config (schedule/sqs), None for the API function


def logical(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_"))


def load_spec() -> dict:
    with open(SPEC_PATH, encoding="utf-8") as fh:
        return json.load(fh)


def merged_settings(spec: dict, capability: str, handler: str | None = None) -> dict:
    """defaults ← the capability's entry ← the handler's entry, key by key (a list given at a level replaces the
    level below: that is what the spec means by it; environment variables are not listed here at all)."""
    merged = {k: v for k, v in spec["defaults"].items()}
    cap = spec["functions"].get(capability, {})
    merged.update({k: v for k, v in cap.items() if k != "handlers"})
    if handler is not None:
        merged.update(cap.get("handlers", {}).get(handler, {}))
    return merged


# the registry's Midtrans URLs are the sandbox's, which an app refuses unless told (omcore.config): no payment is
# taken while packaging
PACKAGING_ONLY = {"MIDTRANS_SANDBOX": "true"}


@contextmanager
def placeholder_settings():
    """Importing an app checks its required settings (there is no switch to skip it); the packager only reads route
    tables, so it lends every required setting a placeholder value for the duration."""
    from omcore.settings import SETTINGS

    added = []
    for setting in SETTINGS:
        if setting.required and not os.environ.get(setting.name):
            os.environ[setting.name] = "packaging-placeholder"
            added.append(setting.name)
    for name, value in PACKAGING_ONLY.items():
        if not os.environ.get(name):
            os.environ[name] = value
            added.append(name)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def capability_app(name: str):
    with placeholder_settings():
        return importlib.import_module(f"functions.{name}.app").app


def api_routes(app) -> list[tuple[str, str]]:
    return sorted((path, method) for path, entry in app.routes.items() for method in entry)


def _event_kind(source) -> str | None:
    kind = type(source).__name__
    return {"ScheduledEventConfig": "schedule", "SQSEventConfig": "sqs"}.get(kind)


def functions_of(spec: dict | None = None) -> list[Function]:
    import functions as capabilities

    spec = spec or load_spec()
    found = []
    for name in capabilities.CAPABILITIES:
        app = capability_app(name)
        if api_routes(app):
            settings = merged_settings(spec, name)
            if settings["timeout"] > API_TIMEOUT_CEILING:
                raise SystemExit(f"{name}: an API function's timeout must be ≤ {API_TIMEOUT_CEILING} s")
            found.append(Function(f"{logical(name)}Function", name, "app.app", "api", settings, None))
        for source in app.event_sources:
            kind = _event_kind(source)
            if kind is None:
                continue  # S3 → SQS → function is the deployed path (CloudFormation cannot add S3 → Lambda here)
            found.append(Function(f"{logical(name)}{logical(source.name)}Function", name, f"app.{source.name}", kind,
                                  merged_settings(spec, name, source.name), source))
    return found
