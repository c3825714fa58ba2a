"""The scheduled order-expiry function (its own Lambda on AWS; the Swarm `expiry` service runs the same code)."""
from chalice import Blueprint, Rate

events = Blueprint(__name__)


@events.schedule(Rate(5, unit=Rate.MINUTES), name="expire_orders")
def expire_orders(event):
    """Cancel unpaid orders past their payment window and release their stock."""
    from . import service

    return {"expired": service.expire_unpaid()}


def register(app) -> None:
    app.register_blueprint(events)
