"""GET /api/v1/freight-rates?product_id=&area_id= — shipping prices for one unit of a product."""
from omcore.http import Reply, Routes
from omcore.spec import INTEGER, STRING, Spec, arr, integer, map_of, obj, uuid

from . import service

routes = Routes(__name__)
RATE = obj("product_code", "product_name", "etd", "rates", product_code=STRING, product_name=STRING, etd=STRING,
           rates=INTEGER)


@routes.route("/api/v1/freight-rates", body=Spec(),
              query=Spec(uuid("product_id"), integer("area_id", min=1, max=16777215)),
              responses={200: map_of(arr(RATE))})
def freight_rates(req):
    """{courier: [{product_code, product_name, etd, rates}]} for one unit of a product to an area.

    200: {courier: [{product_code, product_name, etd, rates}]}
    404: product missing or no rates
    502: provider unavailable
    """
    return Reply(service.product_rates(req.params["product_id"], req.params["area_id"]),
                 headers={"Cache-Control": "public, max-age=86400"})
