"""Which SQL an archive connection speaks: SQLite's (the default) or PostgreSQL's."""

from __future__ import annotations

import json
from collections.abc import Iterable

POSTGRES = "postgresql"


def is_postgres(db: object) -> bool:
    """Return True for a PostgreSQL connection of the archive (it says so in `dialect`)."""
    return getattr(db, "dialect", "sqlite") == POSTGRES


def id_set(db: object, ids: Iterable[int]) -> tuple[str, object]:
    """Return a subquery of row ids and its one parameter, for `id in …` or `id not in …`."""
    # One parameter however many ids: a statement with one per id fails past psycopg's 65,535
    # parameters (SQLite's build limit, 32,766 by default), as a busy relay's exclusions could.
    values = sorted({int(i) for i in ids})
    if is_postgres(db):
        return "(select unnest(?::bigint[]))", values
    return "(select value from json_each(?))", json.dumps(values)
