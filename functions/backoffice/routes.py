"""The staff back office under /api/v1/staff/dashboard: inventory (categories, products, stock, images, orders;
inv_user — orders also fin_user) and system (home banners; sys_admin)."""
from omauth import guards
from omcommerce import links, orders
from omcommerce.stock import MAX_STOCK
from omcore.errors import BadRequest
from omcore.http import Reply, Routes
from omcore.spec import (
    BOOLEAN,
    INTEGER,
    NUMBER,
    STRING,
    Multipart,
    Spec,
    any_of,
    arr,
    boolean,
    choice,
    custom,
    date,
    file,
    integer,
    nullable,
    number,
    obj,
    page_of,
    paging,
    query_id,
    text,
    uuid,
)
from omcore.validate import parse_uuid

from . import service

routes = Routes(__name__)

inv = guards.staff("inv_user")
orders_guard = guards.staff("inv_user", "fin_user")
sys_admin = guards.staff("sys_admin")

BASE = "/api/v1/staff/dashboard"
NO_STORE = {"Cache-Control": "no-store"}
UPLOAD_LIMIT = 16 * 1024 * 1024  # the image capability enforces IMAGE_MAX_BYTES (15 MB) on the file itself
MAX_INT = 2**32 - 1
ORDER_ID_MAX = 2**63 - 1
INT_ID = query_id(integer, min=1, max=MAX_INT)

# ---- answers
EMPTY = obj()
CATEGORY = obj("id", "name", "description", "homepage_visibility", id=INTEGER, name=STRING, description=STRING,
               homepage_visibility=BOOLEAN)
PRODUCT_CARD = obj("id", "name", "price", "image", "rating", "sold", "stock", "category_id", id=STRING, name=STRING,
                   price=INTEGER, image=STRING, rating=NUMBER, sold=INTEGER, stock=INTEGER, category_id=INTEGER)
STOCK = obj("stock", stock=INTEGER)
MOVEMENT = obj("id", "delta", "quantity_after", "reason", "order_id", "staff_id", "staff", "note", "created_at",
               id=INTEGER, delta=INTEGER, quantity_after=INTEGER, reason=STRING, order_id=nullable(INTEGER),
               staff_id=nullable(INTEGER), staff=nullable(STRING), note=nullable(STRING), created_at=STRING)
BANNER = obj("id", "image_url", "href", id=INTEGER, image_url=STRING, href=STRING)
ORDER_LINE = obj("id", "created_at", "gross_amount", "status", "wire_status", "item_count", "image", "product_name",
                 "customer", "customer_email", "shipped", "need_refund", "transaction_status", "payment_type",
                 id=INTEGER, created_at=STRING, gross_amount=INTEGER, status=STRING, wire_status=STRING,
                 item_count=INTEGER, image=STRING, product_name=STRING, customer=STRING, customer_email=STRING,
                 shipped=BOOLEAN, need_refund=BOOLEAN, transaction_status=STRING, payment_type=STRING)
ORDER_ITEM = obj("order_id", "id", "name", "price", "weight", "quantity", order_id=INTEGER, id=STRING, name=STRING,
                 price=INTEGER, weight=NUMBER, quantity=INTEGER)
SHIPPED_TO = obj("recipient_name", "phone_number", "full_address", "shipping_area", "postal_code", "note",
                 recipient_name=STRING, phone_number=STRING, full_address=STRING, shipping_area=nullable(STRING),
                 postal_code=nullable(STRING), note=STRING)
HISTORY = obj("from", "to", "actor", "actor_id", "actor_name", "note", "at", **{
    "from": nullable(STRING), "to": STRING, "actor": STRING, "actor_id": nullable(STRING),
    "actor_name": nullable(STRING), "note": STRING, "at": STRING})
ORDER = obj("id", "status", "wire_status", "transaction_status", "status_description", "payment_type", "need_refund",
            "created_at", "customer", "customer_email", "courier", "tracking_code", "item_list", "address_detail",
            "item_cost", "shipping_cost", "total_cost", "next", "paid_at", "status_history",
            id=INTEGER, status=STRING, wire_status=STRING, transaction_status=STRING, status_description=STRING,
            payment_type=STRING, need_refund=BOOLEAN, created_at=STRING, customer=STRING, customer_email=STRING,
            courier=nullable(STRING), tracking_code=STRING, item_list=arr(ORDER_ITEM), address_detail=SHIPPED_TO,
            item_cost=INTEGER, shipping_cost=INTEGER, total_cost=INTEGER, next=arr(STRING), paid_at=nullable(STRING),
            status_history=arr(HISTORY))
TOTALS = obj("count", "gross_amount", count=INTEGER, gross_amount=INTEGER)
SALES_DAY = obj("day", "orders", "revenue", day=STRING, orders=INTEGER, revenue=INTEGER)


