#!/bin/sh
# MySQL's first start (the official image sources /docker-entrypoint-initdb.d/*.sh once, on an empty data volume,
# after it created MYSQL_DATABASE and MYSQL_USER with every right on it): split the users.
#   MYSQL_USER (openmerce)       the application roles: SELECT, INSERT, UPDATE, DELETE only
#   openmerce_migrate            the migrate role and `admin restore`: also CREATE, ALTER, DROP, INDEX, REFERENCES
# The migration user's password comes from the db_migrate_password secret. On a stack whose volume already exists,
# run it once by hand (docs/deploy-swarm.md "Decisions and known limits").
# Uses the image's docker_process_sql (a root client on its private socket); tests/infra/test_swarm.py runs this
# file against MariaDB with a stand-in.
# (sourced by the image's entrypoint: no shell options changed here)

om_migrate_user="${MIGRATE_DB_USER:-openmerce_migrate}"
om_migrate_password_file="${DB_MIGRATE_PASSWORD_FILE:-/run/secrets/db_migrate_password}"
om_sql_string() { printf "'%s'" "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/''/g")"; }
om_migrate_password=$(cat "$om_migrate_password_file")
[ -n "$om_migrate_password" ] || { echo "mysql-users: $om_migrate_password_file is empty" >&2; exit 1; }
om_db=$(printf '%s' "$MYSQL_DATABASE" | sed 's/`/``/g')
docker_process_sql --database=mysql <<SQL
CREATE USER IF NOT EXISTS $(om_sql_string "$om_migrate_user")@'%' IDENTIFIED BY $(om_sql_string "$om_migrate_password");
ALTER USER $(om_sql_string "$om_migrate_user")@'%' IDENTIFIED BY $(om_sql_string "$om_migrate_password");
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX, REFERENCES ON \`$om_db\`.* TO $(om_sql_string "$om_migrate_user")@'%';
REVOKE ALL PRIVILEGES ON \`$om_db\`.* FROM $(om_sql_string "$MYSQL_USER")@'%';
GRANT SELECT, INSERT, UPDATE, DELETE ON \`$om_db\`.* TO $(om_sql_string "$MYSQL_USER")@'%';
FLUSH PRIVILEGES;
SQL
unset om_migrate_password
