#!/bin/sh
# One image, several roles (docker stack services pick one with `command:`):
#   api      gunicorn serving every /api/v1 route (and /usercontent/) through omcore.wsgi
#   images   the image worker: the same S3-event handler as the Lambda, fed from the Redis queue
#   expiry   expires unpaid orders every EXPIRY_INTERVAL_SECONDS (default 300), like the Lambda schedule
#   migrate  applies migrations and ensures the super admin, then exits
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
  api)     exec gunicorn --config "$(dirname "$0")/gunicorn.conf.py" ;;
  images)  exec python -m functions.images.worker "$@" ;;
  expiry)  while true; do python -m functions.admin expire-orders || true; sleep "${EXPIRY_INTERVAL_SECONDS:-300}"; done ;;
  migrate) exec python -m functions.admin migrate "$@" ;;
  admin)   exec python -m functions.admin "$@" ;;
  *)       exec "$role" "$@" ;;
esac
