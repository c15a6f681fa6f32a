"""A source's rows moved to a new key in one transaction: what `presswatch rename-source` does.

StorageError
└── KeyTaken    the new key holds articles already (a merge was not asked for)

Every table that names a source by its key: articles, their near-duplicate signatures, runs,
pages waited for, the source's state row, readers' source alerts and the admin alerts about it.
On PostgreSQL the search rows and topic rows follow their article by trigger (p002, p008).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

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


def rename_source(db: Database, old: str, new: str, *, merge: bool = False) -> Moved:
    """Give every row of source `old` the key `new`, in one transaction; with `merge`, also when
    `new` holds articles already (each article is stored once, so none can clash)."""
    with immediate(db):
        taken = _count(db, "select count(*) from articles where source_key = ?", new)
        if taken and not merge:
            raise KeyTaken(f"{new} holds {taken} article{'' if taken == 1 else 's'} already")
        counts = [(thing, _change(db, _MOVE.format(table), new, old)) for table, thing in _KEYED]
        counts.append(("reader alert", _move_alerts(db, old, new)))
        alerts = _change(db, "update alerts set subject = ? where subject = ?", new, old)
        counts.append(("admin alert", alerts))
        state = _move_state(db, old, new)
    return Moved(tuple(counts), state)


def _move_alerts(db: Database, old: str, new: str) -> int:
    """Make readers' alerts on `old` follow `new`; a reader following both keeps one."""
    kind = SubscriptionKind.SOURCE
    merged = _change(
        db,
        "delete from subscriptions where kind = ? and value = ? and user_id in "
        "(select user_id from subscriptions where kind = ? and value = ?)",
        kind,
        old,
        kind,
        new,
    )
    # told_paused_at is kept: the service's next start tells its reader the alert is back.
    moved = _change(
        db, "update subscriptions set value = ? where kind = ? and value = ?", new, kind, old
    )
    return merged + moved


def _move_state(db: Database, old: str, new: str) -> str:
    """Move the old key's state row to the new key; when the new key has one (it was polled
    under it), keep that one, the current state, with the earlier baseline and later arrival."""
    if not _count(db, "select count(*) from sources where key = ?", old):
        return ""
    if not _count(db, "select count(*) from sources where key = ?", new):
        db.execute("update sources set key = ? where key = ?", [new, old])
        return "moved"
    db.execute(
        "update sources set "
        "baseline_at = (select min(baseline_at) from sources where key in (?, ?)), "
        "last_new_at = (select max(last_new_at) from sources where key in (?, ?)) "
        "where key = ?",
        [old, new, old, new, new],
    )
    db.execute("delete from sources where key = ?", [old])
    return "merged"


def _count(db: Database, sql: str, *params: object) -> int:
    """Return the single number a counting query answers."""
    return db.execute(sql, list(params)).fetchone()[0]


def _change(db: Database, sql: str, *params: object) -> int:
    """Run one update or delete; return how many rows it changed."""
    return db.execute(sql, list(params)).rowcount
