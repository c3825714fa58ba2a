"""The AWS path of the mail outbox (MAIL_DELIVERY=sqs) against moto's SQS and SES: after the commit only the row id
is enqueued; checkout's deliver_mail handler sends it once; a failed enqueue is picked up by the expiry schedule's
sweep."""
import pytest

from support import create_customer


@pytest.fixture
def mail_queue(aws, monkeypatch):
    import boto3

    from omcommerce import outbox
    from omcore import mail

    url = boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="om-mail")["QueueUrl"]
    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress="shop@example.com")
    monkeypatch.setenv("MAIL_DELIVERY", "sqs")
    monkeypatch.setenv("MAIL_QUEUE_URL", url)
    monkeypatch.setenv("MAIL_TRANSPORT", "ses")
    monkeypatch.setenv("MAIL_FROM", "shop@example.com")
    outbox._sqs = None
    mail.SesTransport._client = None
    yield url
    outbox._sqs = None
    mail.SesTransport._client = None


def _received(url) -> dict:
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1")
    records = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return {"Records": records}
        records += [{"messageId": m["MessageId"], "body": m["Body"]} for m in got]


def _ses_subjects():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [m.subject for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages]


def _record(key, subject):
    from omcommerce import outbox
    from omcore import mail
    from omdb import db

    return db.run_in_transaction(lambda tx: outbox.record(tx, key, mail.Message("buyer@example.com", subject, "x")))


def test_after_commit_only_enqueues_and_the_queue_function_sends_once(mail_queue):
    from omcommerce import outbox

    create_customer("buyer@example.com")
    ids = [_record("test:a", "first"), _record("test:b", "second")]
    outbox.after_commit(ids)
    assert _ses_subjects() == []  # nothing was sent in the "request"
    event = _received(mail_queue)
    assert sorted(r["body"] for r in event["Records"]) == sorted(str(i) for i in ids)
    from functions.checkout.events import deliver_mail

    assert deliver_mail(event, None) == {"batchItemFailures": []}
    assert deliver_mail(event, None) == {"batchItemFailures": []}  # SQS delivers at least once: sent once anyway
    assert sorted(_ses_subjects()) == ["first", "second"]


def test_a_failed_enqueue_is_enqueued_again_by_the_sweep(mail_queue, monkeypatch):
    from datetime import datetime, timedelta, timezone

    from omcommerce import outbox

    monkeypatch.setenv("MAIL_QUEUE_URL", mail_queue + "-missing")
    outbox_id = _record("test:c", "third")
    outbox.after_commit([outbox_id])  # the queue is not there: logged, the row stays pending
    monkeypatch.setenv("MAIL_QUEUE_URL", mail_queue)
    assert _received(mail_queue)["Records"] == []
    assert outbox.sweep() == {"enqueued": 0}  # fresh rows are left to the queue for a while
    later = datetime.now(timezone.utc) + timedelta(minutes=5)
    assert outbox.sweep(later) == {"enqueued": 1}
    from functions.checkout.events import deliver_mail

    assert deliver_mail(_received(mail_queue), None) == {"batchItemFailures": []}
    assert _ses_subjects() == ["third"]
    assert outbox.sweep(later) == {"enqueued": 0}
