"""Settle uncertain posts by asking Telegram: forward the chat's next message ids into the probe
chat, read each copy, delete it, and let `probing.decide` say what the answers mean.

Every forward is recorded before the call (`probe_copies`) and forgotten only once Telegram has
deleted the copy (or surely made none), so a probe cut short — an error, a crash — leaves a copy to
delete at the next probe, not in the probe chat for good. A forward whose answer was lost may have
made a copy we cannot name; in a probe chat that numbers its own messages the next copy's id shows
where it would be, and the ids just below it are deleted. Probe calls take turns (one at a time)
and follow the pacer's limits for the probe chat; they run in the probed chat's lane, so only that
chat waits for them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.delivery.outcomes import RelayReport
from bot.delivery.pacing import Pacer
from bot.delivery.probing import (
    Absent,
    AskProtection,
    Forward,
    Found,
    Scan,
    Seen,
    Undecided,
    compare,
    decide,
    sequential_ids,
)
from bot.delivery.telegram import (
    ChatMoved,
    Delivered,
    Forwarded,
    NotFound,
    Outcome,
    ProbeAnswer,
    RetryLater,
    Uncertain,
    Unforwardable,
)
from bot.text.plural import counted
from storage import OutboxItem, Store
from storage.probes import Copy

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
MAX_TRIES = 5  # probes cut short (flood waits, 5xx) before the fallback rule applies
_AGAIN = 30.0  # seconds before probing again after a call that failed without a verdict


class ProbeApi(Protocol):
    """The Telegram calls a probe makes (bot/delivery/telegram.py: TelegramProbe)."""

    async def forward(self, *, chat_id: str, from_chat_id: str, message_id: int) -> ProbeAnswer:
        """Forward one message into `chat_id`."""

    async def delete(self, *, chat_id: str, message_id: int) -> Outcome | NotFound:
        """Delete one message."""

    async def protected(self, chat_id: str) -> bool | ProbeAnswer:
        """Say whether a chat forbids forwarding."""


@dataclass(frozen=True, slots=True)
class _Stop:
    """A probe ended without a verdict: try again after `later` seconds, or fall back now."""

    reason: str
    later: float | None = None


class Prober:
    """Settle uncertain rows of any chat by probing it through one probe chat."""

    def __init__(
        self,
        *,
        store: Store,
        api: ProbeApi,
        probe_chat: str,
        pacer: Pacer,
        resend: bool,
        admin_chat: str | None = None,
        clock: Clock,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._store, self._probes, self._api = store, store.outbox.probes, api
        self._chat, self._pacer, self._resend, self._admin = probe_chat, pacer, resend, admin_chat
        self._clock, self._monotonic, self._sleep = clock, monotonic, sleep
        self._turn = asyncio.Lock()  # one call into the probe chat at a time
        self._inflight: set[int] = set()  # copies whose forward has not answered yet: not lost
        self._alerted = False

    async def settle(self, items: Sequence[OutboxItem], report: RelayReport) -> None:
        """Probe for the message of `items` (one post, or the rows of one digest) and record it."""
        await self.sweep()
        await self._probe(items, report)
        await self._resolve_lost(items[0].chat_id)

    async def _probe(self, items: Sequence[OutboxItem], report: RelayReport) -> None:
        """Look at the chat's ids one by one until `decide` gives a verdict, and record it."""
        first = items[0]
        if first.probe is None:
            reason = "sent before probing was set up: nothing to look for"
            return self._undecided(items, reason, report)
        sequential = sequential_ids(first.chat_id)
        own = self._probes.own_ids(first.chat_id, after=first.probe.after, shared=not sequential)
        scan = Scan(after=first.probe.after, own=own, sequential=sequential)
        while True:
            match decide(scan):
                case Forward(message_id):
                    seen = await self._look(first, message_id)
                    if isinstance(seen, _Stop):
                        return self._stopped(items, seen, report)
                    scan = scan.seeing(message_id, seen)
                case AskProtection():
                    answer = await self._call(self._api.protected(first.chat_id))
                    if not isinstance(answer, bool):
                        return self._stopped(items, self._stop(first, answer), report)
                    scan = replace(scan, protected=answer)
                case Found(message_id):
                    return self._found(items, message_id, report)
                case Absent(checked):
                    return self._absent(items, checked, report)
                case Undecided(reason):
                    return self._undecided(items, reason, report)

    async def sweep(self) -> None:
        """Delete the copies earlier probes left in the probe chat (errors, crashes)."""
        for copy in self._probes.copies(self._chat):
            if copy.message_id is not None:
                await self._delete(copy)

    # -- one look ---------------------------------------------------------------------------

    async def _look(self, item: OutboxItem, message_id: int) -> Seen | _Stop:
        """Forward one id into the probe chat, delete the copy, and say what it was."""
        answer = await self._look_at(item.chat_id, message_id)
        match answer:
            case Forwarded(_, text, links, media):
                assert item.probe is not None  # _probe() checked
                return compare(item.probe, text=text, links=links, media=media)
            case NotFound():
                return Seen.MISSING
            case Unforwardable():
                return Seen.UNFORWARDABLE
        return self._stop(item, answer)

    async def _look_at(self, chat_id: str, message_id: int) -> object:
        """Forward one message into the probe chat and delete the copy; return the answer."""
        async with self._turn:
            await self._paced()
            copy_id = self._probes.begin_copy(
                self._chat,
                after_id=self._probes.last_id(self._chat, shared=not sequential_ids(self._chat)),
                source=f"{chat_id}#{message_id}",
                now=self._clock(),
            )
            self._inflight.add(copy_id)
            try:
                answer = await self._call(
                    self._api.forward(
                        chat_id=self._chat, from_chat_id=chat_id, message_id=message_id
                    )
                )
            finally:
                self._inflight.discard(copy_id)
            if isinstance(answer, Forwarded):
                self._probes.copy_landed(copy_id, answer.message_id, now=self._clock())
            elif not isinstance(answer, Uncertain):  # a definite refusal made no copy
                self._probes.copy_gone(copy_id)
        if isinstance(answer, Forwarded):
            await self._delete_lost(answer.message_id)
            await self._delete(Copy(copy_id, self._chat, answer.message_id, None, ""))
        return answer

    def _stop(self, item: OutboxItem, answer: object) -> _Stop:
        """Turn a failed probe call into a pause or a reason to fall back."""
        match answer:
            case RetryLater(after, reason):
                self._pacer.block(self._chat, self._monotonic() + after)
                return _Stop(reason, later=after)
            case Uncertain(reason):
                return _Stop(reason, later=_AGAIN)
            case ChatMoved(new_chat_id):
                reason = f"the probe chat became {new_chat_id}: set telegram.probe_chat_id to it"
            case _:
                reason = getattr(answer, "reason", str(answer))
        self._alert_once(reason)
        return _Stop(f"forwarding from {item.chat_id} into the probe chat failed: {reason}")

    async def _delete(self, copy: Copy) -> None:
        """Delete a copy from the probe chat; forget it once Telegram confirms it is gone."""
        async with self._turn:
            await self._paced()
            assert copy.message_id is not None
            answer = await self._call(
                self._api.delete(chat_id=self._chat, message_id=copy.message_id)
            )
        if isinstance(answer, (Delivered, NotFound)):
            self._probes.copy_gone(copy.id)
        else:  # kept in probe_copies: the next probe deletes it
            log.warning("probe copy %s not deleted yet: %s", copy.message_id, answer)

    async def _resolve_lost(self, chat_id: str) -> None:
        """Find where copies of lost forwards would be, if any are left: forward a known message.

        A probe that only met "not found" landed no copy to tell; the chat's last confirmed
        message does (and is deleted again at once).
        """
        if not self._lost():
            return
        known = self._probes.last_id(chat_id, shared=not sequential_ids(chat_id))
        if known is not None:
            await self._look_at(chat_id, known)

    async def _delete_lost(self, landed: int) -> None:
        """Delete copies of forwards whose answer was lost: they sit just below `landed`."""
        lost = self._lost()
        if not lost:
            return
        if not sequential_ids(self._chat) or self._chat == self._admin:
            # Ids there are shared with other chats, or belong to the operator: never guess.
            log.warning(
                "%s lost %s answer; a copy may be left in the probe chat "
                "below message %s: delete it by hand",
                counted(len(lost), "probe forward"),
                "its" if len(lost) == 1 else "their",
                landed,
            )
        else:
            low = max((min(c.after_id or 0 for c in lost)) + 1, landed - len(lost))
            for message_id in range(low, landed):
                await self._delete(Copy(lost[0].id, self._chat, message_id, None, ""))
        for copy in lost:
            self._probes.copy_gone(copy.id)

    def _lost(self) -> list[Copy]:
        """Return the copies whose forward ended without an answer (here or in a killed process)."""
        return [
            c
            for c in self._probes.copies(self._chat)
            if c.message_id is None and c.id not in self._inflight
        ]

    async def _paced(self) -> None:
        """Wait until the pacer lets the next call into the probe chat go, and count it."""
        while (ready := self._pacer.ready_at(self._chat, self._monotonic())) > self._monotonic():
            await self._sleep(ready - self._monotonic())
        self._pacer.record(self._chat, self._monotonic())

    async def _call(self, call: Awaitable) -> object:
        """Await a probe call once the copy it may make is recorded on disk; an unexpected error
        may have happened after Telegram acted."""
        try:
            await self._store.durable()
        except BaseException:
            getattr(call, "close", lambda: None)()  # never started: no "never awaited" warning
            raise
        try:
            return await call
        except Exception as exc:  # noqa: BLE001 - a probe must always end in a recorded state
            log.exception("probe call into %s failed unexpectedly", self._chat)
            return Uncertain(f"unexpected {type(exc).__name__}: {exc}")

    # -- verdicts ---------------------------------------------------------------------------

    def _found(self, items: Sequence[OutboxItem], message_id: int, report: RelayReport) -> None:
        """Record the rows sent: the probe found their message."""
        ids = [i.id for i in items]
        note = f"found as message {message_id}"
        self._probes.found(ids, message_id=message_id, note=note, now=self._clock())
        report.sent += len(ids)
        log.info("probe: outbox %s in %s %s", ids, items[0].chat_id, note)

    def _absent(self, items: Sequence[OutboxItem], checked: tuple, report: RelayReport) -> None:
        """Send the rows again: their message is provably not in the chat."""
        ids = [i.id for i in items]
        shown = ", ".join(map(str, checked))
        note = f"not in the chat (messages {shown} not found): sent again"
        self._probes.absent(ids, note=note, now=self._clock())
        report.retried += len(ids)
        log.info("probe: outbox %s in %s %s", ids, items[0].chat_id, note)

    def _undecided(self, items: Sequence[OutboxItem], reason: str, report: RelayReport) -> None:
        """Apply the fallback rule (hold or resend), recording why the probe could not tell."""
        ids, now = [i.id for i in items], self._clock()
        self._probes.undecided(ids, reason=reason, resend_at=now if self._resend else None, now=now)
        report.uncertain += len(ids)
        rule = "sent again" if self._resend else "held for the operator"
        log.warning("probe: outbox %s in %s undecided, %s: %s", ids, items[0].chat_id, rule, reason)

    def _stopped(self, items: Sequence[OutboxItem], stop: _Stop, report: RelayReport) -> None:
        """Probe again later, or fall back once probes were cut short too often."""
        tries = items[0].probe_tries + 1
        if stop.later is None or tries >= MAX_TRIES:
            suffix = "" if stop.later is None else f" (probe cut short {tries} times)"
            return self._undecided(items, stop.reason + suffix, report)
        now = self._clock()
        at = now + timedelta(seconds=stop.later)
        self._probes.later([i.id for i in items], at=at, error=stop.reason, now=now)
        log.info("probe of outbox %s cut short (%s); again at %s", items[0].id, stop.reason, at)

    def _alert_once(self, reason: str) -> None:
        """Tell the operator once per process that the probe chat does not work."""
        if self._alerted or not self._admin or self._admin == self._chat:
            return
        self._alerted = True
        self._store.alerts.enqueue(
            chat_id=self._admin,
            subject="telegram:probe_chat",
            kind="probe_chat_failing",
            text=f"presswatch: probing through {self._chat} failed: {reason}. Uncertain posts "
            "fall back to telegram.probe_fallback; check the bot is an admin of the probe chat.",
            now=self._clock(),
        )
