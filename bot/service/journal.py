"""What the service tells its log beyond each poll and post: the first round's summary and a heartbeat.

A service that cannot reach anything must say so at once, in one line, and keep saying what it
does while it waits: an operator following the journal never faces ten silent minutes.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime

from bot.config import TelegramConfig, UncertainPolicy
from bot.service.counters import Counters
from bot.service.overview import held_count, held_line, when
from bot.service.reachability import (
    TelegramCheck,
    TelegramState,
    check_telegram,
    polled_fine,
    round_summary,
    token_refused,
)
from bot.text.plural import counted
from storage import RunRecord, RunStatus, SourceCondition, SourceState
from storage.status import Snapshot

log = logging.getLogger(__name__)
HEARTBEAT = 300.0  # seconds between two heartbeat lines

# The counters a heartbeat reports the change of, and how it names them.
_ACTIVITY = ("polls", "poll_failures", "new_articles", "posts_sent", "posts_printed", "edits")


class FirstRound:
    """The polls due when the service starts; says when the last of them has run."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._waiting = set(keys)
        self.runs: list[RunRecord] = []

    @property
    def pending(self) -> bool:
        """Return True while some poll of the first round has not run yet."""
        return bool(self._waiting)

    def done(self, run: RunRecord) -> bool:
        """Count one finished poll; return True when it completes the round (once)."""
        if run.source_key not in self._waiting:
            return False
        self._waiting.discard(run.source_key)
        self.runs.append(run)
        return not self._waiting


class Journal:
    """Check Telegram at start, sum up the first round, then log a heartbeat until stopped."""

    def __init__(
        self,
        counters: Counters,
        *,
        snapshot: Callable[[], Awaitable[Snapshot]],
        sources: Callable[[], Sequence[str]],
        next_polls: Callable[[], dict[str, datetime]],
        every: float = HEARTBEAT,
    ) -> None:
        self._counters, self._snapshot, self._sources = counters, snapshot, sources
        self._next_polls, self._every = next_polls, every
        self._first = FirstRound(())
        self._policy = UncertainPolicy.HOLD  # what start() reads from telegram.uncertain
        self._checked: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()

    def start(
        self, *, first_round: Iterable[str], telegram: TelegramConfig, stopping: asyncio.Event
    ) -> asyncio.Task:
        """Ask Telegram about the token and start the heartbeat; return the heartbeat's task."""
        self._first = FirstRound(first_round)
        self._policy = telegram.uncertain
        self._checked = asyncio.create_task(self._check(telegram), name="telegram check")
        return asyncio.create_task(self._beat(stopping), name="heartbeat")

    def ran(self, run: RunRecord) -> None:
        """Note one finished (or skipped) poll; the last of the first round brings its summary."""
        if self._first.done(run):
            task = asyncio.create_task(self._sum_up(), name="first round")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _check(self, config: TelegramConfig) -> None:
        """Record and log what Telegram says about the token (its sends update it later)."""
        check = await check_telegram(config)
        if self._counters.telegram.latest.state == TelegramState.UNKNOWN:
            self._counters.telegram.latest = check  # a send that answered first knows better
        if check.state == TelegramState.REFUSED:
            # A token shaped wrong (quotes, a space) never gets here: loading the config said why.
            log.error(
                "%s; nothing can be posted: posts stay queued until a restart with it fixed",
                token_refused(config),
            )
        elif check.state == TelegramState.UNREACHABLE:
            log.warning("Telegram is unreachable: %s; posts wait and are retried", check.detail)
        else:
            log.info("Telegram: %s", check.describe())

    async def _sum_up(self) -> None:
        """Log the first round in one line: WARNING when a source or Telegram did not answer."""
        if self._checked is not None:
            await asyncio.shield(self._checked)
        runs, telegram = self._first.runs, self._counters.telegram.latest
        polled = [r for r in runs if r.status != RunStatus.SKIPPED]
        skipped = [r.source_key for r in runs if r.status == RunStatus.SKIPPED]
        waiting, held = await self._outbox_and(skipped)
        line = round_summary(
            runs, sources=len(self._sources()), telegram=telegram, waiting=waiting, held=held
        )
        well = polled_fine(polled) == len(polled) and telegram.healthy and not held
        log.log(logging.INFO if well else logging.WARNING, "first round: %s", line)

    async def _outbox_and(self, keys: list[str]) -> tuple[list[SourceState], int]:
        """Return the states of the sources skipped (why, until when) and the posts held for the
        operator, or none of either when the archive does not answer (the line then says less)."""
        try:
            snapshot = await self._snapshot()
        except (sqlite3.Error, TimeoutError, OSError) as exc:
            log.warning("first round: the archive does not answer (%s)", exc)
            return [], 0
        return [snapshot.source(key) for key in keys], held_for_operator(snapshot, self._policy)

    async def _beat(self, stopping: asyncio.Event) -> None:
        """Log a heartbeat line every `every` seconds until the service stops."""
        heartbeat = Heartbeat(self._counters, now=datetime.now(UTC))
        while not stopping.is_set():
            try:
                await asyncio.wait_for(stopping.wait(), self._every)
                return
            except TimeoutError:
                pass
            try:
                snapshot = await self._snapshot()
            except (sqlite3.Error, TimeoutError, OSError) as exc:
                log.warning("heartbeat: the archive does not answer (%s)", exc)
                continue
            planned = self._next_polls()
            upcoming = min(planned.items(), key=lambda pair: pair[1], default=None)
            log.info(
                "heartbeat: %s",
                heartbeat.line(
                    snapshot,
                    sources=self._sources(),
                    telegram=self._counters.telegram.latest,
                    next_poll=upcoming,
                    now=datetime.now(UTC),
                ),
            )


