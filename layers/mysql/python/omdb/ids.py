"""UUIDs are made in Python (v4) and stored as BINARY(16) in RFC 4122 byte order, the same bytes MySQL's
``UUID_TO_BIN(x)`` (no swap flag) wrote in the original database, so existing rows keep their ids."""
from __future__ import annotations

import uuid


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def to_bin(value) -> bytes:
    if isinstance(value, uuid.UUID):
        return value.bytes
    if isinstance(value, (bytes, bytearray)) and len(value) == 16:
        return bytes(value)
    return uuid.UUID(str(value)).bytes


def from_bin(value) -> str | None:
    if value is None:
        return None
    return str(uuid.UUID(bytes=bytes(value)))
