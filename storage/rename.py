"""A source's rows moved to a new key in one transaction: what `presswatch rename-source` does.

StorageError
└── KeyTaken    the new key holds articles already (a merge was not asked for)

Every table that names a source by its key: articles, their near-duplicate signatures, runs,
pages waited for, the source's state row, its listing's links kept for a 304, readers' source
alerts and the admin alerts about it.
On PostgreSQL the search rows and topic rows follow their article by trigger (p002, p008; p018
moves a search row without recomputing its vector), and polls of the old key queued for the
workers are forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from .dialect import is_postgres
from .lock import StorageError
from .subscriptions import SubscriptionKind
from .transaction import immediate

# The tables whose `source_key` column names the source, as `presswatch rename-source` tells them.
_KEYED = (
    ("articles", "article"),
    ("signatures", "near-duplicate signature"),
    ("runs", "poll"),
    ("missing_pages", "page waited for"),
)
_MOVE = "update {} set source_key = ? where source_key = ?"


class KeyTaken(StorageError):
    """The new key holds articles already, and they were not to be merged."""


@dataclass(frozen=True, slots=True)
class Moved:
    """What a rename moved: rows per thing (in the order told), and what became of the state."""

    counts: tuple[tuple[str, int], ...]
    state: str  # "moved", "merged" (the new key's row kept), or "" when the old key had none
    alerts_merged: int = 0  # readers' alerts on the old key dropped: they had one on the new


def rename_source(db: Database, old: str, new: str, *, merge: bool = False) -> Moved:
    """Give every row of source `old` the key `new`, in one transaction; with `merge`, also when
    `new` holds articles already (each article is stored once, so none can clash)."""
    with immediate(db):
        taken = _count(db, "select count(*) from articles where source_key = ?", new)
        if taken and not merge:
            raise KeyTaken(f"{new} holds {taken} article{'' if taken == 1 else 's'} already")
        counts = [(thing, _change(db, _MOVE.format(table), new, old)) for table, thing in _KEYED]
        merged = _merge_alerts(db, old, new)
        counts.append(("reader alert", _move_alerts(db, old, new)))
        alerts = _change(db, "update alerts set subject = ? where subject = ?", new, old)
        counts.append(("admin alert", alerts))
        state = _move_state(db, old, new)
        _move_listing(db, old, new, state=state)
        unqueued = _unqueue_polls(db, old) if is_postgres(db) else 0
        counts.extend([("queued poll", unqueued)] if unqueued else [])
    return Moved(tuple(counts), state, merged)


def _merge_alerts(db: Database, old: str, new: str) -> int:
    """Drop readers' alerts on `old` whose reader follows `new` too (one alert is kept)."""
    kind = SubscriptionKind.SOURCE
    return _change(
        db,
        "delete from subscriptions where kind = ? and value = ? and user_id in "
        "(select user_id from subscriptions where kind = ? and value = ?)",
        kind,
        old,
        kind,
        new,
    )


def _move_alerts(db: Database, old: str, new: str) -> int:
    """Make readers' alerts on `old` follow `new`."""
    # told_paused_at is kept: the service's next start tells its reader the alert is back.
    kind = SubscriptionKind.SOURCE
    return _change(
        db, "update subscriptions set value = ? where kind = ? and value = ?", new, kind, old
    )


# Columns a merge takes from the old key's row where the new key's is empty; the counters,
# health and last error are the new key's own once it has polled (an old error is not its own).
_COALESCED = (
    "etag",
    "last_modified",
    "last_poll_at",
    "last_success_at",
    "next_poll_at",
    "url",
    "link_pattern",
)


def _move_state(db: Database, old: str, new: str) -> str:
    """Move the old key's state row to the new key. A new key's row that never polled (a start
    with the renamed config noted its address) gives way to it, lending it its address and a
    pause set on it; one that polled is kept, the current state, with the old row's where it has
    none, the earlier baseline, the later arrival, and paused if either was."""
    if not _count(db, "select count(*) from sources where key = ?", old):
        return ""
    row = db.execute(
        "select last_poll_at, url, link_pattern, paused from sources where key = ?", [new]
    )
    mine = row.fetchone()
    if mine is None or mine[0] is None:
        db.execute("delete from sources where key = ?", [new])
        noted = ", url = ?, link_pattern = ?" if mine is not None and mine[1] is not None else ""
        paused = 1 if mine is not None and mine[3] else 0  # a /pause of the new key holds
        db.execute(
            f"update sources set key = ?{noted}, paused = case when ? = 1 then 1 else paused end "
            "where key = ?",
            [new, *(mine[1:3] if noted else ()), paused, old],
        )
        return "moved"
    kept = [f"{c} = coalesce({c}, (select {c} from sources where key = ?))" for c in _COALESCED]
    either = "(select {}({}) from sources where key in (?, ?))"
    db.execute(
        f"update sources set {', '.join(kept)}, "
        f"baseline_at = {either.format('min', 'baseline_at')}, "
        f"last_new_at = {either.format('max', 'last_new_at')}, "
        f"paused = {either.format('max', 'paused')} where key = ?",
        [*(old for _ in _COALESCED), old, new, old, new, old, new, new],
    )
    db.execute("delete from sources where key = ?", [old])
    return "merged"


def _move_listing(db: Database, old: str, new: str, *, state: str) -> None:
    """Give the old key's listing links kept for a 304 (storage/listed_links.py) to the new key,
    unless a merge kept the new key's state and it has a listing of its own: then the old one
    goes. Either way none is left under the old key, which nothing polls any more."""
    # A 304 takes links only with the validators they were read with, so whichever listing stays
    # beside whichever state can never re-read an article the listing no longer lists.
    has_own = state == "merged" and _count(
        db, "select count(*) from listings where source_key = ?", new
    )
    tables = ("listing_links", "listings")
    for table in tables:
        db.execute(f"delete from {table} where source_key = ?", [old if has_own else new])
    if not has_own:
        for table in tables:
            db.execute(_MOVE.format(table), [new, old])


def _unqueue_polls(db: Database, old: str) -> int:
    """Forget the polls of `old` queued for PostgreSQL's workers and not begun (every worker
    is stopped): a batch of its own goes, a shared one loses it; the dispatcher queues the new
    key's when it is due. Return how many were forgotten."""
    todo = "status = 'todo' and task_name = "
    alone = _change(
        db,
        f"delete from procrastinate_jobs where ({todo}'presswatch.poll' and args ->> 'source' = ?)"
        f" or ({todo}'presswatch.polls' and args -> 'sources' = jsonb_build_array(?::text))",
        old,
        old,
    )
    shared = _change(
        db,
        "update procrastinate_jobs set args = jsonb_set(args, '{sources}', (select jsonb_agg(k) "
        "from jsonb_array_elements(args -> 'sources') k where k <> to_jsonb(?::text))) "
        f"where {todo}'presswatch.polls' and args -> 'sources' @> jsonb_build_array(?::text)",
        old,
        old,
    )
    return alone + shared


def _count(db: Database, sql: str, *params: object) -> int:
    """Return the single number a counting query answers."""
    return db.execute(sql, list(params)).fetchone()[0]


def _change(db: Database, sql: str, *params: object) -> int:
    """Run one update or delete; return how many rows it changed."""
    return db.execute(sql, list(params)).rowcount
