"""Run the fuzz: python -m bench.fuzz [--pages 10000] [--feeds 3000] [--polls 40] … [--json]."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import bench.fuzz
from bench.fuzz.cases import cases, run_cases
from bench.fuzz.polls import run_polls
from bench.fuzz.report import report, scaling_report
from bench.fuzz.scaling import scaling
from bench.fuzz.service import one_run, service_report
from scrapers.sandbox import Sandbox


def _progress(every: int):
    """Return a progress callback that prints every `every` cases to stderr."""

    def progress(kind: str, case) -> None:
        if not isinstance(case, int) or case % every == every - 1:
            print(f"[{time.strftime('%H:%M:%S')}] {kind} {case}", file=sys.stderr, flush=True)

    return progress


async def _run(args) -> dict:
    """Run the page, feed and poll cases through one sandbox."""
    progress = _progress(args.every)
    sandbox = Sandbox(deadline=args.deadline, memory_mb=args.memory, workers=args.workers)
    began = time.perf_counter()
    try:
        pages = await run_cases(
            sandbox, "page", cases("page", args.pages, seed=args.seed), progress
        )
        feeds = await run_cases(
            sandbox, "feed", cases("feed", args.feeds, seed=args.seed), progress
        )
        polls = await run_polls(sandbox, args.polls, seed=args.seed, progress=progress)
    finally:
        sandbox.close()
    return {
        "seed": args.seed,
        "deadline": args.deadline,
        "workers": sandbox.size,
        "seconds": time.perf_counter() - began,
        "pages": pages.as_dict(),
        "feeds": feeds.as_dict(),
        "polls": polls.as_dict(),
    }


def _save(result: dict, folder: Path, seed: int) -> None:
    """Write the documents of the undocumented cases, to reproduce them."""
    folder.mkdir(parents=True, exist_ok=True)
    for kind, singular in (("pages", "page"), ("feeds", "feed")):
        wanted = {f["case"] for f in result[kind]["undocumented"]}
        if wanted:
            for case, document in enumerate(cases(singular, max(wanted) + 1, seed=seed)):
                if case in wanted:
                    (folder / f"{singular}-{case}.bin").write_bytes(document)


def main() -> None:
    """Parse arguments, run the fuzz (or the scaling check), print the report."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.fuzz",
        description=bench.fuzz.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--pages", type=int, default=10_000, help="page cases (default 10000)")
    parser.add_argument("--feeds", type=int, default=3_000, help="feed cases (default 3000)")
    parser.add_argument("--polls", type=int, default=40, help="poll cases (default 40)")
    parser.add_argument("--seed", type=int, default=16, help="the mutations' seed (default 16)")
    parser.add_argument("--deadline", type=float, default=10.0, help="seconds (default 10)")
    parser.add_argument("--memory", type=int, default=512, help="MB per worker (default 512)")
    parser.add_argument("--workers", type=int, default=0, help="default: one per core, up to 4")
    parser.add_argument("--every", type=int, default=500, help="progress every N cases")
    parser.add_argument("--save", type=Path, help="write the undocumented cases' documents here")
    parser.add_argument("--scaling", action="store_true", help="time each construct at n and 4n")
    parser.add_argument(
        "--service",
        type=int,
        metavar="RUNS",
        help="instead: time /healthz and the stop of `presswatch run` while a hostile page "
        "parses, RUNS times",
    )
    parser.add_argument("--asks", type=int, default=20, help="/healthz asks per --service run")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    if args.service:
        runs = [one_run(args.asks) for _ in range(args.service)]
        command = f"python -m bench.fuzz --service {args.service} --asks {args.asks}"
        text = service_report(runs, command)
        print(json.dumps({"runs": runs, "report": text}, indent=2) if args.json else text)
        return
    if args.scaling:
        rows = scaling(_progress(1))
        print(json.dumps(rows, indent=2) if args.json else scaling_report(rows))
        return
    result = asyncio.run(_run(args))
    if args.save:
        _save(result, args.save, args.seed)
    command = (
        f"python -m bench.fuzz --pages {args.pages} --feeds {args.feeds} --polls {args.polls} "
        f"--seed {args.seed} --deadline {args.deadline:g}"
    )
    text = report(result, command=command)
    print(json.dumps({**result, "report": text}, indent=2) if args.json else text)


if __name__ == "__main__":
    main()
