"""The archive at a glance, for /healthz, /metrics, /status and `presswatch status`.

A Snapshot is one read transaction over sources, articles, runs and the outbox. Every read opens
its own short-lived read-only connection under a deadline: it never waits on the service's writer
connection and never blocks it (WAL readers don't block the writer).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import readonly
from .dialect import is_postgres
from .postgres import fragments
from .records import (
    DUE_SINCE,
    OutboxKind,
    OutboxState,
    SourceCondition,
    SourceState,
    iso,
    source_from_row,
    stored_moment,
)

PERSONAL = "personal"  # one label for all `user:<id>` channels: readers must not multiply series
_CHANNEL = f"case when channel like 'user:%' then '{PERSONAL}' else channel end"  # rows' label
# How bot/delivery/telegram.py words a refused token in a row's last_error (a test keeps it so).
TOKEN_REFUSED = "Telegram refused the bot token"
READ_DEADLINE = 2.0
# Unsent rows are few in each of these states, so the state index finds them fast.
BACKLOG = (OutboxState.PENDING, OutboxState.SENDING, OutboxState.UNCERTAIN, OutboxState.FAILED)
# A pending row waiting for its time (digest, quiet hours), never failed: held, not late. Never
# null (a fresh row has no next_attempt_at): such a row is then not held but due. A row
# its chat's retry holds (a flood wait: defer_chat, to the failed row's moment) waits for
# Telegram, not for its time: due.
_HELD = (
    "state = ? and next_attempt_at is not null and next_attempt_at > ? and last_error is null "
    "and not exists (select 1 from outbox f where f.chat_id = outbox.chat_id "
    "and f.state = outbox.state and f.last_error is not null "
    "and f.next_attempt_at = outbox.next_attempt_at)"
)
# A row its chat's hold keeps back, beside a row a 429 answered: every retry-later holds its chat
# (a refused token, the network), only one beside a flood wait is a flood wait. Takes `now`.
_FLOOD_HOLD = (
    "exists (select 1 from chat_holds h where h.chat_id = outbox.chat_id and h.held_until > ? "
    "and exists (select 1 from outbox f where f.chat_id = h.chat_id and f.state = outbox.state "
    "and f.last_error like 'flood wait%'))"
)
# Pending rows waiting out a flood wait now (the 429's row until its time, its chat's others while
# the hold lasts), but for one whose own time (a digest hour) comes later: HELD counts it.
_WAITING = (
    f"state = ? and ((last_error like 'flood wait%' and next_attempt_at > ?) or {_FLOOD_HOLD}) "
    f"and not ({_HELD})"
)
_LAG_ROWS = 20_000  # post rows per read: a large archive is caught up over a few reads


@dataclass(frozen=True, slots=True)
class PostLag:
    """One post row and, once sent, the seconds from its article's publication to the post."""

    id: int
    state: OutboxState
    source_key: str
    seconds: float | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the archive says about sources, articles and the outbox, read in one transaction."""

    sources: dict[str, SourceState] = field(default_factory=dict)
    articles: dict[str, int] = field(default_factory=dict)
    outbox: dict[tuple[str, str], int] = field(default_factory=dict)  # (channel, state) -> rows
    flood_waiting: dict[str, int] = field(default_factory=dict)  # channel -> rows a 429 holds
    polls: dict[tuple[str, str], int] = field(default_factory=dict)  # (source, status) -> last day
    lags: tuple[PostLag, ...] = ()  # post rows after the id asked for, oldest first
    oldest_pending: dict[str, datetime] = field(default_factory=dict)  # channel -> created_at
    # Pending rows held for their time (a digest hour, quiet hours), never tried: not late.
    held: dict[str, int] = field(default_factory=dict)  # channel -> rows
    oldest_due: dict[str, datetime] = field(default_factory=dict)  # channel -> due since
    token_refused: int = 0  # pending rows whose last try found the bot token refused
    undecided: int = 0  # uncertain rows a probe could not settle: held for the operator
    # (id, started, last seen, /healthz address or None): live PostgreSQL workers
    workers: tuple[tuple[str, str, str, str | None], ...] = ()
    sending_edits: int = 0  # edits left `sending`: a stop's next round makes them again
    once_running: bool = False  # PostgreSQL: a `once` holds the archive (it sends, no worker)

    def source(self, key: str) -> SourceState:
        """Return a source's row (defaults for a source never polled)."""
        return self.sources.get(key) or SourceState(key)

    def failing(self, keys: Iterable[str]) -> list[str]:
        """Return the sources among `keys` that the health check finds failing."""
        return [k for k in keys if self.source(k).condition == SourceCondition.FAILING]

    def failed_channels(self) -> list[str]:
        """Return the channels with failed posts (readers' own chats are not the operator's)."""
        return sorted(
            {
                ch
                for (ch, state), n in self.outbox.items()
                if state == OutboxState.FAILED and n and ch != PERSONAL
            }
        )


