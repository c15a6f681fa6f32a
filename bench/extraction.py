"""Benchmark article-body extraction on the Zyte article-extraction set: quality and speed.

Runs, in one process and over every page: our full `extract_article` (metadata work included in
its time), our `extract_body` alone, and bare `trafilatura.extract` with default settings. Prints
a Markdown table for BENCHMARKS.md. Usage:

    python -m bench.extraction [--data DIR] [--runs N] [--limit K]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trafilatura

from bench.scoring import Scores, aggregate, page_counts
from scrapers.body import extract_body
from scrapers.errors import NotHTML
from scrapers.extract import extract_article

DEFAULT_DATA = Path("/work/shared/data/zyte-article-extraction")


@dataclass(frozen=True, slots=True)
class Page:
    """One benchmark page: its id, URL, HTML and true article body."""

    key: str
    url: str
    html: str
    truth: str


@dataclass(frozen=True, slots=True)
class Result:
    """One extractor's scores and median milliseconds per page."""

    name: str
    scores: Scores
    ms: float


def load_pages(data: Path, *, limit: int | None = None) -> list[Page]:
    """Read the ground truth and the gzip-compressed UTF-8 pages, sorted by id."""
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key in sorted(truth)[:limit]:
        with gzip.open(data / "html" / f"{key}.html.gz", "rt", encoding="utf-8") as f:
            html = f.read()
        item = truth[key]
        pages.append(Page(key, item.get("url", ""), html, item.get("articleBody") or ""))
    return pages


def _ours(page: Page) -> str:
    """Return the body of our full extraction ('' when the page is refused)."""
    try:
        return extract_article(page.html, url=page.url).body
    except NotHTML:  # a refused page scores as an empty prediction
        return ""


def _body_only(page: Page) -> str:
    """Return our body extractor's text alone."""
    return extract_body(page.html, url=page.url)


def _trafilatura(page: Page) -> str:
    """Return bare trafilatura's text with default settings."""
    return trafilatura.extract(page.html, url=page.url or None) or ""


EXTRACTORS: dict[str, Callable[[Page], str]] = {
    "presswatch extract_article": _ours,
    "presswatch extract_body": _body_only,
    f"trafilatura {trafilatura.__version__} (defaults)": _trafilatura,
}


def run(name: str, extractor: Callable[[Page], str], pages: list[Page], *, runs: int) -> Result:
    """Time and score one extractor: median over pages of the median over repeated runs."""
    per_page, counts = [], []
    for page in pages:
        times, text = [], ""
        for _ in range(runs):
            start = time.perf_counter()
            text = extractor(page)
            times.append(time.perf_counter() - start)
        per_page.append(statistics.median(times))
        counts.append(page_counts(page.truth, text))
    return Result(name, aggregate(counts), 1000 * statistics.median(per_page))


def table(results: list[Result], *, baseline: Result) -> str:
    """Return the results as a Markdown table, time relative to the baseline."""
    lines = [
        "| extractor | F1 | precision | recall | accuracy | ms/page (median) "
        "| time vs trafilatura |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        s = r.scores
        lines.append(
            f"| {r.name} | {s.f1:.3f} | {s.precision:.3f} | {s.recall:.3f} | {s.accuracy:.3f} "
            f"| {r.ms:.1f} | {r.ms / baseline.ms:.2f}× |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run every extractor over the set and print the table and the command."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.extraction", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="benchmark directory")
    parser.add_argument("--runs", type=int, default=3, help="repetitions per page (default 3)")
    parser.add_argument("--limit", type=int, default=None, help="only the first K pages by id")
    args = parser.parse_args(argv)
    pages = load_pages(args.data, limit=args.limit)
    results = [run(name, fn, pages, runs=max(1, args.runs)) for name, fn in EXTRACTORS.items()]
    command = "python -m bench.extraction " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"Zyte article-extraction benchmark, {len(pages)} pages, {args.runs} runs per page.\n")
    print(table(results, baseline=results[-1]))
    print(f"\nCommand: `{command.strip()}`")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
