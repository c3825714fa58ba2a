"""``omcore.validate``: every refusal is a 400 ``BadRequest`` whose message names the refused field."""
import uuid
from datetime import date

import pytest

from omcore.errors import BadRequest
from omcore.validate import Fields, is_email, normalise_email, parse_date, parse_json_object, parse_uuid


def refused(call) -> str:
    with pytest.raises(BadRequest) as info:
        call()
    assert info.value.status == 400
    return info.value.message


def test_json_body_must_be_an_object():
    assert parse_json_object(b'{"a": 1}') == {"a": 1}
    assert "not valid JSON" in refused(lambda: parse_json_object(b"{bad"))
    assert "JSON object" in refused(lambda: parse_json_object(b"[1, 2]"))
    assert "JSON object" in refused(lambda: parse_json_object(b""))
    assert "JSON object" in refused(lambda: parse_json_object(None))
    assert "not valid JSON" in refused(lambda: parse_json_object(b"\xff\xfe"))


def test_str_strips_checks_type_length_and_nul():
    f = Fields({"name": "  Budi  ", "n": 5, "blank": "   ", "long": "x" * 11, "nul": "a\x00b", "short": "ab"})
    assert f.str("name") == "Budi"
    assert f.str("name", strip=False) == "  Budi  "
    assert refused(lambda: f.str("n")) == "n must be a string"
    assert refused(lambda: f.str("blank")) == "blank must not be empty"
    assert f.str("blank", required=False) is None
    assert refused(lambda: f.str("long", max_len=10)) == "long must be at most 10 characters"
    assert refused(lambda: f.str("short", min_len=3)) == "short must be at least 3 characters"
    assert refused(lambda: f.str("nul")) == "nul must not contain NUL characters"
    assert refused(lambda: f.str("absent")) == "absent is required"
    assert f.str("absent", required=False) is None


def test_null_counts_as_absent():
    f = Fields({"x": None})
    assert not f.has("x")
    assert refused(lambda: f.int("x")) == "x is required"
    assert f.int("x", required=False) is None


def test_int_refuses_bools_fractions_and_out_of_range():
    body = Fields({"q": 3, "f": 2.0, "half": 2.5, "b": True, "s": "3"})
    assert body.int("q", min_value=1, max_value=3) == 3
    assert body.int("f") == 2 and isinstance(body.int("f"), int)
    assert refused(lambda: body.int("half")) == "half must be an integer"
    assert refused(lambda: body.int("b")) == "b must be an integer"
    assert refused(lambda: body.int("s")) == "s must be an integer"  # a JSON body string is not a number
    assert refused(lambda: body.int("q", min_value=4)) == "q must be at least 4"
    assert refused(lambda: body.int("q", max_value=2)) == "q must be at most 2"


def test_query_strings_are_converted():
    q = Fields({"page": " 7 ", "price": "1.5", "on": "TRUE", "off": "0", "junk": "seven"}, source="query")
    assert q.int("page") == 7
    assert q.number("price") == 1.5
    assert q.bool("on") is True and q.bool("off") is False
    assert refused(lambda: q.int("junk")) == "junk must be an integer"
    assert refused(lambda: q.number("junk")) == "junk must be a number"
    assert refused(lambda: q.bool("junk")) == "junk must be true or false"


def test_number_and_bool_in_bodies():
    body = Fields({"w": 0.5, "nan": float("nan"), "flag": False, "one": 1, "t": "true"})
    assert body.number("w", min_value=0) == 0.5
    assert refused(lambda: body.number("nan")) == "nan must be a number"
    assert refused(lambda: body.number("flag")) == "flag must be a number"
    assert refused(lambda: body.number("w", max_value=0.1)) == "w must be at most 0.1"
    assert body.bool("flag") is False
    assert refused(lambda: body.bool("one")) == "one must be true or false"
    assert refused(lambda: body.bool("t")) == "t must be true or false"


def test_uuid_email_choice_and_date():
    value = uuid.uuid4()
    body = Fields({"id": str(value).upper(), "bad": "nope", "num": 5, "email": "  Budi@Example.COM ",
                   "mail2": "no-at-sign", "kind": "b", "dob": "1995-05-17T23:30:00.000-02:00", "d2": "17/05/1995"})
    assert body.uuid("id") == value
    assert refused(lambda: body.uuid("bad")) == "bad must be a UUID"
    assert refused(lambda: body.uuid("num")) == "num must be a UUID"
    assert body.email() == "budi@example.com"
    assert refused(lambda: body.email("mail2")) == "mail2 is not a valid email address"
    assert body.choice("kind", ("a", "b")) == "b"
    assert refused(lambda: body.choice("kind", ("a", "c"))) == "kind must be one of: a, c"
    assert body.date("dob") == date(1995, 5, 18)  # RFC 3339 offsets are normalised to UTC
    assert "d2 must be a date" in refused(lambda: body.date("d2"))


def test_module_helpers():
    assert normalise_email(" A@B.Co ") == "a@b.co"
    assert is_email("a@b.co") and not is_email("a@b") and not is_email("a" * 250 + "@b.co")
    assert parse_date("2026-02-28") == date(2026, 2, 28)
    assert refused(lambda: parse_date("2026-02-30", "when")).startswith("when must be a date")
    assert refused(lambda: parse_uuid(None, "code")) == "code must be a UUID"
