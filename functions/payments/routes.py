"""POST /api/v1/webhook/midtrans — Midtrans HTTP notifications (signature-checked, no cookie auth)."""
from omcore.http import WEBHOOK_MAX_BODY, Reply, Routes
from omcore.spec import STRING, Raw, Spec, obj

from . import service

routes = Routes(__name__)

NOTIFICATION = {"type": "object", "description": "a Midtrans HTTP notification (its signature_key is checked)",
                "properties": {"order_id": {"type": "string"}, "status_code": {"type": "string"},
                               "gross_amount": {"type": "string"}, "signature_key": {"type": "string"},
                               "transaction_status": {"type": "string"}, "fraud_status": {"type": "string"},
                               "payment_type": {"type": "string"}, "transaction_id": {"type": "string"}},
                "required": list(service.REQUIRED)}  # the fields the service refuses a notification without


@routes.route("/api/v1/webhook/midtrans", methods=["POST"], query=Spec(),
              body=Raw(max_bytes=WEBHOOK_MAX_BODY, schema=NOTIFICATION), responses={200: obj("outcome", outcome=STRING)},
              errors={400: ("malformed_notification", "amount_mismatch"), 401: ("invalid_signature",),
                      404: ("unknown_order", "unknown_at_payment_provider"), 409: ("amount_mismatch",),
                      503: ("payment_provider_unavailable",)})
def midtrans_notification(req):
    """Apply a Midtrans payment notification to its order (idempotent; 200 for duplicates).

    200: {outcome}: applied the status Midtrans' Get Status API confirms (duplicates included)
    400: malformed or amount mismatch
    401: bad signature
    429: too many malformed or badly signed notifications from this client
    404: unknown order, or Midtrans has no transaction for it (nothing changed)
    409: Midtrans confirms another gross_amount for the order (nothing changed)
    503: Midtrans' Get Status API could not be reached to confirm the notification (nothing changed; Midtrans
        retries)
    """
    return Reply(service.handle(req.body, req.client_ip))
