"""The checkout capability's non-HTTP functions: the scheduled order expiry (the Swarm `expiry` service runs the same
code), which also sweeps the mail outbox, and the mail deliverer fed by the mail queue on AWS (omcommerce.outbox)."""
from chalice import Blueprint, Rate

events = Blueprint(__name__)


@events.schedule(Rate(5, unit=Rate.MINUTES), name="expire_orders")
def expire_orders(event):
    """Cancel unpaid orders past their payment window and release their stock; then hand the mail outbox's due
    rows (a failed enqueue, a failed send) to the deliverer again."""
    from omcommerce import outbox
    from omcore import log

    from . import service

    with log.scope(capability="checkout", request_id=log.event_id(event), job="expire_orders"):
        expired = service.expire_unpaid()
        return {"expired": expired, "mail": outbox.sweep()}


@events.on_sqs_message(queue="openmerce-mail", batch_size=10, name="deliver_mail")
def deliver_mail(event):
    """Mail queue → here: send each outbox row the message names, at most once (the row is claimed first)."""
    from omcommerce import outbox
    from omcore import log

    with log.scope(capability="checkout", request_id=log.event_id(event.context), job="deliver_mail"):
        return outbox.handle_queue_event(event.to_dict())  # each message in its own scope, named by its id


def register(app) -> None:
    app.register_blueprint(events)
