"""Small, strict input validation shared by every capability.

``Fields`` wraps a decoded JSON object (or a query-string dict) and hands out typed values; every failure is a
``BadRequest`` whose message names the field, so a client always gets a clear 400 and never a 500.
"""
from __future__ import annotations

import json
import math
import re
import uuid
from datetime import UTC, date, datetime

from .errors import BadRequest

_MISSING = object()
# an address is checked piece by piece with flat patterns (no nested quantifiers on client input)
_EMAIL_LOCAL_RE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+")
_EMAIL_LABEL_RE = re.compile(r"[A-Za-z0-9-]{1,63}")


MAX_JSON_DEPTH = 32
# translate() keeps only the four brackets, openers as "(" and closers as ")"
_BRACKETS = bytes.maketrans(b"[{]}", b"(())")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_too_deep(raw: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON text nests arrays/objects more than ``max_depth`` levels (brackets inside strings do not
    count). Checked before decoding: a few thousand ``[`` would otherwise exhaust the decoder's recursion limit
    (a ``RecursionError``, i.e. a 500) or make every later walk over the value expensive.

    Linear in the body, with bytes methods only (no regex, no Python loop per byte): escapes are dropped, the text
    is split at the remaining (real) quotes so that strings fall out, and the brackets left are peeled one nesting
    level per pass, at most ``max_depth`` passes. (A regex over strings restarted its scan at every escaped quote
    of an unterminated string: quadratic, 10 s of CPU for one 64 KB body.) Openers that are never closed count as
    nesting too; the exact depth of invalid JSON does not matter, the decoder refuses it next."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if data.count(b"[") + data.count(b"{") <= max_depth:  # the usual body: cannot be deeper than its openers
        return False
    if b"\\" in data:
        # backslash pairs first (left to right, so a run of n backslashes leaves n % 2), then escaped quotes
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(data.split(b'"')[::2]).translate(_BRACKETS, _NOT_BRACKETS)  # even pieces: outside strings
    if brackets.count(b"(") <= max_depth:
        return False
    for _ in range(max_depth):  # each pass removes the innermost level of every nest
        peeled = brackets.replace(b"()", b"")
        if len(peeled) == len(brackets):
            break
        brackets = peeled
    # a pair still there was nested deeper than max_depth; what else is left are openers never closed
    return b"()" in brackets or brackets.count(b"(") > max_depth


def parse_json(raw: bytes | str, max_depth: int = MAX_JSON_DEPTH):
    """Decode a JSON text that must be reasonably shaped; anything else is a 400 (never a 500)."""
    if json_too_deep(raw, max_depth):
        raise BadRequest(f"request body is nested too deeply (at most {max_depth} levels)")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest("request body is not valid JSON") from None


def parse_json_object(raw: bytes | str | None, max_depth: int = MAX_JSON_DEPTH) -> dict:
    """Decode a request body that must be a JSON object."""
    if raw is None or raw == b"" or raw == "":
        raise BadRequest("request body must be a JSON object")
    value = parse_json(raw, max_depth)
    if not isinstance(value, dict):
        raise BadRequest("request body must be a JSON object")
    return value


def normalise_email(value: str) -> str:
    return value.strip().lower()


def is_email(value: str) -> bool:
    if len(value) > 254 or value.count("@") != 1:
        return False
    local, domain = value.split("@")
    labels = domain.split(".")
    return (bool(_EMAIL_LOCAL_RE.fullmatch(local)) and len(labels) >= 2
            and all(_EMAIL_LABEL_RE.fullmatch(label) and label[0] != "-" and label[-1] != "-" for label in labels))


class Fields:
    """Typed access to a dict of client input. ``required=False`` returns ``None`` when absent or null."""

    def __init__(self, data: dict | None, *, source: str = "body"):
        self.data = data or {}
        self.source = source

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def _raw(self, name: str, required: bool):
        value = self.data.get(name, None)
        if value is None:
            if required:
                raise BadRequest(f"{name} is required")
            return _MISSING
        return value

    def str(self, name: str, *, required: bool = True, min_len: int = 0, max_len: int = 255,
            strip: bool = True, allow_empty: bool = False):
        value = self._raw(name, required)
        if value is _MISSING:
            return None
        if not isinstance(value, str):
            raise BadRequest(f"{name} must be a string")
        if strip:
            value = value.strip()
        if value == "" and not allow_empty:
            if required:
                raise BadRequest(f"{name} must not be empty")
            return None
        if len(value) < min_len:
            raise BadRequest(f"{name} must be at least {min_len} characters")
        if len(value) > max_len:
            raise BadRequest(f"{name} must be at most {max_len} characters")
        if "\x00" in value:
            raise BadRequest(f"{name} must not contain NUL characters")
        return value

    def int(self, name: str, *, required: bool = True, min_value: int | None = None,
            max_value: int | None = None):
        value = self._raw(name, required)
        if value is _MISSING:
            return None
        if isinstance(value, bool):
            raise BadRequest(f"{name} must be an integer")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and self.source == "query":
            try:
                value = int(value.strip())
            except ValueError:
                raise BadRequest(f"{name} must be an integer") from None
        if not isinstance(value, int):
            raise BadRequest(f"{name} must be an integer")
        if min_value is not None and value < min_value:
            raise BadRequest(f"{name} must be at least {min_value}")
        if max_value is not None and value > max_value:
            raise BadRequest(f"{name} must be at most {max_value}")
        return value

    def number(self, name: str, *, required: bool = True, min_value: float | None = None,
               max_value: float | None = None):
        value = self._raw(name, required)
        if value is _MISSING:
            return None
        if isinstance(value, str) and self.source == "query":
            try:
                value = float(value)
            except ValueError:
                raise BadRequest(f"{name} must be a number") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (isinstance(value, float) and math.isnan(value)):
            raise BadRequest(f"{name} must be a number")
        if min_value is not None and value < min_value:
            raise BadRequest(f"{name} must be at least {min_value}")
        if max_value is not None and value > max_value:
            raise BadRequest(f"{name} must be at most {max_value}")
        return value

    def bool(self, name: str, *, required: bool = True):
        value = self._raw(name, required)
        if value is _MISSING:
            return None
        if isinstance(value, str) and self.source == "query":
            lowered = value.strip().lower()
            if lowered in ("true", "1"):
                return True
            if lowered in ("false", "0"):
                return False
        if not isinstance(value, bool):
            raise BadRequest(f"{name} must be true or false")
        return value

    def uuid(self, name: str, *, required: bool = True):
        value = self._raw(name, required)
        if value is _MISSING:
            return None
        return parse_uuid(value, name)

    def email(self, name: str = "email", *, required: bool = True):
        value = self.str(name, required=required, max_len=254)
        if value is None:
            return None
        value = normalise_email(value)
        if not is_email(value):
            raise BadRequest(f"{name} is not a valid email address")
        return value

    def choice(self, name: str, choices, *, required: bool = True):
        value = self._raw(name, required)
        if value is _MISSING:
            return None
        if value not in choices:
            raise BadRequest(f"{name} must be one of: {', '.join(map(str, choices))}")
        return value

    def date(self, name: str, *, required: bool = True):
        """Accept ``YYYY-MM-DD`` or an RFC 3339 timestamp (``1995-05-17T00:00:00.000Z``); return a ``date``."""
        value = self.str(name, required=required, max_len=40)
        if value is None:
            return None
        return parse_date(value, name)


OLDEST_BIRTH_DATE = date(1900, 1, 1)
YOUNGEST_AGE_YEARS = 10


def plausible_birth_date(value: date, name: str = "birth_date") -> date:
    """A birth date a customer can have: from 1900-01-01 to ``YOUNGEST_AGE_YEARS`` years ago (2999-01-01 and
    0001-01-01 were stored as given)."""
    today = datetime.now(UTC).date()
    try:
        latest = today.replace(year=today.year - YOUNGEST_AGE_YEARS)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year - YOUNGEST_AGE_YEARS, day=28)
    if not OLDEST_BIRTH_DATE <= value <= latest:
        raise BadRequest(f"{name} must be between {OLDEST_BIRTH_DATE.isoformat()} and {latest.isoformat()}")
    return value


def parse_uuid(value, name: str = "id") -> uuid.UUID:
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a UUID")
    try:
        parsed = uuid.UUID(value.strip())
    except ValueError:
        raise BadRequest(f"{name} must be a UUID") from None
    return parsed


def parse_date(value: str, name: str = "date") -> date:
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{name} must be a date (YYYY-MM-DD or RFC 3339)") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed.date()
