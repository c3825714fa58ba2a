"""multipart/form-data parsing with the standard library's email parser (the ``cgi`` module is gone in 3.13)."""
from __future__ import annotations

from typing import NamedTuple

from .errors import BadRequest

# our forms have a file and a few fields; the email parser costs ~0.5 ms a part, so a body of a thousand tiny parts
# is refused by counting delimiters (a C-speed scan) before any parsing
MAX_PARTS = 16


def _boundary(content_type: str) -> bytes | None:
    value = content_type.split("boundary=", 1)[1].split(";", 1)[0].strip().strip('"')
    return value.encode("latin-1", "replace") if value else None


class UploadedFile(NamedTuple):  # not a dataclass: keeps `dataclasses` + `inspect` out of the cold start
    filename: str
    content_type: str
    data: bytes


def parse(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    """Return (text fields, files) of a multipart/form-data body; malformed input is a 400."""
    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in content_type:
        raise BadRequest("expected a multipart/form-data body")
    boundary = _boundary(content_type)
    if boundary is not None and body.count(b"--" + boundary) > MAX_PARTS + 1:
        raise BadRequest(f"too many parts in the multipart body (at most {MAX_PARTS})")
    from email.parser import BytesParser  # here: a function that never parses a form never imports `email`
    from email.policy import HTTP

    try:
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body)
    except (UnicodeError, ValueError, RecursionError):  # RecursionError: parts nested thousands deep
        raise BadRequest("malformed multipart body") from None
    if not message.is_multipart():
        raise BadRequest("malformed multipart body")
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for part in message.iter_parts():
        if part.is_multipart():  # form-data never nests (RFC 7578)
            raise BadRequest("malformed multipart body: nested parts")
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = UploadedFile(filename[:255], part.get_content_type(), payload)
        else:
            try:
                fields[name] = payload.decode(part.get_content_charset() or "utf-8")
            except (UnicodeDecodeError, LookupError):
                raise BadRequest(f"field {name} is not valid text") from None
    return fields, files
