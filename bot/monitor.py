"""Health and metrics: `/healthz` and Prometheus `/metrics` on a local port, read from the archive.

Every read goes through its own short-lived read-only connection in a small thread pool, under
a deadline: a scrape never waits on the event loop's writer connection, never blocks it (WAL
readers don't block the writer), and never starves the pool that parses pages.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from datetime import UTC, datetime
from pathlib import Path

from .config import Config
from .telegram import Delivered, Message, Outcome, RetryLater, Sender

log = logging.getLogger(__name__)

LAG_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 21600, 86400, 604800)  # seconds, publication → post
PERSONAL = "personal"  # one label for all `user:<id>` channels: readers must not multiply series
_READ_DEADLINE = 2.0
_BACKLOG = ("pending", "sending", "uncertain", "failed")  # few rows each: found by the state index


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the archive says about sources, articles and the outbox, read in one transaction."""

    sources: dict[str, dict] = field(default_factory=dict)  # key -> row of `sources`
    articles: dict[str, int] = field(default_factory=dict)
    outbox: dict[tuple[str, str], int] = field(default_factory=dict)  # (channel, state) -> rows
    flood_waiting: dict[str, int] = field(default_factory=dict)  # channel -> rows after a 429
    polls: dict[tuple[str, str], int] = field(default_factory=dict)  # (source, status) -> last day
    lag: dict[str, tuple[tuple[int, ...], float, int]] = field(default_factory=dict)  # buckets, sum, n


def read_snapshot(path: str | Path, *, deadline: float = _READ_DEADLINE, full: bool = False,
                  lag: LagHistogram | None = None) -> Snapshot:
    """Read a Snapshot (`full`: sent counts and the last day's polls too); raise sqlite3.Error past `deadline`.

    Every query is an index search or a covering-index scan, except `full`'s sent counts, which
    only `presswatch status` and /status ask for.
    """
    conn = _connect(path, deadline)
    states = (*_BACKLOG, "sent") if full else _BACKLOG
    try:
        conn.execute("begin")  # one read transaction: every number comes from the same moment
        return Snapshot(
            sources=_sources(conn),
            articles=dict(conn.execute("select source_key, count(*) from articles group by 1").fetchall()),
            outbox=_by_channel(conn, f"select {{ch}}, state, count(*) from outbox where state in "
                                     f"({','.join('?' * len(states))}) group by 1, 2", states),
            flood_waiting={ch: n for (ch, _), n in _by_channel(
                conn, "select {ch}, '', count(*) from outbox where state = 'pending' "
                      "and last_error like 'flood wait%' group by 1", ()).items()},
            polls=_recent_polls(conn) if full else {},
            lag=lag.update(conn) if lag else {},
        )
    finally:
        conn.close()


def read_sources(path: str | Path, *, deadline: float = _READ_DEADLINE) -> dict[str, dict]:
    """Return the rows of `sources` (a tiny table: what /healthz needs)."""
    conn = _connect(path, deadline)
    try:
        return _sources(conn)
    finally:
        conn.close()


def _connect(path: str | Path, deadline: float) -> sqlite3.Connection:
    """Open a read-only connection whose statements are interrupted past `deadline` seconds."""
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=deadline)
    stop_at = time.monotonic() + deadline
    conn.set_progress_handler(lambda: int(time.monotonic() > stop_at), 10_000)
    return conn


def _sources(conn: sqlite3.Connection) -> dict[str, dict]:
    """Return the rows of `sources` by key."""
    cursor = conn.execute("select * from sources")
    names = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(names, row)) for row in cursor}


def _by_channel(conn: sqlite3.Connection, sql: str, params: tuple) -> dict[tuple[str, str], int]:
    """Run a (channel, key, count) query with personal channels folded into one label."""
    channel = f"case when channel like 'user:%' then '{PERSONAL}' else channel end"
    totals: dict[tuple[str, str], int] = {}
    for ch, key, n in conn.execute(sql.format(ch=channel), params):
        totals[(ch, key)] = totals.get((ch, key), 0) + n
    return totals


