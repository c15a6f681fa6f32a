"""One `once` round: poll every due source once, then deliver what is due until the outbox is idle
(or a stop comes); what it did is kept in a Round as it goes, for the summary line."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from bot.app import App
from bot.delivery.publish import RelayReport
from bot.ingest.poll import poll_source
from storage import RunRecord
from storage.cadence import last_poll_starts


@dataclass(slots=True)
class Round:
    """What one `once` did: its polls, its sends, when each source not due yet is, and which
    sources a stop cut short."""

    runs: list[RunRecord] = field(default_factory=list)
    report: RelayReport = field(default_factory=RelayReport)
    later: dict[str, datetime] = field(default_factory=dict)
    cut: list[str] = field(default_factory=list)


async def run_once(
    app: App,
    *,
    every: bool = True,
    stopping: asyncio.Event | None = None,
    into: Round | None = None,
) -> Round:
    """Poll every due source once (with `every`, only those whose interval has come since their
    last poll started), then deliver everything that is due. Once `stopping` is set, polls under
    way are cancelled and no new send starts. `into` is filled as the round goes (what a caller
    that cancels the round still reads)."""
    stopping = stopping or asyncio.Event()
    done = into if into is not None else Round()
    now = datetime.now(UTC)
    started = last_poll_starts(app.store.db, [s.key for s in app.config.sources]) if every else None
    due, done.later = app.due_sources(now, started=started)
    done.cut = [s.key for s in due]  # until their polls end
    done.runs = await _polls([poll_source(s, app.poll) for s in due], stopping)
    polled = {run.source_key for run in done.runs}
    done.cut = [s.key for s in due if s.key not in polled]
    total = done.report
    while True:
        if stopping.is_set():
            app.relay.stop()  # what a stop before delivery asks (one during it asked already)
        report = await app.relay.deliver_due()
        _add(total, report)
        idle = report.sent == 0 and report.failed == 0 and report.uncertain == 0
        if idle or stopping.is_set():
            return done


async def _polls(
    polls: list[Coroutine[Any, Any, RunRecord]], stopping: asyncio.Event
) -> list[RunRecord]:
    """Run the polls at once until all end or `stopping` is set; return those that ended."""
    if stopping.is_set():
        for poll in polls:
            poll.close()
        return []
    tasks = [asyncio.ensure_future(poll) for poll in polls]
    if not tasks:
        return []
    stop = asyncio.ensure_future(stopping.wait())
    left = set(tasks)
    while left and not stopping.is_set():
        _, left = await asyncio.wait(left | {stop}, return_when=asyncio.FIRST_COMPLETED)
        left.discard(stop)
    stop.cancel()
    if left:
        # A poll cut short records nothing more; its source is read again at the next round.
        for task in left:
            task.cancel()
        await asyncio.wait(left)
    return [t.result() for t in tasks if not t.cancelled()]  # poll_source raises no error


def _add(total: RelayReport, report: RelayReport) -> None:
    """Add one relay round's counts to the `once` round's."""
    for name in _COUNTS:
        setattr(total, name, getattr(total, name) + getattr(report, name))
    total.failed_chats |= report.failed_chats


_COUNTS = [f.name for f in fields(RelayReport) if f.type in (int, "int")]
