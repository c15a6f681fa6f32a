"""Run the polling bench: python -m bench.polling [--sources 20] … [--json]."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import bench.polling
from bench.polling.measure import run
from bench.polling.report import report


def main() -> None:
    """Parse arguments, run the benchmark, print the report."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.polling",
        description=bench.polling.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    parser.add_argument(
        "--parsing",
        choices=("sandbox", "inprocess"),
        default="sandbox",
        help="parse in the sandbox's worker processes (default, as the service does) or in "
        "threads of the polling process (as before the sandbox), for comparison",
    )
    parser.add_argument(
        "--prepare-in",
        choices=("parser", "poller"),
        default="parser",
        help="where each article read is enriched and its shingles hashed: where it was parsed "
        "(default, as the service does) or in the polling process (as before), for comparison",
    )
    parser.add_argument(
        "--synchronous",
        choices=("thread", "full", "normal"),
        default="thread",
        help="how commits reach the disk: thread (default, the service's: the WAL synced in a "
        "thread, awaited off the event loop), full (each COMMIT syncs on the loop, as before) or "
        "normal (never synced: an experiment showing how long polls wait for the disk)",
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
        parsing=args.parsing,
        prepare_in=args.prepare_in,
        synchronous=args.synchronous,
    )
    command = (
        f"python -m bench.polling --sources {args.sources} --rounds {args.rounds} "
        f"--polls-304 {args.polls_304} --polls-changed {args.polls_changed} "
        f"--memory-polls {args.memory_polls} --db {args.db}"
        + (f" --mix {args.mix}" if args.mix != "changed" else "")
        + (f" --parsing {args.parsing}" if args.parsing != "sandbox" else "")
        + (f" --prepare-in {args.prepare_in}" if args.prepare_in != "parser" else "")
        + (f" --synchronous {args.synchronous}" if args.synchronous != "thread" else "")
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
                    "cpu_per_poll": results.cpu_per_poll,
                    "own_cpu_per_poll": results.own_cpu_per_poll,
                    "loop": results.loop,
                    "memory": results.memory,
                    "mixed_rate": results.mixed_rate,
                    "tree_peak": results.tree_peak,
                    "process_peaks": results.process_peaks,
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
