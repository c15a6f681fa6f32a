"""The outbox relay: send due rows and alerts chat by chat, paced and fair, recording every outcome.

State is committed before and after every Telegram call (`sending`, then the outcome), so a
crash leaves at worst a row in `sending`, which start-up turns into `uncertain`. Chats are served
round-robin with one send in flight per chat, so a chat that hangs, floods or refuses us never
delays another chat. With `telegram.uncertain = "probe"` an uncertain row becomes a probe job in
its chat's lane once it has settled (`_SETTLE`), ahead of the chat's later rows (probe.py). One
send, and its retries as text, plain or shorter when Telegram refuses the content, is healing.py's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from bot.config import DeliveryConfig, TelegramConfig, UncertainPolicy
from bot.delivery.compose import Composer, NothingToEdit, alert_message
from bot.delivery.deadline import TIMEOUTS_PER_CALL
from bot.delivery.healing import Healing
from bot.delivery.outcomes import Outcomes, RelayReport
from bot.delivery.pacing import Lanes, Pacer
from bot.delivery.planning import Job, Planner
from bot.delivery.probe import ProbeApi, Prober
from bot.delivery.probing import expectation, sequential_ids
from bot.delivery.replan import replan_held
from bot.delivery.telegram import Sender
from bot.logfields import log_fields
from bot.text.plural import counted
from storage import OutboxItem, Store

log = logging.getLogger(__name__)
_STALE_SENDING = 600  # seconds; a send at the default request_timeout ends long before
# A send heals by up to this many calls in a row (healing.py: a photo refused, markup refused,
# twice too long), each ending within TIMEOUTS_PER_CALL request_timeouts (deadline.py).
_CALLS_PER_SEND = 5

Clock = Callable[[], datetime]
_REFILL_EVERY = 1.0  # seconds between looks for new due rows while a round is busy
_PER_CHAT = 50  # due rows taken per chat per look (a digest packs up to 40 in one message)
_DIGEST_ROWS = 1000  # due rows a digest chat's look may take: one period's, whole (25 messages)
# Seconds an uncertain row waits before a probe: time for a request Telegram may still be
# processing (a timed-out call, a killed process) to land, so "not found" stays true.
_SETTLE = 10.0

__all__ = ["Relay", "RelayReport"]


@dataclass(frozen=True, slots=True)
class _Done:
    """How a send ended: whether its chat should pause, and when the answer came (monotonic)."""

    pause: bool
    answered: float | None
    lost_claim: bool = False  # its rows stay out of this round: read again, they would spin


@dataclass(slots=True)
class _Round:
    """The state of one `deliver_due` call."""

    report: RelayReport
    lanes: Lanes[Job] = field(default_factory=Lanes)
    inflight: dict[asyncio.Task, tuple[str, float, Job]] = field(default_factory=dict)
    queued: set[int] = field(default_factory=set)
    alerts: set[int] = field(default_factory=set)
    paused: set[str] = field(default_factory=set)
    refilled: float = float("-inf")
    chat: str | None = None  # one chat's rows only (a worker of many holds that chat's lock)


class Relay:
    """Deliver due outbox rows and alerts; one chat's trouble never delays another chat."""

    def __init__(
        self,
        *,
        store: Store,
        sender: Sender,
        config: DeliveryConfig,
        pacer: Pacer | None = None,
        clock: Clock = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = asyncio.sleep,
        probe: ProbeApi | None = None,
    ) -> None:
        self._store, self._config = store, config
        tg = config.telegram
        self._pacer = pacer or Pacer(
            per_minute=tg.per_chat_per_minute,
            interval=tg.per_chat_interval,
            per_second=tg.per_second,
        )
        self._clock, self._monotonic, self._sleep = clock, monotonic, sleep
        self._composer = Composer(config, store)
        self._prober = self._make_prober(tg, probe)
        self._healing = Healing(
            store=store,
            sender=sender,
            composer=self._composer,
            probing=bool(self._prober),
            clock=clock,
        )
        self._planner = Planner(store=store, composer=self._composer, probing=bool(self._prober))
        policy = tg.uncertain
        if policy == UncertainPolicy.PROBE and self._prober is None:
            policy = tg.probe_fallback  # nothing to probe with (no token: the console)
        self._outcomes = Outcomes(
            store=store,
            telegram=tg,
            pacer=self._pacer,
            clock=clock,
            monotonic=monotonic,
            policy=policy,
        )
        self._resend = policy == UncertainPolicy.RESEND
        self._stopping = False
        self._seeded = False
        # Sooner, a send still in flight (on another worker) would be taken for stuck.
        calls = _CALLS_PER_SEND * TIMEOUTS_PER_CALL * tg.request_timeout
        self._stale = timedelta(seconds=max(_STALE_SENDING, calls))

    def _make_prober(self, tg: TelegramConfig, api: ProbeApi | None) -> Prober | None:
        """Return the prober when the policy is "probe" and Telegram can be asked."""
        if tg.uncertain != UncertainPolicy.PROBE or api is None or not tg.probe_chat_id:
            return None
        return Prober(
            store=self._store,
            api=api,
            probe_chat=tg.probe_chat_id,
            pacer=self._pacer,
            resend=tg.probe_fallback == UncertainPolicy.RESEND,
            admin_chat=tg.admin_chat_id,
            clock=self._clock,
            monotonic=self._monotonic,
            sleep=self._sleep,
        )

    def stop(self) -> None:
        """Finish the sends in flight, then start no new one."""
        self._stopping = True

    async def deliver_due(self, *, limit: int = 200, chat: str | None = None) -> RelayReport:
        """Send everything due now (and what falls due while sending), then return.

        With `chat`, only that chat's rows and alerts: a worker among many delivers the chat whose
        lock it holds, so rows it finds `sending` were cut off by a worker that died (uncertain).
        """
        if not self._seeded:
            # First, so a round it fails in tries it again (seeding marks the relay seeded).
            replan_held(self._store, self._config.channels, now=self._clock())  # config changed?
            self._seed_pacer()
            self._outcomes.say_moves(self._config.channels)
        # A row still `sending` long after any call could last lost its outcome to a failed write.
        stale = self._store.outbox.recover_interrupted(
            now=self._clock(), before=self._clock() - self._stale
        )
        if stale:
            log.warning(
                "%s stuck mid-send for %d s: uncertain",
                counted(stale, "post"),
                self._stale.total_seconds(),
            )
        if chat is not None:
            cut = self._store.outbox.recover_interrupted(now=self._clock(), chat=chat)
            if cut:
                log.warning(
                    "%s to %s: cut off mid-send by a worker that stopped",
                    counted(cut, "post"),
                    chat,
                )
        rnd = _Round(RelayReport(), chat=chat)
        try:
            await self._serve(rnd, limit)
        except asyncio.CancelledError:
            # Stopped hard: sends cut off now stay `sending` and become `uncertain` at start-up.
            for task in rnd.inflight:
                task.cancel()
            raise
        await self._drain(rnd)
        return rnd.report

    def _seed_pacer(self) -> None:
        """Count the last minute's sends from the archive, so a restart cannot break the pace.

        Telegram remembers what a chat received in the last minute even when this process is new;
        without this, a service restarted after a crash would earn a flood wait at once.
        """
        now, mono = self._clock(), self._monotonic()
        since = now - timedelta(seconds=60)
        # Alerts count too: Telegram paces the admin chat by everything it received.
        sends = self._store.outbox.recent_sends(since) + self._store.alerts.recent_sends(since)
        for chat, at in sorted(sends, key=lambda pair: pair[1]):
            self._pacer.record(chat, mono - (now - at).total_seconds())
        self._seeded = True

    async def _serve(self, rnd: _Round, limit: int) -> None:
        """Dispatch jobs as the pacer allows until nothing is left or the relay stops."""
        while not self._stopping:
            self._reap(rnd)
            now = self._monotonic()
            if rnd.lanes.idle or now - rnd.refilled >= _REFILL_EVERY:
                added = self._refill(rnd, limit)
                if rnd.lanes.idle and not added:
                    return
            taken = rnd.lanes.take(self._pacer, now)
            if taken:
                self._dispatch(rnd, *taken)
            else:
                await self._wait(rnd, now)

    def _dispatch(self, rnd: _Round, chat: str, job: Job) -> None:
        """Start one send as a task; the chat stays busy until it ends."""
        started = self._monotonic()
        if not job.probe:  # a probe posts into the probe chat only, paced there
            self._pacer.record(chat, started)
        task = asyncio.create_task(self._run(job, rnd.report), name=f"send to {chat}")
        rnd.inflight[task] = (chat, started, job)

    async def _wait(self, rnd: _Round, now: float) -> None:
        """Wait until a send ends, the pacer lets the next chat go, or it is time to look again."""
        wake = rnd.lanes.wake_at(self._pacer, now)
        # Never longer than a refill: a new row for an idle chat must not wait for a slow one.
        delay = _REFILL_EVERY if wake is None else min(max(0.0, wake - now), _REFILL_EVERY)
        nap = asyncio.ensure_future(self._sleep(delay))
        await asyncio.wait({nap, *rnd.inflight}, return_when=asyncio.FIRST_COMPLETED)
        if not nap.done():
            nap.cancel()

    def _reap(self, rnd: _Round) -> None:
        """Book every finished send: free its chat, pause the chat if it asked to."""
        for task in [t for t in rnd.inflight if t.done()]:
            chat, started, job = rnd.inflight.pop(task)
            rnd.lanes.done(chat)
            if task.cancelled() or task.exception() is not None:
                log.error(
                    "send to %s did not finish",
                    chat,
                    exc_info=None if task.cancelled() else task.exception(),
                )
                done = _Done(pause=True, answered=self._monotonic())
            else:
                done = task.result()
            if not done.lost_claim:
                rnd.queued -= {item.id for item in job.items}
            # Counted from the answer: Telegram stamped the message before we heard back.
            if not job.probe:
                self._pacer.settle(chat, started, done.answered or started)
            if done.pause:
                rnd.paused.add(chat)
                for dropped in rnd.lanes.clear(chat):
                    rnd.queued -= {item.id for item in dropped.items}

    async def _drain(self, rnd: _Round) -> None:
        """Let the sends in flight finish and book them."""
        if rnd.inflight:
            await asyncio.wait(list(rnd.inflight))
        self._reap(rnd)

    # -- planning ---------------------------------------------------------------------------

    def due_options(self, now: datetime) -> dict:
        """Return which uncertain rows are due under this relay's policy (outbox.due's options)."""
        settled = now - timedelta(seconds=_SETTLE) if self._prober else None
        return {"resend_uncertain": self._resend, "probe_before": settled}

    def _refill(self, rnd: _Round, limit: int) -> int:
        """Queue newly due rows and alerts; return how many jobs were added."""
        now = self._clock()
        rnd.refilled = self._monotonic()
        look = {"limit": limit, "per_chat": _PER_CHAT, "exclude": rnd.queued, "chat": rnd.chat}
        items = self._store.outbox.due(now, **self.due_options(now), **look)
        items += self._rest_of_digests(items, now, rnd, full=len(items) >= limit)
        moved = (self._follow_moves(item, now) for item in items)
        items = [i for i in moved if rnd.chat in (None, i.chat_id)]  # B's rows: B's lock holder
        jobs = self._planner.plan([i for i in items if i.chat_id not in rnd.paused], now=now)
        jobs += [
            Job(a.chat_id, alert=a)
            for a in self._store.alerts.due(now, chat=rnd.chat)
            if a.id not in rnd.alerts and a.chat_id not in rnd.paused
        ]
        for job in jobs:
            rnd.lanes.add(job.chat_id, job)
            rnd.queued |= {item.id for item in job.items}
            if job.alert:
                rnd.alerts.add(job.alert.id)
        return len(jobs)

    def _rest_of_digests(
        self, items: list[OutboxItem], now: datetime, rnd: _Round, *, full: bool
    ) -> list[OutboxItem]:
        """Return the due rows of digest chats the look's limits cut short: one period, whole."""
        counts = Counter(item.chat_id for item in items)
        # A look that reached its overall limit (`full`) may have cut any chat short of 50.
        cut = {
            item.chat_id
            for item in items
            if (full or counts[item.chat_id] >= _PER_CHAT)
            and (channel := self._composer.channel(item.channel))
            and channel.digest_seconds
        }
        taken = rnd.queued | {item.id for item in items}
        return [
            row
            for chat in sorted(cut)
            for row in self._store.outbox.due(
                now, **self.due_options(now), limit=_DIGEST_ROWS, exclude=taken, chat=chat
            )
        ]

    def _follow_moves(self, item: OutboxItem, now: datetime) -> OutboxItem:
        """Point rows queued for a moved chat at its new id; a one-chat round leaves them out."""
        new = self._outcomes.moved.get(item.chat_id)
        if new is None:
            return item
        self._store.outbox.move_chat(item.chat_id, new, now=now)
        return replace(item, chat_id=new)

    # -- sending ----------------------------------------------------------------------------

    async def _run(self, job: Job, report: RelayReport) -> _Done:
        """Send one job and record the outcome; say whether its chat should pause."""
        with log_fields(**job.log_fields()):  # on every line the send logs (its own task)
            return await self._run_job(job, report)

    async def _run_job(self, job: Job, report: RelayReport) -> _Done:
        """Send one job and record the outcome (`_run` without the log fields)."""
        if job.alert is not None:
            outcome = await self._healing.attempt(alert_message(job.alert))
            answered = self._monotonic()
            return _Done(self._outcomes.record_alert(job.alert, outcome, report), answered)
        if job.probe and self._prober:
            await self._prober.settle(job.items, report)
            return _Done(pause=False, answered=None)
        if self._planner.waits(job):  # a digest part's rest, after its message that did not go out
            return _Done(pause=False, answered=None)
        now, ids = self._clock(), [item.id for item in job.items]
        try:
            message = job.message or self._composer.message(job.items[0])
        except NothingToEdit as exc:
            self._store.outbox.mark_failed(ids, error=str(exc), now=now)
            report.failed += len(ids)
            return _Done(pause=False, answered=None)
        after = self._last_id(job.chat_id)
        expect = expectation(message, after=after) if self._prober else None
        claimed = self._store.outbox.claim(
            ids, chat=message.chat_id, now=now, expect=expect, media=message.media
        )
        if not claimed:
            log.info("outbox %s changed state or chat before sending (the operator?); skipped", ids)
            return _Done(pause=False, answered=None, lost_claim=True)
        job, message, outcome = await self._healing.send(job, message, after)
        answered = self._monotonic()
        return _Done(self._outcomes.record(job.items, message, outcome, report), answered)

    def _last_id(self, chat_id: str) -> int | None:
        """Return the chat's highest confirmed message id, where a probe would start."""
        if not self._prober:
            return None
        return self._store.outbox.probes.last_id(chat_id, shared=not sequential_ids(chat_id))
