"""The public catalogue (no auth): /api/v1/product, product-sold, product-review, category, home-banner,
area/suggest."""
from omcore.errors import BadRequest
from omcore.http import Reply, Routes
from omcore.validate import parse_uuid

from . import service

routes = Routes(__name__)

PUBLIC_CACHE = {"Cache-Control": "public, max-age=60"}
MAX_PAGE_SIZE = 100


def _uuid_param(req, name="id"):
    value = req.query.get(name)
    if value in (None, ""):
        raise BadRequest(f"{name} is required")
    return parse_uuid(value, name)


@routes.route("/api/v1/product")
def product(req):
    """Product detail (?id=), search (?search=...), or the homepage grouping (no query)."""
    query = req.query_fields()
    if req.query.get("id") not in (None, ""):
        return Reply(service.product_detail(_uuid_param(req)), etag=True, headers=PUBLIC_CACHE)
    searching = any(req.query.get(k) not in (None, "") for k in ("search", "category", "price_from", "price_to"))
    if not searching:
        return Reply(raw=service.homepage(), etag=True, headers=PUBLIC_CACHE)
    text = (req.query.get("search") or "").strip()[:100]
    category = query.int("category", required=False, min_value=1, max_value=2**32 - 1) \
        if req.query.get("category") not in (None, "") else None
    price_from = query.int("price_from", required=False, min_value=0, max_value=2**32 - 1) \
        if req.query.get("price_from") not in (None, "") else None
    price_to = query.int("price_to", required=False, min_value=0, max_value=2**32 - 1) \
        if req.query.get("price_to") not in (None, "") else None
    if req.query.get("page") not in (None, "") or req.query.get("page_size") not in (None, ""):
        page = query.int("page", required=False, min_value=1, max_value=100000) or 1
        size = query.int("page_size", required=False, min_value=1, max_value=MAX_PAGE_SIZE) or 20
        limit, offset = size, (page - 1) * size
    else:
        limit = query.int("limit", required=False, min_value=1, max_value=MAX_PAGE_SIZE) \
            if req.query.get("limit") not in (None, "") else 50
        offset = 0
    items = service.search(text, category=category, price_from=price_from, price_to=price_to, limit=limit,
                           offset=offset)
    return Reply(raw=items, etag=True, headers=PUBLIC_CACHE)


@routes.route("/api/v1/product-sold")
def product_sold(req):
    """Units of a product sold on paid orders: {count}."""
    product_id = _uuid_param(req)
    return Reply({"count": service.sold_count(product_id)}, etag=True, headers=PUBLIC_CACHE)


@routes.route("/api/v1/product-review")
def product_review(req):
    """A product's reviews, newest first ([] when none)."""
    return Reply(raw=service.reviews(_uuid_param(req)), etag=True, headers=PUBLIC_CACHE)


@routes.route("/api/v1/category")
def category(req):
    """Every category: [{id, name}]."""
    return Reply(raw=service.categories(), etag=True, headers=PUBLIC_CACHE)


@routes.route("/api/v1/home-banner")
def home_banner(req):
    """Homepage banners: [{id, image_url, href}]."""
    return Reply(raw=service.banners(), etag=True, headers=PUBLIC_CACHE)


@routes.route("/api/v1/area/suggest")
def area_suggest(req):
    """Up to 5 shipping areas matching the text: [{id, name}]."""
    text = req.query.get("search")
    if text is None or not text.strip():
        raise BadRequest("search is required")
    return Reply(raw=service.suggest_areas(text[:100]), etag=True,
                 headers={"Cache-Control": "public, max-age=86400"})
