"""Wait until MySQL accepts connections (the `migrate` role runs this first: on a fresh stack the database task may
still be initialising). Retries only "cannot reach the server"; any other error (bad password, unknown database)
fails at once. Gives up after MIGRATE_WAIT_SECONDS (default 180).

    python /app/swarm-fallback/wait_for_db.py
"""
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import functions  # noqa: E402,F401  (shared layers onto sys.path)
from omcore import config  # noqa: E402
from omdb import db  # noqa: E402
from omdb.errors import DatabaseError, DatabaseUnavailable  # noqa: E402


def main() -> int:
    deadline = time.monotonic() + config.get_int("MIGRATE_WAIT_SECONDS", 180)
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
