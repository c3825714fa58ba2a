"""/api/v1/health (liveness), /api/v1/health/ready (MySQL and Redis reachable).

Liveness is what the container healthcheck calls (swarm-fallback/healthcheck.py): it must never touch MySQL or
Redis, or a database outage would make Swarm replace every API task instead of letting data routes answer 503.
Readiness is for monitoring."""
from omcore.http import Reply, Routes

from . import service

routes = Routes(__name__)


@routes.route("/api/v1/health")
def health(req):
    return Reply({"status": "ok"}, headers={"Cache-Control": "no-store"})


@routes.route("/api/v1/health/ready")
def ready(req):
    result = service.readiness()
    return Reply(result, status=200 if result["ready"] else 503, headers={"Cache-Control": "no-store"})


@routes.route("/api/v1/openapi.json")
def openapi(req):
    """The OpenAPI document of the whole API."""
    from .openapi import document

    return Reply(document(), etag=True, headers={"Cache-Control": "public, max-age=300"})
