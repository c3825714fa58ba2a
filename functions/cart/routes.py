"""The customer's cart: /api/v1/customer/cart, cart-checked, cart-checked-all, cart-count."""
from omauth import guards
from omcore.errors import BadRequest
from omcore.http import Reply, Routes
from omcore.validate import parse_uuid

from . import service

routes = Routes(__name__)
NO_STORE = {"Cache-Control": "no-store"}


@routes.route("/api/v1/customer/cart", methods=["GET"], guard=guards.customer)
def get_cart(req):
    """The cart lines with current stock ([] when empty)."""
    return Reply(service.lines(req.principal.id), headers=NO_STORE)


@routes.route("/api/v1/customer/cart", methods=["POST"], guard=guards.customer)
def put_line(req):
    """Set a product's quantity in the cart (409 with curr_stock when stock is short)."""
    body = req.fields()
    product_id = body.uuid("id")
    quantity = body.int("quantity", min_value=1, max_value=service.max_quantity())
    service.set_quantity(req.principal.id, product_id, quantity)
    return Reply({"count": service.count(req.principal.id)})


@routes.route("/api/v1/customer/cart", methods=["DELETE"], guard=guards.customer)
def delete_line(req):
    """Remove a product from the cart."""
    if req.query.get("id") in (None, ""):
        raise BadRequest("id is required")
    service.remove(req.principal.id, parse_uuid(req.query["id"]))
    return Reply({"count": service.count(req.principal.id)})


@routes.route("/api/v1/customer/cart-checked", methods=["POST"], guard=guards.customer)
def check_line(req):
    """Select or unselect one line for checkout."""
    body = req.fields()
    service.set_checked(req.principal.id, body.uuid("id"), body.bool("state"))
    return Reply({})


@routes.route("/api/v1/customer/cart-checked-all", methods=["POST"], guard=guards.customer)
def check_all(req):
    """Select or unselect every line ({state}, or the storefront's {checkAll: true} toggle)."""
    body = req.fields()
    if body.has("state"):
        state = body.bool("state")
    elif body.has("checkAll"):
        body.bool("checkAll")
        state = None
    else:
        raise BadRequest("state is required")
    return Reply({"checked": service.set_all_checked(req.principal.id, state)})


@routes.route("/api/v1/customer/cart-count", methods=["GET"], guard=guards.customer)
def cart_count(req):
    """Number of lines in the cart: {count}."""
    return Reply({"count": service.count(req.principal.id)}, headers=NO_STORE)
