"""The service at a glance as short lines, for /status in the chat (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bot.text.plural import counted
from storage import OutboxState, RunStatus, SourceCondition, SourceState
from storage.status import PERSONAL, Snapshot

MARKS = {
    SourceCondition.OK: "✅",
    SourceCondition.FAILING: "❌",
    SourceCondition.SILENT: "🔇",
    SourceCondition.PAUSED: "⏸",
    SourceCondition.NEW: "🆕",
}
_COUNTED = (OutboxState.SENT, OutboxState.PENDING, OutboxState.UNCERTAIN, OutboxState.FAILED)


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


def status_lines(
    snapshot: Snapshot,
    *,
    sources: Sequence[str],
    channels: Sequence[str],
    missed: dict[str, float] | None = None,
) -> list[str]:
    """Return one short line per source and per channel; `missed` counts missed or skipped polls."""
    lines = []
    for key in sources:
        row = snapshot.source(key)
        state = row.condition
        # "last success -" reads as a typo; a source that never worked says so in words.
        success = when(row.last_success_at) if row.last_success_at else "none yet"
        extra = note(row) or f"last success {success}"
        late = (missed or {}).get(key)
        left_out = items_left_out(snapshot, key)
        count = counted(snapshot.articles.get(key, 0), "article")
        lines.append(
            f"{MARKS[state]} {key}: {state}, {count}; {extra}"
            + (f"; {late:.0f} missed/skipped polls" if late else "")
            + (f"; {left_out}" if left_out else "")
        )
    names = [*channels] + ([PERSONAL] if any(ch == PERSONAL for ch, _ in snapshot.outbox) else [])
    for name in names:
        sent, pending, unsure, failed = (snapshot.outbox.get((name, st), 0) for st in _COUNTED)
        mark = "❌" if failed and name != PERSONAL else "✅"
        lines.append(
            f"{mark} {name}: {sent} sent, {pending} pending, {unsure} uncertain, {failed} failed"
        )
    return lines
