"""Benchmark article extraction on the Zyte article-extraction set: body, title and date; speed.

Body: in one process and over every page, our full `extract_article` (metadata work included in
its time), our `extract_body` alone, and bare `trafilatura.extract` with its default settings,
scored with the benchmark's F1. Each extractor first reads every page once untimed (imports,
caches, the allocator's first growth); then every page is timed `--runs` times per extractor,
the extractors taking turns in a rotating order, so that a change of machine load between
extractors shifts none of them alone. Time: median over pages of the median of the runs.

Title and date: on the pages labelled by hand in bench/labels.json, our `extract_article` against
trafilatura's documented metadata reader, `trafilatura.extract_metadata` (its date is htmldate's,
a calendar day); see bench/scoring.py for the comparisons. Prints two Markdown tables for
BENCHMARKS.md. Usage:

    python -m bench.extraction [--data DIR] [--labels FILE] [--runs N] [--limit K]
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
from datetime import UTC, datetime
from pathlib import Path

import trafilatura

from bench.scoring import (
    DateLabel,
    Scores,
    aggregate,
    page_counts,
    same_day,
    same_minute,
    same_title,
    title_contains,
)
from scrapers.body import extract_body
from scrapers.errors import NotHTML
from scrapers.extract import extract_article

DEFAULT_DATA = Path("/work/shared/data/zyte-article-extraction")
DEFAULT_LABELS = Path(__file__).resolve().parent / "labels.json"
# The pages are from 2014-2019: any later "now" accepts their dates as plausible.
_NOW = datetime(2026, 1, 1, tzinfo=UTC)


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


@dataclass(frozen=True, slots=True)
class Meta:
    """What one extractor says a page's title and publication date are."""

    title: str | None
    published: datetime | str | None  # an instant, or a calendar day as "YYYY-MM-DD"


@dataclass(frozen=True, slots=True)
class Accuracy:
    """Correct titles and dates of one extractor over the labelled pages."""

    name: str
    titles: int
    contained: int
    pages: int
    days: int
    dated: int
    minutes: int | None  # None: the extractor gives no time of day
    timed: int


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


def load_labels(path: Path) -> dict[str, dict]:
    """Read the hand labels by page id (keys starting with "_" are notes)."""
    labels = json.loads(path.read_text(encoding="utf-8"))
    return {key: label for key, label in labels.items() if not key.startswith("_")}


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


def _our_meta(page: Page) -> Meta:
    """Return our extraction's title and publication time."""
    try:
        article = extract_article(page.html, url=page.url, now=_NOW)
    except NotHTML:
        return Meta(None, None)
    return Meta(article.title, article.published)


def _trafilatura_meta(page: Page) -> Meta:
    """Return trafilatura's metadata title and date (a day, from htmldate)."""
    document = trafilatura.extract_metadata(page.html, default_url=page.url or None)
    return Meta(document.title, document.date)


META_EXTRACTORS: dict[str, Callable[[Page], Meta]] = {
    "presswatch extract_article": _our_meta,
    f"trafilatura {trafilatura.__version__} extract_metadata": _trafilatura_meta,
}


def run_all(pages: list[Page], *, runs: int) -> list[Result]:
    """Score and time every extractor: a warm-up pass, then runs in rotating order per page."""
    names = list(EXTRACTORS)
    texts = {name: [EXTRACTORS[name](page) for page in pages] for name in names}
    per_page: dict[str, list[float]] = {name: [] for name in names}
    for page in pages:
        times: dict[str, list[float]] = {name: [] for name in names}
        for n in range(runs):
            for name in names[n % len(names) :] + names[: n % len(names)]:
                start = time.perf_counter()
                EXTRACTORS[name](page)
                times[name].append(time.perf_counter() - start)
        for name in names:
            per_page[name].append(statistics.median(times[name]))
    return [
        Result(
            name,
            aggregate(page_counts(p.truth, t) for p, t in zip(pages, texts[name])),
            1000 * statistics.median(per_page[name]),
        )
        for name in names
    ]


def accuracy(
    name: str, extractor: Callable[[Page], Meta], pages: list[Page], labels: dict[str, dict]
) -> Accuracy:
    """Count the labelled pages whose title, day and (where labelled) minute an extractor gets."""
    titles = contained = days = dated = minutes = timed = 0
    any_time = False
    for page in pages:
        label = labels[page.key]
        meta = extractor(page)
        titles += same_title(meta.title, label["title"])
        contained += title_contains(meta.title, label["title"])
        if label.get("published"):
            truth = DateLabel.parse(label["published"], label.get("utc_offset"))
            dated += 1
            days += same_day(meta.published, truth)
            any_time = any_time or isinstance(meta.published, datetime)
            if truth.moment is not None:
                timed += 1
                timely = isinstance(meta.published, datetime)
                minutes += timely and same_minute(meta.published, truth)
    return Accuracy(
        name, titles, contained, len(pages), days, dated, minutes if any_time else None, timed
    )


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


def accuracy_table(rows: list[tuple[str, Accuracy]]) -> str:
    """Return title and date accuracies as a Markdown table, one row per (pages, extractor)."""

    def share(hits: int | None, total: int) -> str:
        return "—" if hits is None else f"{hits}/{total} ({hits / total:.3f})" if total else "—"

    lines = [
        "| pages | extractor | title exact | title contained | date (day) "
        "| date and time (minute) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for subset, a in rows:
        lines.append(
            f"| {subset} | {a.name} | {share(a.titles, a.pages)} | {share(a.contained, a.pages)} "
            f"| {share(a.days, a.dated)} | {share(a.minutes, a.timed)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run every extractor over the set and print both tables and the command."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.extraction", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="benchmark directory")
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS, help="title/date labels")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per page (default 3)")
    parser.add_argument("--limit", type=int, default=None, help="only the first K pages by id")
    args = parser.parse_args(argv)
    pages = load_pages(args.data, limit=args.limit)
    results = run_all(pages, runs=max(1, args.runs))
    labels = load_labels(args.labels)
    labelled = [p for p in pages if p.key in labels]
    held_out = [p for p in labelled if labels[p.key].get("heldout")]
    rows = []
    for subset, chosen in (
        (f"all {len(labelled)} labelled", labelled),
        (f"{len(held_out)} held out", held_out),
    ):
        if chosen:
            rows += [
                (subset, accuracy(name, fn, chosen, labels)) for name, fn in META_EXTRACTORS.items()
            ]
    command = "python -m bench.extraction " + " ".join(argv if argv is not None else sys.argv[1:])
    print(
        f"Zyte article-extraction benchmark, {len(pages)} pages, {args.runs} timed runs per page.\n"
    )
    print(table(results, baseline=results[-1]))
    print(
        f"\nTitle and publication date on the {len(labelled)} pages labelled by hand "
        f"({args.labels.name}); held out: labelled after the title and date logic was written, "
        "as a check on pages it was not tuned on.\n"
    )
    print(accuracy_table(rows))
    print(f"\nCommand: `{command.strip()}`")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
