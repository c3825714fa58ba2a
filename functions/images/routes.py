"""Presigned uploads for staff clients: POST /api/v1/staff/dashboard/inventory/image-upload gives the target,
POST .../image-upload/complete reports that the file was sent (docs/images.md)."""
from omauth import guards
from omcore.http import Reply, Routes

from . import service

routes = Routes(__name__)

BASE = "/api/v1/staff/dashboard/inventory/image-upload"


@routes.route(BASE, methods=["POST"], guard=guards.staff("inv_user"))
def image_upload(req):
    """A presigned POST for one original ({product_id?, content_type, size?}); 409 when the product is full."""
    body = req.fields()
    result = service.presign_upload(
        product_id=body.uuid("product_id", required=False),
        content_type=body.choice("content_type", ("image/jpeg", "image/png", "image/gif", "image/webp")),
        size=body.int("size", required=False, min_value=1, max_value=2**31))
    return Reply(result, status=201)


@routes.route(BASE + "/complete", methods=["POST"], guard=guards.staff("inv_user"))
def image_upload_complete(req):
    """{file}: the file was POSTed to its presigned URL; starts the conversion where no bucket event does."""
    body = req.fields()
    result = service.complete_upload(body.str("file", max_len=64))
    return Reply(result, status=202 if result["status"] == "pending" else 200)
