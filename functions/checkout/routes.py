"""Checkout: GET /customer/pre-items, GET /customer/pre-freight, POST/DELETE /customer/checkout."""
from omauth import guards
from omcore.http import Reply, Routes
from omcore.spec import INTEGER, STRING, Spec, arr, integer, obj, pattern, query_id, text, uuid

from . import service

routes = Routes(__name__)
PRE_ITEM = obj("id", "name", "price", "image", "quantity", id=STRING, name=STRING, price=INTEGER, image=STRING,
               quantity=INTEGER)
FREIGHT_CHOICE = obj("product_code", "courier_name", "product_name", "etd", "rates", product_code=STRING,
                     courier_name=STRING, product_name=STRING, etd=STRING, rates=INTEGER)
PAYMENT_PAGE = obj("token", "redirect_url", "order_id", token=STRING, redirect_url=STRING, order_id=INTEGER)
CANCELLED = obj("id", "status", id=INTEGER, status=STRING)
CHECKOUT_409 = ("nothing_selected", "out_of_stock", "cart_changed", "quantity_limit", "too_many_unpaid",
                "amount_too_large", "invalid_courier", "checkout_in_progress", "checkout_ended",
                "unpaid_units_limit")
NO_STORE = {"Cache-Control": "no-store"}
IDEMPOTENCY_KEY = pattern("Idempotency-Key", r"^[A-Za-z0-9_.:-]{8,80}$",
                          "Idempotency-Key must be 8 to 80 letters, digits or . _ : -", required=False,
                          description="a repeated submit with the same key returns the first order")


@routes.route("/api/v1/customer/pre-items", methods=["GET"], guard=guards.customer, body=Spec(), query=Spec(),
              responses={200: arr(PRE_ITEM)}, errors={409: ("nothing_selected",)})
def pre_items(req):
    """The checked, in-stock cart lines that checkout will order.

    200: [{id, name, price, image, quantity}]
    409: nothing selected
    """
    return Reply(service.pre_items(req.principal.id), headers=NO_STORE)


@routes.route("/api/v1/customer/pre-freight", methods=["GET"], guard=guards.customer, body=Spec(),
              query=query_id(description="one of the customer's addresses"),
              responses={200: arr(FREIGHT_CHOICE)}, errors={409: ("nothing_selected",)})
def pre_freight(req):
    """Shipping choices for the checked lines to one of the customer's addresses (?id=).

    200: [{product_code, courier_name, product_name, etd, rates}]
    404: address not found / no rates
    409: nothing selected
    """
    return Reply(service.pre_freight(req.principal.id, req.params["id"]), headers=NO_STORE)


@routes.route("/api/v1/customer/checkout", methods=["POST"], guard=guards.customer, query=Spec(),
              body=Spec(uuid("address_code"), text("courier_code", max_len=64)), headers=Spec(IDEMPOTENCY_KEY),
              responses={200: PAYMENT_PAGE},
              errors={409: CHECKOUT_409, 422: ("idempotency_key_reused",), 502: ("payment_provider_unavailable",)})
def checkout(req):
    """Place the order, reserve its stock and open the Midtrans payment: {token, redirect_url}.
    An Idempotency-Key header makes a repeated submit return the first order (422 when the key was first used with
    another body). 409 when the customer already has MAX_UNPAID_ORDERS_PER_CUSTOMER unpaid orders, a line is above
    CART_MAX_QUANTITY or the total is above the payment ceiling.

    200: {token, redirect_url, order_id}
    409: invalid courier, nothing selected, not enough stock ({products}), too many unpaid orders ({unpaid_orders,
        max_unpaid_orders}), more than CART_MAX_QUANTITY units of a product ({products}) or an order total above
        99,999,999,999 IDR ({max_amount})
    422: the Idempotency-Key was already used for another checkout request (another body)
    502: payment provider unavailable; nothing reserved
    """
    body = req.body
    key = req.header_values["Idempotency-Key"]
    return Reply(service.place_order(req.principal.id, body["address_code"], body["courier_code"], key),
                 headers=NO_STORE)


@routes.route("/api/v1/customer/checkout", methods=["DELETE"], guard=guards.customer, body=Spec(),
              query=query_id(integer, min=1, max=2**63 - 1), responses={200: CANCELLED},
              errors={409: ("illegal_transition",)})
def cancel(req):
    """Cancel an unpaid order (?id=) and release its stock (idempotent).

    200: cancelled (idempotent)
    404: not your order
    409: already paid
    """
    return Reply(service.cancel(req.principal.id, req.params["id"]))
