"""Outgoing mail behind one interface, with three transports chosen by ``MAIL_TRANSPORT``:

* ``ses``  — Amazon SES through boto3 (Lambda; default when running on Lambda),
* ``smtp`` — any SMTP server (containers; default when ``SMTP_HOST`` is set),
* ``log``  — no server (local runs): the message is printed to the log and written to the
  outbox folder ``MAIL_OUTBOX_DIR`` (default ``.local/outbox``) as an ``.eml`` file. Default otherwise.

Every message has a plain-text and an HTML body. Sending failures raise ``MailError``.
"""
from __future__ import annotations

import os
import time
import uuid
from typing import TYPE_CHECKING, NamedTuple

from . import config
from .log import get_logger

if TYPE_CHECKING:
    from email.message import EmailMessage

# smtplib, ssl, email and html are imported where a mail is built or sent: ~20 ms of the cold start of every
# function that may send one, most of whose requests never do (docs/benchmarks.md)

log = get_logger("mail")


class MailError(Exception):
    pass


class Message(NamedTuple):  # not a dataclass: keeps `dataclasses` + `inspect` out of the cold start
    to: str
    subject: str
    text: str
    html: str | None = None

    def html_body(self) -> str:
        if self.html:
            return self.html
        import html

        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in self.text.split("\n\n"))
        return f"<!doctype html><html><body>{paragraphs}</body></html>"


def sender() -> str:
    return config.get("MAIL_FROM", "Openmerce <noreply@openmerce.local>")


def to_email_message(msg: Message) -> "EmailMessage":
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    em = EmailMessage()
    em["From"] = sender()
    em["To"] = msg.to
    em["Subject"] = msg.subject
    em["Date"] = formatdate(localtime=False)
    em["Message-ID"] = make_msgid(domain="openmerce")
    em.set_content(msg.text)
    em.add_alternative(msg.html_body(), subtype="html")
    return em


class SmtpTransport:
    def send(self, msg: Message) -> None:
        import smtplib
        import ssl

        host = config.get("SMTP_HOST")
        port = config.get_int("SMTP_PORT", 587)
        timeout = config.get_int("SMTP_TIMEOUT", 10)
        user = config.get("SMTP_USER", "")
        password = config.get("SMTP_PASS", "")
        mode = config.get("SMTP_SECURITY", "starttls" if port == 587 else ("tls" if port == 465 else "none"))
        try:
            if mode == "tls":
                server = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
            else:
                server = smtplib.SMTP(host, port, timeout=timeout)
            with server:
                if mode == "starttls":
                    server.starttls(context=ssl.create_default_context())
                if user:
                    server.login(user, password)
                server.send_message(to_email_message(msg))
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"smtp send failed: {type(exc).__name__}") from exc


class SesTransport:
    _client = None

    def send(self, msg: Message) -> None:
        import boto3  # only the SES path pays for boto3's import
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        if SesTransport._client is None:
            SesTransport._client = boto3.client(
                "ses", config=Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 2}))
        try:
            SesTransport._client.send_email(
                Source=sender(),
                Destination={"ToAddresses": [msg.to]},
                Message={"Subject": {"Data": msg.subject, "Charset": "UTF-8"},
                         "Body": {"Text": {"Data": msg.text, "Charset": "UTF-8"},
                                  "Html": {"Data": msg.html_body(), "Charset": "UTF-8"}}})
        except (BotoCoreError, ClientError) as exc:
            raise MailError(f"ses send failed: {type(exc).__name__}") from exc


class LogTransport:
    """For local runs without a mail server: print the message and keep it in the outbox folder."""

    def send(self, msg: Message) -> None:
        outbox = config.get("MAIL_OUTBOX_DIR", os.path.join(".local", "outbox"))
        os.makedirs(outbox, exist_ok=True)
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
        path = os.path.join(outbox, name)
        with open(path, "wb") as fh:
            fh.write(bytes(to_email_message(msg)))
        log.info("mail to %s: %s (saved to %s)\n%s", msg.to, msg.subject, path, msg.text)


def transport():
    choice = config.get("MAIL_TRANSPORT", "").strip().lower()
    if not choice:
        if config.get("SMTP_HOST", ""):
            choice = "smtp"
        elif os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
            choice = "ses"
        else:
            choice = "log"
    if choice == "smtp":
        return SmtpTransport()
    if choice == "ses":
        return SesTransport()
    if choice == "log":
        return LogTransport()
    raise config.ConfigError(f"MAIL_TRANSPORT must be ses, smtp or log, got {choice!r}")


def send(msg: Message) -> None:
    transport().send(msg)