# ---- categories

@routes.route(f"{BASE}/inventory/category", methods=["GET"], guard=inv, body=Spec(), query=Spec(),
              responses={200: arr(CATEGORY)})
def list_categories(req):
    """Every category ([] when none).

    200: categories
    """
    return Reply(service.categories(), headers=NO_STORE)


@routes.route(f"{BASE}/inventory/category", methods=["POST"], guard=inv, query=Spec(),
              body=Spec(text("name", max_len=50), text("description", max_len=255), boolean("homepage_visibility")),
              responses={201: obj("id", id=INTEGER)})
def create_category(req):
    """Create a category (a soft-deleted one with the same name is revived).

    201: {id}
    409: duplicate name
    """
    body = req.body
    category_id = service.create_category(body["name"], body["description"], body["homepage_visibility"])
    return Reply({"id": category_id}, status=201)


@routes.route(f"{BASE}/inventory/category", methods=["PATCH"], guard=inv, query=Spec(),
              body=Spec(integer("id", min=1, max=MAX_INT), text("name", required=False, max_len=50),
                        text("description", required=False, max_len=255),
                        boolean("homepage_visibility", required=False)),
              responses={200: EMPTY})
def update_category(req):
    """Partial update (absent or null = unchanged).

    200: updated
    404: not found
    409: duplicate name
    """
    changes = {k: v for k, v in req.body.items() if k != "id" and v is not None}
    service.update_category(req.body["id"], changes)
    return Reply({})


@routes.route(f"{BASE}/inventory/category", methods=["DELETE"], guard=inv, body=Spec(), query=INT_ID,
              responses={200: EMPTY})
def delete_category(req):
    """Soft delete; refused (409) while a product uses the category.

    200: deleted
    409: category is in use
    """
    service.delete_category(req.params["id"])
    return Reply({})


# ---- products

def _weight(value) -> float:
    weight = round(float(value), 2)
    if weight < 0.01:  # 0.004 would round to a weightless 0.00
        raise BadRequest("weight must be at least 0.01")
    return weight


_PRODUCT_COLUMNS = {"category_id": "category_refer", "name": "name", "description": "description", "price": "price",
                    "weight": "weight", "length": "length", "width": "width", "height": "height"}


def _product_spec(required: bool, *leading, trailing=()) -> Spec:
    """Product columns from the form. A price, weight or dimension of 0 is refused (400 naming the field): a free
    product cannot be paid through Midtrans and a weightless or flat one breaks the freight quote. The price tops
    out at the column's INT UNSIGNED; checkout bounds price x quantity (omcommerce.orders.MAX_ORDER_AMOUNT)."""
    return Spec(*leading,
                integer("category_id", required=required, min=1, max=MAX_INT),
                text("name", required=required, max_len=85), text("description", required=required, max_len=300),
                integer("price", required=required, min=1, max=MAX_INT),
                number("weight", required=required, min=0.01, max=99999999, then=_weight),
                integer("length", required=required, min=1, max=65535),
                integer("width", required=required, min=1, max=65535),
                integer("height", required=required, min=1, max=65535), *trailing)


def _product_fields(body: dict) -> dict:
    return {column: body[name] for name, column in _PRODUCT_COLUMNS.items() if body[name] is not None}


@routes.route(f"{BASE}/inventory/product-1", methods=["POST"], guard=inv, query=Spec(),
              body=_product_spec(True, trailing=(integer("initial_stock", min=0, max=MAX_STOCK),)),
              responses={201: obj("id", id=STRING)})
def create_product(req):
    """Create a product (step 1; stock 0 allowed). Answers 201 {id}.

    201: {id}
    400: a field out of range (the error names it), e.g. price, weight or a dimension of 0
    409: duplicate name / category not found
    """
    product_id = service.create_product(_product_fields(req.body), req.body["initial_stock"], req.principal.id)
    return Reply({"id": product_id}, status=201)


@routes.route(f"{BASE}/inventory/product-1", methods=["PATCH"], guard=inv, query=Spec(),
              body=_product_spec(False, uuid("id"), integer("stock", required=False, min=0, max=MAX_STOCK),
                                 integer("expected", required=False, min=0, max=MAX_INT,
                                         description="with stock: the stock the client last saw (409 if not)")),
              responses={200: EMPTY})
def update_product(req):
    """Partial update: absent or null = unchanged; `stock` sets the quantity (no-op if equal). With `expected`, the
    stock write is guarded exactly like PUT inventory/stock: 409 with `curr_stock` (and nothing changed) when the
    stock is no longer `expected`.

    200: updated
    400: a field out of range (the error names it), e.g. price, weight or a dimension of 0
    404: not found
    409: {error, curr_stock}: stock changed since read (with expected); duplicate name / category not found
    """
    body = req.body
    if body["expected"] is not None and body["stock"] is None:
        raise BadRequest("expected is only meaningful with stock")
    service.update_product(body["id"], _product_fields(body), body["stock"], req.principal.id,
                           expected=body["expected"])
    return Reply({})