class Heartbeat:
    """Compose a line on what happened since the last one and how things stand now."""

    def __init__(self, counters: Counters, *, now: datetime) -> None:
        self._counters, self._since = counters, now
        self._last = self._totals()

    def line(
        self,
        snapshot: Snapshot,
        *,
        sources: Sequence[str],
        telegram: TelegramCheck,
        next_poll: tuple[str, datetime] | None,
        now: datetime,
    ) -> str:
        """Return the heartbeat line, and start counting anew from `now`."""
        totals = self._totals()
        done = {name: totals[name] - self._last[name] for name in _ACTIVITY}
        since, self._since, self._last = self._since, now, totals
        parts = [
            f"since {when(since)}: {done['polls']:.0f} polls ({done['poll_failures']:.0f} failed), "
            f"{done['new_articles']:.0f} new articles, {posted(done)}",
            sources_line(snapshot, sources),
            outbox_line(snapshot, now=now),
            f"Telegram: {telegram.describe()}",
        ]
        if next_poll:
            key, at = next_poll
            parts.append(f"next poll {key} at {when(at)}")
        return "; ".join(parts)

    def _totals(self) -> dict[str, float]:
        """Return the counters' running totals."""
        return totals(self._counters)


def totals(counters: Counters) -> dict[str, float]:
    """Return the counters' running totals of polls, failed polls, new articles and posts."""
    polls = counters.samples("polls")
    return {
        "polls": sum(v for labels, v in polls if labels["status"] != RunStatus.SKIPPED),
        "poll_failures": sum(v for labels, v in polls if labels["status"] == RunStatus.ERROR),
        "new_articles": sum(v for _, v in counters.samples("new_articles")),
        "posts_sent": sum(v for _, v in counters.samples("posts_sent")),
        "posts_printed": sum(v for _, v in counters.samples("posts_printed")),
        "edits": sum(v for _, v in counters.samples("edits_delivered")),
    }


def posted(done: dict[str, float]) -> str:
    """Say the messages posted ('12 posts'), and the messages edited apart when there are any."""
    edits = round(done["edits"])
    posts = round(done["posts_sent"] + done["posts_printed"]) - edits
    return counted(posts, "post") + (f", {counted(edits, 'edit')}" if edits else "")


def stop_line(
    counters: Counters,
    *,
    since: datetime,
    outbox: Snapshot | None,
    shared: bool,
    policy: UncertainPolicy = UncertainPolicy.HOLD,
) -> str:
    """Return what a stop says: what the service (or this worker) did since `since`, and the
    posts it leaves in the outbox (None when the archive did not answer), who sends them, and
    those held for the operator (under `policy`, telegram.uncertain)."""
    done = totals(counters)
    did = (
        f"{'this worker ' if shared else ''}since {when(since)}: "
        f"{counted(round(done['polls']), 'poll')} ({done['poll_failures']:.0f} failed), "
        f"{counted(round(done['new_articles']), 'new article')}, {posted(done)}"
    )
    if outbox is None:
        return f"{did}; the outbox could not be read"
    due, held = pending_split(outbox)
    yours = held_for_operator(outbox, policy)
    if not due + held + yours:
        return f"{did}; nothing left pending in the outbox"
    # On PostgreSQL the outbox is shared: the workers still running send what is due at once.
    later = "the other workers or the next start send them" if shared else "sent at the next start"
    left = [f"{counted(due, 'post')} due, {later}"] if due else []
    left += [f"{held} held for their time (digest, quiet hours)"] if held else []
    left += [held_line(yours)] if yours else []  # once's words: they wait for the operator
    return f"{did}; left in the {'shared ' if shared else ''}outbox: {'; '.join(left)}"


def held_for_operator(snapshot: Snapshot, policy: UncertainPolicy) -> int:
    """Count the uncertain posts that wait for the operator, as `once` and `status` count them."""
    uncertain = sum(n for (_, state), n in snapshot.outbox.items() if state == "uncertain")
    return held_count(uncertain, snapshot.undecided, policy)


def pending_split(snapshot: Snapshot) -> tuple[int, int]:
    """Return the outbox's pending posts as (due now, held for their time)."""
    pending = sum(n for (_, state), n in snapshot.outbox.items() if state == "pending")
    held = min(sum(snapshot.held.values()), pending)
    return pending - held, held


def sources_line(snapshot: Snapshot, sources: Sequence[str]) -> str:
    """Return 'N of M sources ok' and name those failing."""
    conditions = {key: snapshot.source(key).condition for key in sources}
    ok = sum(c == SourceCondition.OK for c in conditions.values())
    failing = sorted(k for k, c in conditions.items() if c == SourceCondition.FAILING)
    named = ", ".join(failing[:5]) + (f" and {len(failing) - 5} more" if len(failing) > 5 else "")
    return f"{ok} of {len(sources)} sources ok" + (f" (failing: {named})" if failing else "")


def outbox_line(snapshot: Snapshot, *, now: datetime) -> str:
    """Return how many posts are due and unsent (and since when), and how many wait for their time."""
    due, held = pending_split(snapshot)
    if not due + held:
        return "outbox: nothing pending"
    # Rows waiting for their digest or the end of quiet hours are not late: no age for them.
    later = f"{held} held for their time (digest, quiet hours)" if held else ""
    if not due:
        return f"outbox: nothing due; {later}"
    oldest = min(snapshot.oldest_due.values(), default=now)
    minutes = max(0, int((now - oldest).total_seconds() // 60))
    shown = f"outbox: {due} due (oldest {minutes} min)"
    return f"{shown}; {later}" if held else shown
