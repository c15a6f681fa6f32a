"""Which SQL an archive connection speaks: SQLite's (the default) or PostgreSQL's."""

from __future__ import annotations

POSTGRES = "postgresql"


def is_postgres(db: object) -> bool:
    """Return True for a PostgreSQL connection of the archive (it says so in `dialect`)."""
    return getattr(db, "dialect", "sqlite") == POSTGRES
