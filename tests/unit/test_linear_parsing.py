"""Issue 18 (high): no request body costs more than linear time to check. The depth check once ran a regex over
every string of the body; an unterminated string of escaped quotes made it restart at every quote (quadratic:
10 s of CPU for one 64 KB body). The timings here are ratios measured in the same test, never absolute."""
import json
import time

import pytest

from omcore.errors import BadRequest
from omcore.validate import is_email, json_too_deep, parse_json, parse_json_object

HOSTILE_64K = b"[" * 33 + b'"' + b'\\"' * 32000  # 64 KB: the string never closes


def _best(call, rounds: int = 5, repeat: int = 20) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            call()
        best = min(best, time.perf_counter() - start)
    return best / repeat


def _refuse(body):
    try:
        parse_json_object(body)
    except BadRequest:
        return
    raise AssertionError("the hostile body was accepted")


def test_hostile_escaped_quotes_are_refused_within_a_small_multiple_of_a_plain_parse():
    assert len(HOSTILE_64K) >= 64000
    plain = json.dumps({"note": "x" * 65000}).encode()  # a plain 64 KB body
    with pytest.raises(BadRequest):
        parse_json_object(HOSTILE_64K)
    plain_cost = _best(lambda: parse_json_object(plain))
    hostile_cost = _best(lambda: _refuse(HOSTILE_64K))
    assert hostile_cost < 20 * plain_cost, (hostile_cost, plain_cost)


def test_depth_check_cost_grows_linearly_with_the_body():
    """16 times the body may cost at most 4 × 16 times as much (quadratic: 256 times; the margin is for a busy
    machine and the allocator, the benchmark section `bench/parsers.py` holds the 1.5× line)."""
    def body(kb):
        return b"[" * 33 + b'"' + b'\\"' * (kb * 512)

    small, large = body(4), body(64)
    small_cost = _best(lambda: json_too_deep(small))
    large_cost = _best(lambda: json_too_deep(large))
    assert large_cost < 4 * 16 * small_cost, (small_cost, large_cost)


@pytest.mark.parametrize("body, deep", [
    (b"[" * 33, True),
    (b"[" * 33 + b"]" * 33, True),
    (b"[" * 32 + b"]" * 32, False),
    (b'{"a":' * 33 + b"1" + b"}" * 33, True),
    (b'{"a":' * 32 + b"1" + b"}" * 32, False),
    (b'{"password": "' + b"[" * 500 + b'"}', False),           # brackets inside a string do not count
    (b'{"a": [[[{"b": "\\"[[["}]]]}', False),                    # nor after an escaped quote
    (b'["\\\\", ' + b"[" * 40 + b"]" * 40 + b"]", True),          # an escaped backslash ends the escape
    (b'["\\\\\\"' + b"[" * 40 + b'"]', False),                   # \\\" is a backslash and a quote, still inside
    (json.dumps([[["x"] * 5] * 40] * 3).encode(), False),         # wide is not deep
    (HOSTILE_64K, True),
], ids=["33-unclosed", "33-closed", "32-closed", "33-objects", "32-objects", "brackets-in-string",
        "after-escaped-quote", "escaped-backslash", "backslash-and-quote", "wide", "hostile-64k"])
def test_depth_check_knows_strings_and_escapes(body, deep):
    assert json_too_deep(body) is deep
    assert json_too_deep(body.decode("utf-8")) is deep


def test_valid_json_within_the_depth_still_parses():
    value = [[{"k": ["\\\"[", "]]"]}]]
    assert parse_json(json.dumps(value).encode()) == value


def test_email_check_is_flat_and_unchanged_for_ordinary_addresses():
    assert is_email("budi.santoso+shop@mail.example.co.id")
    assert is_email("a@b.co") and not is_email("a@b") and not is_email("a@-b.co") and not is_email("a@b-.co")
    assert not is_email("a@b.co\n") and not is_email("a@@b.co") and not is_email("a@b..co")
    assert not is_email("a@" + "a" * 64 + ".co")
    hostile = "a@" + "a." * 120 + "!"
    assert not is_email(hostile)


def test_multipart_with_a_thousand_tiny_parts_is_refused_before_parsing():
    from omcore import multipart

    part = b'--bnd\r\nContent-Disposition: form-data; name="f"\r\n\r\nv\r\n'
    ok = part * 3 + b"--bnd--\r\n"
    assert multipart.parse("multipart/form-data; boundary=bnd", ok)[0] == {"f": "v"}
    with pytest.raises(BadRequest) as info:
        multipart.parse('multipart/form-data; boundary="bnd"', part * 1000 + b"--bnd--\r\n")
    assert "too many parts" in info.value.message
