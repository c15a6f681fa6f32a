"""Bring an SQLite archive up to this presswatch's schema, one migration at a time, saying each.

A new archive is made silently; one an older presswatch wrote is upgraded with a line before the
first step and one after each, so a service that takes minutes to start on a big archive, or
`presswatch upgrade-archive`, says what it is doing rather than nothing.
"""

from __future__ import annotations

import logging
import time

from sqlite_utils import Database

from .migrations import migrations

log = logging.getLogger(__name__)


def upgrade(db: Database, *, where: str) -> list[str]:
    """Apply the migrations `db` lacks, each in its own transaction; return their names."""
    names = [migration.name for migration in migrations.pending(db)]
    older = bool(names) and bool(migrations.applied(db))  # else a new archive: nothing to tell
    if older:
        log.info("%s", upgrading_line(where, names))
    for done, name in enumerate(names, start=1):
        started = time.monotonic()
        # stop_before the next one: sqlite-utils' own way to apply exactly one pending migration.
        migrations.apply(db, stop_before=names[done] if done < len(names) else None)
        if older:
            log.info("%s", applied_line(where, name, done, len(names), started=started))
    return names


def upgrading_line(where: str, names: list[str]) -> str:
    """Say that an older archive is being upgraded, and by which updates (both backends)."""
    updates = f"{len(names)} update{'' if len(names) == 1 else 's'}"
    return (
        f"{where}: upgrading the archive an older presswatch wrote: {updates} to apply "
        f"({', '.join(names)}); a big archive takes a while"
    )


def applied_line(where: str, name: str, done: int, total: int, *, started: float) -> str:
    """Say that one update was applied, which of how many, and how long it took since `started`
    (a time.monotonic() reading)."""
    return f"{where}: applied {name} ({done} of {total}) in {time.monotonic() - started:.1f} s"
