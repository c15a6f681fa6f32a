"""Where one process's own CPU per article goes: the SQLite service beside one PostgreSQL worker.

Runs the scale bench's one-new-article poll path (as `python -m bench.scale`), the SQLite
service and one PostgreSQL worker in turn, `--runs` times each, and over each window reads the
service's or worker's CPU from /proc (user and system apart, context switches) and samples it
one of three ways; the medians of both modes are printed side by side:

- `--perf`: perf (on-CPU samples, native) by shared object: the interpreter running Python
  code, libpq, SQLite, the kernel. A share of the samples times the CPU per article gives ms.
- `--cprofile`: cProfile inside the process (bench/scale/cprofiled.py, the main thread's CPU
  clock), by package and function: which Python code, and how many calls per article. Its
  own overhead inflates every figure (3-4x here), most for code of many small calls.
- neither: py-spy (`pip install py-spy`), by what the main thread was doing. On this machine
  py-spy's idle detection counts threads waiting for the server or a parser as busy, so its
  shares follow wall time, not CPU: use it for where the loop waits, not for costs.

Not a timing bench: its figures say what to cut, the bench says what a cut saved.

    python -m bench.scale.profile --sources 300 --window 15 --runs 3 --perf [--root DIR]
"""

from __future__ import annotations

import argparse
import collections
import os
import pstats
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.scale import measure
from bench.scale.feeds import GrowingFeeds
from bench.scale.probe import switches
from tests.fakes.postgres import Server

_TICK = os.sysconf("SC_CLK_TCK")

# What the main thread was doing, by the outermost frame of ours (or a library's) it ran under,
# checked in this order: the first marker found anywhere in the stack names the activity.
_ACTIVITIES = (
    ("logging (anywhere)", ("(logging/",)),
    ("poll: the archive (storage/)", ("(storage/",)),
    ("poll: the sandbox exchange", ("(scrapers/sandbox", "(bot/ingest/prepare")),
    ("poll: the feed's fetch (httpx)", ("(httpx/", "(httpcore/", "(scrapers/fetch")),
    ("poll: the rest of the poll", ("_poll_job (bot/service/polling.py", "(bot/ingest/")),
    ("poll: the fleet's job before the poll", ("FleetService.poll (",)),
    ("dispatcher job", ("FleetService.dispatch (",)),
    ("deliveries' look (relay, _serve)", ("_relay_loop (", "_serve (", "_defer_deliveries (")),
    ("procrastinate: the job's fetch", ("fetch_job (procrastinate",)),
    ("procrastinate: the job's finish", ("finish_job (procrastinate",)),
    ("procrastinate: running a job", ("run_job (procrastinate", "_process_job (procrastinate")),
    ("procrastinate: the rest", ("(procrastinate/",)),
    ("APScheduler", ("(apscheduler/",)),
    ("psycopg_pool (outside a job)", ("(psycopg_pool/",)),
    ("journal, monitor, counters", ("(bot/service/",)),
    ("the event loop itself", ("(asyncio/", "(selectors")),
)


_LIBRARIES = (
    ("libpython", "the interpreter (Python code)"),
    ("kernel", "the kernel (system calls, wake-ups)"),
    ("libpq", "libpq"),
    ("psycopg", "psycopg's C extension"),
    ("sqlite", "SQLite"),
    ("libc.so", "libc"),
    ("_json", "json's C"),
    ("_pickle", "pickle's C"),
)


def package(frame: str) -> str:
    """Return the top-level package of a py-spy frame 'function (path/file.py:line)'."""
    path = frame.rpartition("(")[2]
    return path.split("/")[0].split(".py")[0] or "?"


def classify(stack: list[str]) -> tuple[str, str]:
    """Return what a sample's thread was doing and the package at its leaf."""
    thread, frames = stack[0], stack[1:]
    leaf = package(frames[-1]) if frames else "?"
    if "MainThread" not in thread:
        return "other threads: " + thread.split(":", 1)[-1].strip(), leaf
    for activity, markers in _ACTIVITIES:
        if any(marker in frame for frame in frames for marker in markers):
            return activity, leaf
    return "other", leaf


def shares(raw: Path) -> tuple[collections.Counter, collections.Counter, int]:
    """Return a py-spy raw profile's samples by activity and by (activity, leaf package)."""
    by_activity: collections.Counter[str] = collections.Counter()
    by_leaf: collections.Counter[tuple[str, str]] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        activity, leaf = classify(stack.split(";"))
        by_activity[activity] += int(count)
        by_leaf[activity, leaf] += int(count)
        total += int(count)
    return by_activity, by_leaf, total


