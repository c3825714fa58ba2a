"""Order mails leave the request path (omcommerce.outbox): each mail is written to the outbox in the transaction of
the order change, delivered after the commit, retried by the sweep when the transport failed, and sent at most once
per event however many deliverers race for it."""
import os
import subprocess
import sys
import threading

from shopping import make_shop
from support import create_product

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOOK = "/api/v1/webhook/midtrans"


def _rows(event_key=None):
    from omdb import db

    if event_key is None:
        return db.query("SELECT event_key, status, attempts FROM mail_outbox ORDER BY id")
    return db.query("SELECT event_key, status, attempts FROM mail_outbox WHERE event_key = %s", (event_key,))


def _subjects(outbox, to="buyer@example.com"):
    return [m["Subject"] for m in outbox.messages(to)]


def _send_mail_cli():
    """The sweep as the Swarm expiry loop and an operator run it: a separate process."""
    done = subprocess.run([sys.executable, "-m", "tools.admin", "send-mail"], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _break_smtp(monkeypatch):
    """A transport that fails: SMTP to a port nobody listens on."""
    from tools.devstack import free_port

    monkeypatch.setenv("MAIL_TRANSPORT", "smtp")
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(free_port()))
    monkeypatch.setenv("SMTP_SECURITY", "none")


def _repair_smtp(monkeypatch):
    monkeypatch.setenv("MAIL_TRANSPORT", "log")
    monkeypatch.delenv("SMTP_HOST")


def _time_passes():
    """The retry delay is over (instead of waiting for it)."""
    from omdb import db

    db.execute("UPDATE mail_outbox SET next_attempt_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND"
               " WHERE status = 'pending'")


def test_webhook_answers_200_when_the_mail_transport_fails_and_the_sweep_delivers_once(
        api, placed, midtrans, outbox, monkeypatch):
    shop, order_id, _pid = placed
    assert _subjects(outbox) == [f"Order #{order_id} received — please complete the payment"]
    _break_smtp(monkeypatch)
    midtrans.set_status(f"TEST-{order_id}", "settlement", payment_type="bank_transfer")
    body = midtrans.notification(f"TEST-{order_id}", "settlement")
    assert api.post(HOOK, json=body).status == 200
    from omdb import db

    assert db.query_one("SELECT status FROM orders WHERE id = %s", (order_id,))["status"] == "paid"
    # the mail was committed with the payment, tried once after the commit, and waits for a retry
    assert _rows(f"order:{order_id}:paid") == [{"event_key": f"order:{order_id}:paid", "status": "pending",
                                                "attempts": 1}]
    assert len(_subjects(outbox)) == 1
    _repair_smtp(monkeypatch)
    _send_mail_cli()
    assert len(_subjects(outbox)) == 1, "a retry before its delay is over"
    _time_passes()
    _send_mail_cli()
    _send_mail_cli()
    assert api.post(HOOK, json=body).status == 200  # a replayed notification mails nothing again
    assert _subjects(outbox) == [f"Order #{order_id} received — please complete the payment",
                                 f"Order #{order_id} is paid"]
    assert _rows(f"order:{order_id}:paid")[0]["status"] == "sent"


def test_with_sweep_delivery_the_webhook_never_talks_to_the_mail_server(api, placed, midtrans, outbox, monkeypatch):
    """The Swarm setting: the request only writes the outbox row; the expiry loop's sweep sends it."""
    shop, order_id, _pid = placed
    monkeypatch.setenv("MAIL_DELIVERY", "sweep")
    _break_smtp(monkeypatch)
    midtrans.set_status(f"TEST-{order_id}", "settlement", payment_type="bank_transfer")
    assert api.post(HOOK, json=midtrans.notification(f"TEST-{order_id}", "settlement")).status == 200
    assert _rows(f"order:{order_id}:paid")[0]["attempts"] == 0  # not even tried in the request
    _repair_smtp(monkeypatch)
    out = _send_mail_cli()
    assert "'sent': 1" in out
    assert _subjects(outbox)[-1] == f"Order #{order_id} is paid"


def test_a_mail_that_keeps_failing_stops_after_the_attempt_limit(api, placed, midtrans, outbox, monkeypatch):
    shop, order_id, _pid = placed
    monkeypatch.setenv("MAIL_MAX_ATTEMPTS", "3")
    _break_smtp(monkeypatch)
    midtrans.set_status(f"TEST-{order_id}", "settlement", payment_type="bank_transfer")
    assert api.post(HOOK, json=midtrans.notification(f"TEST-{order_id}", "settlement")).status == 200
    for _ in range(4):
        _time_passes()
        _send_mail_cli()
    assert _rows(f"order:{order_id}:paid")[0]["status"] == "failed"
    assert _rows(f"order:{order_id}:paid")[0]["attempts"] == 3


def test_concurrent_deliverers_send_each_mail_once(outbox, monkeypatch):
    from omcommerce import outbox as mail_outbox
    from omcore import mail
    from omdb import db

    monkeypatch.setenv("MAIL_DELIVERY", "sweep")
    ids = [db.run_in_transaction(lambda tx, i=i: mail_outbox.record(
        tx, f"test:{i}", mail.Message("race@example.com", f"mail {i}", "hello"))) for i in range(30)]
    assert all(ids)
    start = threading.Barrier(3)
    outcomes = []

    def deliverer(single):
        start.wait()
        if single:  # a duplicate SQS message for every row, racing the sweeps
            outcomes.extend(mail_outbox.deliver(i) for i in ids)
        else:
            outcomes.append(mail_outbox.sweep())
        db.reset()

    threads = [threading.Thread(target=deliverer, args=(single,)) for single in (True, False, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    subjects = sorted(m["Subject"] for m in outbox.messages("race@example.com"))
    assert subjects == sorted(f"mail {i}" for i in range(30))
    assert {r["status"] for r in _rows()} == {"sent"}
    assert all(r["attempts"] == 1 for r in _rows())


def test_a_rolled_back_change_leaves_no_mail(placed, outbox):
    from omcommerce import notify
    from omcommerce import outbox as mail_outbox
    from omdb import db

    shop, order_id, _pid = placed

    class Boom(Exception):
        pass

    def change_then_fail(tx):
        tx.execute("UPDATE orders SET courier_tracking_code = 'X1' WHERE id = %s", (order_id,))
        notify.order_event(tx, order_id, "shipped")
        raise Boom

    try:
        db.run_in_transaction(change_then_fail)
    except Boom:
        pass
    assert [r["event_key"] for r in _rows()] == [f"order:{order_id}:created"]
    mail_outbox.sweep()
    assert [m["Subject"] for m in outbox.messages()] == [f"Order #{order_id} received — please complete the payment"]


def test_checkout_refused_by_the_payment_provider_mails_nothing(api, freight_rates, midtrans, outbox):
    shop = make_shop(api)
    pid = create_product("Kopi Gayo", price=50000, stock=10, weight=0.5)
    shop.add(pid, 1)
    midtrans.mode = "error"
    assert shop.checkout().status == 502
    midtrans.mode = None
    assert _rows() == [] and outbox.messages() == []
    resp = shop.checkout()
    assert resp.status == 200
    assert _rows() == [{"event_key": f"order:{resp.json['order_id']}:created", "status": "sent", "attempts": 1}]
