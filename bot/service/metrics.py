"""Metrics: in-process counters, the publication-to-post lag histogram, and the Prometheus text.

Counters keep what the archive does not (missed jobs, send outcomes, commands); everything else
in the exposition is read from a Snapshot of the archive at scrape time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from bot.config import Config
from bot.delivery.telegram import Delivered, Message, Outcome, RetryLater, Sender
from storage import OutboxState, RunStatus
from storage.status import BACKLOG, PERSONAL, PostLag, Snapshot, SourceCondition

LAG_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 21600, 86400, 604800)  # seconds, publication → post
_POLL_STATUSES = tuple(RunStatus)
_SOURCE_STATES = (
    SourceCondition.OK,
    SourceCondition.FAILING,
    SourceCondition.SILENT,
    SourceCondition.PAUSED,
    SourceCondition.NEW,
)


# -- in-process counters ------------------------------------------------------------------------


class Counters:
    """Counters the database does not keep: missed and skipped jobs, send outcomes, commands."""

    def __init__(self) -> None:
        self._values: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}

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


class MeteredSender:
    """Pass sends through to a Sender, counting each outcome per channel, flood waits included."""

    def __init__(self, inner: Sender, counters: Counters, *, channels: dict[str, str]) -> None:
        self._inner, self._counters, self._channels = inner, counters, channels

    async def send(self, message: Message) -> Outcome:
        """Send and count."""
        outcome = await self._inner.send(message)
        channel = self._channels.get(str(message.chat_id), PERSONAL)
        self._counters.inc(
            "telegram_sends", channel=channel, outcome=type(outcome).__name__.lower()
        )
        if isinstance(outcome, Delivered):
            self._counters.inc("posts_sent", channel=channel)
        elif isinstance(outcome, RetryLater) and outcome.reason.startswith("flood wait"):
            self._counters.inc("telegram_flood_waits", channel=channel)
        return outcome


# -- the lag histogram --------------------------------------------------------------------------


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

    def _observe(self, source: str, lag: float) -> None:
        """Add one post's lag to its source's buckets."""
        series = self._series.setdefault(source, [0.0] * (len(LAG_BUCKETS) + 2))
        for i, bound in enumerate(LAG_BUCKETS):
            series[i] += lag <= bound
        series[-2] += lag
        series[-1] += 1


# -- Prometheus text format ---------------------------------------------------------------------


class _Exposition:
    """Prometheus text format 0.0.4: each family once, HELP and TYPE first, label values escaped."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(
        self, name: str, kind: str, text: str, samples: Iterable[tuple[dict[str, str], float]]
    ) -> None:
        """Add one metric family and its samples."""
        escaped = text.replace("\\", "\\\\").replace("\n", "\\n")
        self.lines += [f"# HELP {name} {escaped}", f"# TYPE {name} {kind}"]
        self.lines += [f"{name}{_labels(labels)} {_number(value)}" for labels, value in samples]

    def histogram(
        self, name: str, text: str, series: dict[str, tuple[tuple[int, ...], float, int]]
    ) -> None:
        """Add a histogram family with one series per source."""
        samples: list[tuple[str, dict[str, str], float]] = []
        for source, (buckets, total, count) in sorted(series.items()):
            bounds = [*(str(b) for b in LAG_BUCKETS), "+Inf"]
            samples += [
                ("_bucket", {"source": source, "le": le}, n)
                for le, n in zip(bounds, [*buckets, count])
            ]
            samples += [("_sum", {"source": source}, total), ("_count", {"source": source}, count)]
        self.lines += [f"# HELP {name} {text}", f"# TYPE {name} histogram"]
        self.lines += [
            f"{name}{suffix}{_labels(labels)} {_number(v)}" for suffix, labels, v in samples
        ]


def _labels(labels: dict[str, str]) -> str:
    """Return {a="x",b="y"} with backslash, quote and newline escaped, or '' without labels."""
    if not labels:
        return ""
    esc = {
        k: str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        for k, v in labels.items()
    }
    return "{" + ",".join(f'{k}="{v}"' for k, v in esc.items()) + "}"


