"""Fixtures of the platform tests."""
import json
import logging

import pytest


@pytest.fixture
def log_lines():
    """Every record the app logs during the test (INFO and up), as the JSON object its log line holds."""
    from omcore import log as omlog

    omlog.get_logger("test")  # the JSON handler is installed on first use
    root = logging.getLogger(omlog.NAMESPACE)
    formatter = root.handlers[0].formatter
    lines: list[dict] = []

    class Capture(logging.Handler):
        def emit(self, record):
            lines.append(json.loads(formatter.format(record)))

    handler, level = Capture(), root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lines
    root.removeHandler(handler)
    root.setLevel(level)
