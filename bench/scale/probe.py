"""Look inside one throughput run: context switches, the server's wait events, the loop's samples.

Runs N workers on the scale bench's loopback feeds (as `python -m bench.scale`, one mode, one
run) and, over the window, also counts each worker's and its parsers' context switches per
article (/proc), samples pg_stat_activity every 20 ms for what the archive's backends wait on,
and, with `--py-spy`, samples the first worker's threads with py-spy (`pip install py-spy`) and
sorts its main thread's samples into running, waiting on the archive's synchronous connection,
and idle in the event loop.

    python -m bench.scale.probe --workers 1 --sources 300 --window 15 [--py-spy] [--root DIR]
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psycopg

from bench.scale import measure
from bench.scale.feeds import GrowingFeeds
from tests.fakes.postgres import Server

_ACTIVITY = (
    "select coalesce(wait_event_type, '-') || ':' || coalesce(wait_event, '-'), left(query, 40) "
    "from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() "
    "and backend_type = 'client backend' and state = 'active'"
)


def switches(pids: list[int]) -> tuple[int, int]:
    """Return the voluntary and non-voluntary context switches of processes so far."""
    counts = [0, 0]
    for pid in pids:
        try:
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        except (FileNotFoundError, ProcessLookupError):
            continue
        for line in lines:
            if line.startswith("voluntary_ctxt_switches"):
                counts[0] += int(line.split(":")[1])
            elif line.startswith("nonvoluntary_ctxt_switches"):
                counts[1] += int(line.split(":")[1])
    return counts[0], counts[1]


def loop_shares(raw: Path) -> dict[str, float]:
    """Return the shares of a py-spy raw profile's main-thread samples by what the thread did."""
    shares: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if "MainThread" not in stack:
            continue
        leaf = stack.split(";")[-1]
        if leaf.startswith("Connection.wait (psycopg/connection.py"):
            shares["waiting on the archive (synchronous psycopg)"] += int(count)
        elif "EpollSelector.select" in leaf:
            shares["idle in the event loop"] += int(count)
        else:
            shares["running (or runnable)"] += int(count)
    total = sum(shares.values()) or 1
    return {kind: n / total for kind, n in shares.most_common()}


class ActivitySampler(threading.Thread):
    """Sample the active backends' wait events every 20 ms until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.samples, self.seen = url, 0, collections.Counter()
        self.stopping = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stopping.is_set():
                self.seen.update(conn.execute(_ACTIVITY).fetchall())
                self.samples += 1
                self.stopping.wait(0.02)


def probe(args: argparse.Namespace, server: Server, feeds: GrowingFeeds, folder: Path) -> str:
    """Run the workers, measure over the window, and return the report's lines."""
    url, procs = measure.warmed_workers(
        server, folder, name="probe", feeds=feeds.base_url, sources=args.sources,
        workers=args.workers, root=args.root, every=args.every,
    )  # fmt: skip
    try:
        workers = [p.pid for p in procs]
        parsers = measure.children(workers)
        sampler, spy = ActivitySampler(url), None
        sampler.start()
        before = (switches(workers), switches(parsers), measure.sample(url, procs, server))
        if args.py_spy:
            command = [shutil.which("py-spy") or "py-spy", "record", "--idle", "--threads",
                       "-r", "50", "-d", str(int(args.window)), "-f", "raw", "-o",
                       str(folder / "spy.txt"), "-p", str(workers[0]), "--nonblocking"]  # fmt: skip
            spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(args.window)  # the measuring window itself
        last = measure.sample(url, procs, server)
        after = (switches(workers), switches(parsers))
        sampler.stopping.set()
        sampler.join()
        if spy is not None:
            spy.wait()
    finally:
        measure.stop(procs)
    new = max(last.articles - before[2].articles, 1)
    lines = [f"{args.workers} worker(s), {args.sources} sources: {measure.rate(before[2], last)}"]
    for name, (old, now) in (
        ("workers", (before[0], after[0])),
        ("parsers", (before[1], after[1])),
    ):
        lines.append(
            f"{name}' context switches per article: voluntary {(now[0] - old[0]) / new:.2f}, "
            f"non-voluntary {(now[1] - old[1]) / new:.2f}"
        )
    lines.append(f"active backends per sample: {sum(sampler.seen.values()) / sampler.samples:.2f}")
    for (wait, query), n in sampler.seen.most_common(12):
        lines.append(f"  {n / sampler.samples:6.3f}  {wait:28} {query!r}")
    if spy is not None and (folder / "spy.txt").exists():
        shares = loop_shares(folder / "spy.txt")
        lines += [
            f"first worker's main thread: {share:.1%} {kind}" for kind, share in shares.items()
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse the options, start the server and the feeds, probe, print."""
    parser = argparse.ArgumentParser(prog="python -m bench.scale.probe", description=__doc__)
    parser.add_argument("--workers", type=int, default=1, help="PostgreSQL workers (default 1)")
    measure.load_options(parser)
    parser.add_argument("--py-spy", action="store_true", help="sample the first worker too")
    args = parser.parse_args(argv)
    bindir = measure.server_binaries(parser)
    server = Server(bindir)
    server.start()
    try:
        with tempfile.TemporaryDirectory() as tmp, GrowingFeeds() as feeds:
            print(probe(args, server, feeds, Path(tmp)))
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
