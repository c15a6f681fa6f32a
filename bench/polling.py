"""Polling throughput: polls per second through the real pipeline on one core, and memory over time.

Polls N feed sources served by loopback sites in another process, through the product's own path:
`bot.ingest.poll.poll_source` with the HTTP client, the poll context and a real archive file
(migrations, WAL, synchronous=FULL) built by the composition root (`bot.app.open_app`). Half the sources answer 304 to the stored ETag;
the other half publish one new release per request: each poll gets a new ETag and a gzipped RSS
feed of the 50 newest items (full text in content:encoded, as feeds polled with fetch_pages =
false carry it), 49 already archived and one new. So a changed poll does the whole job: decode,
parse 50 items, look up which are known, build, enrich, dedupe and store the new one with its
outbox row. A third path serves the same 50 items under a new ETag and lastBuildDate, as feeds
rebuilt on every request do: decode, parse and look up, nothing to store. The config uses the
example's taxonomy and one channel, and the service's logging (INFO, formatted, to /dev/null).

Each source has its own host name (127.0.0.2, 127.0.0.3, …; the fetcher's politeness lock is per
host name, ports do not count), so per-host pacing does not serialise the bench. This process is
pinned to core 0 and the sites to core 1. Polls are driven as `run_once` does: rounds of
`asyncio.gather` over the sources. Reported: polls/s per path (median of rounds), CPU per poll,
peak RSS, and RSS every 1,000 polls of a mixed run (304 sources with the one-new-item ones, or
with the rebuilt ones: `--mix rebuilt`, where nothing is archived). The polls are checked: a 304
poll must end not_modified, a changed one ok with exactly one (or no) new article.

    python -m bench.polling [--sources 20] [--rounds 3] [--memory-polls 10000] [--mix rebuilt]
    python -m bench.polling --json ...   # rates, memory samples and the report as JSON (tests read it)
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import ipaddress
import json
import logging
import multiprocessing
import os
import random
import resource
import statistics
import sys
import time
import tomllib
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
ITEMS = 50
GOALS = {"304": 300.0, "changed": 100.0, "rebuilt": 100.0}
FIRST_HOST = ipaddress.IPv4Address("127.0.0.2")
EN = (
    "security cooperation organization member states secretary general council ministers defence "
    "foreign affairs meeting summit statement briefing delegation agreement exercises forces "
    "peacekeeping border terrorism drug trafficking information pandemic economy trade region "
    "collective treaty session declaration president government parliament agency press service "
    "development relations partners military joint staff training mission situation stability "
    "the of and to in on for with that by was as at from has will this its their which"
).split()
RU = (
    "безопасность сотрудничество организация государства генеральный секретарь совет министры "
    "оборона иностранные дела встреча саммит заявление брифинг делегация соглашение учения силы "
    "миротворческие граница терроризм наркотрафик информационная пандемия экономика торговля регион "
    "коллективный договор сессия декларация президент правительство парламент агентство "
    "развитие отношения партнеры военный объединенный штаб подготовка миссия ситуация "
    "и в на по с что для от не как о к за"
).split()


# -- the sites (run in their own process, on the other core) ------------------------------------


@dataclass
class _Site:
    """One source's feed at /feed.xml, and the same items rebuilt under a new ETag at /rebuilt.xml.

    A fixed site answers 304 to its ETag. A publishing site adds one item per request of
    /feed.xml; /rebuilt.xml serves its current 50 items with a new lastBuildDate and ETag, as
    feeds regenerated on every request do.
    """

    index: int
    host: str
    changing: bool
    lang: str
    port: int = 0
    served: int = 0
    newest: int = ITEMS - 1
    items: deque = field(default_factory=lambda: deque(maxlen=ITEMS))
    body: bytes = b""
    etag: str = ""

    def start(self) -> None:
        """Publish the first 50 items."""
        for n in range(ITEMS):
            self.items.appendleft(self._item(n))
        self._render()

    def respond(self, head: bytes) -> bytes:
        """Answer one request head."""
        self.served += 1
        if head.startswith(b"GET /feed.xml ") and self.changing:
            self.newest += 1
            self.items.appendleft(self._item(self.newest))
            self._render()
        elif head.startswith(b"GET /rebuilt.xml ") and self.changing:
            self._render()
        elif not head.startswith(b"GET /feed.xml "):
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        elif _header(head, b"if-none-match") == self.etag.encode():
            return f"HTTP/1.1 304 Not Modified\r\nETag: {self.etag}\r\n\r\n".encode()
        return (
            f"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=utf-8\r\n"
            f"Content-Encoding: gzip\r\nETag: {self.etag}\r\nContent-Length: {len(self.body)}\r\n"
            f"\r\n"
        ).encode() + self.body

    def _render(self) -> None:
        """Build the feed of the 50 newest items, gzipped, with a new ETag."""
        self.etag = f'"s{self.index}-{self.newest}-{self.served}"'
        built = format_datetime(datetime.now(UTC), usegmt=True)
        xml = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            f'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
            f"<title>Bench source {self.index}</title><link>http://{self.host}:{self.port}/</link>"
            f"<description>Press releases</description><lastBuildDate>{built}</lastBuildDate>"
            f"{''.join(self.items)}</channel></rss>"
        )
        self.body = gzip.compress(xml.encode("utf-8"), compresslevel=6)

    def _item(self, n: int) -> str:
        """Return item n: a press release with a title, a lead and five paragraphs of full text."""
        rng = random.Random(f"{self.index}:{n}")
        words = EN if self.lang == "en" else RU

        def sentence(low: int, high: int) -> str:
            body = rng.choices(words, k=rng.randint(low, high))
            body.insert(rng.randrange(len(body)), str(rng.randint(1, 99999)))
            return " ".join(body).capitalize() + "."

        title = sentence(6, 12).rstrip(".")
        lead = sentence(18, 28)
        paragraphs = "".join(
            f"<p>{' '.join(sentence(12, 24) for _ in range(2))}</p>" for _ in range(5)
        )
        published = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=10 * n)
        url = f"http://{self.host}:{self.port}/news/{n}"
        return (
            f"<item><title>{escape(title)}</title><link>{url}</link><guid>{url}</guid>"
            f"<pubDate>{format_datetime(published, usegmt=True)}</pubDate>"
            f"<description>{escape(lead)}</description>"
            f"<content:encoded><![CDATA[<p>{lead}</p>{paragraphs}]]></content:encoded></item>"
        )


def _header(head: bytes, name: bytes) -> bytes | None:
    """Return a header's value from a raw request head (name in lower case)."""
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None


