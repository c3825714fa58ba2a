"""The customer account (/api/v1/customer/...): profile, email-change, address, wishlist, order-review, order."""
import re

from omauth import guards
from omcore.errors import BadRequest
from omcore.http import Reply, Routes
from omcore.spec import (
    BOOLEAN,
    INTEGER,
    NUMBER,
    STRING,
    Spec,
    any_of,
    anything,
    arr,
    choice,
    custom,
    date,
    email,
    integer,
    nullable,
    obj,
    page_of,
    paged,
    paging,
    query_id,
    text,
    uuid,
)
from omcore.validate import plausible_birth_date

from . import service

routes = Routes(__name__)
NO_STORE = {"Cache-Control": "no-store"}
_PHONE_RE = re.compile(r"^\+?[0-9]{6,15}$")
POSTAL_PATTERN = r"^[1-9][0-9]{4}$"
_POSTAL_RE = re.compile(POSTAL_PATTERN)
POSTAL_RULE = "postal_code must be an Indonesian postal code: 5 digits, the first one 1 to 9"
GENDERS = ("male", "female")
ORDER_ID_MAX = 2**63 - 1


def _phone(value):
    value = re.sub(r"[\s().-]", "", value)  # "0812-3456 7890" → "081234567890"
    if not _PHONE_RE.match(value):
        raise BadRequest("phone_number must be 6 to 15 digits, optionally starting with +")
    return value