def _recent_polls(conn: sqlite3.Connection) -> dict[tuple[str, str], int]:
    """Return the last day's runs per (source, status), through the (source_key, started_at) index."""
    since = datetime.fromtimestamp(time.time() - 86400, UTC).isoformat(timespec="seconds")
    polls: dict[tuple[str, str], int] = {}
    for (key,) in conn.execute("select key from sources").fetchall():
        for status, n in conn.execute("select status, count(*) from runs where source_key = ? "
                                      "and started_at >= ? group by 1", [key, since]):
            polls[(key, status)] = n
    return polls


class LagHistogram:
    """Publication-to-post lag per source: each sent post counted once, read onward by outbox id.

    A read takes at most 20,000 rows, so a large archive is caught up over a few scrapes rather
    than in one read that would outlive its deadline.
    """

    _SQL = """select o.id, o.state, a.source_key,
                     max(0.0, (julianday(o.sent_at) - julianday(a.published_at)) * 86400.0)
              from outbox o join articles a on a.id = o.article_id
              where o.id > ? and coalesce(o.kind, 'post') = 'post' order by o.id limit 20000"""
    _SETTLED = ("sent", "failed", "uncertain", "dropped")

    def __init__(self) -> None:
        self._lock = threading.Lock()  # two scrapes may read at once
        self._settled = 0  # every post row up to this id is settled and, if sent, counted
        self._counted: set[int] = set()  # sent rows above it already counted
        self._series: dict[str, list[float]] = {}  # source -> [*buckets, sum, count]

    def update(self, conn: sqlite3.Connection) -> dict[str, tuple[tuple[int, ...], float, int]]:
        """Count the posts sent since the last read; return the cumulative histogram per source."""
        with self._lock:
            settled_so_far = True
            for row_id, state, source, lag in conn.execute(self._SQL, [self._settled]):
                if state == "sent" and lag is not None and row_id not in self._counted:
                    self._observe(source, lag)
                    self._counted.add(row_id)
                settled_so_far = settled_so_far and state in self._SETTLED
                if settled_so_far:  # rows still pending keep the window open behind them
                    self._settled = row_id
            self._counted = {i for i in self._counted if i > self._settled}
            return {k: (tuple(int(n) for n in v[:-2]), v[-2], int(v[-1])) for k, v in self._series.items()}

    def _observe(self, source: str, lag: float) -> None:
        """Add one post's lag to its source's buckets."""
        series = self._series.setdefault(source, [0.0] * (len(LAG_BUCKETS) + 2))
        for i, bound in enumerate(LAG_BUCKETS):
            series[i] += lag <= bound
        series[-2] += lag
        series[-1] += 1


# -- what a source's state means -------------------------------------------------------------


def source_state(row: dict | None) -> str:
    """Return 'new', 'paused', 'failing', 'silent' or 'ok' for a row of `sources`."""
    if row is None or not row.get("last_poll_at"):
        return "paused" if row and row.get("paused") else "new"
    if row.get("paused"):
        return "paused"
    if (row.get("consecutive_failures") or 0) > 0 or row.get("health") == "failing":
        return "failing"
    return "silent" if row.get("health") == "silent" else "ok"


def failing_sources(snapshot: Snapshot, config: Config) -> list[str]:
    """Return the configured sources whose last poll failed."""
    return [s.key for s in config.sources if source_state(snapshot.sources.get(s.key)) == "failing"]


def failed_channels(snapshot: Snapshot) -> list[str]:
    """Return the channels with failed posts (readers who blocked the bot are not the operator's)."""
    return sorted({ch for (ch, state), n in snapshot.outbox.items()
                   if state == "failed" and n and ch != PERSONAL})


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
        self._counters.inc("telegram_sends", channel=channel, outcome=type(outcome).__name__.lower())
        if isinstance(outcome, Delivered):
            self._counters.inc("posts_sent", channel=channel)
        elif isinstance(outcome, RetryLater) and outcome.reason.startswith("flood wait"):
            self._counters.inc("telegram_flood_waits", channel=channel)
        return outcome


# -- /healthz and /metrics --------------------------------------------------------------------


