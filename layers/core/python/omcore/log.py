"""Structured JSON logging to stdout (CloudWatch and ``docker service logs`` both read it), one line per record,
every line carrying the context of the request it belongs to.

Context (a ``contextvars`` dict, so threads and requests never mix): ``request_id`` (API Gateway's
``requestContext.requestId`` on Lambda; on the container the WSGI bridge's, which honours a sane incoming
``X-Request-Id``), ``capability`` (the folder under ``functions/`` whose route serves the request), ``cold_start``
(true on the first request of the process) and what becomes known while serving it, attached with ``bind``::

    log.bind(customer_id=principal.id)      # the guards
    log.bind(order_id=order_id)             # a service, once it knows the order

The HTTP wrapper (``omcore.http``) opens the scope for each request, answers the id in an ``X-Request-Id`` header
and writes one ``request`` line per request (method, path, status, duration, and the error message of a non-2xx
answer), so a client-visible failure leads to its log lines by the id alone. Non-HTTP handlers (events, jobs) open
their own scope with ``with log.scope(capability="images", object_key=...):``.

Why not Powertools Logger: measured with ``python -X importtime`` in this venv, ``import
aws_lambda_powertools.logging`` adds 34–66 ms (median ≈ 40) on top of what Chalice already imports, against ≈ 2.5 ms
for this module; the API functions start in 59–100 ms against a ~120 ms budget (docs/conventions.md, "Logs").

Never log secrets: tokens, passwords, codes and keys stay out of every message; log ids instead.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import time
import uuid
from contextlib import contextmanager
from contextvars import ContextVar

# Our loggers live under "om", not "openmerce": Chalice names its own logger after the app ("openmerce" for the
# composed app) and forces it to ERROR whenever ``app.debug`` is set, which silenced every INFO/WARNING line of the
# container and the local run while this namespace was "openmerce".
NAMESPACE = "om"
_configured = False
_context: ContextVar[dict] = ContextVar("omcore_log_context", default={})  # never mutated: replaced on change
_cold = True  # until the first request scope of this process opens


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_context.get())
        extra = getattr(record, "fields", None)
        if extra:
            entry.update(extra)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def get_logger(name: str) -> logging.Logger:
    global _configured
    if not _configured:
        root = logging.getLogger(NAMESPACE)
        if not root.handlers:
            handler = logging.StreamHandler(sys.stdout)
            handler.setFormatter(_JsonFormatter())
            root.addHandler(handler)
        root.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
        root.propagate = False
        _configured = True
    return logging.getLogger(NAMESPACE + "." + name)


def bind(**fields) -> None:
    """Attach fields (``customer_id=``, ``staff_id=``, ``order_id=``...) to every further line of the current
    request or scope. ``None`` values are ignored. Outside any scope this does nothing: a warm Lambda or a worker
    loop must never carry one job's order id into the lines of the next (open a ``scope`` for such work)."""
    current = _context.get()
    fields = {k: v for k, v in fields.items() if v is not None}
    if fields and "request_id" in current:
        _context.set({**current, **fields})


def context() -> dict:
    """A copy of the fields every line carries right now."""
    return dict(_context.get())


def begin(*, request_id: str | None = None, capability: str | None = None, **fields):
    """Open a scope (the HTTP wrapper calls this once per request): returns the token for ``end``. The first scope
    of the process is marked ``cold_start: true``."""
    global _cold
    values = {"request_id": request_id or str(uuid.uuid4())}
    if capability:
        values["capability"] = capability
    if _cold:
        _cold = False
        values["cold_start"] = True
    values.update({k: v for k, v in fields.items() if v is not None})
    return _context.set(values)


def end(token) -> None:
    _context.reset(token)


def event_id(event) -> str | None:
    """The id a non-HTTP event carries, for its scope's ``request_id``: an SQS record's ``messageId``, a scheduled
    (EventBridge) event's ``id``, a Lambda context's ``aws_request_id``; None (a fresh id is generated) otherwise.
    Takes the raw dict, a Chalice event (``to_dict()``) or a Lambda context."""
    if event is None:
        return None
    if hasattr(event, "aws_request_id"):
        return str(event.aws_request_id) or None
    if hasattr(event, "to_dict"):
        event = event.to_dict()
    if isinstance(event, dict):
        for name in ("messageId", "id"):
            value = event.get(name)
            if isinstance(value, str) and value:
                return value[:128]
    return None


@contextmanager
def scope(**fields):
    """``with log.scope(capability="payments", request_id=log.event_id(event)):`` — a scope for non-HTTP work
    (SQS messages, schedules, the container worker, the admin CLI); without a ``request_id`` one is generated."""
    token = begin(**fields)
    try:
        yield context()
    finally:
        end(token)


@contextmanager
def message_scope(message: dict):
    """A scope for one message of a batch (an SQS record): its own ``request_id`` (the ``messageId``), the batch
    scope's ``capability`` and ``job``; what one message binds (an order id) never reaches the next."""
    outer = _context.get()
    with scope(request_id=event_id(message), capability=outer.get("capability"), job=outer.get("job")) as fields:
        yield fields
