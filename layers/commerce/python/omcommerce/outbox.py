"""The mail outbox: mail leaves the request path.

A mail is written to ``mail_outbox`` by ``record(tx, ...)`` in the SAME transaction as the business change that
causes it (an order placed, paid, shipped, cancelled...), so a rolled-back change leaves no mail and a committed one
always has its mail. After the commit, ``after_commit(ids)`` hands the new rows to the deliverer chosen by
``MAIL_DELIVERY``:

* ``inline`` (default: the local run and the tests) — delivered right away in this process, after the commit;
* ``sqs`` (AWS) — one SQS message per row to ``MAIL_QUEUE_URL``; the queue triggers ``checkout``'s ``deliver_mail``
  function. A failed enqueue is only logged: the row stays pending and the sweep picks it up;
* ``sweep`` (Swarm) — nothing now; the expiry loop's sweep (``tools.admin expire-orders``) delivers. A *prompt*
  mail (``after_commit(ids, prompt=True)``: codes and account notices, which a person is waiting for) is handed to
  this process's mail thread instead, so it leaves within a second and still never on the request's time.

Account mails (``omcommerce.notify.account_mail``) carry codes: their rows (event keys ``account:...``) lose their
body once sent or given up, so no code outlives its mail in the database. A row ``record(..., suppressed=True)``
is written and handed on like any other but never sent (status ``suppressed``): a request that must not mail (a
reset for an unknown address) does the same work as one that does.

``sweep()`` (run by the expiry schedule on AWS and the expiry loop on Swarm) handles every pending row that is due:
rows whose enqueue failed, and rows whose send failed earlier (retried with a growing delay, at most
``MAIL_MAX_ATTEMPTS`` tries in all, then ``failed``).

At most once per event: ``event_key`` is unique ("order:42:paid"), and a deliverer first claims the row with one
``UPDATE ... SET status = 'sending' WHERE id = ... AND status = 'pending'`` — of two deliverers (a duplicate SQS
message, a sweep racing the queue), exactly one claims it and sends. A deliverer that dies between the send and
``status = 'sent'`` leaves the row in ``sending``; it is never sent again (the mail may be lost, never doubled).
A transport error puts the row back to ``pending`` for a retry: an SMTP/SES error normally means the server did not
take the message.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from omcore import config, mail
from omcore import log as omlog
from omcore.log import get_logger
from omdb import db

log = get_logger("outbox")

PENDING, SENDING, SENT, FAILED, SUPPRESSED = "pending", "sending", "sent", "failed", "suppressed"
PRIVATE_PREFIX = "account:"  # rows whose body (a code) is cleared once the mail is sent or given up
# an SQS message is normally handled within seconds: the sweep leaves fresh rows to the queue for this long
SQS_GRACE = timedelta(minutes=2)


def record(tx, event_key: str, message: mail.Message, *, suppressed: bool = False) -> int | None:
    """Write ``message`` for ``event_key`` inside the caller's transaction ``tx``. Returns the new row's id, or None
    when this event already has its mail (a replayed change mails nothing twice). ``suppressed``: a row that is
    never sent (its recipient and body are not stored)."""
    if suppressed:
        message = mail.Message("", message.subject, "")
    result = tx.execute("INSERT INTO mail_outbox (event_key, recipient, subject, body, status)"
                        " VALUES (%s, %s, %s, %s, %s) ON DUPLICATE KEY UPDATE id = id",
                        (event_key[:100], message.to, message.subject[:255], message.text,
                         SUPPRESSED if suppressed else PENDING))
    return int(result.lastrowid) if result.rowcount == 1 and result.lastrowid else None


def delivery_mode() -> str:
    mode = config.get("MAIL_DELIVERY").strip().lower()
    if mode not in ("inline", "sqs", "sweep"):
        raise config.ConfigError(f"MAIL_DELIVERY must be inline, sqs or sweep, got {mode!r}")
    return mode


def max_attempts() -> int:
    return max(1, config.get_int("MAIL_MAX_ATTEMPTS"))


def after_commit(ids, *, prompt: bool = False) -> None:
    """Hand the rows the committed transaction wrote to the deliverer. Never raises: a row that is not handed over
    now stays pending for the sweep. ``prompt``: someone waits for this mail (a code): with ``sweep`` it goes to this
    process's mail thread instead of waiting for the next sweep."""
    ids = [i for i in ids if i]
    if not ids:
        return
    try:
        mode = delivery_mode()
        if mode == "inline":
            for outbox_id in ids:
                deliver(outbox_id)
        elif mode == "sqs":
            enqueue(ids)
        elif prompt:
            _background(ids)
    except Exception as exc:  # noqa: BLE001 - the sweep delivers what was not handed over
        log.warning("mail outbox rows %s left for the sweep: %s", ids, type(exc).__name__)


_sqs = None
_queue = None


