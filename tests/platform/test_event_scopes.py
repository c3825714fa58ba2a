"""Request ids beyond HTTP: every non-HTTP entry point (the expiry schedule, the mail queue, the image queue, the
container image worker, the admin CLI) opens a log scope whose ``request_id`` comes from the event (a scheduled
event's id, an SQS message's ``messageId``) or is generated, so ``log.bind(order_id=...)`` works there too and one
message's order never leaks into the next."""
import threading
import time

import pytest

from omdb import db

from support import create_customer, create_order, create_product


def expired_order() -> int:
    customer = create_customer()
    product = create_product(stock=5)
    order_id = create_order(customer, [(product, 1)], status="awaiting_payment")
    db.execute("UPDATE orders SET payment_expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 HOUR WHERE id = %s",
               (order_id,))
    return order_id


@pytest.fixture
def midtrans_down(monkeypatch):
    """Midtrans' expire call fails: the expiry logs a warning about the order it just cancelled."""
    from omcommerce import midtrans

    def down(order_id):
        raise midtrans.MidtransError("Midtrans unreachable (ConnectionError)")

    monkeypatch.setattr(midtrans, "expire", down)


def test_the_expiry_schedule_logs_under_the_scheduled_events_id_and_names_the_order(log_lines, midtrans_down):
    from functions.checkout.events import expire_orders

    order_id = expired_order()
    event = {"version": "0", "account": "123456789012", "id": "cdc73f9d-aea9-11e3-9d5a-835b769c0d9c",
             "detail-type": "Scheduled Event", "source": "aws.events", "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [], "detail": {}}
    assert expire_orders(event, None)["expired"] == 1
    about = [line for line in log_lines if line.get("order_id") == order_id]
    assert about, log_lines
    assert {(line["request_id"], line["capability"]) for line in about} == {(event["id"], "checkout")}


def test_each_mail_queue_message_logs_under_its_own_message_id(log_lines):
    from functions.checkout.events import deliver_mail

    event = {"Records": [{"messageId": "msg-0001", "body": "not a row"},
                         {"messageId": "msg-0002", "body": "neither"}]}
    assert deliver_mail(event, None) == {"batchItemFailures": []}
    ignored = [line for line in log_lines if "names no outbox row" in line["message"]]
    assert [(line["request_id"], line["capability"]) for line in ignored] == [("msg-0001", "checkout"),
                                                                             ("msg-0002", "checkout")]


def test_each_image_queue_message_logs_under_its_own_message_id(log_lines):
    from functions.images.events import convert_images

    event = {"Records": [{"messageId": "img-0001", "body": "{not json"}]}
    assert convert_images(event, None)["batchItemFailures"] == [{"itemIdentifier": "img-0001"}]
    [failed] = [line for line in log_lines if "image message" in line["message"]]
    assert (failed["request_id"], failed["capability"]) == ("img-0001", "images")


def test_the_container_image_worker_gives_every_event_its_own_id(log_lines):
    from omcommerce import media
    from omcore import kv

    from tools.images import worker

    client = kv.client()
    client.rpush(media.EVENTS_LIST, "garbage-1", "garbage-2")
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), kwargs={"block_seconds": 0.2})
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while len([line for line in log_lines if "dropping an image event" in line["message"]]) < 2:
            assert time.monotonic() < deadline, "the worker did not take the events"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=10)
    dropped = [line for line in log_lines if "dropping an image event" in line["message"]]
    assert all(line["capability"] == "images" and line.get("request_id") for line in dropped)
    assert dropped[0]["request_id"] != dropped[1]["request_id"]


def test_an_admin_command_runs_in_one_scope_that_binds_the_orders_it_moves(log_lines, midtrans_down, capsys):
    from tools.admin.__main__ import main

    order_id = expired_order()
    assert main(["expire-orders"]) == 0
    about = [line for line in log_lines if line.get("order_id") == order_id]
    assert about and {line["capability"] for line in about} == {"admin"}
    assert len({line["request_id"] for line in about}) == 1


def test_a_code_sent_by_the_mail_thread_logs_under_the_request_that_asked_for_it(api, log_lines, monkeypatch):
    """Swarm (MAIL_DELIVERY=sweep): the api process's mail thread sends codes; a failed send is logged with the id
    of the request that caused the mail, so a customer's "no code arrived" leads to the transport's error."""
    from omcommerce import outbox
    from omcore import mail

    class Down:
        def send(self, msg):
            raise mail.MailError("smtp send failed: ConnectionRefusedError")

    monkeypatch.setenv("MAIL_DELIVERY", "sweep")
    monkeypatch.setattr(mail, "transport", lambda: Down())
    resp = api.post("/api/v1/auth/register-1", json={"email": "new@example.com"})
    assert resp.status == 200
    outbox.wait_background()
    [failed] = [line for line in log_lines if "attempt 1 failed" in line["message"]]
    assert (failed["request_id"], failed["capability"], failed["job"]) == (resp.headers["x-request-id"], "auth",
                                                                          "mail_thread")
