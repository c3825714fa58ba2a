"""Account and auth mails (codes, resets, notices) go the one way every mail goes: written to the outbox, handed to
the deliverer after the commit, never sent by the request itself; a transport error never fails the request; a
reset request does the same work for a registered and an unknown address; texts render the real settings."""
import pytest

from omdb import db

from support import create_customer


def rows(prefix="account:"):
    return db.query("SELECT event_key, recipient, status, body FROM mail_outbox WHERE event_key LIKE %s ORDER BY id",
                    (prefix + "%",))


def test_a_registration_code_goes_through_the_outbox_and_leaves_no_code_behind(api, outbox):
    assert api.post("/api/v1/auth/register-1", json={"email": "new@example.com"}).status == 200
    assert outbox.last_code("new@example.com")  # delivered right after the commit (MAIL_DELIVERY=inline)
    [row] = rows()
    assert row["event_key"].startswith("account:auth.verification_code:")
    assert (row["recipient"], row["status"], row["body"]) == ("new@example.com", "sent", "")


def test_a_transport_failure_does_not_fail_the_request_and_the_sweep_delivers_later(api, outbox, monkeypatch):
    from omcommerce import outbox as om_outbox
    from omcore import mail

    class Down:
        def send(self, msg):
            raise mail.MailError("smtp send failed: ConnectionRefusedError")

    real = mail.transport
    monkeypatch.setattr(mail, "transport", lambda: Down())
    assert api.post("/api/v1/auth/register-1", json={"email": "new@example.com"}).status == 200
    assert outbox.messages("new@example.com") == []
    [row] = rows()
    assert row["status"] == "pending" and row["body"]  # kept for the retry
    monkeypatch.setattr(mail, "transport", real)
    db.execute("UPDATE mail_outbox SET next_attempt_at = UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE")
    assert om_outbox.sweep() == {"sent": 1}
    assert outbox.last_code("new@example.com")
    assert rows()[0]["body"] == ""


def test_a_reset_for_an_unknown_address_does_the_same_work_as_for_a_registered_one(api, make_api, outbox):
    """The timing oracle of the security issue: both requests write one outbox row and hand it on; only the
    registered address gets a mail, and the unknown one is not even stored."""
    create_customer("buyer@example.com")
    assert api.post("/api/v1/auth/reset-password-1", json={"email": "buyer@example.com"}).status == 200
    assert make_api().post("/api/v1/auth/reset-password-1", json={"email": "ghost@example.com"}).status == 200
    known, unknown = rows()
    assert known["event_key"].split(":")[1] == unknown["event_key"].split(":")[1] == "auth.reset_code"
    assert (known["recipient"], known["status"]) == ("buyer@example.com", "sent")
    assert (unknown["recipient"], unknown["status"], unknown["body"]) == ("", "suppressed", "")
    assert outbox.messages("ghost@example.com") == [] and len(outbox.messages()) == 1


def test_with_the_queue_both_reset_requests_enqueue_exactly_one_message(api, make_api, monkeypatch, aws):
    import boto3

    from omcommerce import outbox as om_outbox

    url = boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="om-account-mail")["QueueUrl"]
    monkeypatch.setenv("MAIL_DELIVERY", "sqs")
    monkeypatch.setenv("MAIL_QUEUE_URL", url)
    om_outbox._sqs = None
    try:
        create_customer("buyer@example.com")
        sqs = boto3.client("sqs", region_name="us-east-1")
        for email in ("buyer@example.com", "ghost@example.com"):
            assert make_api().post("/api/v1/auth/reset-password-1", json={"email": email}).status == 200
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert sorted(int(m["Body"]) for m in got) == [int(r["id"]) for r in db.query(
            "SELECT id FROM mail_outbox ORDER BY id")]
        assert len(got) == 2
        assert om_outbox.handle_queue_event({"Records": [{"messageId": m["MessageId"], "body": m["Body"]}
                                                         for m in got]}) == {"batchItemFailures": []}
        assert [r["status"] for r in rows()] == ["sent", "suppressed"]
    finally:
        om_outbox._sqs = None


def test_with_sweep_delivery_a_code_still_leaves_at_once_but_not_on_the_request(api, outbox, monkeypatch):
    """Swarm (MAIL_DELIVERY=sweep) sends order mails only from the expiry loop's sweep (every minute); a code is
    handed to the process's mail thread instead, so it does not wait for the sweep."""
    from omcommerce import outbox as om_outbox

    monkeypatch.setenv("MAIL_DELIVERY", "sweep")
    assert api.post("/api/v1/auth/register-1", json={"email": "new@example.com"}).status == 200
    om_outbox.wait_background()
    assert outbox.last_code("new@example.com")


@pytest.mark.parametrize("seconds,words", [(900, "15 minutes"), (120, "2 minutes")])
def test_the_email_change_mail_names_the_real_validity(api, outbox, monkeypatch, seconds, words):
    from support import login_customer

    monkeypatch.setenv("EMAIL_CHANGE_CODE_TTL_SECONDS", str(seconds))
    create_customer("buyer@example.com")
    login_customer(api)
    resp = api.patch("/api/v1/customer/profile", json={"email": "moved@example.com"})
    assert resp.status == 202, resp
    assert f"valid for {words}" in outbox.last_text("moved@example.com")


def test_every_template_renders_with_the_values_its_senders_pass():
    from omcommerce import notify

    assert "valid for 3 minutes" in notify.render("auth.reset_code", "a@example.com", code="123456",
                                                  minutes=notify.minutes(200), page=notify.reset_page()).text
    html = notify.render("auth.verification_code", "a@example.com", code="654321", minutes=5).html_body()
    assert '<strong style="font-size:24px;letter-spacing:4px">654321</strong>' in html
