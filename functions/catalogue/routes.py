"""The public catalogue (no auth): /api/v1/product, product-sold, product-review, category, home-banner,
area/suggest."""
from omcore.errors import BadRequest
from omcore.http import Reply, Routes
from omcore.spec import (
    INTEGER,
    NUMBER,
    STRING,
    Spec,
    any_of,
    arr,
    custom,
    integer,
    obj,
    page_of,
    paged,
    paging,
    query_id,
    text,
    uuid,
)

from . import service

routes = Routes(__name__)

PUBLIC_CACHE = {"Cache-Control": "public, max-age=60"}
MAX_PAGE_SIZE = 100
MAX_INT = 2**32 - 1
SEARCH_KEYS = ("search", "category", "price_from", "price_to")

CARD = obj("id", "name", "price", "image", "rating", "sold", id=STRING, name=STRING, price=INTEGER, image=STRING,
           rating=NUMBER, sold=INTEGER)
GROUP = obj("category_id", "category_name", "category_desc", "products", category_id=INTEGER,
            category_name=STRING, category_desc=STRING, products=arr(CARD))
DETAIL = obj("id", "name", "description", "price", "weight", "category_name", "category_id", "cumulative_review",
             "image_urls", "dimension", "stock", id=STRING, name=STRING, description=STRING, price=INTEGER,
             weight=NUMBER, category_name=STRING, category_id=INTEGER, cumulative_review=NUMBER,
             image_urls={"type": ["array", "null"], "items": STRING, "description": "null when it has none (v1)"},
             dimension=STRING, stock=INTEGER)
REVIEW = obj("id", "rating", "review", "created_at", "customer", id=STRING, rating=INTEGER, review=STRING,
             created_at=STRING, customer=STRING)
NAMED = obj("id", "name", id=INTEGER, name=STRING)
BANNER = obj("id", "image_url", "href", id=INTEGER, image_url=STRING, href=STRING)


@routes.route("/api/v1/product", body=Spec(),
              query=Spec(uuid("id", required=False, description="a product's detail"),
                         text("search", required=False, max_len=100, clip=True, allow_empty=True,
                              description="words to find (cut to 100 characters)"),
                         integer("category", required=False, min=1, max=MAX_INT),
                         integer("price_from", required=False, min=0, max=MAX_INT),
                         integer("price_to", required=False, min=0, max=MAX_INT),
                         *paging(MAX_PAGE_SIZE),
                         integer("limit", required=False, min=1, max=MAX_PAGE_SIZE,
                                 description="without page/page_size: the first `limit` results (50)")),
              responses={200: any_of(DETAIL, arr(CARD), arr(GROUP))})
def product(req):
    """Product detail (?id=), search (?search=...), or the homepage grouping (no query).

    Three forms: ?id= → detail; ?search= (with category, price_from, price_to, limit or page/page_size) → cards; no
    query → homepage groups.
    200: detail, cards or homepage groups
    304: not modified (ETag)
    400: bad parameter
    404: product not found
    """
    params = req.params
    if params["id"] is not None:
        return Reply(service.product_detail(params["id"]), etag=True, headers=PUBLIC_CACHE)
    if all(params[k] is None for k in SEARCH_KEYS):
        return Reply(raw=service.homepage(), etag=True, headers=PUBLIC_CACHE)
    if paged(params):
        page, size = page_of(params)
        limit, offset = size, (page - 1) * size
    else:
        limit, offset = params["limit"] or 50, 0
    items = service.search(params["search"] or "", category=params["category"], price_from=params["price_from"],
                           price_to=params["price_to"], limit=limit, offset=offset)
    return Reply(raw=items, etag=True, headers=PUBLIC_CACHE)


@routes.route("/api/v1/product-sold", body=Spec(), query=query_id(),
              responses={200: obj("count", count=INTEGER)})
def product_sold(req):
    """Units of a product sold on paid orders: {count}.

    200: units sold on paid orders
    """
    return Reply({"count": service.sold_count(req.params["id"])}, etag=True, headers=PUBLIC_CACHE)


@routes.route("/api/v1/product-review", body=Spec(), query=query_id(),
              responses={200: arr(REVIEW)})
def product_review(req):
    """A product's reviews, newest first ([] when none).

    200: reviews, newest first
    """
    return Reply(raw=service.reviews(req.params["id"]), etag=True, headers=PUBLIC_CACHE)


@routes.route("/api/v1/category", body=Spec(), query=Spec(),
              responses={200: arr(NAMED)})
def category(req):
    """Every category: [{id, name}].

    200: categories
    """
    return Reply(raw=service.categories(), etag=True, headers=PUBLIC_CACHE)


@routes.route("/api/v1/home-banner", body=Spec(), query=Spec(),
              responses={200: arr(BANNER)})
def home_banner(req):
    """Homepage banners: [{id, image_url, href}].

    200: banners
    """
    return Reply(raw=service.banners(), etag=True, headers=PUBLIC_CACHE)


def _area_text(value):
    if not isinstance(value, str) or not value.strip():
        raise BadRequest("search is required")
    return value[:100]


@routes.route("/api/v1/area/suggest", body=Spec(),
              query=Spec(custom("search", _area_text, {"type": "string", "pattern": r"\S"},
                                description="part of an area's name (cut to 100 characters)")),
              responses={200: arr(NAMED)})
def area_suggest(req):
    """Up to 5 shipping areas matching the text: [{id, name}].

    200: up to 5 areas
    400: search missing
    """
    return Reply(raw=service.suggest_areas(req.params["search"]), etag=True,
                 headers={"Cache-Control": "public, max-age=86400"})
