"""Lambda SnapStart: what runs before the snapshot and after each restore.

With SnapStart on (``EnableSnapStart`` in the template), Lambda initialises a function once, snapshots its memory,
and starts every new execution environment from that snapshot. So:

* before the snapshot, import everything a request will need (every module of the function's route packages,
  the socket modules a first connection needs) so nothing is left to import after restore, and close every
  MySQL/Redis connection: a socket in a snapshot is dead in every environment restored from it;
* after each restore, drop whatever connection state survived, and reseed ``random`` (every restored environment
  would otherwise draw the same sequence; ``secrets``/``uuid4`` read the OS and need nothing).

This module knows nothing above ``omcore``: ``omcore.http.make_app`` hands it the packages of the routes it serves,
and each layer that holds connections registers its own way to forget them (``on_reset``: ``omcore.kv`` here,
``omdb`` in its package). The hooks are registered with the runtime only when it says it initialises for a snapshot
(``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``); ``snapshot_restore_py`` ships with the python3.12 runtime.
"""
from __future__ import annotations

import os

_resets: list = []
# what a first connection imports (socket, select for the near cache's drain, ssl for TLS, the idna codec that
# getaddrinfo loads for a str host: ~10 ms with stringprep and unicodedata): done before the snapshot
PRIME_MODULES = ("socket", "select", "ssl", "encodings.idna")


def on_reset(fn) -> None:
    """Register ``fn()``, which closes and forgets the connections its layer holds; run before the snapshot and
    after each restore."""
    if fn not in _resets:
        _resets.append(fn)


def _get_logger():
    from .log import get_logger

    return get_logger("snapstart")


def _import_package(name: str) -> None:
    import importlib
    import pkgutil

    package = importlib.import_module(name)
    for info in pkgutil.iter_modules(getattr(package, "__path__", [])):
        try:
            importlib.import_module(f"{name}.{info.name}")
        except ImportError as exc:  # a dev-only module the package does not ship
            _get_logger().debug("snapstart: %s.%s not imported: %s", name, info.name, exc)


def _reset_all() -> None:
    for fn in _resets:
        fn()


def before_snapshot(packages: tuple[str, ...]) -> None:
    """Import what requests need, then close every connection."""
    import importlib

    for name in packages:
        _import_package(name)
    for name in PRIME_MODULES:
        importlib.import_module(name)
    _reset_all()


def after_restore() -> None:
    """Forget connections restored from the snapshot and reseed the process's random generator."""
    import random

    _reset_all()
    random.seed(os.urandom(32))


def register(packages: tuple[str, ...]) -> bool:
    """Register the hooks when this environment is being initialised for a snapshot; True when registered.
    ``packages``: the packages whose modules requests use (the capabilities' folders)."""
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != "snap-start":
        return False
    from snapshot_restore_py import register_after_restore, register_before_snapshot

    register_before_snapshot(before_snapshot, packages)
    register_after_restore(after_restore)
    return True
