"""The archive at a glance, for /healthz, /metrics and `presswatch status`: sources, articles, outbox.

Every read opens its own short-lived read-only connection under a deadline: it never waits on
the event loop's writer connection and never blocks it (WAL readers don't block the writer).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Config

if TYPE_CHECKING:
    from bot.service.metrics import LagHistogram

PERSONAL = "personal"  # one label for all `user:<id>` channels: readers must not multiply series
READ_DEADLINE = 2.0
BACKLOG = ("pending", "sending", "uncertain", "failed")  # few rows each: found by the state index


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the archive says about sources, articles and the outbox, read in one transaction."""

    sources: dict[str, dict] = field(default_factory=dict)  # key -> row of `sources`
    articles: dict[str, int] = field(default_factory=dict)
    outbox: dict[tuple[str, str], int] = field(default_factory=dict)  # (channel, state) -> rows
    flood_waiting: dict[str, int] = field(default_factory=dict)  # channel -> rows after a 429
    polls: dict[tuple[str, str], int] = field(default_factory=dict)  # (source, status) -> last day
    lag: dict[str, tuple[tuple[int, ...], float, int]] = field(
        default_factory=dict
    )  # buckets, sum, n


def read_snapshot(
    path: str | Path,
    *,
    deadline: float = READ_DEADLINE,
    full: bool = False,
    lag: LagHistogram | None = None,
) -> Snapshot:
    """Read a Snapshot (`full`: sent counts and the last day's polls too); raise sqlite3.Error past `deadline`.

    Every query is an index search or a covering-index scan, except `full`'s sent counts, which
    only `presswatch status` and /status ask for.
    """
    conn = _connect(path, deadline)
    states = (*BACKLOG, "sent") if full else BACKLOG
    try:
        conn.execute("begin")  # one read transaction: every number comes from the same moment
        return Snapshot(
            sources=_sources(conn),
            articles=dict(
                conn.execute("select source_key, count(*) from articles group by 1").fetchall()
            ),
            outbox=_by_channel(
                conn,
                f"select {{ch}}, state, count(*) from outbox where state in "
                f"({','.join('?' * len(states))}) group by 1, 2",
                states,
            ),
            flood_waiting={
                ch: n
                for (ch, _), n in _by_channel(
                    conn,
                    "select {ch}, '', count(*) from outbox where state = 'pending' "
                    "and last_error like 'flood wait%' group by 1",
                    (),
                ).items()
            },
            polls=_recent_polls(conn) if full else {},
            lag=lag.update(conn) if lag else {},
        )
    finally:
        conn.close()


def read_sources(path: str | Path, *, deadline: float = READ_DEADLINE) -> dict[str, dict]:
    """Return the rows of `sources` (a tiny table: what /healthz needs)."""
    conn = _connect(path, deadline)
    try:
        return _sources(conn)
    finally:
        conn.close()


def _connect(path: str | Path, deadline: float) -> sqlite3.Connection:
    """Open a read-only connection whose statements are interrupted past `deadline` seconds."""
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=deadline)
    stop_at = time.monotonic() + deadline
    conn.set_progress_handler(lambda: int(time.monotonic() > stop_at), 10_000)
    return conn


def _sources(conn: sqlite3.Connection) -> dict[str, dict]:
    """Return the rows of `sources` by key."""
    cursor = conn.execute("select * from sources")
    names = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(names, row)) for row in cursor}


def _by_channel(conn: sqlite3.Connection, sql: str, params: tuple) -> dict[tuple[str, str], int]:
    """Run a (channel, key, count) query with personal channels folded into one label."""
    channel = f"case when channel like 'user:%' then '{PERSONAL}' else channel end"
    totals: dict[tuple[str, str], int] = {}
    for ch, key, n in conn.execute(sql.format(ch=channel), params):
        totals[(ch, key)] = totals.get((ch, key), 0) + n
    return totals


def _recent_polls(conn: sqlite3.Connection) -> dict[tuple[str, str], int]:
    """Return the last day's runs per (source, status), through the (source_key, started_at) index."""
    since = datetime.fromtimestamp(time.time() - 86400, UTC).isoformat(timespec="seconds")
    polls: dict[tuple[str, str], int] = {}
    for (key,) in conn.execute("select key from sources").fetchall():
        for status, n in conn.execute(
            "select status, count(*) from runs where source_key = ? and started_at >= ? group by 1",
            [key, since],
        ):
            polls[(key, status)] = n
    return polls


# -- what a source's state means -------------------------------------------------------------


def source_state(row: dict | None) -> str:
    """Return 'new', 'paused', 'failing', 'silent' or 'ok' for a row of `sources`."""
    if row is None or not row.get("last_poll_at"):
        return "paused" if row and row.get("paused") else "new"
    if row.get("paused"):
        return "paused"
    # Failing is the health check's verdict (after alert_after_failures polls in a row), not a
    # single transient error.
    if row.get("health") == "failing":
        return "failing"
    return "silent" if row.get("health") == "silent" else "ok"


def failing_sources(snapshot: Snapshot, config: Config) -> list[str]:
    """Return the configured sources whose last poll failed."""
    return [s.key for s in config.sources if source_state(snapshot.sources.get(s.key)) == "failing"]


def failed_channels(snapshot: Snapshot) -> list[str]:
    """Return the channels with failed posts (readers who blocked the bot are not the operator's)."""
    return sorted(
        {
            ch
            for (ch, state), n in snapshot.outbox.items()
            if state == "failed" and n and ch != PERSONAL
        }
    )
