"""Turn due outbox rows into the relay's jobs: a probe of each uncertain message (policy
"probe"), one send per row, digests packed per channel; rows waiting for quiet hours to end or
for the next digest are deferred instead."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.config import Channel
from bot.delivery.compose import Composer
from bot.delivery.digest import hold_until
from bot.delivery.telegram import Message
from storage import DigestMark, OutboxItem, OutboxKind, OutboxState, Store
from storage.alerts import Alert

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    """One send: an outbox row, the rows of one digest message, or an alert."""

    chat_id: str
    items: tuple[OutboxItem, ...] = ()
    message: Message | None = None  # composed up front for digests only
    alert: Alert | None = None
    probe: bool = False  # settle the uncertain rows by probing, send nothing
    # The rows of its digest part's earlier messages in this pass (Planner.waits).
    follows: tuple[int, ...] = ()

    def log_fields(self) -> dict[str, object]:
        """Return the fields its log lines carry: chat, channel, article (a digest's first)."""
        first = self.items[0] if self.items else None
        return {
            "event": "alert" if self.alert else "probe" if self.probe else "send",
            "chat": self.chat_id,
            "channel": first.channel if first else None,
            "article_id": first.article_id if first else None,
        }


class Planner:
    """Plan the jobs of due rows for the relay."""

    def __init__(self, *, store: Store, composer: Composer, probing: bool) -> None:
        self._store, self._composer, self._probing = store, composer, probing

    def plan(self, items: list[OutboxItem], *, now: datetime) -> list[Job]:
        """Turn due rows into jobs: probe uncertain rows, hold quiet and digest rows, pack digests."""
        jobs: list[Job] = []
        # Per chat and channel; the rows of a part of a split digest packed before, per part.
        digests: dict[tuple[str, str, DigestMark | None], list[OutboxItem]] = {}
        held: dict[datetime, list[int]] = {}
        probes: dict[tuple, list[OutboxItem]] = {}
        for item in items:
            if item.state == OutboxState.UNCERTAIN and self._probing:
                # The rows of one digest message share what the probe looks for: probe them once.
                key = (item.chat_id, item.probe or item.id)
                probes.setdefault(key, []).append(item)
                continue
            channel = self._composer.channel(item.channel)
            if channel and channel.digest_seconds and item.kind != OutboxKind.POST:
                self._store.outbox.drop([item.id], now=now)
                log.info(
                    "%s is a digest channel: its posts are not edited or answered", item.channel
                )
                continue
            until = self._hold(item, channel, now)
            if until is not None:
                held.setdefault(until, []).append(item.id)
            elif channel and channel.digest_seconds:
                # By chat too: a retry may leave a digest channel's rows in two chats (a failed
                # post moved to a fixed chat_id, the others where they were), and one message
                # goes to one chat.
                digests.setdefault((item.chat_id, item.channel, item.digest_part), []).append(item)
            else:
                jobs.append(Job(item.chat_id, (item,)))
        # A probe goes ahead of its chat's later rows: the oldest doubt is settled first.
        jobs[:0] = [Job(group[0].chat_id, tuple(group), probe=True) for group in probes.values()]
        for until, ids in held.items():
            self._store.outbox.defer(ids, until=until, now=now)
        for (_, _, packed), group in digests.items():
            rest = packed is not None and self._part_went_out(packed, group)
            earlier: tuple[int, ...] = ()
            for rows, message, mark in self._composer.digest(group, part=packed, continued=rest):
                if mark is not None and packed is None:
                    self._store.outbox.mark_digest(mark, now=now)
                follows = earlier if packed is not None else ()  # a fresh pack's are other parts
                jobs.append(Job(group[0].chat_id, rows, message, follows=follows))
                earlier += tuple(row.id for row in rows)
        return jobs

    def waits(self, job: Job) -> bool:
        """Tell whether a digest part's later message must not go now: an earlier one of this pass
        did not go out (failed, or due later), so the reader would see "(1/2, continued)" before
        "(1/2)". Its rows stay due: planned again, they go out as the part itself."""
        states = self._store.outbox.states_of(job.follows).values() if job.follows else ()
        # An uncertain message most likely arrived: the rest follows it, as continued.
        if all(state in (OutboxState.SENT, OutboxState.UNCERTAIN) for state in states):
            return False
        log.info(
            "outbox %d, …: an earlier message of its digest part did not go out", job.items[0].id
        )
        return True

    def _part_went_out(self, part: DigestMark, rows: list[OutboxItem]) -> bool:
        """Tell whether some other row of a split digest's part was sent: then these rows are its
        rest (retried in two batches, or due at different times), not the part a second time."""
        others = set(part.rows) - {row.id for row in rows}
        sent = self._store.outbox.states_of(others).values() if others else ()
        return OutboxState.SENT in sent

    def _hold(self, item: OutboxItem, channel: Channel | None, now: datetime) -> datetime | None:
        """Return until when a row waits for its channel's digest or quiet hours, if it does."""
        return channel_hold(channel, item.kind, created=item.created_at or now, now=now)


def channel_hold(
    channel: Channel | None, kind: OutboxKind, *, created: datetime, now: datetime
) -> datetime | None:
    """Return until when a row of `kind` created at `created` waits for its channel's digest or
    quiet hours, or None if it may go now."""
    if channel is None or kind == OutboxKind.EDIT:
        return None  # An edit makes no sound; it may go at night.
    return hold_until(
        created=created,
        now=now,
        quiet=channel.quiet_hours,
        digest_seconds=channel.digest_seconds if kind == OutboxKind.POST else None,
        zone=channel.timezone,
    )
