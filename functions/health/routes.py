"""/api/v1/health (liveness), /api/v1/health/ready (MySQL and Redis reachable).

Liveness is what the container healthcheck calls (swarm-fallback/healthcheck.py): it must never touch MySQL or
Redis, or a database outage would make Swarm replace every API task instead of letting data routes answer 503.
Readiness is for monitoring."""
from omcore.http import Reply, Routes
from omcore.spec import BOOLEAN, STRING, Spec, obj

from . import service

routes = Routes(__name__)
READY = obj("ready", "checks", ready=BOOLEAN, checks={"type": "object"})


@routes.route("/api/v1/health", body=Spec(), query=Spec(), responses={200: obj("status", status=STRING)})
def health(req):
    """Liveness: answers without touching MySQL or Redis (the container healthcheck)."""
    return Reply({"status": "ok"}, headers={"Cache-Control": "no-store"})


@routes.route("/api/v1/health/ready", body=Spec(), query=Spec(), responses={200: READY, 503: READY})
def ready(req):
    """Readiness: MySQL and Redis reachable ({ready, checks}).

    503: a dependency is unreachable (the body says which)
    """
    result = service.readiness()
    return Reply(result, status=200 if result["ready"] else 503, headers={"Cache-Control": "no-store"})


@routes.route("/api/v1/openapi.json", body=Spec(), query=Spec(),
              responses={200: obj("openapi", "info", "paths", "components", openapi=STRING, info=obj(), paths=obj(), components=obj())})
def openapi(req):
    """The OpenAPI document of the whole API, generated from the route declarations."""
    from .openapi import document

    return Reply(document(), etag=True, headers={"Cache-Control": "public, max-age=300"})
