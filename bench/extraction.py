"""Benchmark article extraction on real pages: presswatch beside bare trafilatura, in one process.

presswatch is `scrapers.extract_article(html, url=..., now=<fetch time>)` with no site rules; its
text is `Article.body`, preceded by `Article.lead` only where the page shows that lead in its
body (a standfirst; a description that only the page's head holds is not article text, and
trafilatura's text has no such part either). trafilatura is `bare_extraction(html, url=...,
with_metadata=True)` with its defaults: title, date (htmldate's day), authors and body from one
call, the same work. Both run on the fundus and Zyte sets (bench/extraction_data.py), as served
and in their "no metadata" view (JSON-LD, meta tags and <time> stripped, truth unchanged), and are
scored as bench/extraction_score.py says. Dev and held-out pages (split by site) are reported
apart; only dev pages are ever listed one by one.

Time: every page is read once untimed per extractor (the scored pass), then `--runs` more times,
the extractors taking turns in a rotating order; a page's time is the median of its runs, an
extractor's the median over pages, and the ratio is against trafilatura in the same run.

Examples:

    python -m bench.extraction                      # both sets, 3 timed runs per page
    python -m bench.extraction --set fundus --runs 1 --worst 20
    python -m bench.extraction --set zyte --limit 40 --misses   # dev pages' wrong fields too
    python -m bench.extraction --dev-only --runs 1              # no held-out page is read
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trafilatura
from trafilatura.settings import Document

from bench.extraction_data import (
    DATA,
    Case,
    load_fundus,
    load_zyte,
    page_text,
    without_metadata,
)
from bench.extraction_report import misses, summary_table, worst_table
from bench.extraction_score import Extracted, PageScore, score
from scrapers import Article
from scrapers.extract import extract_article

OURS, THEIRS = "presswatch", f"trafilatura {trafilatura.__version__}"


@dataclass(frozen=True, slots=True)
class Run:
    """One extractor's outputs, scores and times (ms, the median of runs) on a list of pages."""

    name: str
    got: tuple[Extracted, ...]
    scores: tuple[PageScore, ...]
    ms: tuple[float, ...]


def presswatch(case: Case) -> Article:
    """Return presswatch's reading of a page, with no site rules."""
    return extract_article(case.html, url=case.url, now=case.fetched)


def _our_fields(case: Case, article: Article) -> Extracted:
    """Return what is scored of our article: the lead counts as text where the page shows it."""
    names = tuple(a.strip() for a in article.author.split(", ") if a.strip())
    shown = article.lead and _fold(article.lead)[:80] in _fold(page_text(case.html))
    text = f"{article.lead}\n{article.body}" if shown else article.body
    return Extracted(article.title, article.published, names, text)


def bare_trafilatura(case: Case) -> Document | None:
    """Return bare trafilatura's reading of a page: metadata and body in one call."""
    return trafilatura.bare_extraction(case.html, url=case.url or None, with_metadata=True)


def _their_fields(case: Case, doc: Document | None) -> Extracted:
    """Return what is scored of trafilatura's document: its title, day, authors and text."""
    if doc is None:
        return Extracted()
    names = tuple(a.strip() for a in (doc.author or "").split(";") if a.strip())
    return Extracted(doc.title, doc.date, names, doc.text or "")


# Each extractor, and how its result becomes what is scored (not timed).
EXTRACTORS: dict[str, tuple[Callable[[Case], object], Callable]] = {
    OURS: (presswatch, _our_fields),
    THEIRS: (bare_trafilatura, _their_fields),
}


def _fold(text: str) -> str:
    """Return text casefolded with whitespace collapsed."""
    return " ".join(text.casefold().split())


def _safe(name: str, case: Case) -> Extracted:
    """Run an extractor, turning an exception into an empty result that names it."""
    call, fields = EXTRACTORS[name]
    try:
        return fields(case, call(case))
    except Exception as exc:  # noqa: BLE001 - an exception is a result to count here
        return Extracted(error=type(exc).__name__)


def _timed(name: str, case: Case) -> float:
    """Return the milliseconds of one extraction (its failures cost time too)."""
    start = time.perf_counter()
    try:
        EXTRACTORS[name][0](case)
    except Exception:  # noqa: BLE001, S110 - counted by the scored pass
        pass
    return 1000 * (time.perf_counter() - start)


def run(cases: list[Case], *, runs: int) -> list[Run]:
    """Score and time every extractor on the pages, taking turns page by page."""
    names = list(EXTRACTORS)
    got: dict[str, list[Extracted]] = {name: [] for name in names}
    ms: dict[str, list[float]] = {name: [] for name in names}
    for case in cases:
        times: dict[str, list[float]] = {name: [] for name in names}
        for name in names:
            got[name].append(_safe(name, case))
        for n in range(runs):
            for name in names[n % len(names) :] + names[: n % len(names)]:
                times[name].append(_timed(name, case))
        for name in names:
            ms[name].append(statistics.median(times[name]) if times[name] else 0.0)
    return [
        Run(
            name,
            tuple(got[name]),
            tuple(score(c, g) for c, g in zip(cases, got[name])),
            tuple(ms[name]),
        )
        for name in names
    ]


def load(
    which: str, *, data: Path, limit: int | None, dev_only: bool = False
) -> list[tuple[str, list[Case]]]:
    """Return the chosen sets, each cut to its first `limit` pages (dev pages alone if asked)."""
    sets = []
    if which in ("fundus", "all"):
        sets.append(("fundus", load_fundus(data / "fundus-news-pages")))
    if which in ("zyte", "all"):
        sets.append(("zyte", load_zyte(data / "zyte-article-extraction")))
    # While diagnosing, held-out pages are not even read: their totals are for the final run.
    return [
        (name, [c for c in cases if not (dev_only and c.held_out)][:limit]) for name, cases in sets
    ]


def main(argv: list[str] | None = None) -> int:
    """Run both extractors over the chosen sets and views; print the tables and the command."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.extraction",
        description=__doc__.split("\n")[0],
        epilog="Examples:\n" + __doc__.split("Examples:\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", type=Path, default=DATA, help=f"data folder (default {DATA})")
    parser.add_argument("--set", choices=("fundus", "zyte", "all"), default="all")
    parser.add_argument("--limit", type=int, default=None, help="only the first K pages of a set")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per page (default 3)")
    parser.add_argument("--worst", type=int, default=10, help="dev pages listed by body score")
    parser.add_argument("--misses", action="store_true", help="list dev pages' wrong fields")
    parser.add_argument(
        "--dev-only", action="store_true", help="score dev pages only (while iterating)"
    )
    args = parser.parse_args(argv)
    command = "python -m bench.extraction " + " ".join(argv if argv is not None else sys.argv[1:])
    rows, worst = [], []
    for name, cases in load(args.set, data=args.data, limit=args.limit, dev_only=args.dev_only):
        for view, chosen in (
            ("as served", cases),
            ("no metadata", [without_metadata(c) for c in cases]),
        ):
            runs = run(chosen, runs=max(0, args.runs))
            rows.append((name, view, chosen, runs))
            worst.append((name, view, chosen, runs))
            if args.misses:
                print(misses(name, view, chosen, runs))
    print(summary_table(rows))
    print()
    print(worst_table(worst, count=args.worst))
    print(f"\nCommand: `{command.strip()}`")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
