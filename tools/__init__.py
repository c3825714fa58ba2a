"""Dev and ops tooling: everything that runs beside the capabilities but never ships to Lambda.

* ``tools/admin/``      the admin CLI, ``python -m tools.admin <command>`` (migrate, create-staff, demo, routes, dev,
                        load-areas, expire-orders, reprocess-images, upgrade-v1, import-v1-images); the container
                        image runs it for its ``migrate``, ``expiry`` and ``admin`` roles;
* ``tools/devstack.py`` the local run (``make dev``);
* ``tools/<capability>/`` a capability's own tooling, found by name like ``functions/<capability>/``:
  ``cli.py`` (admin commands: ``add_commands(subparsers)``), ``demo.py`` (``load() -> str``: idempotent demo data),
  ``localdev.py`` (``start() -> dict``: what the local run starts for it, e.g. the fake Midtrans) and the
  capability's helpers for those (``catalogue/areas.py`` with its data, ``payments/fake_midtrans.py``,
  ``images/worker.py``: the Redis-fed image worker of the Swarm fallback and the local run).

What ships to Lambda is ``functions/<capability>/`` as a whole folder and the layers; nothing here.
"""
from functions import CAPABILITIES, capability_modules


def tool_modules(suffix: str):
    """(name, module) for every capability that has ``tools/<name>/<suffix>.py`` (cli, demo, localdev), in
    registration order."""
    return capability_modules(suffix, package="tools")


def load_demo_data():
    """Run every capability's demo loader; returns one summary line per capability that loaded something."""
    lines = []
    for name, module in tool_modules("demo"):
        summary = module.load()
        if summary:
            lines.append(f"demo {name}: {summary}")
    return lines


__all__ = ["CAPABILITIES", "load_demo_data", "tool_modules"]