def read_snapshot(
    path: str | Path,
    *,
    deadline: float = READ_DEADLINE,
    full: bool = False,
    lags_after: int | None = None,
    sent_since: datetime | None = None,
    now: datetime | None = None,
    current: bool = False,
) -> Snapshot:
    """Read a Snapshot; raise sqlite3.Error past `deadline` or when there is no archive.

    `full` adds sent counts and the last day's polls (for `presswatch status` and /status);
    `lags_after` adds the post rows after that outbox id (for the lag histogram), with a lag only
    for posts sent at or after `sent_since` when given. Every query is an index search or a
    covering-index scan, except `full`'s sent counts. `now` (default: the clock) splits pending
    rows held for their time from those due. `current` (`path` a backend) first raises
    OutdatedArchive, on the read's own connection, when the archive lacks a migration.
    """
    at = iso(now or datetime.now(UTC))
    conn = _connect(path, deadline)
    states = (*BACKLOG, OutboxState.SENT) if full else BACKLOG
    try:
        if current:
            path.require_current(conn)  # type: ignore[union-attr]
        conn.execute("begin")  # one read transaction: every number comes from the same moment
        held, oldest_due, oldest_pending = _pending(conn, at)
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
                    # The row the 429 answered and every row of its chat the hold keeps back,
                    # but for one whose own time (a digest hour) comes later: HELD counts it.
                    "select {ch}, '', count(*) from outbox where state = ? "
                    f"and (last_error like 'flood wait%' or {_FLOOD_HOLD}) "
                    f"and not ({_HELD}) group by 1",
                    (OutboxState.PENDING, at, OutboxState.PENDING, at),
                ).items()
            },
            polls=_recent_polls(conn) if full else {},
            lags=_post_lags(conn, lags_after, sent_since) if lags_after is not None else (),
            oldest_pending=oldest_pending,
            held=held,
            oldest_due=oldest_due,
            token_refused=_token_refused(conn),
            undecided=conn.execute(
                "select count(*) from outbox where state = ? and settlement is not null",
                [OutboxState.UNCERTAIN],
            ).fetchone()[0],
            workers=tuple(conn.execute(fragments.LIVE_WORKERS))
            if full and is_postgres(conn)
            else (),
            sending_edits=conn.execute(
                "select count(*) from outbox where state = ? and kind = ?",
                [OutboxState.SENDING, OutboxKind.EDIT],
            ).fetchone()[0],
            once_running=full and is_postgres(conn) and once_running(conn),
        )
    finally:
        conn.close()


def once_running(db) -> bool:
    """Return True when a `once` holds a PostgreSQL archive (it sends with no worker row)."""
    return bool(db.execute(fragments.ONCE_RUNNING).fetchone()[0])


def read_held(path: str | Path, *, deadline: float = READ_DEADLINE) -> int:
    """Return how many pending posts wait for their time (a digest, quiet hours): what `once`'s
    summary says, without the rest of a Snapshot (its article counts scan the archive)."""
    conn = _connect(path, deadline)
    try:
        held, _, _ = _pending(conn, iso(datetime.now(UTC)))
        return sum(held.values())
    finally:
        conn.close()


@dataclass(frozen=True, slots=True)
class FloodWait:
    """How many pending posts wait out a flood wait, and when the last of those waits ends."""

    posts: int = 0
    until: datetime | None = None


def read_flood_wait(
    path: str | Path, *, deadline: float = READ_DEADLINE, now: datetime | None = None
) -> FloodWait:
    """Return the pending posts a flood wait holds now (what `once`'s summary says of them); raise
    sqlite3.Error or StorageError past `deadline` or when there is no archive."""
    at = iso(now or datetime.now(UTC))
    conn = _connect(path, deadline)
    try:
        posts, last_row, last_hold = conn.execute(
            "select count(*), max(next_attempt_at), max((select h.held_until from chat_holds h "
            f"where h.chat_id = outbox.chat_id)) from outbox where {_WAITING}",
            [OutboxState.PENDING, at, at, OutboxState.PENDING, at],
        ).fetchone()
    finally:
        conn.close()
    ends = [stored_moment(m) for m in (last_row, last_hold) if m]
    return FloodWait(posts, max(ends) if posts and ends else None)


def read_health(path: str | Path, *, deadline: float = READ_DEADLINE) -> Snapshot:
    """Return what /healthz needs: the sources, failed posts per channel, refused-token rows."""
    conn = _connect(path, deadline)
    try:
        conn.execute("begin")
        return Snapshot(
            sources=_sources(conn),
            outbox=_by_channel(
                conn,
                "select {ch}, state, count(*) from outbox where state = ? group by 1, 2",
                (OutboxState.FAILED,),
            ),
            token_refused=_token_refused(conn),
        )
    finally:
        conn.close()


