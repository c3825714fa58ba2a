"""The customer's cart: /api/v1/customer/cart, cart-checked, cart-checked-all, cart-count."""
from omauth import guards
from omcore.errors import BadRequest
from omcore.http import Reply, Routes
from omcore.spec import BOOLEAN, INTEGER, STRING, Spec, arr, boolean, integer, obj, query_id, uuid

from . import service

routes = Routes(__name__)
NO_STORE = {"Cache-Control": "no-store"}


CART_LINE = obj("id", "name", "price", "image", "quantity", "curr_stock", "checked", id=STRING, name=STRING,
                price=INTEGER, image=STRING, quantity=INTEGER, curr_stock=INTEGER, checked=BOOLEAN)
COUNT = obj("count", count=INTEGER)


@routes.route("/api/v1/customer/cart", methods=["GET"], guard=guards.customer, body=Spec(), query=Spec(),
              responses={200: arr(CART_LINE)})
def get_cart(req):
    """The cart lines with current stock ([] when empty).

    200: cart lines [{id, name, price, image, quantity, curr_stock, checked}]
    """
    return Reply(service.lines(req.principal.id), headers=NO_STORE)


@routes.route("/api/v1/customer/cart", methods=["POST"], guard=guards.customer, query=Spec(),
              body=Spec(uuid("id", description="the product"),
                        integer("quantity", min=1, max=service.max_quantity, description="at most CART_MAX_QUANTITY")),
              responses={200: COUNT})
def put_line(req):
    """Set a product's quantity in the cart (409 with curr_stock when stock is short).

    200: set; {count}
    404: product not found
    409: {error, curr_stock} not enough stock, or the cart is full
    """
    service.set_quantity(req.principal.id, req.body["id"], req.body["quantity"])
    return Reply({"count": service.count(req.principal.id)})


@routes.route("/api/v1/customer/cart", methods=["DELETE"], guard=guards.customer, body=Spec(), query=query_id(),
              responses={200: COUNT})
def delete_line(req):
    """Remove a product from the cart.

    200: removed
    404: not in the cart
    """
    service.remove(req.principal.id, req.params["id"])
    return Reply({"count": service.count(req.principal.id)})


@routes.route("/api/v1/customer/cart-checked", methods=["POST"], guard=guards.customer, query=Spec(),
              body=Spec(uuid("id"), boolean("state")), responses={200: obj()})
def check_line(req):
    """Select or unselect one line for checkout.

    200: done
    404: not in the cart
    409: not enough stock
    """
    service.set_checked(req.principal.id, req.body["id"], req.body["state"])
    return Reply({})


@routes.route("/api/v1/customer/cart-checked-all", methods=["POST"], guard=guards.customer, query=Spec(),
              body=Spec(boolean("state", required=False),
                        boolean("checkAll", required=False, description="the storefront's toggle (without state)")),
              responses={200: obj("checked", checked=INTEGER)})
def check_all(req):
    """Select or unselect every line ({state}, or the storefront's {checkAll: true} toggle).

    200: {checked}
    """
    body = req.body
    if body["state"] is not None:
        state = body["state"]
    elif body["checkAll"] is not None:
        state = None
    else:
        raise BadRequest("state is required")
    return Reply({"checked": service.set_all_checked(req.principal.id, state)})


@routes.route("/api/v1/customer/cart-count", methods=["GET"], guard=guards.customer, body=Spec(), query=Spec(),
              responses={200: COUNT})
def cart_count(req):
    """Number of lines in the cart: {count}.

    200: {count}
    """
    return Reply({"count": service.count(req.principal.id)}, headers=NO_STORE)
