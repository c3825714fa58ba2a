"""Lambda SnapStart: what runs before the snapshot and after each restore.

With SnapStart on (``EnableSnapStart`` in the template), Lambda initialises a function once, snapshots its memory,
and starts every new execution environment from that snapshot. So:

* before the snapshot, import everything a request will need (the capability's modules, redis-py, PyMySQL's cursor
  classes) so nothing is left to import after restore, and close MySQL/Redis connections: a socket in a snapshot is
  dead in every environment restored from it;
* after each restore, drop whatever connection state survived, and reseed ``random`` (every restored environment
  would otherwise draw the same sequence; ``secrets``/``uuid4`` read the OS and need nothing).

The hooks are registered only when the runtime says it initialises for a snapshot
(``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``); ``snapshot_restore_py`` ships with the python3.12 runtime.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
import random

from .log import get_logger

log = get_logger("snapstart")


def _import_package(name: str) -> None:
    package = importlib.import_module(name)
    for info in pkgutil.iter_modules(getattr(package, "__path__", [])):
        try:
            importlib.import_module(f"{name}.{info.name}")
        except ImportError as exc:  # a dev-only module the package does not ship
            log.debug("snapstart: %s.%s not imported: %s", name, info.name, exc)


def before_snapshot(capabilities: tuple[str, ...]) -> None:
    """Import what requests need, then close every connection."""
    from omdb import db

    from . import kv

    for capability in capabilities:
        _import_package(f"functions.{capability}")
    kv._redis()
    importlib.import_module("pymysql.cursors")
    db.reset()
    kv.reset_client()


def after_restore() -> None:
    """Forget connections restored from the snapshot and reseed the process's random generator."""
    from omdb import db

    from . import kv

    db.reset()
    kv.reset_client()
    random.seed(os.urandom(32))


def register(capabilities: tuple[str, ...]) -> bool:
    """Register the hooks when this environment is being initialised for a snapshot; True when registered."""
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != "snap-start":
        return False
    from snapshot_restore_py import register_after_restore, register_before_snapshot

    register_before_snapshot(before_snapshot, capabilities)
    register_after_restore(after_restore)
    return True