def native_shares(data: Path) -> tuple[collections.Counter, collections.Counter, int]:
    """Return a perf profile's samples by library (the shared object) and by (library, symbol)."""
    report = subprocess.run(
        ["perf", "report", "-i", str(data), "--sort", "dso,sym", "--stdio", "-q", "-F",
         "sample,dso,sym"], capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    by_library: collections.Counter[str] = collections.Counter()
    by_symbol: collections.Counter[tuple[str, str]] = collections.Counter()
    for line in report.splitlines():
        count, dso, _, symbol = (line.split(None, 3) + [""] * 4)[:4]
        if not count.isdigit():
            continue
        by_library[_library(dso)] += int(count)
        by_symbol[_library(dso), symbol.strip()] += int(count)
    return by_library, by_symbol, sum(by_library.values())


def _library(dso: str) -> str:
    """Name a shared object by what it runs."""
    for marker, name in _LIBRARIES:
        if marker in dso:
            return name
    return dso


def python_shares(
    stats: Path, root: Path
) -> tuple[collections.Counter, collections.Counter, float]:
    """Return a cProfile's own time (seconds) by package and by (package, function); `root` is
    the checkout that ran."""
    by_package: collections.Counter[str] = collections.Counter()
    by_function: collections.Counter[tuple[str, str]] = collections.Counter()
    for (path, line, function), row in pstats.Stats(str(stats)).stats.items():
        where = _package_of(path, root)
        by_package[where] += row[2]
        by_function[where, f"{function} ({Path(path).name}:{line})"] += row[2]
    return by_package, by_function, sum(by_package.values())


def _package_of(path: str, root: Path) -> str:
    """Name the package of a source file: the folder under site-packages, ours, or the stdlib's."""
    parts = Path(path).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].removesuffix(".py")
    if Path(path).is_relative_to(root):
        return Path(path).relative_to(root).parts[0]
    if path == "~":
        return "built-in functions"
    return "stdlib: " + (parts[-2] if parts[-1] == "__init__.py" else parts[-1]).removesuffix(".py")


