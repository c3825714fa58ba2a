"""The admin CLI: ``python -m functions.admin <command>`` (migrate, create-staff, demo, routes, ...)."""
