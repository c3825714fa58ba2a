"""Mail transports: SMTP against a real SMTP server on 127.0.0.1, SES through moto's server, and the local outbox.
Each message carries a plain-text and an HTML part."""
import pytest

from omcore import mail


@pytest.fixture
def smtp_server(monkeypatch):
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    received = []

    class Collect(MessageHandler):
        def handle_message(self, message):
            received.append(message)

    from tools.devstack import free_port

    port = free_port()
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("MAIL_TRANSPORT", "smtp")
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("SMTP_SECURITY", "none")
    yield received
    controller.stop()


def test_smtp_transport_delivers_plain_and_html(smtp_server):
    mail.send(mail.Message("buyer@example.com", "Hello", "Your code is 123456", None))
    assert len(smtp_server) == 1
    msg = smtp_server[0]
    assert msg["To"] == "buyer@example.com" and msg["Subject"] == "Hello"
    kinds = {part.get_content_type() for part in msg.walk()}
    assert {"text/plain", "text/html"} <= kinds


def test_registration_mail_goes_through_smtp_when_configured(api, smtp_server):
    assert api.post("/api/v1/auth/register-1", json={"email": "smtp@example.com"}).status == 200
    assert smtp_server and "verification code" in smtp_server[0].get_payload()[0].get_payload(decode=True).decode()


def test_smtp_failure_is_a_mail_error_not_a_hang(monkeypatch):
    from tools.devstack import free_port

    monkeypatch.setenv("MAIL_TRANSPORT", "smtp")
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(free_port()))
    monkeypatch.setenv("SMTP_SECURITY", "none")
    with pytest.raises(mail.MailError):
        mail.send(mail.Message("x@example.com", "s", "t"))


def test_ses_transport_sends_through_the_ses_api(aws, monkeypatch):
    import boto3
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    monkeypatch.setenv("MAIL_TRANSPORT", "ses")
    monkeypatch.setenv("MAIL_FROM", "shop@example.com")
    mail.SesTransport._client = None
    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress="shop@example.com")
    mail.send(mail.Message("buyer@example.com", "Hi", "Plain body", "<p>HTML body</p>"))
    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    assert len(sent) == 1
    assert sent[0].destinations["ToAddresses"] == ["buyer@example.com"]
    assert sent[0].subject == "Hi" and sent[0].source == "shop@example.com"
    mail.SesTransport._client = None


def test_unknown_transport_is_a_config_error(monkeypatch):
    from omcore.config import ConfigError

    monkeypatch.setenv("MAIL_TRANSPORT", "pigeon")
    with pytest.raises(ConfigError):
        mail.send(mail.Message("x@example.com", "s", "t"))
