#!/bin/sh
# One image, several roles (docker stack services pick one with `command:`):
#   api      gunicorn serving every /api/v1 route (and /usercontent/) through chalice_wsgi.py
#   images   the image worker: the same S3-event handler as the Lambda, fed from the Redis queue
#   expiry   expires unpaid orders every EXPIRY_INTERVAL_SECONDS (default 300), like the Lambda schedule
#   migrate  waits for MySQL, applies migrations and ensures the super admin, then exits (deploy.sh runs it as a
#            one-off task before the application roles are updated)
# images and expiry touch HEARTBEAT_FILE while their loop is alive; their healthcheck (healthcheck.py heartbeat)
# reads it. The API's healthcheck is `healthcheck.py live` (GET /api/v1/health, which never touches MySQL).
#   backup   a backup to the second location every BACKUP_INTERVAL_SECONDS (tools/admin/backup.py); heartbeat after
#            each success
#   admin    any admin CLI command: `admin create-staff ...`
set -eu
# boto3 has no *_FILE convention: export the object-store keys from their Docker secrets.
for var in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY; do
  eval "file=\${${var}_FILE:-}"
  if [ -n "$file" ] && [ -r "$file" ]; then export "$var=$(cat "$file")"; fi
done
role="${1:-api}"
[ $# -gt 0 ] && shift
case "$role" in
  api)
    # FORWARDED_ALLOW_IPS is ours (chalice_wsgi.py: addresses and CIDRs of the proxies whose X-Forwarded-For is
    # believed). gunicorn reads the same variable when it is imported and refuses CIDRs, so it is handed over under
    # another name and gunicorn.conf.py puts it back for the workers.
    export OM_FORWARDED_ALLOW_IPS="${FORWARDED_ALLOW_IPS-127.0.0.1,::1}"
    unset FORWARDED_ALLOW_IPS
    exec gunicorn --config "$(dirname "$0")/gunicorn.conf.py" ;;
  images)  exec python -m tools.images.worker "$@" ;;
  expiry)
    # The heartbeat is touched before and after every run, so it goes stale only when a run or the loop hangs
    # (HEARTBEAT_MAX_AGE_SECONDS must exceed EXPIRY_INTERVAL_SECONDS plus the longest run). A stop request ends
    # the loop at once (the shell is PID 1: without the trap it would ignore SIGTERM until Swarm kills it).
    heartbeat="${HEARTBEAT_FILE:-/tmp/openmerce.heartbeat}"
    sleeper=""
    trap 'if [ -n "$sleeper" ]; then kill "$sleeper" 2>/dev/null || true; fi; rm -f "$heartbeat"; exit 0' TERM INT
    while true; do
      touch "$heartbeat"
      python -m tools.admin expire-orders || echo "expiry: run failed, next try in ${EXPIRY_INTERVAL_SECONDS:-300}s" >&2
      touch "$heartbeat"
      sleep "${EXPIRY_INTERVAL_SECONDS:-300}" &
      sleeper=$!
      wait "$sleeper" || true
      sleeper=""
    done ;;
  migrate) python "$(dirname "$0")/wait_for_db.py" && exec python -m tools.admin migrate "$@" ;;
  backup)  exec python -m tools.admin backup --loop "$@" ;;
  admin)   exec python -m tools.admin "$@" ;;
  *)       exec "$role" "$@" ;;
esac
