"""Wait until MySQL accepts connections (the `migrate` role runs this first: on a fresh stack the database task may
still be initialising). Retries only "cannot reach the server"; any other error (bad password, unknown database)
fails at once. Gives up after MIGRATE_WAIT_SECONDS (default 180).

    python /app/swarm-fallback/wait_for_db.py
"""
import sys
import time

from omcore import config
from omdb import db
from omdb.errors import DatabaseError, DatabaseUnavailable


def main() -> int:
    deadline = time.monotonic() + config.get_int("MIGRATE_WAIT_SECONDS")
    said = False
    while True:
        try:
            db.query_one("SELECT 1 AS ok")
            return 0
        except DatabaseUnavailable:
            if time.monotonic() > deadline:
                print("migrate: MySQL still unreachable, giving up", file=sys.stderr)
                return 1
            if not said:
                said = True
                print("migrate: waiting for MySQL ...", file=sys.stderr)
            db.reset()
            time.sleep(2)
        except DatabaseError as exc:
            print(f"migrate: MySQL refused the connection: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