def _background(ids) -> None:
    """Hand rows to this process's mail thread (started on first use; a daemon: a row it has not sent when the
    process ends stays pending and the sweep sends it)."""
    global _queue
    import queue
    import threading

    if _queue is None:
        _queue = queue.Queue()

        def run():
            while True:
                outbox_id, origin = _queue.get()
                try:
                    # the lines of this delivery carry the id of the request that caused the mail
                    with omlog.scope(request_id=origin.get("request_id"), capability=origin.get("capability"),
                                     job="mail_thread"):
                        deliver(outbox_id)
                except Exception as exc:  # noqa: BLE001 - the row stays pending or sending; the sweep has it
                    log.warning("mail %s: background delivery failed: %s", outbox_id, type(exc).__name__)
                finally:
                    _queue.task_done()

        threading.Thread(target=run, name="mail-outbox", daemon=True).start()
    origin = omlog.context()
    for outbox_id in ids:
        _queue.put((outbox_id, origin))


def wait_background() -> None:
    """Block until the mail thread handed on everything queued so far (tests, and a worker shutting down)."""
    if _queue is not None:
        _queue.join()


def enqueue(ids) -> int:
    """One SQS message per row (body: the row id). Returns how many were sent; failures are logged."""
    global _sqs
    import boto3  # only the AWS path pays for boto3's import
    from botocore.config import Config

    if _sqs is None:
        _sqs = boto3.client("sqs", config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2}))
    url = config.get("MAIL_QUEUE_URL", "")
    sent = 0
    for outbox_id in ids:
        try:
            _sqs.send_message(QueueUrl=url, MessageBody=str(int(outbox_id)))
            sent += 1
        except Exception as exc:  # noqa: BLE001 - the row stays pending: the sweep enqueues it again
            log.warning("mail %s not enqueued: %s", outbox_id, type(exc).__name__)
    return sent


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def deliver(outbox_id: int) -> str:
    """Claim the row, send it, record the outcome. Returns ``sent``, ``retry``, ``failed`` or ``skipped`` (another
    deliverer has it, or it is done)."""
    claimed = db.execute("UPDATE mail_outbox SET status = %s, claimed_at = UTC_TIMESTAMP(3), attempts = attempts + 1"
                         " WHERE id = %s AND status = %s", (SENDING, int(outbox_id), PENDING)).rowcount
    if claimed != 1:
        return "skipped"
    row = db.query_one("SELECT event_key, recipient, subject, body, attempts FROM mail_outbox WHERE id = %s",
                       (int(outbox_id),))
    try:
        mail.send(mail.Message(row["recipient"], row["subject"], row["body"]))
    except Exception as exc:  # noqa: BLE001 - any transport failure is a failed attempt
        attempts = int(row["attempts"])
        final = attempts >= max_attempts()
        db.execute("UPDATE mail_outbox SET status = %s, last_error = %s, next_attempt_at = %s WHERE id = %s",
                   (FAILED if final else PENDING, f"{type(exc).__name__}: {exc}"[:255],
                    _now() + _retry_delay(attempts), int(outbox_id)))
        log.warning("mail %s (%s) attempt %s failed%s: %s", outbox_id, row["subject"], attempts,
                    ", giving up" if final else "", type(exc).__name__)
        if final:
            _forget_private(outbox_id, row)
        return "failed" if final else "retry"
    db.execute("UPDATE mail_outbox SET status = %s, sent_at = UTC_TIMESTAMP(3) WHERE id = %s", (SENT, int(outbox_id)))
    _forget_private(outbox_id, row)
    return "sent"


def _forget_private(outbox_id: int, row: dict) -> None:
    """A sent or abandoned account mail keeps no code: its body is emptied."""
    if str(row["event_key"]).startswith(PRIVATE_PREFIX):
        db.execute("UPDATE mail_outbox SET body = '' WHERE id = %s", (int(outbox_id),))


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def sweep(now: datetime | None = None, *, batch: int = 100) -> dict:
    """Deliver (or, with ``sqs``, enqueue again) every pending row that is due. Safe to run anywhere, any number of
    times at once: each row is claimed before it is sent."""
    now = (now or _now()).replace(tzinfo=None)
    mode = delivery_mode()
    due_before = now - SQS_GRACE if mode == "sqs" else now
    rows = db.query("SELECT id FROM mail_outbox WHERE status = %s AND next_attempt_at <= %s ORDER BY id LIMIT %s",
                    (PENDING, due_before, batch))
    ids = [int(r["id"]) for r in rows]
    if mode == "sqs":
        return {"enqueued": enqueue(ids) if ids else 0}
    outcomes: dict[str, int] = {}
    for outbox_id in ids:
        outcome = deliver(outbox_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def handle_queue_event(sqs_event: dict) -> dict:
    """The SQS handler's work: deliver each message's row. Returns the partial batch response (messages whose body
    is not a row id are dropped; a database error fails the message, SQS redelivers it and finally the DLQ keeps
    it). A transport error is not a failed message: the row is back to pending and the sweep retries it."""
    failures = []
    for record in sqs_event.get("Records") or []:
        with omlog.message_scope(record):
            try:
                outbox_id = int(str(record.get("body", "")).strip())
            except ValueError:
                log.warning("mail queue: ignored a message that names no outbox row")
                continue
            try:
                deliver(outbox_id)
            except Exception as exc:  # noqa: BLE001 - SQS retries this message
                log.warning("mail %s: delivery failed: %s", outbox_id, type(exc).__name__)
                failures.append({"itemIdentifier": record.get("messageId", "")})
    return {"batchItemFailures": failures}
