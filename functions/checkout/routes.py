"""Checkout: GET /customer/pre-items, GET /customer/pre-freight, POST/DELETE /customer/checkout."""
import re

from omauth import guards
from omcore.errors import BadRequest
from omcore.http import Reply, Routes
from omcore.validate import parse_uuid

from . import service

routes = Routes(__name__)
NO_STORE = {"Cache-Control": "no-store"}
_KEY_RE = re.compile(r"^[A-Za-z0-9_.:-]{8,80}$")


@routes.route("/api/v1/customer/pre-items", methods=["GET"], guard=guards.customer)
def pre_items(req):
    """The checked, in-stock cart lines that checkout will order."""
    return Reply(service.pre_items(req.principal.id), headers=NO_STORE)


@routes.route("/api/v1/customer/pre-freight", methods=["GET"], guard=guards.customer)
def pre_freight(req):
    """Shipping choices for the checked lines to one of the customer's addresses (?id=)."""
    if req.query.get("id") in (None, ""):
        raise BadRequest("id is required")
    return Reply(service.pre_freight(req.principal.id, parse_uuid(req.query["id"])), headers=NO_STORE)


@routes.route("/api/v1/customer/checkout", methods=["POST"], guard=guards.customer)
def checkout(req):
    """Place the order, reserve its stock and open the Midtrans payment: {token, redirect_url}.
    An Idempotency-Key header makes a repeated submit return the first order (422 when the key was first used with
    another body). 409 when the customer already has MAX_UNPAID_ORDERS_PER_CUSTOMER unpaid orders, a line is above
    CART_MAX_QUANTITY or the total is above the payment ceiling."""
    body = req.fields()
    address_id = body.uuid("address_code")
    courier_code = body.str("courier_code", max_len=64)
    key = req.headers.get("idempotency-key")
    if key is not None and not _KEY_RE.match(key):
        raise BadRequest("Idempotency-Key must be 8 to 80 letters, digits or . _ : -")
    return Reply(service.place_order(req.principal.id, address_id, courier_code, key), headers=NO_STORE)


@routes.route("/api/v1/customer/checkout", methods=["DELETE"], guard=guards.customer)
def cancel(req):
    """Cancel an unpaid order (?id=) and release its stock (idempotent)."""
    if req.query.get("id") in (None, ""):
        raise BadRequest("id is required")
    order_id = req.query_fields().int("id", min_value=1, max_value=2**63 - 1)
    return Reply(service.cancel(req.principal.id, order_id))
