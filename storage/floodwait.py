"""Posts waiting out a Telegram flood wait, and until when: what `once`'s summary says of them.

The rows `status` calls FLOOD WAITING (storage/status.py's Snapshot.flood_waiting: the row a 429
answered and the rows of its chat the hold keeps back, not those held for their own time), but
only while the wait lasts, read in one transaction without the rest of a Snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .records import OutboxState, iso, stored_moment

# The status module's reader and its rule for a row held for its time: one rule for both reads.
from .status import _HELD, READ_DEADLINE, _connect

_WAITING = (
    "state = ? and ((last_error like 'flood wait%' and next_attempt_at > ?) "
    "or exists (select 1 from chat_holds h where h.chat_id = outbox.chat_id "
    "and h.held_until > ? and exists (select 1 from outbox f where f.chat_id = h.chat_id "
    f"and f.state = outbox.state and f.last_error like 'flood wait%'))) and not ({_HELD})"
)


@dataclass(frozen=True, slots=True)
class FloodWait:
    """How many pending posts wait out a flood wait, and when the last of those waits ends."""

    posts: int = 0
    until: datetime | None = None


def read_flood_wait(
    path: str | Path, *, deadline: float = READ_DEADLINE, now: datetime | None = None
) -> FloodWait:
    """Return the pending posts a flood wait holds now; raise sqlite3.Error or StorageError past
    `deadline` or when there is no archive."""
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
