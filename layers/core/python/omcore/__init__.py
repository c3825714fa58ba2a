"""Shared core of every Openmerce function: configuration, errors, validation, HTTP glue, Redis, mail.

Ships as the ``core`` Lambda layer (``layers/core/python``).
"""
