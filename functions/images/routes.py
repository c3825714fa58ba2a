"""POST /api/v1/staff/dashboard/inventory/image-upload — a presigned upload target for staff clients."""
from omauth import guards
from omcore.http import Reply, Routes

from . import service

routes = Routes(__name__)


@routes.route("/api/v1/staff/dashboard/inventory/image-upload", methods=["POST"], guard=guards.staff("inv_user"))
def image_upload(req):
    """A presigned POST for one original ({product_id?, content_type, size?}); the upload triggers conversion."""
    body = req.fields()
    result = service.presign_upload(
        product_id=body.uuid("product_id", required=False),
        content_type=body.choice("content_type", ("image/jpeg", "image/png", "image/gif", "image/webp")),
        size=body.int("size", required=False, min_value=1, max_value=2**31))
    return Reply(result, status=201)
