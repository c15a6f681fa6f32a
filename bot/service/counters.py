"""What the process counts itself since it started: missed jobs, poll durations, send outcomes,
chat commands, the latest word on Telegram, and each sent post's publication-to-post lag (the
archive keeps everything else)."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from bot.delivery.telegram import Delivered, Message, Outcome, RetryLater, Sender
from bot.service.reachability import TelegramWatch
from storage import OutboxState
from storage.status import PERSONAL, PostLag

LAG_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 21600, 86400, 604800)  # seconds, publication → post
POLL_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)  # seconds one poll takes

Labels = tuple[tuple[str, str], ...]


class Counters:
    """Counters the database does not keep: missed and skipped jobs, send outcomes, commands."""

    def __init__(self) -> None:
        self._values: dict[str, dict[Labels, float]] = {}
        self._histograms: dict[str, dict[Labels, list[float]]] = {}  # [*buckets, sum, count]
        self.telegram = TelegramWatch()  # the latest word on Telegram, for /healthz and the log

    def inc(self, name: str, by: float = 1, **labels: str) -> None:
        """Add `by` to one labelled counter."""
        series = self._values.setdefault(name, {})
        key = tuple(sorted(labels.items()))
        series[key] = series.get(key, 0) + by

    def value(self, name: str, **labels: str) -> float:
        """Return one labelled counter (0 when never incremented)."""
        return self._values.get(name, {}).get(tuple(sorted(labels.items())), 0)

    def samples(self, name: str) -> list[tuple[dict[str, str], float]]:
        """Return every (labels, value) of one counter."""
        return [(dict(k), v) for k, v in sorted(self._values.get(name, {}).items())]

    def observe(self, name: str, value: float, **labels: str) -> None:
        """Add one observation to a labelled histogram with POLL_BUCKETS."""
        series = self._histograms.setdefault(name, {})
        counts = series.setdefault(tuple(sorted(labels.items())), [0.0] * (len(POLL_BUCKETS) + 2))
        for i, bound in enumerate(POLL_BUCKETS):
            counts[i] += value <= bound
        counts[-2] += value
        counts[-1] += 1

    def forget_sources(self, kept: Iterable[str]) -> None:
        """Drop the histogram series of every source not in `kept` (one a reload removed): its
        buckets would be scraped until a restart. Counters stay: the stop's summary adds them."""
        kept = set(kept)
        for series in self._histograms.values():
            gone = [k for k in series if dict(k).get("source") not in (None, *kept)]
            for labels in gone:
                del series[labels]

    def histogram(self, name: str) -> list[tuple[dict[str, str], list[float], float, int]]:
        """Return every (labels, cumulative bucket counts, sum, count) of one histogram."""
        return [
            (dict(k), v[:-2], v[-2], int(v[-1]))
            for k, v in sorted(self._histograms.get(name, {}).items())
        ]


class MeteredSender:
    """Pass sends through to a Sender, counting each outcome per channel, flood waits included.

    Messages the console printed (no token) are counted apart: Telegram accepted none of them.
    """

    def __init__(
        self, inner: Sender, counters: Counters, *, channels: dict[str, str], console: bool = False
    ) -> None:
        self._inner, self._counters, self._channels = inner, counters, channels
        self._console = console

    async def send(self, message: Message) -> Outcome:
        """Send and count."""
        outcome = await self._inner.send(message)
        channel = self._channels.get(str(message.chat_id), PERSONAL)
        if message.edit_message_id is not None and isinstance(outcome, Delivered):
            # Counted among posts_sent (or printed) as before, and here, so a line can tell them.
            self._counters.inc("edits_delivered", channel=channel)
        if self._console:
            self._counters.inc("posts_printed", channel=channel)
            return outcome
        self._counters.telegram.saw(outcome)
        self._counters.inc(
            "telegram_sends", channel=channel, outcome=type(outcome).__name__.lower()
        )
        if isinstance(outcome, Delivered):
            self._counters.inc("posts_sent", channel=channel)
        elif isinstance(outcome, RetryLater) and outcome.reason.startswith("flood wait"):
            self._counters.inc("telegram_flood_waits", channel=channel)
        return outcome


class LagHistogram:
    """Publication-to-post lag per source: each sent post counted once, read onward by outbox id."""

    _SETTLED = (OutboxState.SENT, OutboxState.FAILED, OutboxState.UNCERTAIN, OutboxState.DROPPED)

    def __init__(self) -> None:
        self._lock = threading.Lock()  # two scrapes may read at once
        self._settled = 0  # every post row up to this id is settled and, if sent, counted
        self._counted: set[int] = set()  # sent rows above it already counted
        self._series: dict[str, list[float]] = {}  # source -> [*buckets, sum, count]

    @property
    def settled(self) -> int:
        """Return the outbox id up to which every post row is settled and counted."""
        return self._settled

    def update(self, lags: Iterable[PostLag]) -> dict[str, tuple[tuple[int, ...], float, int]]:
        """Count the posts sent since the last read; return the cumulative histogram per source."""
        with self._lock:
            settled_so_far = True
            for lag in lags:
                if lag.id <= self._settled:
                    continue  # another scrape read past it meanwhile
                sent = lag.state == OutboxState.SENT and lag.seconds is not None
                if sent and lag.id not in self._counted:
                    self._observe(lag.source_key, lag.seconds)
                    self._counted.add(lag.id)
                settled_so_far = settled_so_far and lag.state in self._SETTLED
                if settled_so_far:  # rows still pending keep the window open behind them
                    self._settled = lag.id
            self._counted = {i for i in self._counted if i > self._settled}
            return self.series()

    def series(self) -> dict[str, tuple[tuple[int, ...], float, int]]:
        """Return the cumulative histogram per source: bucket counts, sum and count."""
        return {
            k: (tuple(int(n) for n in v[:-2]), v[-2], int(v[-1])) for k, v in self._series.items()
        }

    def forget_sources(self, kept: Iterable[str]) -> None:
        """Drop the lag series of every source not in `kept` (one a reload removed)."""
        kept = set(kept)
        with self._lock:
            self._series = {k: v for k, v in self._series.items() if k in kept}

    def _observe(self, source: str, lag: float) -> None:
        """Add one post's lag to its source's buckets."""
        series = self._series.setdefault(source, [0.0] * (len(LAG_BUCKETS) + 2))
        for i, bound in enumerate(LAG_BUCKETS):
            series[i] += lag <= bound
        series[-2] += lag
        series[-1] += 1