class Monitor:
    """Answer health and metrics questions from the archive, the scheduler and the counters."""

    def __init__(self, config: Config, counters: Counters, *, scheduler_state: Callable[[], str]) -> None:
        self.config, self.counters, self._scheduler_state = config, counters, scheduler_state
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="monitor")
        self._lag = LagHistogram()

    async def snapshot(self, *, full: bool = True, lag: bool = False) -> Snapshot:
        """Read the archive in the monitor's own threads, under a deadline."""
        read = partial(read_snapshot, self.config.storage_path, full=full, lag=self._lag if lag else None)
        return await self._read(read)

    async def _read(self, read: Callable):
        """Run a read in the monitor's threads; give up waiting past the deadline."""
        future = asyncio.get_running_loop().run_in_executor(self._pool, read)
        return await asyncio.wait_for(future, _READ_DEADLINE + 1.0)

    async def healthz(self) -> tuple[int, dict]:
        """Return (200 or 503, body): up when the scheduler runs and the database answers."""
        scheduler = self._scheduler_state()
        body: dict = {"status": "ok", "scheduler": scheduler, "database": {"ok": True}}
        try:
            rows = await self._read(partial(read_sources, self.config.storage_path))
        except (sqlite3.Error, TimeoutError, OSError) as exc:
            rows = {}
            body["database"] = {"ok": False, "error": str(exc) or type(exc).__name__}
        body["sources"] = {s.key: _source_health(rows.get(s.key), self.counters, s.key)
                           for s in self.config.sources}
        reasons = ([] if scheduler == "running" else [f"scheduler is {scheduler}"]) + (
            [] if body["database"]["ok"] else ["database does not answer"])
        if reasons:
            body |= {"status": "down", "reasons": reasons}
        elif failing_sources(Snapshot(sources=rows), self.config):
            # A site's outage is no reason to restart presswatch: report it, stay 200.
            body["status"] = "degraded"
        return (503 if reasons else 200), body

    async def metrics(self) -> str:
        """Return the Prometheus text exposition."""
        try:
            snapshot, db_ok = await self.snapshot(full=False, lag=True), True
        except (sqlite3.Error, TimeoutError, OSError):
            snapshot, db_ok = Snapshot(), False
        return render_metrics(self.config, snapshot, self.counters,
                              scheduler_running=self._scheduler_state() == "running", db_ok=db_ok)

    def close(self) -> None:
        """Release the reader threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def _source_health(row: dict | None, counters: Counters, key: str) -> dict:
    """Return one source's health summary for /healthz."""
    row = row or {}
    return {"state": source_state(row or None), "last_success_at": row.get("last_success_at"),
            "consecutive_failures": row.get("consecutive_failures") or 0,
            "last_error": row.get("last_error") if row.get("consecutive_failures") else None,
            "next_poll_at": row.get("next_poll_at"),
            **{name: int(counters.value(name, source=key))
               for name in ("jobs_missed", "jobs_skipped", "poll_timeouts")}}


# -- Prometheus text format ---------------------------------------------------------------------

_POLL_STATUSES = ("ok", "partial", "not_modified", "error", "skipped")
_SOURCE_STATES = ("ok", "failing", "silent", "paused", "new")


