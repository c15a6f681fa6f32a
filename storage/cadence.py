"""When each source's last poll started: what `once` under cron measures `every` from."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlite_utils import Database

from .records import stored_moment


def last_poll_starts(db: Database, keys: Iterable[str]) -> dict[str, datetime]:
    """Return when the latest recorded poll of each of `keys` started (a key never polled is left
    out)."""
    keys = list(keys)
    if not keys:
        return {}
    marks = ", ".join("?" for _ in keys)
    # One index lookup per key (runs are indexed by source_key, started_at), not a scan of runs.
    rows = db.query(
        f"select key, (select max(r.started_at) from runs r where r.source_key = s.key) as started "
        f"from sources s where s.key in ({marks})",
        keys,
    )
    return {row["key"]: stored_moment(row["started"]) for row in rows if row["started"]}
