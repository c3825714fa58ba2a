"""The admin CLI: ``python -m tools.admin <command>`` (migrate, create-staff, demo, routes, ...)."""