class _Exposition:
    """Prometheus text format 0.0.4: each family once, HELP and TYPE first, label values escaped."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, text: str,
               samples: Iterable[tuple[dict[str, str], float]]) -> None:
        """Add one metric family and its samples."""
        escaped = text.replace("\\", "\\\\").replace("\n", "\\n")
        self.lines += [f"# HELP {name} {escaped}", f"# TYPE {name} {kind}"]
        self.lines += [f"{name}{_labels(labels)} {_number(value)}" for labels, value in samples]

    def histogram(self, name: str, text: str, series: dict[str, tuple[tuple[int, ...], float, int]]) -> None:
        """Add a histogram family with one series per source."""
        samples: list[tuple[str, dict[str, str], float]] = []
        for source, (buckets, total, count) in sorted(series.items()):
            bounds = [*(str(b) for b in LAG_BUCKETS), "+Inf"]
            samples += [("_bucket", {"source": source, "le": le}, n)
                        for le, n in zip(bounds, [*buckets, count])]
            samples += [("_sum", {"source": source}, total), ("_count", {"source": source}, count)]
        self.lines += [f"# HELP {name} {text}", f"# TYPE {name} histogram"]
        self.lines += [f"{name}{suffix}{_labels(labels)} {_number(v)}" for suffix, labels, v in samples]


def _labels(labels: dict[str, str]) -> str:
    """Return {a="x",b="y"} with backslash, quote and newline escaped, or '' without labels."""
    if not labels:
        return ""
    esc = {k: str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
           for k, v in labels.items()}
    return "{" + ",".join(f'{k}="{v}"' for k, v in esc.items()) + "}"


def _number(value: float) -> str:
    """Return a sample value as Prometheus writes it."""
    if isinstance(value, bool) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _stamp(text: str | None) -> float | None:
    """Return a stored ISO timestamp as Unix seconds."""
    return datetime.fromisoformat(text).timestamp() if text else None


def render_metrics(config: Config, snapshot: Snapshot, counters: Counters, *,
                   scheduler_running: bool, db_ok: bool) -> str:
    """Return every metric as Prometheus text."""
    out = _Exposition()
    out.family("presswatch_scheduler_running", "gauge", "1 while the scheduler runs polls.",
               [({}, scheduler_running)])
    out.family("presswatch_database_ok", "gauge", "1 when the archive answered this scrape.", [({}, db_ok)])
    _source_metrics(out, config, snapshot, counters)
    _channel_metrics(out, config, snapshot, counters)
    out.family("presswatch_chat_commands_total", "counter", "Chat commands answered, by command.",
               counters.samples("chat_commands"))
    out.family("presswatch_chat_rate_limited_total", "counter",
               "Chat messages ignored because one user sent too many.",
               [({}, counters.value("chat_rate_limited"))])
    return "\n".join(out.lines) + "\n"


def _source_metrics(out: _Exposition, config: Config, snapshot: Snapshot, counters: Counters) -> None:
    """Add the per-source families."""
    keys = [s.key for s in config.sources]
    rows = {k: snapshot.sources.get(k) or {} for k in keys}
    statuses = sorted(set(_POLL_STATUSES) | {lb["status"] for lb, _ in counters.samples("polls")})
    out.family("presswatch_polls_total", "counter", "Polls of a source since start, by outcome.",
               [({"source": k, "status": st}, counters.value("polls", source=k, status=st))
                for k in keys for st in statuses])
    out.family("presswatch_poll_errors_total", "counter", "Polls of a source that failed, since start.",
               [({"source": k}, counters.value("polls", source=k, status="error")) for k in keys])
    for name, column, text in (("last_success", "last_success_at", "Last successful poll"),
                               ("last_poll", "last_poll_at", "Last poll")):
        out.family(f"presswatch_{name}_timestamp_seconds", "gauge", f"{text}, Unix time.",
                   [({"source": k}, _stamp(rows[k][column])) for k in keys if rows[k].get(column)])
    out.family("presswatch_articles_stored_total", "counter", "Articles archived from a source.",
               [({"source": k}, snapshot.articles.get(k, 0)) for k in keys])
    out.family("presswatch_source_state", "gauge", "1 for the state a source is in.",
               [({"source": k, "state": st}, source_state(rows[k] or None) == st)
                for k in keys for st in _SOURCE_STATES])
    out.family("presswatch_source_consecutive_failures", "gauge", "Failed polls in a row.",
               [({"source": k}, rows[k].get("consecutive_failures") or 0) for k in keys])
    for name, text in (("jobs_missed", "Polls the scheduler ran too late to start (misfire)."),
                       ("jobs_skipped", "Polls skipped because the previous one was still running."),
                       ("jobs_crashed", "Polls that raised instead of recording a failed run."),
                       ("poll_timeouts", "Polls stopped at their deadline.")):
        out.family(f"presswatch_{name}_total", "counter", text,
                   [({"source": k}, counters.value(name, source=k)) for k in keys])
    out.histogram("presswatch_post_lag_seconds",
                  "Seconds from an article's publication to its post, posts sent.", snapshot.lag)


def _channel_metrics(out: _Exposition, config: Config, snapshot: Snapshot, counters: Counters) -> None:
    """Add the per-channel families."""
    channels = sorted({c.name for c in config.channels} | {ch for ch, _ in snapshot.outbox})
    out.family("presswatch_outbox_posts", "gauge", "Unsent outbox rows of a channel, by state.",
               [({"channel": ch, "state": st}, snapshot.outbox.get((ch, st), 0))
                for ch in channels for st in _BACKLOG])
    out.family("presswatch_posts_sent_total", "counter", "Messages Telegram accepted since start, per channel.",
               [({"channel": ch}, counters.value("posts_sent", channel=ch)) for ch in channels])
    out.family("presswatch_outbox_flood_waiting", "gauge",
               "Pending posts waiting out a Telegram flood wait (429).",
               [({"channel": ch}, snapshot.flood_waiting.get(ch, 0)) for ch in channels])
    out.family("presswatch_telegram_flood_waits_total", "counter",
               "429 answers received since start, per channel.",
               [({"channel": ch}, counters.value("telegram_flood_waits", channel=ch)) for ch in channels])
    out.family("presswatch_telegram_sends_total", "counter",
               "Telegram send attempts since start, per channel and outcome.",
               counters.samples("telegram_sends"))


# -- the HTTP server ----------------------------------------------------------------------------

_MAX_CLIENTS = 8
_CLIENT_DEADLINE = 5.0  # seconds a client gets to send its request and read the answer
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            503: "Service Unavailable"}


class MonitorServer:
    """A minimal HTTP/1.1 server for /healthz and /metrics: GET or HEAD, one request per connection."""

    def __init__(self, monitor: Monitor, *, host: str, port: int) -> None:
        self._monitor, self._host, self._port = monitor, host, port
        self._server: asyncio.Server | None = None
        self._slots = asyncio.Semaphore(_MAX_CLIENTS)
        self._open: set[asyncio.StreamWriter] = set()

    @property
    def port(self) -> int:
        """Return the port actually bound (useful with port 0)."""
        return self._server.sockets[0].getsockname()[1] if self._server else self._port

    async def start(self) -> None:
        """Listen; raise OSError when the address is taken."""
        self._server = await asyncio.start_server(self._serve, self._host, self._port, limit=8192)
        log.info("health and metrics on http://%s:%d/healthz and /metrics", self._host, self.port)

    async def close(self) -> None:
        """Stop listening and drop open connections."""
        if self._server:
            self._server.close()
            for writer in list(self._open):  # Python 3.11 has no Server.close_clients()
                writer.transport.abort()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer one request within a deadline; slow or excess clients are cut off."""
        if self._slots.locked():  # never queue work behind slow clients
            return await self._finish(writer, 503, "text/plain", b"busy\n")
        self._open.add(writer)
        async with self._slots:
            try:
                async with asyncio.timeout(_CLIENT_DEADLINE):
                    head = await reader.readuntil(b"\r\n\r\n")
                    status, ctype, body, method = await self._answer(head)
                    await self._finish(writer, status, ctype, b"" if method == "HEAD" else body,
                                       length=len(body))
            except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    ConnectionError):
                writer.close()
            finally:
                self._open.discard(writer)

    async def _answer(self, head: bytes) -> tuple[int, str, bytes, str]:
        """Return (status, content type, body, method) for one request head."""
        parts = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            return 400, "text/plain", b"bad request\n", ""
        method, path = parts[0], parts[1].split("?", 1)[0]
        if path not in ("/healthz", "/metrics"):
            return 404, "text/plain", b"try /healthz or /metrics\n", method
        if method not in ("GET", "HEAD"):
            return 405, "text/plain", b"GET or HEAD only\n", method
        if path == "/healthz":
            status, body = await self._monitor.healthz()
            return status, "application/json", json.dumps(body, indent=1).encode() + b"\n", method
        text = await self._monitor.metrics()
        return 200, "text/plain; version=0.0.4; charset=utf-8", text.encode(), method

    @staticmethod
    async def _finish(writer: asyncio.StreamWriter, status: int, ctype: str, body: bytes, *,
                      length: int | None = None) -> None:
        """Write the answer and close the connection."""
        head = (f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body) if length is None else length}\r\n"
                "Cache-Control: no-store\r\nConnection: close\r\n\r\n")
        try:
            writer.write(head.encode() + body)
            await asyncio.wait_for(writer.drain(), _CLIENT_DEADLINE)
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