def _number(value: float) -> str:
    """Return a sample value as Prometheus writes it."""
    if isinstance(value, bool) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def render_metrics(
    config: Config,
    snapshot: Snapshot,
    counters: Counters,
    *,
    scheduler_running: bool,
    db_ok: bool,
    lag: dict[str, tuple[tuple[int, ...], float, int]] | None = None,
) -> str:
    """Return every metric as Prometheus text."""
    out = _Exposition()
    out.family(
        "presswatch_scheduler_running",
        "gauge",
        "1 while the scheduler runs polls.",
        [({}, scheduler_running)],
    )
    out.family(
        "presswatch_database_ok", "gauge", "1 when the archive answered this scrape.", [({}, db_ok)]
    )
    _source_metrics(out, config, snapshot, counters, lag or {})
    _channel_metrics(out, config, snapshot, counters)
    out.family(
        "presswatch_chat_commands_total",
        "counter",
        "Chat commands answered, by command.",
        counters.samples("chat_commands"),
    )
    out.family(
        "presswatch_chat_rate_limited_total",
        "counter",
        "Chat messages ignored because one user sent too many.",
        [({}, counters.value("chat_rate_limited"))],
    )
    return "\n".join(out.lines) + "\n"


def _source_metrics(
    out: _Exposition, config: Config, snapshot: Snapshot, counters: Counters, lag: dict
) -> None:
    """Add the per-source families."""
    keys = [s.key for s in config.sources]
    rows = {k: snapshot.source(k) for k in keys}
    statuses = sorted(set(_POLL_STATUSES) | {lb["status"] for lb, _ in counters.samples("polls")})
    out.family(
        "presswatch_polls_total",
        "counter",
        "Polls of a source since start, by outcome.",
        [
            ({"source": k, "status": st}, counters.value("polls", source=k, status=st))
            for k in keys
            for st in statuses
        ],
    )
    out.family(
        "presswatch_poll_errors_total",
        "counter",
        "Polls of a source that failed, since start.",
        [({"source": k}, counters.value("polls", source=k, status=RunStatus.ERROR)) for k in keys],
    )
    for name, column, text in (
        ("last_success", "last_success_at", "Last successful poll"),
        ("last_poll", "last_poll_at", "Last poll"),
    ):
        out.family(
            f"presswatch_{name}_timestamp_seconds",
            "gauge",
            f"{text}, Unix time.",
            [
                ({"source": k}, getattr(rows[k], column).timestamp())
                for k in keys
                if getattr(rows[k], column)
            ],
        )
    out.family(
        "presswatch_articles_stored_total",
        "counter",
        "Articles archived from a source.",
        [({"source": k}, snapshot.articles.get(k, 0)) for k in keys],
    )
    out.family(
        "presswatch_source_state",
        "gauge",
        "1 for the state a source is in.",
        [
            ({"source": k, "state": st}, rows[k].condition == st)
            for k in keys
            for st in _SOURCE_STATES
        ],
    )
    out.family(
        "presswatch_source_consecutive_failures",
        "gauge",
        "Failed polls in a row.",
        [({"source": k}, rows[k].consecutive_failures) for k in keys],
    )
    for name, text in (
        ("jobs_missed", "Polls the scheduler ran too late to start (misfire)."),
        ("jobs_skipped", "Polls skipped because the previous one was still running."),
        ("jobs_crashed", "Polls that raised instead of recording a failed run."),
        ("poll_timeouts", "Polls stopped at their deadline."),
    ):
        out.family(
            f"presswatch_{name}_total",
            "counter",
            text,
            [({"source": k}, counters.value(name, source=k)) for k in keys],
        )
    out.histogram(
        "presswatch_post_lag_seconds",
        "Seconds from an article's publication to its post, posts sent.",
        lag,
    )


def _channel_metrics(
    out: _Exposition, config: Config, snapshot: Snapshot, counters: Counters
) -> None:
    """Add the per-channel families."""
    channels = sorted({c.name for c in config.channels} | {ch for ch, _ in snapshot.outbox})
    out.family(
        "presswatch_outbox_posts",
        "gauge",
        "Unsent outbox rows of a channel, by state.",
        [
            ({"channel": ch, "state": st}, snapshot.outbox.get((ch, st), 0))
            for ch in channels
            for st in BACKLOG
        ],
    )
    out.family(
        "presswatch_posts_sent_total",
        "counter",
        "Messages Telegram accepted since start, per channel.",
        [({"channel": ch}, counters.value("posts_sent", channel=ch)) for ch in channels],
    )
    out.family(
        "presswatch_outbox_flood_waiting",
        "gauge",
        "Pending posts waiting out a Telegram flood wait (429).",
        [({"channel": ch}, snapshot.flood_waiting.get(ch, 0)) for ch in channels],
    )
    out.family(
        "presswatch_telegram_flood_waits_total",
        "counter",
        "429 answers received since start, per channel.",
        [({"channel": ch}, counters.value("telegram_flood_waits", channel=ch)) for ch in channels],
    )
    out.family(
        "presswatch_telegram_sends_total",
        "counter",
        "Telegram send attempts since start, per channel and outcome.",
        counters.samples("telegram_sends"),
    )
