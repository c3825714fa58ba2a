"""The staff back office under /api/v1/staff/dashboard: inventory (categories, products, stock, images, orders;
inv_user — orders also fin_user) and system (home banners; sys_admin)."""
from omauth import guards
from omcommerce import orders
from omcommerce.stock import MAX_STOCK
from omcore import multipart
from omcore.errors import BadRequest
from omcore.http import Reply, Routes
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


def _query_int(req, name="id", required=True):
    if req.query.get(name) in (None, ""):
        if required:
            raise BadRequest(f"{name} is required")
        return None
    return req.query_fields().int(name, min_value=1, max_value=MAX_INT)


def _paging(req, default_size=20):
    query = req.query_fields()
    page = query.int("page", required=False, min_value=1, max_value=100000) if req.query.get("page") else None
    size = query.int("page_size", required=False, min_value=1, max_value=100) if req.query.get("page_size") else None
    return page, size or default_size


# ---- categories

@routes.route(f"{BASE}/inventory/category", methods=["GET"], guard=inv)
def list_categories(req):
    """Every category ([] when none)."""
    return Reply(service.categories(), headers=NO_STORE)


@routes.route(f"{BASE}/inventory/category", methods=["POST"], guard=inv)
def create_category(req):
    """Create a category (a soft-deleted one with the same name is revived)."""
    body = req.fields()
    category_id = service.create_category(body.str("name", max_len=50), body.str("description", max_len=255),
                                          body.bool("homepage_visibility"))
    return Reply({"id": category_id}, status=201)


@routes.route(f"{BASE}/inventory/category", methods=["PATCH"], guard=inv)
def update_category(req):
    """Partial update (absent or null = unchanged)."""
    body = req.fields()
    category_id = body.int("id", min_value=1, max_value=MAX_INT)
    changes = {"name": body.str("name", required=False, max_len=50),
               "description": body.str("description", required=False, max_len=255),
               "homepage_visibility": body.bool("homepage_visibility", required=False)}
    service.update_category(category_id, {k: v for k, v in changes.items() if v is not None})
    return Reply({})


@routes.route(f"{BASE}/inventory/category", methods=["DELETE"], guard=inv)
def delete_category(req):
    """Soft delete; refused (409) while a product uses the category."""
    service.delete_category(_query_int(req))
    return Reply({})


# ---- products

def _product_fields(body, required: bool) -> dict:
    """Product columns from the form. A price, weight or dimension of 0 is refused (400 naming the field): a free
    product cannot be paid through Midtrans and a weightless or flat one breaks the freight quote. The price tops
    out at the column's INT UNSIGNED; checkout bounds price x quantity (omcommerce.orders.MAX_ORDER_AMOUNT)."""
    fields = {
        "category_refer": body.int("category_id", required=required, min_value=1, max_value=MAX_INT),
        "name": body.str("name", required=required, max_len=85),
        "description": body.str("description", required=required, max_len=300),
        "price": body.int("price", required=required, min_value=1, max_value=MAX_INT),
        "weight": body.number("weight", required=required, min_value=0.01, max_value=99999999),
        "length": body.int("length", required=required, min_value=1, max_value=65535),
        "width": body.int("width", required=required, min_value=1, max_value=65535),
        "height": body.int("height", required=required, min_value=1, max_value=65535),
    }
    if fields["weight"] is not None:
        fields["weight"] = round(float(fields["weight"]), 2)
        if fields["weight"] < 0.01:  # 0.004 would round to a weightless 0.00
            raise BadRequest("weight must be at least 0.01")
    return {k: v for k, v in fields.items() if v is not None}


@routes.route(f"{BASE}/inventory/product-1", methods=["POST"], guard=inv)
def create_product(req):
    """Create a product (step 1; stock 0 allowed). Answers 201 {id}."""
    body = req.fields()
    fields = _product_fields(body, True)
    initial = body.int("initial_stock", min_value=0, max_value=MAX_STOCK)
    return Reply({"id": service.create_product(fields, initial, req.principal.id)}, status=201)


@routes.route(f"{BASE}/inventory/product-1", methods=["PATCH"], guard=inv)
def update_product(req):
    """Partial update: absent or null = unchanged; `stock` sets the quantity (no-op if equal). With `expected`, the
    stock write is guarded exactly like PUT inventory/stock: 409 with `curr_stock` (and nothing changed) when the
    stock is no longer `expected`."""
    body = req.fields()
    product_id = body.uuid("id")
    stock = body.int("stock", required=False, min_value=0, max_value=MAX_STOCK)
    expected = body.int("expected", required=False, min_value=0, max_value=MAX_INT)
    if expected is not None and stock is None:
        raise BadRequest("expected is only meaningful with stock")
    service.update_product(product_id, _product_fields(body, False), stock, req.principal.id, expected=expected)
    return Reply({})


@routes.route(f"{BASE}/inventory/product", methods=["DELETE"], guard=inv)
def delete_product(req):
    """Soft delete; removes cart lines, wishlist rows and images."""
    if req.query.get("id") in (None, ""):
        raise BadRequest("id is required")
    service.delete_product(parse_uuid(req.query["id"]))
    return Reply({})


@routes.route(f"{BASE}/inventory/product", methods=["GET"], guard=inv)
def list_products(req):
    """Every product of every category (cards + stock, category_id); paginated with page/page_size."""
    page, size = _paging(req)
    category = _query_int(req, "category", required=False)
    search = (req.query.get("search") or "").strip()[:100] or None
    return Reply(service.product_list(page=page, page_size=size, search=search, category=category),
                 headers=NO_STORE)


