"""POST /api/v1/webhook/midtrans — Midtrans HTTP notifications (signature-checked, no cookie auth)."""
from omcore.http import Reply, Routes

from . import service

routes = Routes(__name__)


@routes.route("/api/v1/webhook/midtrans", methods=["POST"], max_body=256 * 1024)
def midtrans_notification(req):
    """Apply a Midtrans payment notification to its order (idempotent; 200 for duplicates)."""
    raw = req.raw_body.decode("utf-8", errors="replace")
    return Reply(service.handle(raw))
