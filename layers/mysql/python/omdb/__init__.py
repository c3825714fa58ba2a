"""MySQL layer (``layers/mysql/python``): connections, transactions, typed errors, UUID helpers, migrations.

    from omdb import db
    row = db.query_one("SELECT ... WHERE id=%s", (to_bin(pid),))
    with db.transaction() as tx:
        tx.execute(...)
"""
from omcore import snapstart as _snapstart


def _forget_connections() -> None:
    """SnapStart: no MySQL connection in a snapshot, none carried over from it (``omcore.snapstart``)."""
    import sys

    db = sys.modules.get("omdb.db")
    if db is not None:
        db.reset()


_snapstart.on_reset(_forget_connections)