def user_system(pid: int) -> tuple[float, float]:
    """Return a process's user and system CPU seconds so far, apart."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / _TICK, int(fields[12]) / _TICK


def profile_run(
    args: argparse.Namespace, server: Server | None, feeds: str, folder: Path, name: str
) -> tuple[dict[str, float], dict[str, float], dict[tuple[str, str], float]]:
    """Run one mode once; return its figures per article (rate, the process's CPU, user and
    system apart, context switches, the server's CPU), and the process's CPU split by activity
    and by (activity, leaf package), in ms per article."""
    raw = folder / f"{name}.{'perf.data' if args.perf else 'pstats' if args.cprofile else 'spy'}"
    module = ("bench.scale.cprofiled", str(raw)) if args.cprofile else ("bot",)
    where, procs = measure.warmed_workers(
        server, folder, name=name, feeds=feeds, sources=args.sources, workers=1, root=args.root,
        module=module, every=args.every,
    )  # fmt: skip
    pid = procs[0].pid
    try:
        first, times, switched = (
            measure.sample(where, procs, server),
            user_system(pid),
            switches([pid]),
        )
        code = _sample(args, pid, raw)
        last = measure.sample(where, procs, server)
        times = [b - a for a, b in zip(times, user_system(pid), strict=True)]
        switched = [b - a for a, b in zip(switched, switches([pid]), strict=True)]
    finally:
        measure.stop(procs)
    if code != 0 or not raw.exists():
        raise RuntimeError(f"the sampler failed ({code}) on {name}")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        shutil.copy(raw, args.keep / raw.name)
    rate = measure.rate(first, last)
    new = max(last.articles - first.articles, 1)
    figures = {
        "articles/s": rate.per_second,
        "the process's CPU, ms/article": rate.cpu_ms,
        "of which user": 1000 * times[0] / new,
        "of which system (kernel)": 1000 * times[1] / new,
        "voluntary context switches/article": switched[0] / new,
        "non-voluntary context switches/article": switched[1] / new,
        "the server's CPU, ms/article": rate.all_cpu_ms - rate.cpu_ms,
        "the parsers' CPU, ms/article": rate.parse_cpu_ms,
    }
    if args.cprofile:  # its own times, in ms per article (its overhead included)
        by_activity, by_leaf, total = python_shares(raw, args.root.resolve())
        scale = 1000 / new
    else:  # the samples' shares of the process's CPU
        by_activity, by_leaf, total = native_shares(raw) if args.perf else shares(raw)
        scale = rate.cpu_ms / max(total, 1)
    return (
        figures,
        {k: n * scale for k, n in by_activity.items()},
        {k: n * scale for k, n in by_leaf.items()},
    )


def _sample(args: argparse.Namespace, pid: int, raw: Path) -> int:
    """Sample process `pid` over the window into `raw`; return the sampler's exit code."""
    if args.cprofile:  # bench/scale/cprofiled.py: on at SIGUSR1, written at SIGUSR2
        os.kill(pid, signal.SIGUSR1)
        time.sleep(args.window)  # the measuring window itself
        os.kill(pid, signal.SIGUSR2)
        measure.wait(raw.exists, timeout=60)
        return 0
    command = _sampler(args, pid, raw)
    return subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode


def _sampler(args: argparse.Namespace, pid: int, raw: Path) -> list[str]:
    """Return the command that samples process `pid` for the window into `raw`."""
    if args.perf:  # on-CPU samples only, native: the interpreter, libpq, SQLite, the kernel
        return ["perf", "record", "-e", "cpu-clock", "-F", str(args.rate), "-p", str(pid),
                "-o", str(raw), "--", "sleep", str(args.window)]  # fmt: skip
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return [spy, "record", "--threads", "--nonblocking", "-r", str(args.rate),
            "-d", str(int(args.window)), "-f", "raw", "-o", str(raw), "-p", str(pid)]  # fmt: skip


def report(results: dict[str, list[tuple]], runs: int) -> str:
    """Return the Markdown tables: the medians of both modes side by side."""
    modes = list(results)
    head = ["| | " + " | ".join(modes) + " |", "|---|" + "---:|" * len(modes)]
    lines = [f"Medians of {runs} runs; the service's or worker's own process", "", *head]
    for label in results[modes[0]][0][0]:
        cells = [statistics.median(r[0][label] for r in results[m]) for m in modes]
        lines.append(f"| {label} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")
    for index, title in ((1, "activity"), (2, "activity / leaf package")):
        lines += ["", f"ms of the process's CPU per article, by {title}", "", *head]
        for key in _keys(results, index):
            cells = [statistics.median(r[index].get(key, 0.0) for r in results[m]) for m in modes]
            if max(cells) >= 0.05:
                name = key if isinstance(key, str) else " / ".join(key)
                lines.append(f"| {name} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")
    return "\n".join(lines)


def _keys(results: dict[str, list[tuple]], index: int) -> list:
    """Return every key of one split over all runs, the largest (summed) first."""
    total: collections.Counter = collections.Counter()
    for runs in results.values():
        for run in runs:
            total.update(run[index])
    return [key for key, _ in total.most_common()]


def main(argv: list[str] | None = None) -> int:
    """Parse the options, start the server and the feeds, profile both modes, print."""
    parser = argparse.ArgumentParser(prog="python -m bench.scale.profile", description=__doc__)
    measure.load_options(parser)
    parser.add_argument("--runs", type=int, default=3, help="runs per mode (medians shown)")
    parser.add_argument("--rate", type=int, default=100, help="py-spy's samples per second")
    parser.add_argument(
        "--perf", action="store_true", help="sample with perf (native, on CPU only), not py-spy"
    )
    parser.add_argument(
        "--cprofile", action="store_true", help="profile in the process (bench/scale/cprofiled.py)"
    )
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep py-spy's raw profiles here")
    args = parser.parse_args(argv)
    server = Server(measure.server_binaries(parser))
    server.start()
    results: dict[str, list[tuple]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp, GrowingFeeds() as feeds:
            for run in range(args.runs):  # modes interleaved: the machine's load drifts
                for mode, on in (("SQLite service", None), ("PostgreSQL worker", server)):
                    name = f"profile_{'pg' if on else 'sqlite'}_{run}"
                    results.setdefault(mode, []).append(
                        profile_run(args, on, feeds.base_url, Path(tmp), name)
                    )
    finally:
        server.stop()
    print(report(results, args.runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
