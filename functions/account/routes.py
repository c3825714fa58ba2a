"""The customer account (/api/v1/customer/...): profile, email-change, address, wishlist, order-review, order."""
import re

from omauth import guards
from omcore.errors import BadRequest
from omcore.http import Reply, Routes
from omcore.validate import parse_uuid

from . import service

routes = Routes(__name__)
NO_STORE = {"Cache-Control": "no-store"}
_PHONE_RE = re.compile(r"^\+?[0-9]{6,15}$")
_POSTAL_RE = re.compile(r"^[1-9][0-9]{4}$")
POSTAL_RULE = "postal_code must be an Indonesian postal code: 5 digits, the first one 1 to 9"


def _query_uuid(req, name="id"):
    value = req.query.get(name)
    if value in (None, ""):
        raise BadRequest(f"{name} is required")
    return parse_uuid(value, name)


def _phone(value):
    if value is not None:
        value = re.sub(r"[\s().-]", "", value)  # "0812-3456 7890" → "081234567890"
    if value is not None and not _PHONE_RE.match(value):
        raise BadRequest("phone_number must be 6 to 15 digits, optionally starting with +")
    return value


# ---- profile

@routes.route("/api/v1/customer/profile", methods=["GET"], guard=guards.customer)
def get_profile(req):
    """The customer's profile."""
    return Reply(service.profile(req.principal.id), headers=NO_STORE)


@routes.route("/api/v1/customer/profile", methods=["PATCH"], guard=guards.customer)
def patch_profile(req):
    """Partial update; a new email answers 202 and mails a code to it (confirm with POST email-change)."""
    body = req.fields()
    changes = {}
    for name in ("first_name", "last_name"):
        value = body.str(name, required=False, max_len=50)
        if value is not None:
            changes[name] = value
    phone = _phone(body.str("phone_number", required=False, max_len=16))
    if phone is not None:
        changes["phone_number"] = phone
    birth_date = body.date("birth_date", required=False)
    if birth_date is not None:
        changes["birth_date"] = birth_date
    # absent, null or "" = unchanged (the storefront sends "" when nothing is picked); anything else must be one of
    # the choices — a wrong JSON type ([] or {}) is a 400 naming the field, never silently ignored
    gender = None if body.data.get("gender") == "" else body.choice("gender", ("male", "female"), required=False)
    if gender is not None:
        changes["gender"] = gender
    result = service.update_profile(req.principal.id, changes, body.email("email", required=False))
    profile = service.profile(req.principal.id)
    if result.get("pending_email"):
        return Reply({**profile, **result}, status=202)
    return Reply(profile)


@routes.route("/api/v1/customer/email-change", methods=["POST"], guard=guards.customer)
def confirm_email(req):
    """Confirm a new email address with the code mailed to it."""
    body = req.fields()
    if body.data.get("code") is None:
        raise BadRequest("code is required")
    return Reply(service.confirm_email_change(req.principal.id, req.principal.sid, body.data["code"], req.client_ip))


# ---- addresses

def _postal_code(body, required: bool):
    """Five digits, the first 1–9 (Indonesian postal codes start at 10110), sent as a string or a JSON number. A
    number is never zero-padded: 123 is not "00123" but an error, like "01234"."""
    value = body.data.get("postal_code")
    if value is None or value == "":
        if required:
            raise BadRequest("postal_code is required")
        return None  # PATCH: absent, null or "" = unchanged
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise BadRequest(POSTAL_RULE)
    value = value.strip()
    if not _POSTAL_RE.match(value):
        raise BadRequest(POSTAL_RULE)
    return value


def _address_fields(body, required: bool) -> dict:
    out = {
        "label": body.str("label", required=required, max_len=30),
        "full_address": body.str("full_address", required=required, max_len=255),
        "recipient_name": body.str("recipient_name", required=required, max_len=50),
        "phone_number": _phone(body.str("phone_number", required=required, max_len=16)),
        "shipping_area_refer": body.int("shipping_area", required=required, min_value=1, max_value=16777215),
        "postal_code": _postal_code(body, required),
    }
    fields = {k: v for k, v in out.items() if v is not None}
    note = body.str("note", required=False, max_len=45, allow_empty=True)
    if required or body.has("note"):
        fields["note"] = note or None  # "" clears the note
    return fields


