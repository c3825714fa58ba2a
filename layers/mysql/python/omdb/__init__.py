"""MySQL layer (``layers/mysql/python``): connections, transactions, typed errors, UUID helpers, migrations.

    from omdb import db
    row = db.query_one("SELECT ... WHERE id=%s", (to_bin(pid),))
    with db.transaction() as tx:
        tx.execute(...)
"""
