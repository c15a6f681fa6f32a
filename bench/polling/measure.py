"""The measured process of the polling bench: pinned to one core, polling through the app."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import resource
import sys
import time
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench.polling.looptime import LoopTime, shares
from bench.polling.sites import FIRST_HOST, ITEMS, serve
from bench.polling.tree import Sampler, cpu_seconds, peaks, spread, usage

ROOT = Path(__file__).resolve().parents[2]
# The product (bot, storage) is imported inside the functions, once this process is pinned to
# its core: threads a library starts on import inherit the affinity of the moment.
PATHS = {
    "304": "304 Not Modified",
    "changed": f"changed: 1 new of {ITEMS} items",
    "rebuilt": f"changed: new ETag, same {ITEMS} items",
}


@dataclass
class Results:
    """Per path: rates and CPU per poll of each round; the mixed run's rate, CPU and RSS samples."""

    rates: dict[str, list[float]] = field(default_factory=dict)
    cpu_per_poll: dict[str, list[float]] = field(default_factory=dict)
    own_cpu_per_poll: dict[str, list[float]] = field(default_factory=dict)  # the poller's alone
    # The event loop's (CPU, blocked off the CPU) shares of each round's wall time.
    loop: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    # (polls, RSS, peak RSS of this process, articles, PSS and RSS of it and its parsers)
    memory: list[tuple[int, float, float, int, float, float]] = field(default_factory=list)
    mixed_rate: float = 0.0
    mixed_cpu: float = 0.0
    tree_peak: tuple[float, float] = (0.0, 0.0)  # PSS and RSS of the process and its parsers
    process_peaks: list[float] = field(default_factory=list)  # VmHWM: this process, then parsers


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


def peak_mb() -> float:
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


async def _measure(config, *, parsing: str, prepare_in: str, synchronous: str, **plan) -> Results:
    """Warm up, time each path in rounds, then run the mixed series sampling RSS.

    `plan` is the rest of _measure_with's keywords: the sources of each path, rounds and polls.
    """
    from bot.app import open_app
    from scrapers.sandbox import InProcess

    # The service's own collaborators: the archive (locked, migrated, with the config's dedup
    # settings), the HTTP client, the parsing sandbox and the poll context, built by the
    # composition root.
    async with open_app(config, deliver=False) as app:
        if parsing == "inprocess":
            # The comparison: pages parsed, and their articles prepared, in threads of this process.
            app.poll.parser = InProcess(finish=app.poll.intake.enricher.preparer)
        if synchronous != "thread":
            # Either each COMMIT syncs on the loop (the service before WalSync), or nothing
            # syncs (an experiment, never the service's setting): how long polls wait for the disk.
            app.store.db.execute(f"PRAGMA synchronous={synchronous.upper()}")
            app.store.wal = None
        if prepare_in == "poller":
            # As before the parsers prepared articles: the poller enriches and hashes each itself.
            app.poll.parser.finish_with(None)
        sampler = Sampler(app.poll.parser)
        sampler.start()
        try:
            results = await _measure_with(app, **plan)
        finally:
            sampler.stop()
        results.tree_peak = (sampler.peak_pss, sampler.peak_rss)
        results.process_peaks = peaks(sampler.pids_now())
        return results


async def _measure_with(
    app,
    *,
    same: list,
    changed: list,
    rounds: int,
    polls: dict[str, int],
    memory_polls: int,
    mix: str,
    cores: set[int],
) -> Results:
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

    def used() -> float:
        """Return the CPU seconds of this process and its parsing workers so far."""
        return time.process_time() + cpu_seconds(getattr(app.poll.parser, "processes", list)())

    looptime = LoopTime(asyncio.get_running_loop())

    async def timed(sources: list, path: str) -> tuple[float, float, float]:
        done, began, before, own = 0, time.perf_counter(), used(), time.process_time()
        mark = looptime.mark()
        while done < polls[path]:
            done += await one_round(sources, path)
        results.loop.setdefault(path, []).append(shares(mark, looptime.mark()))
        per_poll = lambda spent: spent / done * 1000  # noqa: E731
        return (
            done / (time.perf_counter() - began),
            per_poll(used() - before),
            per_poll(time.process_time() - own),
        )

    articles = lambda: store.db.execute("select count(*) from articles").fetchone()[0]  # noqa: E731
    results = Results()
    _progress(f"first run of {len(same + changed)} sources ({ITEMS} items each, stored silently)")
    firsts = await asyncio.gather(*(poll_source(s, app.poll) for s in same + changed))
    for source, run in zip(same + changed, firsts):
        if run.status != "ok":  # else the next round would take its 50 items for new ones
            raise SystemExit(f"{source.key} {source.url}: first run {run.status} ({run.error})")
    spread(app.poll.parser, cores)  # the parsing workers, started by now, may use every core
    await one_round(same + changed)
    for path, sources in (("304", same), ("changed", changed), ("rebuilt", rebuilt)):
        _progress(f"timing {PATHS[path]}: {rounds} rounds of {polls[path]} polls")
        for _ in range(rounds):
            rate, cpu, own = await timed(sources, path)
            results.rates.setdefault(path, []).append(rate)
            results.cpu_per_poll.setdefault(path, []).append(cpu)
            results.own_cpu_per_poll.setdefault(path, []).append(own)
    tree = lambda: usage([os.getpid(), *getattr(app.poll.parser, "processes", list)()])  # noqa: E731
    results.memory.append((0, _rss_mb(), peak_mb(), articles(), *tree()))
    _progress(f"mixed run ({PATHS['304']} + {PATHS[mix]}): {memory_polls} polls, RSS every 1,000")
    path_of |= {s.key: mix for s in changed}
    done, began, before, mark = 0, time.perf_counter(), used(), 1000
    while done < memory_polls:
        done += await one_round(same + (changed if mix == "changed" else rebuilt))
        if done >= mark or done >= memory_polls:
            results.memory.append((done, _rss_mb(), peak_mb(), articles(), *tree()))
            mark += 1000
    results.mixed_rate = done / (time.perf_counter() - began)
    results.mixed_cpu = (used() - before) / max(1, done) * 1000
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
    parsing: str = "sandbox",
    prepare_in: str = "parser",
    synchronous: str = "thread",
) -> dict:
    """Start the sites on the second core, pin this process to the first, measure; return everything.

    The parsing workers (`parsing="sandbox"`, the service's way) may use every core; with
    "inprocess", pages are parsed in threads of this process, as before the sandbox.
    """
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
            parsing=parsing,
            prepare_in=prepare_in,
            synchronous=synchronous,
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
    parsing: str,
    prepare_in: str,
    synchronous: str,
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
                parsing=parsing,
                prepare_in=prepare_in,
                synchronous=synchronous,
                cores=set(cores),
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
        "parsing": parsing,
        "prepare_in": prepare_in,
        "synchronous": synchronous,
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
