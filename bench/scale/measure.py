"""Start workers on an archive, count what they ingest and the CPU they spend, and time a failover."""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.fakes.postgres import Server, binaries, create_database

ROOT = Path(__file__).resolve().parents[2]
_TICK = os.sysconf("SC_CLK_TCK")
# What bot/service/polling.py logs for each poll APScheduler skipped or started too late.
_BEHIND = ("skipped: the previous one is still running", "missed its time")


@dataclass(frozen=True, slots=True)
class Sample:
    """One moment of a run: articles archived, CPU seconds of the workers and of the server."""

    at: float
    articles: int
    workers_cpu: float
    server_cpu: float
    parsers_cpu: float = 0.0  # the workers' child processes: the sandbox's parsers
    bench_cpu: float = 0.0  # this process: the loopback feeds it serves (and its sampling)
    behind: int = 0  # polls the SQLite service's log says it skipped or missed so far
    queued: int = 0  # poll jobs waiting in procrastinate's queue now (0 for SQLite)


@dataclass(frozen=True, slots=True)
class Rate:
    """What one run measured over its window."""

    per_second: float
    cpu_ms: float  # the workers' CPU per article
    all_cpu_ms: float  # the workers' and the database server's
    parse_cpu_ms: float = 0.0  # the sandbox parsers' (both modes have them; not in the above)
    cores: float = 0.0  # cores busy on average: workers, parsers and server together
    feeds_cpu_ms: float = 0.0  # the bench's own (its loopback feeds) per article: not in the above
    behind: float = 0.0  # polls skipped or missed (SQLite) per article: > 0 means it fell behind
    queued: tuple[int, int] = (0, 0)  # poll jobs waiting at the window's start and end (PostgreSQL)


def write_config(folder: Path, storage: str, *, feeds: str, sources: list[str], every: str) -> Path:
    """Write a config: `sources` polled every `every` from the loopback feeds, no channel."""
    blocks = "".join(
        f'[[sources]]\nkey = "{key}"\nkind = "feed"\nurl = "{feeds}/{key}.xml"\nlang = "en"\n'
        f'every = "{every}"\nfetch_pages = false\nrobots = false\n\n'
        for key in sources
    )
    path = folder / "scale.toml"
    path.write_text(
        f"channels = []\n\n[storage]\n{storage}\n\n"
        "[fetch]\nmin_delay_per_host = 0\nallow_private_addresses = true\nretries = 0\n"
        "timeout = 10\n\n" + blocks,
        encoding="utf-8",
    )
    return path


def start(
    config: Path, log: Path, *, root: Path = ROOT, module: tuple[str, ...] = ("bot",)
) -> subprocess.Popen:
    """Start one `presswatch run` (a worker on PostgreSQL, the service on SQLite) of the code in
    `root` (this checkout, or another one to compare with); `module` is what `-m` runs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRESSWATCH_")}
    with log.open("ab") as sink:
        return subprocess.Popen(
            [python(root), "-m", *module, "run", "--config", str(config)],
            cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink,
        )  # fmt: skip


def python(root: Path) -> str:
    """Return the interpreter to run the code in `root` with: its own virtual environment's when
    it has one (its dependencies are part of the version compared), else this one."""
    own = root / ".venv" / "bin" / "python"
    return str(own) if own.exists() else sys.executable


def stop(procs: list[subprocess.Popen]) -> None:
    """SIGTERM every process and wait for it."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        proc.wait(timeout=60)