def _postal_code(value):
    """Five digits, the first 1–9 (Indonesian postal codes start at 10110), sent as a string or a JSON number. A
    number is never zero-padded: 123 is not "00123" but an error, like "01234"."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise BadRequest(POSTAL_RULE)
    value = value.strip()
    if not _POSTAL_RE.match(value):
        raise BadRequest(POSTAL_RULE)
    return value


POSTAL_SCHEMA = {"description": "an Indonesian postal code: 5 digits, the first one 1 to 9",
                 "oneOf": [{"type": "string", "pattern": POSTAL_PATTERN},
                           {"type": "integer", "minimum": 10000, "maximum": 99999}]}
ONE_TIME_CODE = {"oneOf": [{"type": "integer", "minimum": 100000, "maximum": 999999},
                           {"type": "string", "pattern": "^[0-9]{6}$"}]}


# ---- profile

PROFILE = obj("email", "phone_number", "first_name", "last_name", "birth_date", "gender", email=STRING,
              phone_number=STRING, first_name=STRING, last_name=STRING, birth_date=nullable(STRING), gender=STRING)


PENDING_PROFILE = {**PROFILE, "required": PROFILE["required"] + ["pending_email"],
                   "properties": {**PROFILE["properties"], "pending_email": STRING}}
EMPTY = obj()

# ---- answers of the other parts
ADDRESS_LINE = obj("id", "label", "full_address", "note", "recipient_name", "phone_number", id=STRING, label=STRING,
                   full_address=STRING, note=STRING, recipient_name=STRING, phone_number=STRING)
ADDRESS = {**ADDRESS_LINE, "required": ADDRESS_LINE["required"] + ["shipping_area", "area_id", "postal_code"],
           "properties": {**ADDRESS_LINE["properties"], "shipping_area": nullable(STRING), "area_id": INTEGER,
                          "postal_code": nullable(STRING)}}
CARD = obj("id", "name", "price", "image", "rating", "sold", id=STRING, name=STRING, price=INTEGER, image=STRING,
           rating=NUMBER, sold=INTEGER)
REVIEW = obj("id", "product_id", "product_name", "product_image", "rating", "review", "created_at", id=STRING,
             product_id=STRING, product_name=STRING, product_image=STRING, rating=INTEGER, review=STRING,
             created_at=STRING)
ORDER_LINE = obj("id", "created_at", "gross_amount", "status", "item_count", "image", "product_name", "reviewed",
                 id=INTEGER, created_at=STRING, gross_amount=INTEGER, status=STRING, item_count=INTEGER, image=STRING,
                 product_name=STRING, reviewed=BOOLEAN)
ORDER_ITEM = obj("order_id", "id", "name", "price", "image", "quantity", "reviewed", order_id=INTEGER, id=STRING,
                 name=STRING, price=INTEGER, image=STRING, quantity=INTEGER, reviewed=BOOLEAN)
SHIPPED_TO = obj("recipient_name", "phone_number", "full_address", "shipping_area", "postal_code",
                 recipient_name=STRING, phone_number=STRING, full_address=STRING, shipping_area=nullable(STRING),
                 postal_code=nullable(STRING))
ORDER = obj("id", "status", "status_description", "payment_type", "created_at", "item_list", "courier",
            "tracking_code", "address_detail", "item_cost", "shipping_cost", "total_cost", "status_history",
            id=INTEGER, status=STRING, status_description=STRING, payment_type=STRING, created_at=STRING,
            item_list=arr(ORDER_ITEM), courier=nullable(STRING), tracking_code=STRING, address_detail=SHIPPED_TO,
            item_cost=INTEGER, shipping_cost=INTEGER, total_cost=INTEGER,
            status_history=arr(obj("status", "at", status=STRING, at=STRING)),
            payment_url={"type": "string", "description": "only while the order can still be paid"})


@routes.route("/api/v1/customer/profile", methods=["GET"], guard=guards.customer, body=Spec(), query=Spec(),
              responses={200: PROFILE})
def get_profile(req):
    """The customer's profile.

    200: profile
    """
    return Reply(service.profile(req.principal.id), headers=NO_STORE)


PROFILE_CHANGES = ("first_name", "last_name", "phone_number", "birth_date", "gender")


# absent, null or "" gender = unchanged (the storefront sends "" when nothing is picked); anything else must be one
# of the choices — a wrong JSON type ([] or {}) is a 400 naming the field, never silently ignored
@routes.route("/api/v1/customer/profile", methods=["PATCH"], guard=guards.customer, query=Spec(),
              body=Spec(text("first_name", required=False, max_len=50), text("last_name", required=False, max_len=50),
                        text("phone_number", required=False, max_len=16, then=_phone),
                        date("birth_date", required=False, then=plausible_birth_date), choice("gender", GENDERS, required=False, blank=True),
                        email("email", required=False)),
              responses={200: PROFILE, 202: PENDING_PROFILE})
def patch_profile(req):
    """Partial update; a new email answers 202 and mails a code to it (confirm with POST email-change).

    200: updated
    202: email change pending: a code was mailed to the new address (the same answer when the address already has an
        account: that address gets a notice instead)
    409: phone number used by another account
    400: a field of the wrong type or value (the error names it)
    """
    body = req.body
    changes = {name: body[name] for name in PROFILE_CHANGES if body[name] is not None}
    result = service.update_profile(req.principal.id, changes, body["email"])
    profile = service.profile(req.principal.id)
    if result.get("pending_email"):
        return Reply({**profile, **result}, status=202)
    return Reply(profile)


@routes.route("/api/v1/customer/email-change", methods=["POST"], guard=guards.customer, query=Spec(),
              body=Spec(anything("code", ONE_TIME_CODE)),
              responses={200: PROFILE})
def confirm_email(req):
    """Confirm a new email address with the code mailed to it.

    200: email changed; the old address is notified and every other session ends
    401: wrong code
    429: too many wrong codes (per code, per account per day) or code checks from this client
    """
    return Reply(service.confirm_email_change(req.principal.id, req.principal.sid, req.body["code"], req.client_ip))


# ---- addresses

def _address_spec(required: bool, *leading) -> Spec:
    """A new address (every field required) or a partial update (absent, null or "" = unchanged)."""
    return Spec(*leading,
                text("label", required=required, max_len=30), text("full_address", required=required, max_len=255),
                text("recipient_name", required=required, max_len=50),
                text("phone_number", required=required, max_len=16, then=_phone),
                integer("shipping_area", required=required, min=1, max=16777215,
                        description="a shipping_areas id"),
                custom("postal_code", _postal_code, POSTAL_SCHEMA, required=required, blank=True),
                text("note", required=False, max_len=45, allow_empty=True, description='"" clears the note'))


_ADDRESS_COLUMNS = {"label": "label", "full_address": "full_address", "recipient_name": "recipient_name",
                    "phone_number": "phone_number", "shipping_area": "shipping_area_refer",
                    "postal_code": "postal_code"}


def _address_fields(body: dict, required: bool) -> dict:
    fields = {column: body[name] for name, column in _ADDRESS_COLUMNS.items() if body[name] is not None}
    if required or body["note"] is not None:
        fields["note"] = body["note"] or None  # "" clears the note
    return fields


@routes.route("/api/v1/customer/address", methods=["GET"], guard=guards.customer, body=Spec(),
              query=query_id(required=False),
              responses={200: any_of(arr(ADDRESS_LINE), ADDRESS)})
def get_address(req):
    """All addresses, or one with ?id= (with area_id, shipping_area, postal_code).

    200: list, or one address with ?id=
    """
    if req.params["id"] is not None:
        return Reply(service.address(req.principal.id, req.params["id"]), headers=NO_STORE)
    return Reply(service.addresses(req.principal.id), headers=NO_STORE)


@routes.route("/api/v1/customer/address", methods=["POST"], guard=guards.customer, body=_address_spec(True),
              query=Spec(),
              responses={200: ADDRESS})
def post_address(req):
    """Add an address (shipping_area is a shipping_areas id).

    200: created
    409: {error, message}
    """
    return Reply(service.create_address(req.principal.id, _address_fields(req.body, True)))


@routes.route("/api/v1/customer/address", methods=["PATCH"], guard=guards.customer,
              body=_address_spec(False, uuid("id")), query=Spec(),
              responses={200: ADDRESS})
def patch_address(req):
    """Partial update of an address (absent, null or empty = unchanged).

    200: updated
    404: not found
    """
    return Reply(service.update_address(req.principal.id, req.body["id"], _address_fields(req.body, False)))


@routes.route("/api/v1/customer/address", methods=["DELETE"], guard=guards.customer, body=Spec(), query=query_id(),
              responses={200: EMPTY})
def delete_address(req):
    """Delete an address (past orders keep their snapshot).

    200: deleted
    404: not found
    """
    service.delete_address(req.principal.id, req.params["id"])
    return Reply({})


# ---- wishlist

@routes.route("/api/v1/customer/wishlist", methods=["GET"], guard=guards.customer, body=Spec(),
              query=query_id(required=False),
              responses={200: any_of(arr(CARD), obj("state", state=BOOLEAN))})
def get_wishlist(req):
    """The wishlist as product cards, or {state} for one product with ?id=.

    200: cards, or {state} with ?id=
    """
    if req.params["id"] is not None:
        return Reply({"state": service.wishlist_state(req.principal.id, req.params["id"])}, headers=NO_STORE)
    return Reply(service.wishlist(req.principal.id), headers=NO_STORE)


@routes.route("/api/v1/customer/wishlist", methods=["POST"], guard=guards.customer, body=Spec(), query=query_id(),
              responses={200: EMPTY})
def post_wishlist(req):
    """Add ?id= to the wishlist.

    200: added
    404: product not found
    409: already in wishlist
    """
    service.wishlist_add(req.principal.id, req.params["id"])
    return Reply({})


@routes.route("/api/v1/customer/wishlist", methods=["DELETE"], guard=guards.customer, body=Spec(), query=query_id(),
              responses={200: EMPTY})
def delete_wishlist(req):
    """Remove ?id= from the wishlist.

    200: removed
    404: not in wishlist
    """
    service.wishlist_remove(req.principal.id, req.params["id"])
    return Reply({})


# ---- reviews

@routes.route("/api/v1/customer/order-review", methods=["GET"], guard=guards.customer, body=Spec(), query=Spec(),
              responses={200: arr(REVIEW)})
def get_reviews(req):
    """The customer's own reviews.

    200: own reviews
    """
    return Reply(service.my_reviews(req.principal.id), headers=NO_STORE)


@routes.route("/api/v1/customer/order-review", methods=["POST"], guard=guards.customer, query=Spec(),
              body=Spec(integer("order_id", min=1, max=ORDER_ID_MAX, description="the order item's id"),
                        integer("rating", min=1, max=5), text("review", required=False, max_len=255)),
              responses={201: obj("id", id=STRING)})
def post_review(req):
    """Review a delivered order item ({order_id: order item id, rating 1..5, review?}).

    201: {id}
    404: not your order item
    409: not delivered yet, or already reviewed
    """
    body = req.body
    result = service.create_review(req.principal.id, body["order_id"], body["rating"], body["review"])
    return Reply(result, status=201)


@routes.route("/api/v1/customer/order-review", methods=["PATCH"], guard=guards.customer, query=Spec(),
              body=Spec(uuid("id"), integer("rating", required=False, min=1, max=5),
                        text("review", required=False, max_len=255, allow_empty=True)),
              responses={200: EMPTY})
def patch_review(req):
    """Edit one of the customer's reviews ({id, rating?, review?}).

    200: updated
    404: not found
    """
    body = req.body
    service.update_review(req.principal.id, body["id"], body["rating"], body["review"])
    return Reply({})


@routes.route("/api/v1/customer/order-review", methods=["DELETE"], guard=guards.customer, body=Spec(),
              query=query_id(),
              responses={200: EMPTY})
def delete_review(req):
    """Delete one of the customer's reviews (?id=).

    200: deleted
    404: not found
    """
    service.delete_review(req.principal.id, req.params["id"])
    return Reply({})


# ---- orders

@routes.route("/api/v1/customer/order", methods=["GET"], guard=guards.customer, body=Spec(),
              query=Spec(integer("id", required=False, min=1, max=ORDER_ID_MAX), *paging()),
              responses={200: any_of(arr(ORDER_LINE), ORDER)})
def get_order(req):
    """Order history (oldest first, or newest first with page/page_size), or one order's detail with ?id=.

    200: orders (v1 order without paging), or one order with ?id=
    404: not found
    """
    params = req.params
    if params["id"] is not None:
        return Reply(service.order_detail(req.principal.id, params["id"]), headers=NO_STORE)
    if paged(params):
        page, size = page_of(params)
        return Reply(service.order_list(req.principal.id, page=page, page_size=size), headers=NO_STORE)
    return Reply(service.order_list(req.principal.id), headers=NO_STORE)
