"""SQL text builders shared by every capability: the one ``UPDATE ... SET`` builder (with its column allow-list)
and the one ``IN (...)`` placeholder list.

Pure functions with no driver import, so layer code that must stay importable without PyMySQL (the catalogue's
cache-served reads load the database driver lazily) can build its statements here; ``omdb.db.update`` runs them.

Column and table names always come from code, never from input: ``update_statement`` refuses any column that is
not in the caller's ``allowed`` set and any table name that is not a plain identifier (``ValueError`` — a
programming error, never a client error).
"""
from __future__ import annotations

import re

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class _Now:
    """``NOW`` as a value: the column is set to ``UTC_TIMESTAMP(3)`` by the server."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOW"


NOW = _Now()


def placeholders(count: int) -> str:
    """``%s,%s,...`` for an ``IN (...)`` list of ``count`` values. ``IN ()`` is not SQL, so an empty list is a
    programming error: callers handle "nothing to match" before building the statement."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"an IN list needs at least one value, got {count!r}")
    return ",".join(["%s"] * count)


def update_statement(table: str, values: dict, where: str, where_args=(), *, allowed,
                     touch: str | None = "updated_at") -> tuple[str, tuple] | None:
    """``(sql, args)`` of ``UPDATE <table> SET <col> = %s, ... [, <touch> = UTC_TIMESTAMP(3)] WHERE <where>``, or
    None when ``values`` is empty (nothing to change: the caller runs nothing).

    * ``values``: {column: value}, in the order written; a value ``NOW`` sets the column to ``UTC_TIMESTAMP(3)``.
    * ``allowed``: the columns this caller may set. Every key of ``values`` must be in it (``ValueError``
      otherwise), so a dict that was built from client input can never name a column of its own choosing.
    * ``where``: a condition written in code with ``%s`` placeholders; ``where_args`` are its values.
    * ``touch``: a timestamp column set to ``UTC_TIMESTAMP(3)`` whenever something changes (None: none).
    """
    if not _IDENTIFIER.match(table or ""):
        raise ValueError(f"not a table name: {table!r}")
    if not where or not where.strip():
        raise ValueError("an UPDATE needs a WHERE condition")
    allowed = frozenset(allowed)
    if not values:
        return None
    sets, args = [], []
    for column, value in values.items():
        if column not in allowed or not _IDENTIFIER.match(column):
            raise ValueError(f"column {column!r} may not be set on {table}")
        if value is NOW:
            sets.append(f"{column} = UTC_TIMESTAMP(3)")
        else:
            sets.append(f"{column} = %s")
            args.append(value)
    if touch and touch not in values:
        if not _IDENTIFIER.match(touch):
            raise ValueError(f"not a column name: {touch!r}")
        sets.append(f"{touch} = UTC_TIMESTAMP(3)")
    return f"UPDATE {table} SET {', '.join(sets)} WHERE {where}", (*args, *tuple(where_args))
