"""Re-plan the posts held for a channel's digest or quiet hours when the config changed.

The planner holds a row until the time the config gives (`Outbox.defer`) and checks the hold
again when the row comes due, so a longer digest or new quiet hours hold it on by themselves. A
shorter digest or quiet hours removed would only take effect at the old time: the relay's first
round (at start, after a reload, at `once`) brings those rows forward to the time the config
gives now. A channel no longer in the config keeps its rows' times.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from bot.config import Channel
from bot.delivery.planning import channel_hold
from bot.text.plural import counted
from storage import Store
from storage.outbox_holds import HeldRow

log = logging.getLogger(__name__)


def replan_held(store: Store, channels: Iterable[Channel], *, now: datetime) -> int:
    """Bring forward the held rows the config now holds for less time; return how many moved."""
    by_name = {channel.name: channel for channel in channels}
    moves: dict[str, dict[datetime, list[int]]] = {}
    for row in store.outbox.held_by_defer(now=now):
        until = new_hold(row, by_name.get(row.channel), now=now)
        if until is not None:
            moves.setdefault(row.channel, {}).setdefault(until, []).append(row.id)
    total = 0
    for name, times in sorted(moves.items()):
        moved = sum(
            store.outbox.bring_forward(ids, until=until, now=now) for until, ids in times.items()
        )
        if moved:
            log.info(
                "channel %s: %s held for the old digest or quiet hours now due %s (config changed)",
                name,
                counted(moved, "post"),
                due_when(list(times), now=now),
            )
        total += moved
    return total


def new_hold(row: HeldRow, channel: Channel | None, *, now: datetime) -> datetime | None:
    """Return the earlier time the config now holds a row until (`now` if it holds it no more),
    or None to leave it: its channel is gone, or the config holds it as long or longer."""
    if channel is None:
        return None  # Not the operator's channel now (removed, or a reader's): kept as it was.
    until = channel_hold(channel, row.kind, created=row.created_at, now=now) or now
    return until if until < row.until else None


def due_when(times: list[datetime], *, now: datetime) -> str:
    """Return when moved rows are due: "at once", "22:50 UTC" or "22:50–23:00 UTC"."""
    first, last = min(times), max(times)
    if last <= now:
        return "at once"
    if first <= now:
        return f"from now to {last:%H:%M} UTC"
    return f"{first:%H:%M} UTC" if first == last else f"{first:%H:%M}–{last:%H:%M} UTC"