# ---- stock

@routes.route(f"{BASE}/inventory/stock", methods=["POST"], guard=inv)
def adjust_stock(req):
    """Relative stock change {product_id, delta, note?} (409 below zero)."""
    body = req.fields()
    quantity = service.adjust_stock(body.uuid("product_id"),
                                    body.int("delta", min_value=-MAX_STOCK, max_value=MAX_STOCK),
                                    req.principal.id, body.str("note", required=False, max_len=255))
    return Reply({"stock": quantity})


@routes.route(f"{BASE}/inventory/stock", methods=["PUT"], guard=inv)
def set_stock(req):
    """Guarded absolute set {product_id, quantity, expected, note?} (409 with curr_stock when stale)."""
    body = req.fields()
    quantity = service.set_stock(body.uuid("product_id"), body.int("quantity", min_value=0, max_value=MAX_STOCK),
                                 body.int("expected", min_value=0, max_value=MAX_INT), req.principal.id,
                                 body.str("note", required=False, max_len=255))
    return Reply({"stock": quantity})


@routes.route(f"{BASE}/inventory/stock-movements", methods=["GET"], guard=inv)
def stock_movements(req):
    """A product's stock movements, newest first (who, why, how much)."""
    if req.query.get("product_id") in (None, ""):
        raise BadRequest("product_id is required")
    page, size = _paging(req, 50)
    return Reply(service.stock_movements(parse_uuid(req.query["product_id"], "product_id"), page or 1, size),
                 headers=NO_STORE)


# ---- images

def _upload(req):
    fields, files = multipart.parse(req.content_type, req.raw_body)
    picture = files.get("picture")
    if picture is None:
        raise BadRequest("picture (a file) is required")
    return fields, picture


@routes.route(f"{BASE}/inventory/product-2", methods=["POST"], guard=inv, max_body=UPLOAD_LIMIT)
def add_product_image(req):
    """Add one image to a product (multipart: product_id, picture). Answers 201 {file}."""
    fields, picture = _upload(req)
    product_id = parse_uuid(fields.get("product_id"), "product_id")
    return Reply({"file": service.add_product_image(product_id, picture)}, status=201)


@routes.route(f"{BASE}/inventory/product-2", methods=["DELETE"], guard=inv)
def delete_product_image(req):
    """Remove an image {product_id, file_name} from a product."""
    body = req.fields()
    service.delete_product_image(body.uuid("product_id"), body.str("file_name", max_len=41))
    return Reply({})


@routes.route(f"{BASE}/system/home-banner", methods=["POST"], guard=sys_admin, max_body=UPLOAD_LIMIT)
def add_banner(req):
    """Add a homepage banner (multipart: picture, href)."""
    fields, picture = _upload(req)
    href = (fields.get("href") or "").strip()
    if not href or len(href) > 255 or not (href.startswith("/") or href.startswith("https://")):
        raise BadRequest("href must be a site path starting with / or an https:// URL (at most 255 characters)")
    return Reply(service.add_banner(picture, href), status=201)


@routes.route(f"{BASE}/system/home-banner", methods=["DELETE"], guard=sys_admin)
def delete_banner(req):
    """Delete a banner (id in the JSON body, as the staff UI sends it, or in the query)."""
    banner_id = _query_int(req, required=False)
    if banner_id is None:
        banner_id = req.fields().int("id", min_value=1, max_value=MAX_INT)
    service.delete_banner(banner_id)
    return Reply({})


# ---- orders

@routes.route(f"{BASE}/inventory/order", methods=["GET"], guard=orders_guard)
def get_orders(req):
    """Orders newest first (filters: status, from, to, customer uuid or email; page/page_size), or ?id= detail."""
    if req.query.get("id") not in (None, ""):
        return Reply(service.order_detail(_query_int(req)), headers=NO_STORE)
    query = req.query_fields()
    page, size = _paging(req)
    status = query.choice("status", orders.STATUSES, required=False) if req.query.get("status") else None
    date_from = query.date("from", required=False) if req.query.get("from") else None
    date_to = query.date("to", required=False) if req.query.get("to") else None
    customer = (req.query.get("customer") or "").strip() or None
    if customer and "@" not in customer:
        customer = str(parse_uuid(customer, "customer"))
    return Reply(service.order_list(page=page or 1, page_size=size, status=status, date_from=date_from,
                                    date_to=date_to, customer=customer), headers=NO_STORE)


@routes.route(f"{BASE}/inventory/order", methods=["PATCH"], guard=orders_guard)
def patch_order(req):
    """Move an order through the state machine {id, status, tracking_code?, note?} (409 when illegal)."""
    body = req.fields()
    order_id = body.int("id", min_value=1, max_value=2**63 - 1)
    target = body.choice("status", service.STAFF_TARGETS)
    result = service.change_order_status(order_id, target, req.principal.id,
                                         body.str("tracking_code", required=False, max_len=64),
                                         body.str("note", required=False, max_len=255))
    return Reply(result)


@routes.route(f"{BASE}/inventory/ship", methods=["POST"], guard=orders_guard)
def ship(req):
    """v1: mark an order shipped {order_id, tracking_code} (a paid order is packed on the way)."""
    body = req.fields()
    order_id = body.int("order_id", min_value=1, max_value=2**63 - 1)
    tracking = body.str("tracking_code", max_len=64)
    return Reply(service.ship(order_id, req.principal.id, tracking))