class _Connection(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, just enough for GET requests without a body."""

    def __init__(self, site: _Site) -> None:
        self.site, self.buffer, self.transport = site, b"", None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
            self.transport.write(self.site.respond(head))


def serve(specs: list[tuple[int, str, bool, str]], conn, core: int | None) -> None:
    """Serve the sites until told to stop; report ports first and CPU time last (child process)."""
    if core is not None:
        os.sched_setaffinity(0, {core})

    async def main() -> None:
        loop = asyncio.get_running_loop()
        sites, servers = [], []
        for index, host, changing, lang in specs:
            site = _Site(index, host, changing, lang)
            server = await loop.create_server(lambda s=site: _Connection(s), host, 0, backlog=128)
            site.port = server.sockets[0].getsockname()[1]
            site.start()
            sites.append(site)
            servers.append(server)
        sizes = [len(s.body) for s in sites]
        conn.send([(s.host, s.port) for s in sites] + [sizes])
        stop = asyncio.Event()
        loop.add_reader(conn.fileno(), stop.set)
        await stop.wait()
        conn.recv()
        times = os.times()
        conn.send({"cpu": times.user + times.system, "requests": sum(s.served for s in sites)})
        for server in servers:
            server.close()

    asyncio.run(main())


# -- the measured process (core 0) --------------------------------------------------------------


def _config(
    db: Path, origins: list[tuple[str, int]], changing: list[bool], dedup_window: str | None
):
    """Return a Config: the example's taxonomy, one channel, and one feed source per site."""
    from bot.config import config_from_dict

    example = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    sources = [
        {
            "key": f"{'changed' if ch else 'same'}-{i}",
            "kind": "feed",
            "url": f"http://{host}:{port}/feed.xml",
            "link_pattern": r"^http://127\.[\d.]+:\d+/news/\d+$",
            "lang": "en" if i % 2 == 0 else "ru",
            "every": "10m",
            "backfill": 0,
            "fetch_pages": False,
            "robots": False,
        }
        for i, ((host, port), ch) in enumerate(zip(origins, changing))
    ]
    data = {
        "storage": {"path": str(db)},
        "fetch": {"min_delay_per_host": 0.0, "allow_private_addresses": True},
        "channels": [{"name": "main", "chat_id": "@presswatch_bench"}],
        "sources": sources,
        **({"dedup": {"window": dedup_window}} if dedup_window else {}),
        **{k: example[k] for k in ("topics", "entities") if k in example},
    }
    return config_from_dict(data, path=db.parent / "presswatch.toml")


def _progress(message: str) -> None:
    """Say what the bench is doing (stderr, so the report on stdout stays clean)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _rss_mb() -> float:
    """Return this process's current resident set size in MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _peak_mb() -> float:
    """Return this process's peak resident set size in MB (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def _cpu_ticks() -> dict[str, tuple[int, int]]:
    """Return (busy, total) jiffies per CPU from /proc/stat."""
    ticks = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                name, *values = line.split()
                numbers = [int(v) for v in values]
                idle = numbers[3] + numbers[4]
                ticks[name] = (sum(numbers[:8]) - idle, sum(numbers[:8]))
    return ticks


PATHS = {
    "304": "304 Not Modified",
    "changed": f"changed: 1 new of {ITEMS} items",
    "rebuilt": f"changed: new ETag, same {ITEMS} items",
}


@dataclass
class _Results:
    rates: dict[str, list[float]] = field(default_factory=dict)
    cpu_per_poll: dict[str, list[float]] = field(default_factory=dict)
    memory: list[tuple[int, float, float, int]] = field(default_factory=list)
    mixed_rate: float = 0.0
    mixed_cpu: float = 0.0


async def _measure(
    config,
    *,
    same: list,
    changed: list,
    rounds: int,
    polls: dict[str, int],
    memory_polls: int,
    mix: str,
) -> _Results:
    """Warm up, time each path in rounds, then run the mixed series sampling RSS."""
    from bot.app import open_app

    # The service's own collaborators: the archive (locked, migrated, with the config's dedup
    # settings), the HTTP client and the poll context, built by the composition root.
    async with open_app(config, deliver=False) as app:
        return await _measure_with(
            app,
            same=same,
            changed=changed,
            rounds=rounds,
            polls=polls,
            memory_polls=memory_polls,
            mix=mix,
        )


async def _measure_with(
    app,
    *,
    same: list,
    changed: list,
    rounds: int,
    polls: dict[str, int],
    memory_polls: int,
    mix: str,
) -> _Results:
    """Measure through the collaborators of an open app."""
    from bot.ingest.poll import poll_source

    store = app.store
    rebuilt = [replace(s, url=s.url.replace("/feed.xml", "/rebuilt.xml")) for s in changed]
    expect = {"304": ("not_modified", 0), "changed": ("ok", 1), "rebuilt": ("ok", 0)}
    path_of = {s.key: "304" for s in same} | {s.key: "changed" for s in changed}

    async def one_round(sources: list, path: str | None = None) -> int:
        """Poll each source once, together; check that each poll did what its path means."""
        # As run_once: the app's one poll context, all sources of the round gathered at once.
        runs = await asyncio.gather(*(poll_source(s, app.poll) for s in sources))
        for source, run in zip(sources, runs):
            wanted = expect[path or path_of[source.key]]
            if (run.status, run.new_articles) != wanted:
                raise SystemExit(
                    f"{source.key} {source.url}: expected {wanted}, got {run.status} "
                    f"with {run.new_articles} new ({run.error})"
                )
        return len(runs)

    async def timed(sources: list, path: str) -> tuple[float, float]:
        done, began, cpu = 0, time.perf_counter(), time.process_time()
        while done < polls[path]:
            done += await one_round(sources, path)
        return done / (time.perf_counter() - began), (time.process_time() - cpu) / done * 1000

    articles = lambda: store.db.execute("select count(*) from articles").fetchone()[0]  # noqa: E731
    results = _Results()
    _progress(f"first run of {len(same + changed)} sources ({ITEMS} items each, stored silently)")
    await asyncio.gather(*(poll_source(s, app.poll) for s in same + changed))
    await one_round(same + changed)
    for path, sources in (("304", same), ("changed", changed), ("rebuilt", rebuilt)):
        _progress(f"timing {PATHS[path]}: {rounds} rounds of {polls[path]} polls")
        for _ in range(rounds):
            rate, cpu = await timed(sources, path)
            results.rates.setdefault(path, []).append(rate)
            results.cpu_per_poll.setdefault(path, []).append(cpu)
    results.memory.append((0, _rss_mb(), _peak_mb(), articles()))
    _progress(f"mixed run ({PATHS['304']} + {PATHS[mix]}): {memory_polls} polls, RSS every 1,000")
    path_of |= {s.key: mix for s in changed}
    done, began, cpu, mark = 0, time.perf_counter(), time.process_time(), 1000
    while done < memory_polls:
        done += await one_round(same + (changed if mix == "changed" else rebuilt))
        if done >= mark or done >= memory_polls:
            results.memory.append((done, _rss_mb(), _peak_mb(), articles()))
            mark += 1000
    results.mixed_rate = done / (time.perf_counter() - began)
    results.mixed_cpu = (time.process_time() - cpu) / max(1, done) * 1000
    return results


def run(
    *,
    sources: int,
    rounds: int,
    polls: dict[str, int],
    memory_polls: int,
    db: Path,
    log: bool = True,
    mix: str = "changed",
    dedup_window: str | None = None,
) -> dict:
    """Start the sites on the second core, pin this process to the first, measure; return everything."""
    cores = os.sched_getaffinity(0)
    try:
        return _run(
            sorted(cores),
            sources=sources,
            rounds=rounds,
            polls=polls,
            memory_polls=memory_polls,
            db=db,
            log=log,
            mix=mix,
            dedup_window=dedup_window,
        )
    finally:
        os.sched_setaffinity(0, cores)


def _run(
    cores: list[int],
    *,
    sources: int,
    rounds: int,
    polls: dict[str, int],
    memory_polls: int,
    db: Path,
    log: bool,
    mix: str,
    dedup_window: str | None,
) -> dict:
    """Run the measurement with this process pinned to one core."""
    bench_core, site_core = cores[0], (cores[1] if len(cores) > 1 else None)
    os.sched_setaffinity(0, {bench_core})  # before the bench starts threads: they inherit it
    hosts = [str(FIRST_HOST + i) for i in range(sources)]
    changing = [i % 2 == 1 for i in range(sources)]
    specs = [
        (i, h, ch, "en" if i % 2 == 0 else "ru") for i, (h, ch) in enumerate(zip(hosts, changing))
    ]
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=serve, args=(specs, child, site_core), daemon=True
    )
    process.start()
    try:
        if not parent.poll(60):
            raise SystemExit(f"the loopback sites did not start (exit code {process.exitcode})")
        *origins, sizes = parent.recv()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        config = _config(db, origins, changing, dedup_window)
        if log:
            from bot.cli.logs import setup_logging  # the service's logging, written to /dev/null

            setup_logging(verbose=0)
            logging.getLogger().handlers[0].setStream(open(os.devnull, "w"))  # noqa: SIM115
        same = [s for s, ch in zip(config.sources, changing) if not ch]
        changed = [s for s, ch in zip(config.sources, changing) if ch]
        load_before, ticks_before, wall = os.getloadavg(), _cpu_ticks(), time.perf_counter()
        cpu_before = time.process_time()
        results = asyncio.run(
            _measure(
                config,
                same=same,
                changed=changed,
                rounds=rounds,
                polls=polls,
                memory_polls=memory_polls,
                mix=mix,
            )
        )
        wall, own_cpu = time.perf_counter() - wall, time.process_time() - cpu_before
        ticks_after, load_after = _cpu_ticks(), os.getloadavg()
        parent.send("stop")
        server = parent.recv()
    finally:
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()
    hz = os.sysconf("SC_CLK_TCK")
    busy = {
        name: (ticks_after[name][0] - ticks_before[name][0])
        / max(1, ticks_after[name][1] - ticks_before[name][1])
        for name in ticks_after
        if name in ticks_before
    }
    return {
        "results": results,
        "mix": mix,
        "wall": wall,
        "own_cpu": own_cpu,
        "server": server,
        "busy": busy,
        "load": (load_before, load_after),
        "cores": (bench_core, site_core),
        "hz": hz,
        "feed_bytes": (sizes[0], sizes[1] if len(sizes) > 1 else sizes[0]),
        "db_bytes": db.stat().st_size + Path(f"{db}-wal").stat().st_size
        if Path(f"{db}-wal").exists()
        else db.stat().st_size,
    }


def report(m: dict, *, sources: int, rounds: int, polls: dict[str, int], command: str) -> str:
    """Return the Markdown report."""
    r: _Results = m["results"]
    half = {"304": sources - sources // 2, "changed": sources // 2, "rebuilt": sources // 2}
    rows = [
        "| path | sources | polls × rounds | polls/s (median) | min–max | CPU ms/poll | goal | met |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for path in PATHS:
        rates = r.rates[path]
        median = statistics.median(rates)
        rows.append(
            f"| {PATHS[path]} | {half[path]} | {polls[path]:,} × {rounds} | {median:.0f} | "
            f"{min(rates):.0f}–{max(rates):.0f} | {statistics.median(r.cpu_per_poll[path]):.2f} | "
            f"≥ {GOALS[path]:.0f}/s | {'yes' if median >= GOALS[path] else '**no**'} |"
        )
    mixed = r.memory[-1][0]
    rows.append(
        f"| mixed: 304 + {PATHS[m['mix']].removeprefix('changed: ')} | {sources} | {mixed:,} × 1 | {r.mixed_rate:.0f} | – | "
        f"{r.mixed_cpu:.2f} | – | – |"
    )
    mem = ["| polls | RSS MB | peak RSS MB | articles archived |", "|---:|---:|---:|---:|"]
    mem += [f"| {n:,} | {rss:.1f} | {peak:.1f} | {arts:,} |" for n, rss, peak, arts in r.memory]
    first, last = r.memory[1] if len(r.memory) > 1 else r.memory[0], r.memory[-1]
    growth = (last[1] - first[1]) / max(1, (last[0] - first[0]) / 1000)
    per_article = ((last[1] - first[1]) * 1e6 / (last[3] - first[3])) if last[3] > first[3] else 0.0
    busy, (load0, load1), server = m["busy"], m["load"], m["server"]
    bench_core, site_core = m["cores"]
    core_note = (
        f"this process pinned to core {bench_core}, the sites (one asyncio process) to core "
        f"{site_core}"
        if site_core is not None
        else f"only one core available: this process and the sites share core {bench_core}"
    )
    machine = ", ".join(f"{name} {100 * value:.0f}% busy" for name, value in sorted(busy.items()))
    return "\n".join(
        [
            f"Polling throughput: {sources} feed sources on loopback (each its own 127.0.0.x host), "
            f"real pipeline and archive (WAL, synchronous=FULL); {core_note}.",
            f"Feeds: RSS 2.0, {ITEMS} items with full text (content:encoded), about "
            f"{m['feed_bytes'][1] / 1e3:.0f} kB gzipped. Changed: a new ETag per poll and one new item "
            f"(archived and queued for one channel), or the same items rebuilt (new lastBuildDate). "
            f"Mixed run: the 304 and the {PATHS[m['mix']].removeprefix('changed: ')} sources polled together.",
            "",
            *rows,
            "",
            f"Memory over the mixed run (RSS sampled every 1,000 polls; peak RSS of the process "
            f"{_peak_mb():.1f} MB):",
            "",
            *mem,
            "",
            f"RSS change from {first[0]:,} to {last[0]:,} polls: {last[1] - first[1]:+.1f} MB "
            f"({growth:+.2f} MB per 1,000 polls"
            + (f"; {per_article / 1e3:.1f} kB per archived article)" if per_article else ")"),
            f"Machine during the run ({m['wall']:.0f} s): load average {load0[0]:.2f} before, "
            f"{load1[0]:.2f} after; {machine}; this process used {m['own_cpu']:.0f} s CPU "
            f"({100 * m['own_cpu'] / m['wall']:.0f}% of core {bench_core}), the sites "
            f"{server['cpu']:.0f} s for {server['requests']:,} requests.",
            f"Archive at the end: {m['db_bytes'] / 1e6:.1f} MB.",
            "",
            f"Command: `{command}`",
        ]
    )


def main() -> None:
    """Parse arguments, run the benchmark, print the report."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sources", type=int, default=20, help="sources, half of each kind (default 20)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per path (default 3)")
    parser.add_argument(
        "--polls-304", type=int, default=1000, help="polls per 304 round (default 1000)"
    )
    parser.add_argument(
        "--polls-changed",
        type=int,
        default=150,
        help="polls per round of each changed-feed path (default 150)",
    )
    parser.add_argument(
        "--memory-polls",
        type=int,
        default=10_000,
        help="polls of the mixed run that samples RSS (default 10000)",
    )
    parser.add_argument("--db", type=Path, default=Path("/tmp/presswatch-polling-bench.db"))
    parser.add_argument(
        "--mix",
        choices=("changed", "rebuilt"),
        default="changed",
        help="what the changed half serves in the mixed run: one new item per poll "
        "(default) or the same items under a new ETag",
    )
    parser.add_argument(
        "--dedup-window",
        metavar="DURATION",
        help="[dedup] window, e.g. 30s: how long signatures stay in the in-memory "
        "near-duplicate index (default the config's 30d); a short one shows "
        "that memory levels off once articles leave it",
    )
    parser.add_argument("--no-log", action="store_true", help="leave logging unconfigured")
    parser.add_argument("--json", action="store_true", help="print the measures as JSON")
    args = parser.parse_args()
    if args.sources < 2:
        parser.error("--sources: at least 2 (one of each kind)")
    polls = {"304": args.polls_304, "changed": args.polls_changed, "rebuilt": args.polls_changed}
    measured = run(
        sources=args.sources,
        rounds=args.rounds,
        polls=polls,
        memory_polls=args.memory_polls,
        db=args.db,
        log=not args.no_log,
        mix=args.mix,
        dedup_window=args.dedup_window,
    )
    command = (
        f"python -m bench.polling --sources {args.sources} --rounds {args.rounds} "
        f"--polls-304 {args.polls_304} --polls-changed {args.polls_changed} "
        f"--memory-polls {args.memory_polls} --db {args.db}"
        + (f" --mix {args.mix}" if args.mix != "changed" else "")
        + (f" --dedup-window {args.dedup_window}" if args.dedup_window else "")
        + (" --no-log" if args.no_log else "")
    )
    text = report(measured, sources=args.sources, rounds=args.rounds, polls=polls, command=command)
    if args.json:
        results = measured["results"]
        print(
            json.dumps(
                {
                    "rates": results.rates,
                    "memory": results.memory,
                    "server_requests": measured["server"]["requests"],
                    "report": text,
                },
                indent=2,
            )
        )
    else:
        print(text)


if __name__ == "__main__":
    main()
