"""POST /api/v1/webhook/midtrans — Midtrans HTTP notifications (signature-checked, no cookie auth)."""
from omcore.http import WEBHOOK_MAX_BODY, Reply, Routes

from . import service

routes = Routes(__name__)


@routes.route("/api/v1/webhook/midtrans", methods=["POST"], max_body=WEBHOOK_MAX_BODY)
def midtrans_notification(req):
    """Apply a Midtrans payment notification to its order (idempotent; 200 for duplicates)."""
    raw = req.body_text()
    return Reply(service.handle(raw))
