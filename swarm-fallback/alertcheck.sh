#!/usr/bin/env bash
# Alerts for a Swarm shop without a monitoring stack: run from cron on a manager, as the deploying user
# (docs/deploy-swarm.md "Metrics and alerts"):
#
#   */5 * * * * cd ~/openmerce && ALERT_WEBHOOK_URL=https://hooks.example/… swarm-fallback/alertcheck.sh
#
# Checks (each a line in the alert): every service of the stack runs its desired number of tasks (the one-off
# migrate task aside); a backup succeeded within BACKUP_ALERT_AFTER (2h); READY_URL (https://DOMAIN/api/v1/health/
# ready) answers 200; the api answered at most MAX_5XX_PER_5MIN (20) 5xx in the last five minutes.
# Problems are POSTed as JSON {"text": "..."} to ALERT_WEBHOOK_URL (Slack/Mattermost/Teams-style incoming webhook)
# or, without one, printed on stderr (cron mails it). Exit code 1 when something is wrong.
set -uo pipefail
cd "$(dirname "$0")"
if [ -f .env ]; then set -a; . ./.env; set +a; fi
STACK=${STACK:-openmerce}
READY_URL=${READY_URL:-https://${DOMAIN:?set DOMAIN or READY_URL}/api/v1/health/ready}
problems=()

while read -r name replicas; do
  [ -n "$name" ] && [ "$name" != "${STACK}_migrate" ] || continue
  running=${replicas%%/*}
  desired=${replicas#*/}
  desired=${desired%% *}
  [ "$running" = "$desired" ] || problems+=("$name runs $running of $desired tasks")
done < <(docker service ls --filter "label=com.docker.stack.namespace=$STACK" --format '{{.Name}} {{.Replicas}}')

if ! docker service logs --since "${BACKUP_ALERT_AFTER:-2h}" "${STACK}_backup" 2>&1 | grep -q '"event": "backup_ok"'; then
  problems+=("no successful backup in the last ${BACKUP_ALERT_AFTER:-2h} (docker service logs ${STACK}_backup)")
fi

if ! curl -fsS -o /dev/null --max-time 10 "$READY_URL"; then
  problems+=("$READY_URL does not answer 200 (MySQL or Redis down?)")
fi

errors=$(docker service logs --since 5m "${STACK}_api" 2>&1 | grep -c '"status": 5' || true)
if [ "${errors:-0}" -gt "${MAX_5XX_PER_5MIN:-20}" ]; then
  problems+=("${errors} API answers with status 5xx in the last 5 minutes (docs/runbook.md)")
fi

[ ${#problems[@]} -eq 0 ] && exit 0
text="openmerce ($STACK on $(hostname)):"
for p in "${problems[@]}"; do text="$text"$'\n'"- $p"; done
if [ -n "${ALERT_WEBHOOK_URL:-}" ]; then
  escaped=$(printf '%s' "$text" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' | awk 'BEGIN{ORS="\\n"} {print}')
  curl -fsS -o /dev/null --max-time 10 -H 'Content-Type: application/json' \
    --data "{\"text\": \"${escaped%\\n}\"}" "$ALERT_WEBHOOK_URL" || echo "alertcheck: the webhook refused the alert" >&2
fi
printf '%s\n' "$text" >&2
exit 1
