"""GET /api/v1/freight-rates?product_id=&area_id= — shipping prices for one unit of a product."""
from omcore.errors import BadRequest
from omcore.http import Reply, Routes
from omcore.validate import parse_uuid

from . import service

routes = Routes(__name__)


@routes.route("/api/v1/freight-rates")
def freight_rates(req):
    """{courier: [{product_code, product_name, etd, rates}]} for one unit of a product to an area."""
    if req.query.get("product_id") in (None, "") or req.query.get("area_id") in (None, ""):
        raise BadRequest("product_id and area_id are required")
    product_id = parse_uuid(req.query["product_id"], "product_id")
    area_id = req.query_fields().int("area_id", min_value=1, max_value=16777215)
    return Reply(service.product_rates(product_id, area_id), headers={"Cache-Control": "public, max-age=86400"})
