"""Run the scale bench and print its tables: python -m bench.scale [--sources N] [--every S]."""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import bench.scale
from bench.archive.__main__ import main as archive_bench
from bench.scale.feeds import GrowingFeeds
from bench.scale.measure import ROOT, Rate, failover, server_binaries, throughput
from tests.fakes.postgres import Server, create_database

MODES = (("SQLite, the service", 0), ("PostgreSQL", 1), ("PostgreSQL", 2), ("PostgreSQL", 4))
BASELINE = ", baseline"  # the label of the rows of `--baseline DIR`'s code


def main(argv: list[str] | None = None) -> int:
    """Measure every mode `--runs` times, then the failover `--kills` times; print Markdown."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale", description=bench.scale.__doc__.split("\n")[0]
    )
    parser.add_argument("--sources", type=int, default=200, help="feeds, each due every --every s")
    parser.add_argument(
        "--every",
        type=_seconds,
        default=1,
        metavar="S",
        help="each source's poll interval in whole seconds (default 1: more polls than the SQLite "
        "service makes at 300 sources; a longer one offers a load both modes keep up with)",
    )
    parser.add_argument("--window", type=float, default=20.0, help="seconds measured per run")
    parser.add_argument(
        "--runs", type=int, default=3, help="runs per mode (the median is shown; 0: none)"
    )
    parser.add_argument("--kills", type=int, default=3, help="SIGKILLs timed for the failover")
    parser.add_argument(
        "--workers",
        type=_counts,
        default=(0, 1, 2, 4),
        metavar="N,N",
        help="PostgreSQL worker counts to run, 0 for the SQLite service (default 0,1,2,4)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="also run each mode with the code checked out in DIR (e.g. `git archive REV | tar -x "
        "-C DIR`; with DIR/.venv when it has one), interleaved with this checkout's runs, to "
        "compare two versions under one load",
    )
    parser.add_argument(
        "--search",
        type=int,
        metavar="N",
        help="instead: fill a PostgreSQL archive with N articles and time search (bench/archive)",
    )
    parser.add_argument(
        "--pgdata",
        type=Path,
        metavar="DIR",
        help="with --search: keep the server's cluster in DIR (owned by postgres); a later run "
        "with the same DIR times the archive filled before instead of filling again",
    )
    args = parser.parse_args(argv)
    bindir = server_binaries(parser)
    server = Server(bindir, folder=args.pgdata if args.search else None)
    server.start()
    if args.search:
        try:
            return _search(server, args.search, kept=args.pgdata is not None)
        finally:
            server.stop()
    sources = [f"wire-{n}" for n in range(args.sources)]
    try:
        with tempfile.TemporaryDirectory() as tmp, GrowingFeeds(slow=4.0) as feeds:
            folder = Path(tmp)
            results: dict[tuple[str, int], list[Rate]] = {}
            codes = [("", ROOT)] + ([(BASELINE, args.baseline.resolve())] if args.baseline else [])
            for run in range(args.runs):  # modes interleaved: the machine's load drifts
                for mode, workers in [m for m in MODES if m[1] in args.workers]:
                    for n, (label, root) in enumerate(codes):
                        results.setdefault((mode + label, workers), []).append(
                            throughput(
                                folder,
                                server=None if workers == 0 else server,
                                workers=max(workers, 1),
                                feeds=feeds.base_url,
                                sources=sources,
                                window=args.window,
                                name=f"scale_{workers}_{run}_{n}",
                                root=root,
                                every=args.every,
                            )  # fmt: skip
                        )
            kills = [
                failover(folder, server=server, feeds=feeds.base_url, name=f"failover_{n}")
                for n in range(args.kills)
            ]
    finally:
        server.stop()
    print(report(results, kills, args))
    return 0


def _search(server: Server, articles: int, *, kept: bool) -> int:
    """Fill a database `search` with `articles` and time search (only time it when kept full)."""
    url = server.url("search")
    if kept and _holds_articles(url):
        return archive_bench(["--url", url, "--reuse", "--db", "/tmp/x"])
    url = create_database(server, "search")
    return archive_bench(["--articles", str(articles), "--url", url, "--db", "/tmp/x"])


def _holds_articles(url: str) -> bool:
    """Tell whether the database at `url` exists and holds articles."""
    import psycopg  # noqa: PLC0415 - the [postgres] extra, as bench.scale.measure

    try:
        with psycopg.connect(url) as conn:
            return conn.execute("select exists (select 1 from articles)").fetchone()[0]
    except psycopg.Error:
        return False


def _seconds(text: str) -> int:
    """Parse --every: a whole number of seconds, at least 1 (the config's durations are whole)."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"give whole seconds, at least 1, not {text!r}")
    return int(text)


def _counts(text: str) -> tuple[int, ...]:
    """Parse --workers: worker counts among MODES' (0 is the SQLite service)."""
    counts = tuple(int(n) for n in text.split(",") if n.strip())
    known = {workers for _, workers in MODES}
    if not counts or not set(counts) <= known:
        raise argparse.ArgumentTypeError(f"give counts among {sorted(known)}, e.g. 0,1,2")
    return counts


def report(results: dict[tuple[str, int], list[Rate]], kills: list[float], args) -> str:
    """Return the Markdown: throughput and CPU per mode (when measured), then the failover times."""
    lines = []
    if results:
        lines += _throughput_table(results, args)
    if kills:
        lines.append(
            f"Failover after SIGKILL of the worker polling a source, until another worker polls "
            f"it ({len(kills)} kills): median {statistics.median(kills):.1f} s, max "
            f"{max(kills):.1f} s ({', '.join(f'{k:.1f}' for k in kills)})"
        )
    return "\n".join(lines)


def _throughput_table(results: dict[tuple[str, int], list[Rate]], args) -> list[str]:
    """Return the throughput table's lines (ratios left out when their reference was not run);
    a baseline's rows are compared with the baseline's own references."""
    lines = [
        f"{args.sources} sources due every {args.every} s (offered: "
        f"{args.sources / args.every:.1f} articles/s), one new article per poll; medians of "
        f"{args.runs} runs of {args.window:g} s; behind: polls APScheduler skipped or missed per "
        "article (SQLite), and poll jobs queued at the window's start → end (PostgreSQL)",
        "",
        "| archive | workers | articles/s | vs one PG worker | CPU ms/article (workers) "
        "| vs SQLite | with the server's | vs SQLite | parsers' | cores busy | bench's feeds "
        "| behind |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for mode, workers in results:
        label = BASELINE if mode.endswith(BASELINE) else ""
        one = _median(results, ("PostgreSQL" + label, 1), "per_second")
        base_cpu = _median(results, ("SQLite, the service" + label, 0), "cpu_ms")
        fields = ("per_second", "cpu_ms", "all_cpu_ms", "parse_cpu_ms", "cores", "feeds_cpu_ms")
        per_second, cpu_ms, all_ms, parse_ms, cores, feeds_ms = (
            _median(results, (mode, workers), field) for field in fields
        )
        lines.append(
            f"| {mode} | {max(workers, 1)} | {per_second:.1f} | {_ratio(per_second, one)} "
            f"| {cpu_ms:.1f} | {_ratio(cpu_ms, base_cpu)} | {all_ms:.1f} "
            f"| {_ratio(all_ms, base_cpu)} | {parse_ms:.1f} | {cores:.2f} | {feeds_ms:.1f} "
            f"| {_behind(results[(mode, workers)], workers)} |"
        )
    return [*lines, ""]


def _behind(rates: list[Rate], workers: int) -> str:
    """Return how far a mode fell behind in each run: SQLite's skipped or missed polls per
    article, or PostgreSQL's poll jobs queued at the window's start → end."""
    if workers == 0:
        return ", ".join(f"{r.behind:.2f}" for r in rates)
    return ", ".join(f"{r.queued[0]}→{r.queued[1]}" for r in rates)


def _median(results: dict[tuple[str, int], list[Rate]], mode: tuple[str, int], field: str):
    """Return the median of one field over a mode's runs (None when the mode was not run)."""
    rates = results.get(mode)
    return statistics.median(getattr(r, field) for r in rates) if rates else None


def _ratio(value: float, reference: float | None) -> str:
    """Return value / reference as '1.23×', or '–' without a reference."""
    return f"{value / reference:.2f}×" if reference else "–"


if __name__ == "__main__":
    raise SystemExit(main())
