#!/usr/bin/env bash
# Roll out a new image version — run by the operator (a member of the `docker` group on a manager node, no root,
# no secrets in the environment) or by CI over SSH:
#
#   IMAGE=ghcr.io/acme/openmerce TAG=1.4.2 DOMAIN=shop.example.com ACME_EMAIL=ops@example.com \
#   SMTP_HOST=smtp.example.com swarm-fallback/deploy.sh
#
# It validates the stack file, runs the migrations with the new image first (a one-off task that must succeed),
# then updates the stack; Swarm replaces API tasks one at a time (start-first, health-gated) and rolls back by
# itself when the new tasks fail their healthcheck. Exits non-zero if the rollout did not converge.
set -euo pipefail
cd "$(dirname "$0")"
# Non-secret settings (DOMAIN, ACME_EMAIL, SMTP_HOST, IMAGE, ...) may live in swarm-fallback/.env; secrets never do.
if [ -f .env ]; then set -a; . ./.env; set +a; fi
: "${IMAGE:?set IMAGE}" "${TAG:?set TAG (an immutable version, not latest)}"
[ "$TAG" != "latest" ] || { echo "deploy: refusing the mutable tag 'latest'" >&2; exit 2; }
STACK=${STACK:-openmerce}

docker stack config -c stack.yml >/dev/null
docker pull --quiet "$IMAGE:$TAG" >/dev/null

echo "deploy: migrating with $IMAGE:$TAG"
docker service rm "${STACK}_migrate" >/dev/null 2>&1 || true
docker stack deploy --with-registry-auth --prune --detach=false -c stack.yml "$STACK"

for svc in api images expiry; do
  echo "deploy: waiting for ${STACK}_$svc"
  for _ in $(seq 1 60); do
    state=$(docker service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{else}}completed{{end}}' "${STACK}_$svc")
    case "$state" in
      completed) break ;;
      rollback_completed|rollback_paused|paused) echo "deploy: ${STACK}_$svc update failed ($state)" >&2; exit 1 ;;
    esac
    sleep 5
  done
done
docker stack services "$STACK"
echo "deploy: $IMAGE:$TAG is live"
