"""Presigned uploads for staff clients: POST /api/v1/staff/dashboard/inventory/image-upload gives the target,
POST .../image-upload/complete reports that the file was sent (docs/images.md)."""
from omauth import guards
from omcore.http import Reply, Routes
from omcore.spec import INTEGER, STRING, Spec, choice, integer, map_of, obj, text, uuid

from . import service

routes = Routes(__name__)

BASE = "/api/v1/staff/dashboard/inventory/image-upload"
CONTENT_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
PRESIGNED = obj("url", "fields", "file", "expires_in", url=STRING, fields=map_of(STRING), file=STRING,
                expires_in=INTEGER)
UPLOAD = obj("file", "status", file=STRING, status={"enum": ["pending", "ready", "failed"]})


@routes.route(BASE, methods=["POST"], guard=guards.staff("inv_user"), query=Spec(),
              body=Spec(uuid("product_id", required=False), choice("content_type", CONTENT_TYPES),
                        integer("size", required=False, min=1, max=2**31)),
              responses={201: PRESIGNED})
def image_upload(req):
    """A presigned POST for one original ({product_id?, content_type, size?}); 409 when the product is full.

    201: {url, fields, file, expires_in}: a presigned POST; the image joins the product once converted
    413: too large
    409: the product already has (or has on their way) 10 images
    404: product not found
    """
    body = req.body
    result = service.presign_upload(product_id=body["product_id"], content_type=body["content_type"],
                                    size=body["size"])
    return Reply(result, status=201)


@routes.route(BASE + "/complete", methods=["POST"], guard=guards.staff("inv_user"), query=Spec(),
              body=Spec(text("file", max_len=64)), responses={200: UPLOAD, 202: UPLOAD})
def image_upload_complete(req):
    """{file}: the file was POSTed to its presigned URL; starts the conversion where no bucket event does.

    202: {file, status: pending}: the conversion is queued
    200: {file, status}: already converted (ready) or refused (failed)
    404: no such upload
    409: the file has not been uploaded to the presigned URL yet
    """
    result = service.complete_upload(req.body["file"])
    return Reply(result, status=202 if result["status"] == "pending" else 200)
