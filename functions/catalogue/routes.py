"""The public catalogue (no auth): /api/v1/product, product-sold, product-review, category, home-banner,
area/suggest."""
from omcore.errors import BadRequest
from omcore.http import Reply, Routes
from omcore.spec import (
    Spec,
    custom,
    integer,
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


@routes.route("/api/v1/product", body=Spec(),
              query=Spec(uuid("id", required=False, description="a product's detail"),
                         text("search", required=False, max_len=100, clip=True, allow_empty=True,
                              description="words to find (cut to 100 characters)"),
                         integer("category", required=False, min=1, max=MAX_INT),
                         integer("price_from", required=False, min=0, max=MAX_INT),
                         integer("price_to", required=False, min=0, max=MAX_INT),
                         *paging(MAX_PAGE_SIZE),
                         integer("limit", required=False, min=1, max=MAX_PAGE_SIZE,
                                 description="without page/page_size: the first `limit` results (50)")))
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


@routes.route("/api/v1/product-sold", body=Spec(), query=query_id())
def product_sold(req):
    """Units of a product sold on paid orders: {count}.

    200: units sold on paid orders
    """
    return Reply({"count": service.sold_count(req.params["id"])}, etag=True, headers=PUBLIC_CACHE)


@routes.route("/api/v1/product-review", body=Spec(), query=query_id())
def product_review(req):
    """A product's reviews, newest first ([] when none).

    200: reviews, newest first
    """
    return Reply(raw=service.reviews(req.params["id"]), etag=True, headers=PUBLIC_CACHE)


@routes.route("/api/v1/category", body=Spec(), query=Spec())
def category(req):
    """Every category: [{id, name}].

    200: categories
    """
    return Reply(raw=service.categories(), etag=True, headers=PUBLIC_CACHE)


@routes.route("/api/v1/home-banner", body=Spec(), query=Spec())
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
                                description="part of an area's name (cut to 100 characters)")))
def area_suggest(req):
    """Up to 5 shipping areas matching the text: [{id, name}].

    200: up to 5 areas
    400: search missing
    """
    return Reply(raw=service.suggest_areas(req.params["search"]), etag=True,
                 headers={"Cache-Control": "public, max-age=86400"})
