"""The service at a glance, as `presswatch status` and the chat's /status write it (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.text.plural import counted
from storage import RunStatus, SourceCondition, SourceState
from storage.status import Snapshot

MARKS = {
    SourceCondition.OK: "✅",
    SourceCondition.FAILING: "❌",
    SourceCondition.SILENT: "🔇",
    SourceCondition.PAUSED: "⏸",
    SourceCondition.NEW: "🆕",
}


def when(moment: datetime | str | None) -> str:
    """Return a UTC time (or stored ISO text) as 'YYYY-MM-DD HH:MM UTC', or '-'."""
    if not moment:
        return "-"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def note(row: SourceState) -> str:
    """Return why a source needs attention, or ''."""
    if row.paused:
        return "paused"
    if row.consecutive_failures:
        until = f"; next try {when(row.next_poll_at)}" if row.next_poll_at else ""
        return f"{failures(row)}: {row.last_error}{until}"
    return ""


def items_left_out(snapshot: Snapshot, key: str) -> str:
    """Say that a source's polls of the last day left items out (a page given up, an unreadable
    item), or nothing."""
    partial = snapshot.polls.get((key, RunStatus.PARTIAL), 0)
    return f"{counted(partial, 'poll')} in 24h left an item out" if partial else ""


def failures(row: SourceState) -> str:
    """Say how a source has been failing: 'never worked (2 polls)', 'failed 3 times in a row'."""
    n = row.consecutive_failures
    if row.never_worked:
        return f"never worked ({n} poll{'s' if n != 1 else ''} so far)"
    return "failed once" if n == 1 else f"failed {n} times in a row"