def cpu(pid: int) -> float:
    """Return a process's user and system CPU seconds so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def children(pids: list[int]) -> list[int]:
    """Return every descendant of `pids` (a worker's fork server and its parser processes)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], list(pids)
    while todo:
        kids = parents.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def load_options(parser: argparse.ArgumentParser) -> None:
    """Add the options every look at one load shares: its feeds, its window, the code to run."""
    parser.add_argument(
        "--sources", type=int, default=300, help="feeds, each polled every --every s"
    )
    parser.add_argument(
        "--every", type=int, default=1, metavar="S", help="each source's interval (default 1 s)"
    )
    parser.add_argument("--window", type=float, default=15.0, help="seconds measured per run")
    parser.add_argument("--root", type=Path, default=ROOT, help="the code to run")


def server_binaries(parser: argparse.ArgumentParser) -> Path:
    """Return the folder of PostgreSQL's binaries, or end with a usage error naming the package."""
    bindir = binaries()
    if bindir is None:
        parser.error("no PostgreSQL binaries (apt-get install postgresql)")
    return bindir


def server_processes(server: Server) -> dict[int, float]:
    """Return the CPU seconds so far of the server's postmaster and each of its live children."""
    master = int((server.data / "postmaster.pid").read_text().split()[0])
    found = {master: cpu(master)}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
        if ppid == master:
            found[int(stat.parent.name)] = cpu(int(stat.parent.name))
    return found


def server_cpu(server: Server | None) -> float:
    """Return the CPU seconds of the PostgreSQL server and its live backends (0 for SQLite)."""
    return 0.0 if server is None else sum(server_processes(server).values())


def warmed_workers(
    server: Server | None, folder: Path, *, name: str, feeds: str, sources: int, workers: int,
    root: Path, module: tuple[str, ...] = ("bot",), every: int = 1, per_source: int = 4,
) -> tuple[str, list[subprocess.Popen]]:  # fmt: skip
    """Start `workers` PostgreSQL workers on a new database (the SQLite service on a new file
    when `server` is None) polling `sources` feeds every `every` s; return the archive's URL or
    path and the processes once `per_source` articles per source are archived (statistics
    analysed; 3 is every source's first poll, 4 its second)."""
    if server is None:
        where = str(folder / f"{name}.db")
        storage = f'path = "{where}"'
    else:
        where = create_database(server, name)
        storage = f'url = "{where}"'
    keys = [f"wire-{n}" for n in range(sources)]
    config = write_config(folder, storage, feeds=feeds, sources=keys, every=f"{every}s")
    log = folder / f"{name}.log"
    procs = [start(config, log, root=root, module=module) for _ in range(workers)]
    try:
        wait(lambda: articles(where) >= per_source * sources, timeout=300)
        if server is not None:
            analyze(where)
    except BaseException:
        stop(procs)
        raise
    return where, procs


def articles(where: str) -> int:
    """Return the archive's article count (0 before it exists)."""
    try:
        if where.startswith("postgresql://"):
            with psycopg.connect(where) as conn:
                return conn.execute("select count(*) from articles").fetchone()[0]
        with sqlite3.connect(f"file:{where}?mode=ro", uri=True, timeout=10) as conn:
            return conn.execute("select count(*) from articles").fetchone()[0]
    except (psycopg.Error, sqlite3.Error):
        return 0


def analyze(url: str) -> None:
    """Give the planner the statistics a running archive has (autovacuum's, in production)."""
    # The archive was created empty a minute ago: autovacuum has not analysed it yet (it looks
    # once a minute, after 50 rows plus a tenth of the table), and the workers' prepared
    # statements keep plans made for empty tables, which read every row of `articles` to find
    # one URL. ANALYZE invalidates those plans; the next execution plans with the real sizes.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("analyze")


def behind(log: Path) -> int:
    """Return how many polls a service's log says APScheduler skipped or missed so far."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return 0
    return sum(text.count(said) for said in _BEHIND)


_POLLS = "('presswatch.poll', 'presswatch.polls')"  # one source a job; a batch (since pgbatch)


def queued(where: str) -> int:
    """Return the polls waiting in procrastinate's queue (0 for a SQLite archive).

    A batch's sources count one each (presswatch.polls), as one-source jobs do (an earlier
    version's presswatch.poll, which a `--baseline` may run).
    """
    if not where.startswith("postgresql://"):
        return 0
    waiting = (
        "select coalesce(sum(coalesce(jsonb_array_length(args -> 'sources'), 1)), 0)::int "
        f"from procrastinate_jobs where status = 'todo' and task_name in {_POLLS}"
    )
    return _rows(where, waiting)[0][0]


def sample(
    where: str, procs: list[subprocess.Popen], server: Server | None, *, log: Path | None = None
) -> Sample:
    """Read the article count, the CPU used so far and how far behind the schedule it is."""
    pids = [p.pid for p in procs]
    return Sample(
        time.monotonic(),
        articles(where),
        sum(map(cpu, pids)),
        server_cpu(server),
        sum(map(cpu, children(pids))),
        sum(os.times()[:2]),
        0 if log is None else behind(log),
        queued(where),
    )


def rate(first: Sample, last: Sample) -> Rate:
    """Return the ingest rate and CPU per article between two samples."""
    new, seconds = max(last.articles - first.articles, 1), last.at - first.at
    workers = last.workers_cpu - first.workers_cpu
    total = workers + last.server_cpu - first.server_cpu
    parsers = last.parsers_cpu - first.parsers_cpu
    return Rate(
        new / seconds,
        1000 * workers / new,
        1000 * total / new,
        1000 * parsers / new,
        (total + parsers) / seconds,
        1000 * (last.bench_cpu - first.bench_cpu) / new,
        (last.behind - first.behind) / new,
        (first.queued, last.queued),
    )


def throughput(
    folder: Path, *, server: Server | None, workers: int, feeds: str, sources: list[str],
    window: float, name: str, root: Path = ROOT, every: int = 1,
) -> Rate:  # fmt: skip
    """Run `workers` processes on a fresh archive, each source due every `every` s; measure
    over `window` s after a warm-up."""
    # Warm: every source polled a few times (its first poll records the feed as it stands).
    where, procs = warmed_workers(
        server, folder, name=name, feeds=feeds, sources=len(sources), workers=workers, root=root,
        every=every,
    )  # fmt: skip
    log = folder / f"{name}.log"
    try:
        first = sample(where, procs, server, log=log)
        time.sleep(window)  # the measuring window itself
        return rate(first, sample(where, procs, server, log=log))
    finally:
        stop(procs)


def failover(folder: Path, *, server: Server, feeds: str, name: str) -> float:
    """SIGKILL a worker while it polls a slow source; return seconds until another polls it."""
    url = create_database(server, name)
    config = write_config(folder, f'url = "{url}"', feeds=feeds, sources=["slow-0"], every="2s")
    registered = "select id from procrastinate_workers order by id"
    first = start(config, folder / f"{name}.log")
    wait(lambda: len(_rows(url, registered)) == 1, timeout=60)
    (doomed,) = _rows(url, registered)[0]
    second = start(config, folder / f"{name}.log")
    wait(lambda: len(_rows(url, registered)) == 2, timeout=60)
    polling = (
        f"select worker_id from procrastinate_jobs where status = 'doing' and task_name in {_POLLS}"
    )
    try:
        wait(lambda: _rows(url, polling) == [(doomed,)], timeout=120, every=0.02)
        first.kill()
        killed = time.monotonic()
        taken = lambda: any(w not in (doomed, None) for (w,) in _rows(url, polling))  # noqa: E731
        wait(taken, timeout=120, every=0.05)
        return time.monotonic() - killed
    finally:
        first.wait(timeout=10)
        stop([second])


def _rows(url: str, sql: str) -> list[tuple]:
    """Return a query's rows (none while the tables do not exist yet)."""
    try:
        with psycopg.connect(url) as conn:
            return conn.execute(sql).fetchall()
    except psycopg.Error:
        return []


def wait(predicate, *, timeout: float, every: float = 0.2) -> None:
    """Look at a condition until it holds; raise past `timeout`."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the workers did not get there in time")
        time.sleep(every)
