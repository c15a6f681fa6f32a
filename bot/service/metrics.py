"""Metrics for Prometheus: a custom collector over the archive's Snapshot and the process's counters.

The monitor reads a Snapshot at scrape time (bot/service/monitor.py), hands it to the collector,
and prometheus_client writes the text format from the process's own CollectorRegistry, beside
prometheus_client's process and platform collectors.

Every counter, and the lag histogram, counts from the start of the process, as Prometheus expects
of a counter (`rate()` and `increase()` handle a restart): the lag of posts sent before the start
is not counted. Gauges (outbox rows, source state, timestamps) are read from the archive.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from importlib import metadata

from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
)
from prometheus_client.metrics_core import Metric

from bot.service.counters import LAG_BUCKETS, POLL_BUCKETS, Counters, LagHistogram
from storage import RunStatus, SourceCondition, SourceState
from storage.status import BACKLOG, Snapshot

_SOURCE_STATES = (
    SourceCondition.OK,
    SourceCondition.FAILING,
    SourceCondition.SILENT,
    SourceCondition.PAUSED,
    SourceCondition.NEW,
)
_JOBS = (
    ("jobs_missed", "Polls the scheduler ran too late to start (misfire)."),
    ("jobs_skipped", "Polls skipped because the previous one was still running."),
    ("jobs_crashed", "Polls that raised instead of recording a failed run."),
    ("poll_timeouts", "Polls stopped at their deadline."),
)
_TIMESTAMPS = (
    ("last_success", "last_success_at", "Last successful poll"),
    ("last_poll", "last_poll_at", "Last poll"),
)


class ArchiveCollector:
    """Yield every presswatch metric from the latest Snapshot and the in-process counters."""

    def __init__(
        self,
        counters: Counters,
        lag: LagHistogram,
        *,
        sources: Sequence[str],
        channels: Sequence[str],
        scheduler_running: Callable[[], bool],
        next_polls: Callable[[], dict[str, datetime]] = dict,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._counters, self._lag = counters, lag
        self._sources, self._channels = tuple(sources), tuple(channels)
        self._scheduler_running, self._next_polls, self._clock = (
            scheduler_running,
            next_polls,
            clock,
        )
        self._snapshot, self._db_ok = Snapshot(), False
        self.worker = ""  # this worker's id when many share a PostgreSQL archive

    def reconfigure(self, *, sources: Sequence[str], channels: Sequence[str]) -> None:
        """Report on these sources and channels from now on (a reloaded config)."""
        self._sources, self._channels = tuple(sources), tuple(channels)
        # A removed source's series go now, not at the next restart.
        self._counters.forget_sources(self._sources)
        self._lag.forget_sources(self._sources)

    def observe(self, snapshot: Snapshot, *, db_ok: bool) -> None:
        """Keep the Snapshot the next collection reports, counting the lag of newly sent posts."""
        self._lag.update(snapshot.lags)
        self._snapshot, self._db_ok = snapshot, db_ok

    def collect(self) -> Iterator[Metric]:
        """Yield the metric families (prometheus_client's collector protocol)."""
        build = InfoMetricFamily("presswatch_build", "The running presswatch's version.")
        info = {"version": _version(), "python": platform.python_version()}
        build.add_metric([], info | ({"worker": self.worker} if self.worker else {}))
        yield build
        yield _gauge(
            "presswatch_scheduler_running",
            "1 while the scheduler runs polls.",
            [((), self._scheduler_running())],
        )
        yield _gauge(
            "presswatch_database_ok",
            "1 when the archive answered this scrape.",
            [((), self._db_ok)],
        )
        yield from self._source_families()
        yield from self._channel_families()
        counters = self._counters
        commands = counters.samples("chat_commands")
        yield _counter(
            "presswatch_chat_commands",
            "Chat commands answered, by command.",
            [((labels["command"],), value) for labels, value in commands],
            labels=("command",),
        )
        yield _counter(
            "presswatch_chat_rate_limited",
            "Chat messages ignored because one user sent too many.",
            [((), counters.value("chat_rate_limited"))],
        )

    def _source_families(self) -> Iterator[Metric]:
        """Yield the per-source families."""
        keys, counters, rows = self._sources, self._counters, self._snapshot
        seen = {labels["status"] for labels, _ in counters.samples("polls")}
        statuses = sorted(set(RunStatus) | seen)
        yield _counter(
            "presswatch_polls",
            "Polls of a source since start, by outcome.",
            [
                ((k, st), counters.value("polls", source=k, status=st))
                for k in keys
                for st in statuses
            ],
            labels=("source", "status"),
        )
        yield self._poll_durations()
        for name, column, text in _TIMESTAMPS:
            stamps = [(k, getattr(rows.source(k), column)) for k in keys]
            yield _gauge(
                f"presswatch_{name}_timestamp_seconds",
                f"{text}, Unix time.",
                [((k,), at.timestamp()) for k, at in stamps if at],
                labels=("source",),
            )
        planned = self._next_polls()
        yield _gauge(
            "presswatch_next_poll_timestamp_seconds",
            "The earliest time the source is polled next (its backoff's end, if later), Unix time.",
            [((k,), at.timestamp()) for k in keys if (at := _next(rows.source(k), planned))],
            labels=("source",),
        )
        yield _counter(
            "presswatch_articles_stored",
            "Articles archived from a source.",
            [((k,), rows.articles.get(k, 0)) for k in keys],
            labels=("source",),
        )
        yield _gauge(
            "presswatch_source_state",
            "1 for the state a source is in.",
            [((k, st), rows.source(k).condition == st) for k in keys for st in _SOURCE_STATES],
            labels=("source", "state"),
        )
        yield _gauge(
            "presswatch_source_consecutive_failures",
            "Failed polls in a row.",
            [((k,), rows.source(k).consecutive_failures) for k in keys],
            labels=("source",),
        )
        for name, text in _JOBS:
            samples = [((k,), counters.value(name, source=k)) for k in keys]
            yield _counter(f"presswatch_{name}", text, samples, labels=("source",))
        yield self._lag_family()

    def _poll_durations(self) -> Metric:
        """Return how long polls took since start, one series per source."""
        family = HistogramMetricFamily(
            "presswatch_poll_duration_seconds",
            "Seconds one poll of a source took, since start (stopped polls at their deadline).",
            labels=("source",),
        )
        bounds = [*(str(b) for b in POLL_BUCKETS), "+Inf"]
        for labels, buckets, total, count in self._counters.histogram("poll_duration"):
            if labels["source"] not in self._sources:
                continue  # a poll under way at a reload that removed its source finished since
            family.add_metric(
                [labels["source"]], buckets=list(zip(bounds, [*buckets, count])), sum_value=total
            )
        return family

    def _lag_family(self) -> Metric:
        """Return the publication-to-post lag histogram, one series per source."""
        family = HistogramMetricFamily(
            "presswatch_post_lag_seconds",
            "Seconds from an article's publication to its post, posts sent since start.",
            labels=("source",),
        )
        bounds = [*(str(b) for b in LAG_BUCKETS), "+Inf"]
        for source, (buckets, total, count) in sorted(self._lag.series().items()):
            if source not in self._sources:
                continue  # a removed source's post queued before the reload, sent since
            family.add_metric(
                [source], buckets=list(zip(bounds, [*buckets, count])), sum_value=total
            )
        return family

    def _channel_families(self) -> Iterator[Metric]:
        """Yield the per-channel families."""
        snapshot, counters = self._snapshot, self._counters
        channels = sorted(set(self._channels) | {ch for ch, _ in snapshot.outbox})
        yield _gauge(
            "presswatch_outbox_posts",
            "Unsent outbox rows of a channel, by state.",
            [((ch, st), snapshot.outbox.get((ch, st), 0)) for ch in channels for st in BACKLOG],
            labels=("channel", "state"),
        )
        now = self._clock()
        # Every channel has an age, 0 with nothing waiting: an alert on it sees the series at once
        # (a missing series is not a low one).
        pending, due = snapshot.oldest_pending, snapshot.oldest_due
        yield _gauge(
            "presswatch_outbox_oldest_pending_age_seconds",
            "Age of the channel's oldest pending post (held ones too: quiet hours, digests); "
            "0 when none is pending.",
            [((ch,), _age(now, pending.get(ch))) for ch in sorted({*channels, *pending})],
            labels=("channel",),
        )
        yield _gauge(
            "presswatch_outbox_oldest_due_age_seconds",
            "Seconds the channel's oldest due, unsent post has waited since it came due "
            "(held posts not counted); 0 when none is due.",
            [((ch,), _age(now, due.get(ch))) for ch in sorted({*channels, *due})],
            labels=("channel",),
        )
        yield _gauge(
            "presswatch_outbox_held_posts",
            "Pending posts held for their time (the next digest, the end of quiet hours).",
            [((ch,), snapshot.held.get(ch, 0)) for ch in channels],
            labels=("channel",),
        )
        sent = [((ch,), counters.value("posts_sent", channel=ch)) for ch in channels]
        yield _counter(
            "presswatch_posts_sent",
            "Messages Telegram accepted since start, per channel.",
            sent,
            labels=("channel",),
        )
        printed = [((ch,), counters.value("posts_printed", channel=ch)) for ch in channels]
        yield _counter(
            "presswatch_posts_printed",
            "Messages printed to the console since start (no token: never sent to Telegram).",
            printed,
            labels=("channel",),
        )
        yield _gauge(
            "presswatch_outbox_flood_waiting",
            "Pending posts waiting out a Telegram flood wait (429).",
            [((ch,), snapshot.flood_waiting.get(ch, 0)) for ch in channels],
            labels=("channel",),
        )
        waits = [((ch,), counters.value("telegram_flood_waits", channel=ch)) for ch in channels]
        yield _counter(
            "presswatch_telegram_flood_waits",
            "429 answers received since start, per channel.",
            waits,
            labels=("channel",),
        )
        sends = counters.samples("telegram_sends")
        yield _counter(
            "presswatch_telegram_sends",
            "Telegram send attempts since start, per channel and outcome.",
            [((lb["channel"], lb["outcome"]), value) for lb, value in sends],
            labels=("channel", "outcome"),
        )


def metrics_registry(collector: ArchiveCollector) -> CollectorRegistry:
    """Return the process's own registry (never prometheus_client's global one) with the collector."""
    registry = CollectorRegistry()
    registry.register(collector)
    ProcessCollector(registry=registry)  # CPU, memory, open files, start time (from /proc)
    PlatformCollector(registry=registry)  # python_info
    return registry


def _version() -> str:
    """Return the installed presswatch's version."""
    try:
        return metadata.version("presswatch")
    except metadata.PackageNotFoundError:
        return "unknown"


def _next(row: SourceState, planned: dict[str, datetime]) -> datetime | None:
    """Return the earliest next poll: the scheduled time, or the backoff's end when later."""
    times = [t for t in (planned.get(row.key), row.next_poll_at) if t]
    return max(times) if times else None


Samples = Sequence[tuple[tuple[str, ...], float]]


def _counter(name: str, text: str, samples: Samples, *, labels: Sequence[str] = ()) -> Metric:
    """Return a counter family (`name` without `_total`, which the text format adds)."""
    family = CounterMetricFamily(name, text, labels=labels)
    for values, value in samples:
        family.add_metric(list(values), value)
    return family


def _age(now: datetime, since: datetime | None) -> float:
    """Return the seconds since `since`, or 0 when nothing is waiting."""
    return 0.0 if since is None else (now - since).total_seconds()


def _gauge(name: str, text: str, samples: Samples, *, labels: Sequence[str] = ()) -> Metric:
    """Return a gauge family."""
    family = GaugeMetricFamily(name, text, labels=labels)
    for values, value in samples:
        family.add_metric(list(values), float(value))
    return family
