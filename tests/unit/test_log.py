"""``omcore.log``: JSON lines carrying the request context; ``bind`` and scopes; the cold-start mark."""
import json
import logging

import pytest

from omcore import log as omlog


@pytest.fixture
def lines():
    logger = omlog.get_logger("unit")
    formatter = logging.getLogger(omlog.NAMESPACE).handlers[0].formatter
    captured: list[dict] = []

    class Capture(logging.Handler):
        def emit(self, record):
            captured.append(json.loads(formatter.format(record)))

    handler = Capture(level=logging.WARNING)
    logger.addHandler(handler)
    yield logger, captured
    logger.removeHandler(handler)


def test_a_line_is_json_with_time_level_logger_and_message(lines):
    logger, captured = lines
    logger.warning("stock low for %s", "kopi", extra={"fields": {"product": "p-1"}})
    [line] = captured
    assert line["level"] == "WARNING" and line["logger"] == "om.unit" and line["message"] == "stock low for kopi"
    assert line["product"] == "p-1" and line["time"].endswith("Z")


def test_lines_inside_a_scope_carry_its_fields_and_binds(lines):
    logger, captured = lines
    token = omlog.begin(request_id="req-0001-abcd", capability="checkout")
    try:
        omlog.bind(customer_id="c-1")
        omlog.bind(order_id=7, staff_id=None)  # None is not written
        logger.warning("inside")
    finally:
        omlog.end(token)
    logger.warning("after")
    inside, after = captured
    assert (inside["request_id"], inside["capability"], inside["customer_id"], inside["order_id"]) == \
        ("req-0001-abcd", "checkout", "c-1", 7)
    assert "staff_id" not in inside
    assert not {"customer_id", "order_id"} & set(after) and after.get("request_id") != "req-0001-abcd"


def test_nested_scopes_restore_the_outer_one(lines):
    logger, captured = lines
    with omlog.scope(request_id="outer-0001", capability="payments"):
        with omlog.scope(request_id="inner-0001"):
            omlog.bind(order_id=1)
            logger.warning("inner")
        logger.warning("outer")
    inner, outer = captured
    assert inner["request_id"] == "inner-0001" and inner["order_id"] == 1
    assert outer["request_id"] == "outer-0001" and "order_id" not in outer


def test_a_scope_without_an_id_gets_a_fresh_one():
    with omlog.scope() as first:
        pass
    with omlog.scope() as second:
        pass
    assert first["request_id"] and second["request_id"] and first["request_id"] != second["request_id"]


def test_only_the_first_scope_of_a_process_is_a_cold_start(monkeypatch):
    monkeypatch.setattr(omlog, "_cold", True)  # as in a fresh process
    with omlog.scope(capability="health") as first:
        pass
    with omlog.scope(capability="health") as second:
        pass
    assert first["cold_start"] is True and "cold_start" not in second


def test_bind_outside_any_scope_changes_nothing(lines):
    """A warm Lambda running scheduled work must not carry one job's ids into the next job's lines."""
    logger, captured = lines
    omlog.bind(order_id=99)
    logger.warning("no scope")
    assert "order_id" not in captured[0] and omlog.context() == {}