def _connect(path: str | Path, deadline: float) -> sqlite3.Connection:
    """Open a read-only connection whose statements are interrupted past `deadline` seconds."""
    if hasattr(path, "reader"):  # a PostgreSQL archive (storage/postgres/backend.py)
        return path.reader(deadline)
    path = getattr(path, "path", path)  # an SQLite archive (storage/backends.py) or its file
    conn = readonly.connect(path, timeout=deadline)
    stop_at = time.monotonic() + deadline
    conn.set_progress_handler(lambda: int(time.monotonic() > stop_at), 10_000)
    return conn


def _sources(conn: sqlite3.Connection) -> dict[str, SourceState]:
    """Return the rows of `sources` by key."""
    cursor = conn.execute("select * from sources")
    names = [d[0] for d in cursor.description]
    return {row[0]: source_from_row(dict(zip(names, row))) for row in cursor}


def _by_channel(conn: sqlite3.Connection, sql: str, params: tuple) -> dict[tuple[str, str], int]:
    """Run a (channel, key, count) query with personal channels folded into one label."""
    totals: dict[tuple[str, str], int] = {}
    for ch, key, n in conn.execute(sql.format(ch=_CHANNEL), params):
        totals[(ch, key)] = totals.get((ch, key), 0) + n
    return totals


def _recent_polls(conn: sqlite3.Connection) -> dict[tuple[str, str], int]:
    """Return the last day's runs per (source, status), from the (source_key, started_at, status)
    index alone (m027/p024): the rows are not read."""
    since = datetime.fromtimestamp(time.time() - 86400, UTC).isoformat(timespec="seconds")
    polls: dict[tuple[str, str], int] = {}
    for (key,) in conn.execute("select key from sources").fetchall():
        for status, n in conn.execute(
            "select status, count(*) from runs where source_key = ? and started_at >= ? group by 1",
            [key, since],
        ):
            polls[(key, status)] = n
    return polls


def _post_lags(conn: sqlite3.Connection, after: int, since: datetime | None) -> tuple[PostLag, ...]:
    """Return up to _LAG_ROWS post rows after outbox id `after`, with each sent post's lag."""
    lag = "max(0.0, (julianday(o.sent_at) - julianday(a.published_at)) * 86400.0)"
    # Posts sent before `since` (this process's start) carry no lag; without it every post does.
    # PostgreSQL compares timestamps, so "no lower bound" is its '-infinity', SQLite's ''.
    start = iso(since) or ("-infinity" if is_postgres(conn) else "")
    if is_postgres(conn):
        lag = fragments.POST_LAG
    rows = conn.execute(
        f"""select o.id, o.state, a.source_key, case when o.sent_at >= ? then {lag} end
           from outbox o join articles a on a.id = o.article_id
           where o.id > ? and coalesce(o.kind, ?) = ? order by o.id limit ?""",
        [start, after, OutboxKind.POST, OutboxKind.POST, _LAG_ROWS],
    )
    return tuple(PostLag(i, OutboxState(state), key, lag) for i, state, key, lag in rows)


def _pending(
    conn: sqlite3.Connection, at: str
) -> tuple[dict[str, int], dict[str, datetime], dict[str, datetime]]:
    """Return per channel the pending rows held for their time, since when its oldest due row has
    waited, and when its oldest pending row was queued: one pass over the pending rows."""
    held: dict[str, int] = {}
    oldest_due: dict[str, datetime] = {}
    oldest_pending: dict[str, datetime] = {}
    now = datetime.fromisoformat(at)
    for ch, is_held, n, queued, due in conn.execute(
        f"select {_CHANNEL}, case when {_HELD} then 1 else 0 end, count(*), min(created_at), "
        f"min({DUE_SINCE}) from outbox where state = ? group by 1, 2",
        [OutboxState.PENDING, at, OutboxState.PENDING],
    ):
        if queued:
            _earliest(oldest_pending, ch, stored_moment(queued))
        if is_held:
            held[ch] = held.get(ch, 0) + n
        elif due:
            # Due from an hour still ahead (a failed row held again, a held row a flood wait
            # moved): not late yet, and never an age from the future.
            _earliest(oldest_due, ch, min(stored_moment(due), now))
    return held, oldest_due, oldest_pending


def _earliest(moments: dict[str, datetime], channel: str, moment: datetime) -> None:
    """Keep the earlier of a channel's moment so far and `moment`."""
    moments[channel] = min(moments.get(channel, moment), moment)


def _token_refused(conn: sqlite3.Connection) -> int:
    """Return how many pending rows last failed because Telegram refused the bot token."""
    (n,) = conn.execute(
        "select count(*) from outbox where state = ? and last_error like ?",
        [OutboxState.PENDING, f"{TOKEN_REFUSED}%"],
    ).fetchone()
    return n
