"""Where presswatch's time per page goes: each step of extract_article timed on the dev pages.

Every step that `scrapers.extract.extract_article` calls (and the body's own steps in
`scrapers.body`) is wrapped with a CPU-time counter of this thread; each page is read `--runs`
times beside bare trafilatura, and a step's figure is the median over pages of its median over
runs (ms). CPU time, not wall time: on a shared machine it moves less with the load, though a
busy machine still slows it. Held-out pages are never read.

Examples:

    python -m bench.extraction_steps                       # fundus dev pages, as served
    python -m bench.extraction_steps --set zyte --view "no metadata" --runs 5
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import scrapers.body
import scrapers.extract
from bench.extraction import bare_trafilatura, load, presswatch
from bench.extraction_data import DATA, without_metadata

# The steps timed: extract_article's own calls, then the body's. A step that calls another
# counts it too (_body holds _run, which is trafilatura's run on the page).
EXTRACT_STEPS = (
    "cap_attributes",
    "parse_page",
    "read_metadata",
    "lead_image",
    "pick",
    "_drop_code",
    "drop_captions",
    "reveal_hidden_story",
    "choose_headline",
    "_title",
    "_dateline",
    "find_heading",
    "_published",
    "guess_date",
    "choose_authors",
    "drop_signup_boxes",
    "drop_teaser_cards",
    "_body",
    "drop_notices",
    "drop_headline_repeats",
    "choose_lead",
    "_canonical",
    "detect_language",
    "drop_author_lines",
)
BODY_STEPS = ("_run", "_drop_link_blocks", "_continuations", "_drop_trailer", "xmltotxt")
PAGE, TRAFILATURA = "presswatch, whole page", "trafilatura, whole page"


def timed(call: Callable, name: str, spent: dict[str, float]) -> Callable:
    """Return `call` adding its CPU seconds to spent[name] each time it runs."""

    @functools.wraps(call)
    def wrapper(*args, **kwargs):
        start = time.thread_time()
        try:
            return call(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.thread_time() - start

    return wrapper


def medians(runs_per_page: list[list[dict[str, float]]]) -> dict[str, float]:
    """Return each step's median over pages of its median over runs, in ms (0 where not run)."""
    steps = {name for runs in runs_per_page for run in runs for name in run}
    return {
        name: statistics.median(
            1000 * statistics.median(run.get(name, 0.0) for run in runs) for runs in runs_per_page
        )
        for name in steps
    }


def main(argv: list[str] | None = None) -> int:
    """Time every step on the chosen dev pages and print the steps, slowest first."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.extraction_steps",
        description=__doc__.split("\n")[0],
        epilog="Examples:\n" + __doc__.split("Examples:\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", type=Path, default=DATA, help=f"data folder (default {DATA})")
    parser.add_argument("--set", choices=("fundus", "zyte"), default="fundus")
    parser.add_argument("--view", choices=("as served", "no metadata"), default="as served")
    parser.add_argument("--runs", type=int, default=3, help="runs per page (default 3)")
    args = parser.parse_args(argv)
    cases = load(args.set, data=args.data, limit=None, dev_only=True)[0][1]
    if args.view == "no metadata":
        cases = [without_metadata(c) for c in cases]
    spent: dict[str, float] = {}
    for module, names in ((scrapers.extract, EXTRACT_STEPS), (scrapers.body, BODY_STEPS)):
        for name in names:
            setattr(module, name, timed(getattr(module, name), name, spent))
    ours, theirs = timed(presswatch, PAGE, spent), timed(bare_trafilatura, TRAFILATURA, spent)
    per_page = []
    for case in cases:
        runs = []
        for _ in range(max(1, args.runs)):
            spent.clear()
            ours(case)
            theirs(case)
            runs.append(dict(spent))
        per_page.append(runs)
    found = medians(per_page)
    print(f"{args.set} dev, {args.view}: {len(cases)} pages, ms of CPU per page (median)")
    for name, ms in sorted(found.items(), key=lambda item: -item[1]):
        print(f"{name:26} {ms:8.2f}")
    print(f"ratio of the medians: {found[PAGE] / found[TRAFILATURA]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