@routes.route("/api/v1/customer/address", methods=["GET"], guard=guards.customer)
def get_address(req):
    """All addresses, or one with ?id= (with area_id, shipping_area, postal_code)."""
    if req.query.get("id") not in (None, ""):
        return Reply(service.address(req.principal.id, _query_uuid(req)), headers=NO_STORE)
    return Reply(service.addresses(req.principal.id), headers=NO_STORE)


@routes.route("/api/v1/customer/address", methods=["POST"], guard=guards.customer)
def post_address(req):
    """Add an address (shipping_area is a shipping_areas id)."""
    return Reply(service.create_address(req.principal.id, _address_fields(req.fields(), True)))


@routes.route("/api/v1/customer/address", methods=["PATCH"], guard=guards.customer)
def patch_address(req):
    """Partial update of an address (absent, null or empty = unchanged)."""
    body = req.fields()
    address_id = body.uuid("id")
    return Reply(service.update_address(req.principal.id, address_id, _address_fields(body, False)))


@routes.route("/api/v1/customer/address", methods=["DELETE"], guard=guards.customer)
def delete_address(req):
    """Delete an address (past orders keep their snapshot)."""
    service.delete_address(req.principal.id, _query_uuid(req))
    return Reply({})


# ---- wishlist

@routes.route("/api/v1/customer/wishlist", methods=["GET"], guard=guards.customer)
def get_wishlist(req):
    """The wishlist as product cards, or {state} for one product with ?id=."""
    if req.query.get("id") not in (None, ""):
        return Reply({"state": service.wishlist_state(req.principal.id, _query_uuid(req))}, headers=NO_STORE)
    return Reply(service.wishlist(req.principal.id), headers=NO_STORE)


@routes.route("/api/v1/customer/wishlist", methods=["POST"], guard=guards.customer)
def post_wishlist(req):
    """Add ?id= to the wishlist."""
    service.wishlist_add(req.principal.id, _query_uuid(req))
    return Reply({})


@routes.route("/api/v1/customer/wishlist", methods=["DELETE"], guard=guards.customer)
def delete_wishlist(req):
    """Remove ?id= from the wishlist."""
    service.wishlist_remove(req.principal.id, _query_uuid(req))
    return Reply({})


# ---- reviews

@routes.route("/api/v1/customer/order-review", methods=["GET"], guard=guards.customer)
def get_reviews(req):
    """The customer's own reviews."""
    return Reply(service.my_reviews(req.principal.id), headers=NO_STORE)


@routes.route("/api/v1/customer/order-review", methods=["POST"], guard=guards.customer)
def post_review(req):
    """Review a delivered order item ({order_id: order item id, rating 1..5, review?})."""
    body = req.fields()
    result = service.create_review(req.principal.id, body.int("order_id", min_value=1, max_value=2**63 - 1),
                                   body.int("rating", min_value=1, max_value=5),
                                   body.str("review", required=False, max_len=255))
    return Reply(result, status=201)


@routes.route("/api/v1/customer/order-review", methods=["PATCH"], guard=guards.customer)
def patch_review(req):
    """Edit one of the customer's reviews ({id, rating?, review?})."""
    body = req.fields()
    service.update_review(req.principal.id, body.uuid("id"), body.int("rating", required=False, min_value=1,
                                                                          max_value=5),
                          body.str("review", required=False, max_len=255, allow_empty=True))
    return Reply({})


@routes.route("/api/v1/customer/order-review", methods=["DELETE"], guard=guards.customer)
def delete_review(req):
    """Delete one of the customer's reviews (?id=)."""
    service.delete_review(req.principal.id, _query_uuid(req))
    return Reply({})


# ---- orders

@routes.route("/api/v1/customer/order", methods=["GET"], guard=guards.customer)
def get_order(req):
    """Order history (oldest first, or newest first with page/page_size), or one order's detail with ?id=."""
    query = req.query_fields()
    if req.query.get("id") not in (None, ""):
        return Reply(service.order_detail(req.principal.id, query.int("id", min_value=1, max_value=2**63 - 1)),
                     headers=NO_STORE)
    if req.query.get("page") not in (None, "") or req.query.get("page_size") not in (None, ""):
        page = query.int("page", required=False, min_value=1, max_value=100000) or 1
        size = query.int("page_size", required=False, min_value=1, max_value=100) or 20
        return Reply(service.order_list(req.principal.id, page=page, page_size=size), headers=NO_STORE)
    return Reply(service.order_list(req.principal.id), headers=NO_STORE)