@routes.route(f"{BASE}/inventory/product", methods=["DELETE"], guard=inv, body=Spec(), query=query_id(),
              responses={200: EMPTY})
def delete_product(req):
    """Soft delete; removes cart lines, wishlist rows and images.

    200: soft-deleted
    404: not found
    """
    service.delete_product(req.params["id"])
    return Reply({})


@routes.route(f"{BASE}/inventory/product", methods=["GET"], guard=inv, body=Spec(),
              query=Spec(*paging(), integer("category", required=False, min=1, max=MAX_INT),
                         text("search", required=False, max_len=100, clip=True)),
              responses={200: arr(PRODUCT_CARD)})
def list_products(req):
    """Every product of every category (cards + stock, category_id); paginated with page/page_size.

    200: every product
    """
    params = req.params
    return Reply(service.product_list(page=params["page"], page_size=params["page_size"] or 20,
                                      search=params["search"], category=params["category"]), headers=NO_STORE)


# ---- stock

@routes.route(f"{BASE}/inventory/stock", methods=["POST"], guard=inv, query=Spec(),
              body=Spec(uuid("product_id"), integer("delta", min=-MAX_STOCK, max=MAX_STOCK),
                        text("note", required=False, max_len=255)),
              responses={200: STOCK})
def adjust_stock(req):
    """Relative stock change {product_id, delta, note?} (409 below zero).

    200: {stock}
    409: {error, curr_stock}: below zero or above 2147483647
    """
    body = req.body
    quantity = service.adjust_stock(body["product_id"], body["delta"], req.principal.id, body["note"])
    return Reply({"stock": quantity})


@routes.route(f"{BASE}/inventory/stock", methods=["PUT"], guard=inv, query=Spec(),
              body=Spec(uuid("product_id"), integer("quantity", min=0, max=MAX_STOCK),
                        integer("expected", min=0, max=MAX_INT), text("note", required=False, max_len=255)),
              responses={200: STOCK})
def set_stock(req):
    """Guarded absolute set {product_id, quantity, expected, note?} (409 with curr_stock when stale).

    200: {stock}
    409: {error, curr_stock}: stale
    """
    body = req.body
    quantity = service.set_stock(body["product_id"], body["quantity"], body["expected"], req.principal.id,
                                 body["note"])
    return Reply({"stock": quantity})


@routes.route(f"{BASE}/inventory/stock-movements", methods=["GET"], guard=inv, body=Spec(),
              query=Spec(uuid("product_id"), *paging()),
              responses={200: arr(MOVEMENT)})
def stock_movements(req):
    """A product's stock movements, newest first (who, why, how much).

    200: movements
    """
    page, size = page_of(req.params, 50)
    return Reply(service.stock_movements(req.params["product_id"], page, size), headers=NO_STORE)


# ---- images

@routes.route(f"{BASE}/inventory/product-2", methods=["POST"], guard=inv, query=Spec(),
              body=Multipart(file("picture"), uuid("product_id"), max_bytes=UPLOAD_LIMIT),
              responses={201: obj("file", file=STRING)})
def add_product_image(req):
    """Add one image to a product (multipart: product_id, picture). Answers 201 {file}.

    201: {file}
    400: not an image
    413: too large
    """
    return Reply({"file": service.add_product_image(req.body["product_id"], req.body["picture"])}, status=201)


@routes.route(f"{BASE}/inventory/product-2", methods=["DELETE"], guard=inv, query=Spec(),
              body=Spec(uuid("product_id"), text("file_name", max_len=41, description="<uuid>.webp")),
              responses={200: EMPTY})
def delete_product_image(req):
    """Remove an image {product_id, file_name} from a product.

    200: removed
    404: not this product's image
    """
    service.delete_product_image(req.body["product_id"], req.body["file_name"])
    return Reply({})


HREF_RULE = links.RULE


def _href(value):
    href = links.safe_href(value)  # same-site paths, or https on BANNER_HREF_HOSTS (not //host or /\\host)
    if href is None:
        raise BadRequest(HREF_RULE)
    return href


@routes.route(f"{BASE}/system/home-banner", methods=["POST"], guard=sys_admin, query=Spec(),
              body=Multipart(file("picture"),
                             custom("href", _href,
                                    {"type": "string", "maxLength": 255, "pattern": "^(/([^/\\\\]|$)|https://)"},
                                    blank=True, missing=HREF_RULE),
                             max_bytes=UPLOAD_LIMIT),
              responses={201: BANNER})
def add_banner(req):
    """Add a homepage banner (multipart: picture, href).

    201: {id, image_url, href}
    """
    return Reply(service.add_banner(req.body["picture"], req.body["href"]), status=201)


