"""WSGI entry of the container: the composed Chalice app (every capability) behind the bridge in chalice_wsgi.py.

gunicorn loads ``wsgi:application`` (see gunicorn.conf.py); the parity test starts the same entrypoint.

Before the app sees a request, its body is read in full within ``CLIENT_READ_TIMEOUT`` seconds in total (not per
read: gunicorn.conf.py's ``DeadlineSocket`` gives every read of the body one shared deadline, so a client dripping
one byte at a time cannot stretch it); a client that is slower gets 408 and the connection is closed, so it holds a
worker thread for a bounded time. Bodies over the app's limit are left to the app (413 without reading them).
"""
import io
import json
import os
import time

from omcore import config
from omcore.errors import code_for

from app import app as chalice_app
from chalice_wsgi import make_wsgi_app

_CHUNK = 64 * 1024


def _error(start_response, status: str, message: str):
    body = json.dumps({"error": message, "code": code_for(int(status.split()[0]))}).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                            ("Connection", "close")])
    return [body]


def bounded_body(app, *, max_body: int, read_timeout: float):
    def wrapped(environ, start_response):
        sock = environ.get("gunicorn.socket")
        timed = sock is not None and hasattr(sock, "deadline")  # gunicorn.conf.py's DeadlineSocket
        if timed:
            sock.deadline = None  # the head has arrived: its deadline is over
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # the app answers 400
        if length <= 0 or length > max_body:
            return app(environ, start_response)
        stream = environ["wsgi.input"]
        deadline = time.monotonic() + read_timeout
        parts, got = [], 0
        try:
            if timed:
                sock.deadline = deadline  # every read below shares it, however the body is dripped
            while got < length:
                if time.monotonic() >= deadline:
                    raise TimeoutError
                chunk = stream.read(min(_CHUNK, length - got))
                if not chunk:
                    break
                parts.append(chunk)
                got += len(chunk)
        except TimeoutError:
            return _error(start_response, "408 Request Timeout", "request body not received in time")
        finally:
            if timed:
                sock.deadline = None  # the response is written under the per-operation timeout again
        if got < length:
            return _error(start_response, "400 Bad Request", "request body shorter than its Content-Length")
        environ["wsgi.input"] = io.BytesIO(b"".join(parts))
        return app(environ, start_response)

    return wrapped


_inner = make_wsgi_app(chalice_app, usercontent=os.environ.get("SERVE_USERCONTENT", "1") == "1")
application = bounded_body(_inner, max_body=_inner.max_body,
                           read_timeout=float(config.get("CLIENT_READ_TIMEOUT", "") or 10))
