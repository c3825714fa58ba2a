#!/usr/bin/env bash
# Roll out a new image version — run by the operator (a member of the `docker` group on a manager node, no root,
# no secrets in the environment) or by CI over SSH:
#
#   IMAGE=ghcr.io/acme/openmerce TAG=1.4.2 DOMAIN=shop.example.com ACME_EMAIL=ops@example.com \
#   SMTP_HOST=smtp.example.com swarm-fallback/deploy.sh
#
# Order (migrate, then deploy):
#   1. validate the stack file and pull the new image;
#   2. deploy the stack with the application roles (api, images, expiry) still on the image they run now (on the
#      first deployment: with zero replicas, so only Traefik and the data services start) and the one-off
#      `migrate` service (restart condition none) on the NEW image;
#   3. wait for that task's exit code — on failure print its log and stop: the running version keeps serving;
#   4. only then deploy the stack with the new image everywhere; Swarm replaces API tasks one at a time
#      (start-first, health-gated) and rolls back by itself when new tasks fail their healthcheck.
# Exits non-zero if the migration failed or the rollout did not converge (still updating after
# ROLLOUT_TIMEOUT_SECONDS, default 900, or rolled back). Refuses to start while an earlier deploy's migration task is
# still running (it is never killed), and refuses the Midtrans sandbox unless MIDTRANS_SANDBOX=true.
set -euo pipefail
cd "$(dirname "$0")"
# Non-secret settings (DOMAIN, ACME_EMAIL, SMTP_HOST, IMAGE, ...) may live in swarm-fallback/.env; secrets never do.
if [ -f .env ]; then set -a; . ./.env; set +a; fi
: "${IMAGE:?set IMAGE}" "${TAG:?set TAG (an immutable version, not latest)}"
[ "$TAG" != "latest" ] || { echo "deploy: refusing the mutable tag 'latest'" >&2; exit 2; }
STACK=${STACK:-openmerce}
MIGRATE_TIMEOUT_SECONDS=${MIGRATE_TIMEOUT_SECONDS:-600}
ROLLOUT_TIMEOUT_SECONDS=${ROLLOUT_TIMEOUT_SECONDS:-900}
: "${MIDTRANS_BASE_URL_SNAP:?set MIDTRANS_BASE_URL_SNAP (production: https://app.midtrans.com/snap/v1)}"
: "${MIDTRANS_BASE_URL_CORE_API:?set MIDTRANS_BASE_URL_CORE_API (production: https://api.midtrans.com)}"
case "$MIDTRANS_BASE_URL_SNAP $MIDTRANS_BASE_URL_CORE_API" in
  *sandbox*)
    if [ "${MIDTRANS_SANDBOX:-false}" != "true" ]; then
      echo "deploy: the Midtrans URLs point at the sandbox: no real payment would ever arrive. Set the production" \
           "URLs, or MIDTRANS_SANDBOX=true for a staging shop" >&2
      exit 2
    fi ;;
esac
NEW_IMAGE="$IMAGE:$TAG"
export MIGRATE_IMAGE="$NEW_IMAGE"

docker stack config -c stack.yml >/dev/null
docker pull --quiet "$NEW_IMAGE" >/dev/null

# What the application roles run now (image:tag, digest dropped); empty on the first deployment.
current=$(docker service inspect --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}' "${STACK}_api" 2>/dev/null || true)
current=${current%%@*}
if [ -n "$current" ]; then
  hold=(IMAGE="${current%:*}" TAG="${current##*:}")
else
  echo "deploy: first deployment of $STACK: starting the data services before migrating"
  hold=(API_REPLICAS=0 IMAGES_REPLICAS=0 EXPIRY_REPLICAS=0 BACKUP_REPLICAS=0)
fi

# A migration an earlier deploy gave up waiting for may still be running: never kill it halfway (the runner is
# restartable, but a killed ALTER is work thrown away and a lock released at a random point).
previous=$(docker service ps --no-trunc --quiet "${STACK}_migrate" 2>/dev/null | head -n 1 || true)
if [ -n "$previous" ]; then
  state=$(docker inspect --format '{{.Status.State}}' "$previous" 2>/dev/null || echo gone)
  case "$state" in
    new|pending|assigned|accepted|preparing|ready|starting|running)
      echo "deploy: the migration task of an earlier deploy is still $state; wait for it" \
           "(docker service logs -f ${STACK}_migrate) and deploy again" >&2
      exit 1 ;;
  esac
fi
# A fresh migrate service every time, so its only task is this rollout's.
docker service rm "${STACK}_migrate" >/dev/null 2>&1 || true
for _ in $(seq 1 30); do
  docker service inspect "${STACK}_migrate" >/dev/null 2>&1 || break
  sleep 1
done

echo "deploy: migrating with $NEW_IMAGE${current:+ (application roles stay on $current)}"
env "${hold[@]}" docker stack deploy --with-registry-auth --prune --detach=true -c stack.yml "$STACK"

migrated=""
deadline=$((SECONDS + MIGRATE_TIMEOUT_SECONDS))
while [ "$SECONDS" -lt "$deadline" ]; do
  task=$(docker service ps --no-trunc --quiet "${STACK}_migrate" 2>/dev/null | head -n 1 || true)
  if [ -n "$task" ]; then
    state=$(docker inspect --format '{{.Status.State}}' "$task")
    case "$state" in
      complete) migrated=yes; break ;;
      failed|rejected|shutdown|orphaned|remove)
        code=$(docker inspect --format '{{.Status.ContainerStatus.ExitCode}}' "$task" 2>/dev/null || echo "?")
        echo "deploy: the migration task ended '$state' (exit code $code); nothing else was updated" >&2
        docker service logs --raw --tail 50 "${STACK}_migrate" >&2 || true
        exit 1 ;;
    esac
  fi
  sleep 3
done
if [ -z "$migrated" ]; then
  echo "deploy: the migration task did not finish within ${MIGRATE_TIMEOUT_SECONDS}s; nothing else was updated." \
       "It keeps running (never killed): follow it with docker service logs -f ${STACK}_migrate, deploy again" \
       "once it has finished" >&2
  docker service logs --raw --tail 50 "${STACK}_migrate" >&2 || true
  exit 1
fi

echo "deploy: migrations applied; rolling out $NEW_IMAGE"
docker stack deploy --with-registry-auth --prune --detach=false -c stack.yml "$STACK"

# "live" only when every application role's update has completed: an update still running, paused or rolled back
# (or still running at the deadline) is a failed deploy, whatever the exit code of `stack deploy` said
rollout_deadline=$((SECONDS + ROLLOUT_TIMEOUT_SECONDS))
for svc in api images expiry backup; do
  echo "deploy: waiting for ${STACK}_$svc"
  while :; do
    state=$(docker service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{else}}completed{{end}}' "${STACK}_$svc")
    case "$state" in
      completed) break ;;
      rollback_started|rollback_completed|rollback_paused|paused)
        echo "deploy: ${STACK}_$svc update failed ($state); the previous version keeps (or goes back to) serving" >&2
        exit 1 ;;
    esac
    if [ "$SECONDS" -ge "$rollout_deadline" ]; then
      echo "deploy: ${STACK}_$svc is still '$state' after ${ROLLOUT_TIMEOUT_SECONDS}s; not reporting it live" >&2
      exit 1
    fi
    sleep 5
  done
done
docker stack services "$STACK"
echo "deploy: $NEW_IMAGE is live"