@routes.route(f"{BASE}/system/home-banner", methods=["DELETE"], guard=sys_admin,
              query=query_id(integer, required=False, min=1, max=MAX_INT),
              body=Spec(integer("id", min=1, max=MAX_INT), optional=True,
                        description="the banner's id when the query has none (as the staff UI sends it)"),
              responses={200: EMPTY})
def delete_banner(req):
    """Delete a banner (id in the JSON body, as the staff UI sends it, or in the query).

    200: deleted
    404: not found
    """
    banner_id = req.params["id"]
    if banner_id is None:
        banner_id = req.body["id"]
    service.delete_banner(banner_id)
    return Reply({})


# ---- orders

def _customer(value):
    """An order's customer: an email address as given, or a customer UUID."""
    customer = value.strip() if isinstance(value, str) else value
    if customer and isinstance(customer, str) and "@" in customer:
        return customer
    return str(parse_uuid(customer, "customer")) if customer else None


def _order_filters():
    return (choice("status", orders.STATUSES, required=False), date("from", required=False),
            date("to", required=False),
            custom("customer", _customer, {"type": "string", "maxLength": 254}, required=False,
                   description="a customer's UUID or email address"),
            text("q", required=False, max_len=100, clip=True,
                 description="an order number (`1042` or `#1042`) or part of the customer's email"))


def _filter_args(params: dict) -> dict:
    return {"status": params["status"], "date_from": params["from"], "date_to": params["to"],
            "customer": params["customer"], "search": params["q"]}


@routes.route(f"{BASE}/inventory/order", methods=["GET"], guard=orders_guard, body=Spec(),
              query=Spec(integer("id", required=False, min=1, max=MAX_INT), *paging(), *_order_filters()),
              responses={200: any_of(arr(ORDER_LINE), ORDER)})
def get_orders(req):
    """Orders newest first (filters: status, from, to, customer uuid or email, q; page/page_size), or ?id= detail
    (with `next`: the statuses staff may move it to now, and the status history: who, when).

    200: orders, or one with ?id=
    """
    params = req.params
    if params["id"] is not None:
        return Reply(service.order_detail(params["id"]), headers=NO_STORE)
    page, size = page_of(params)
    return Reply(service.order_list(page=page, page_size=size, **_filter_args(params)), headers=NO_STORE)


@routes.route(f"{BASE}/inventory/order-totals", methods=["GET"], guard=orders_guard, body=Spec(),
              query=Spec(*_order_filters()),
              responses={200: TOTALS})
def order_totals(req):
    """How many orders the filters of GET inventory/order match, and their gross amount together.

    200: {count, gross_amount}
    """
    return Reply(service.order_totals(**_filter_args(req.params)), headers=NO_STORE)


@routes.route(f"{BASE}/inventory/sales", methods=["GET"], guard=orders_guard, body=Spec(),
              query=Spec(integer("days", required=False, min=1, max=366, description="default 30")),
              responses={200: arr(SALES_DAY)})
def sales(req):
    """Orders paid and revenue per UTC day for the last `days` days (today included, oldest first, zero days kept).

    200: [{day, orders, revenue}]
    """
    return Reply(service.sales_per_day(req.params["days"] or 30), headers=NO_STORE)


# an order moved by staff (omcommerce.orders.move): its id and new state
MOVED = obj("id", "status", id=INTEGER, status={"type": "string", "enum": list(orders.STATUSES)})


@routes.route(f"{BASE}/inventory/order", methods=["PATCH"], guard=orders_guard, query=Spec(),
              body=Spec(integer("id", min=1, max=ORDER_ID_MAX), choice("status", service.STAFF_TARGETS),
                        text("tracking_code", required=False, max_len=64), text("note", required=False, max_len=255)),
              responses={200: MOVED}, errors={409: ("illegal_transition",)})
def patch_order(req):
    """Move an order through the state machine {id, status, tracking_code?, note?} (409 when illegal).

    200: {id, status}
    409: illegal transition {error, current_status}
    """
    body = req.body
    result = service.change_order_status(body["id"], body["status"], req.principal.id, body["tracking_code"],
                                         body["note"])
    return Reply(result)


@routes.route(f"{BASE}/inventory/ship", methods=["POST"], guard=orders_guard, query=Spec(),
              body=Spec(integer("order_id", min=1, max=ORDER_ID_MAX), text("tracking_code", max_len=64)),
              responses={200: MOVED}, errors={409: ("illegal_transition",)})
def ship(req):
    """v1: mark an order shipped {order_id, tracking_code} (a paid order is packed on the way).

    200: shipped
    409: illegal transition
    """
    return Reply(service.ship(req.body["order_id"], req.principal.id, req.body["tracking_code"]))
