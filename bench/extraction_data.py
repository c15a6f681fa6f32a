"""The real pages the extraction bench scores: loading, the dev/held-out split, the no-metadata view.

Two sets, both real pages as their publishers served them:

- fundus: `shared/data/fundus-news-pages/` (235 pages, 165 publishers; title, authors, time
  with offset, body paragraphs; `crawl_date` is when the page was fetched);
- zyte: `shared/data/zyte-article-extraction/` (181 pages; body), with title and date from the
  hand labels of `bench/labels.json` on 112 of them. No fetch time is known: the set was
  published in 2020, so its pages are read as fetched on 2020-06-01.

Each page is "dev" or "held-out" by a stable hash of its site (the host's registrable part), so
that every page of one publisher falls on the same side: about a third is held out and only its
totals are ever printed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from lxml.etree import ParserError
from lxml.html import document_fromstring

from bench.scoring import DateLabel

DATA = Path("/work/shared/data")
FUNDUS = DATA / "fundus-news-pages"
ZYTE = DATA / "zyte-article-extraction"
LABELS = Path(__file__).resolve().parent / "labels.json"
ZYTE_FETCHED = datetime(2020, 6, 1, tzinfo=UTC)
# Second-level labels under which registrable names sit one label deeper (bbc.co.uk, abc.net.au).
_SECOND_LEVEL = {"co", "com", "net", "org", "gov", "ac", "ne", "or", "go", "gob", "edu"}
# What the no-metadata view removes: JSON-LD, <meta> tags other than the charset and viewport
# (OpenGraph, Twitter, article:*, name=author/date/description, itemprop), and the <time> tags
# themselves (their visible text stays).
_JSON_LD = re.compile(
    r"<script\b[^>]*application/ld\+json[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL
)
_META = re.compile(r"<meta\b[^>]*>", re.IGNORECASE)
_KEPT_META = re.compile(r"\b(charset|http-equiv|viewport)\b", re.IGNORECASE)
_TIME_TAG = re.compile(r"</?time\b[^>]*>", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Case:
    """One real page and what a person checked about it (None: not labelled)."""

    corpus: str  # "fundus" or "zyte"
    key: str
    url: str
    html: str
    fetched: datetime
    body: str  # the true body, paragraphs separated by newlines
    title: str | None = None
    published: DateLabel | None = None
    authors: tuple[str, ...] | None = None
    held_out: bool = False


def site(url: str) -> str:
    """Return the registrable part of a URL's host ("bbc.co.uk" of "www.bbc.co.uk")."""
    labels = (urlsplit(url).hostname or "").lower().split(".")
    keep = 3 if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2
    return ".".join(labels[-keep:])


def held_out(url: str) -> bool:
    """Tell whether a page's site falls in the held-out third (a stable hash, no list)."""
    return hashlib.sha256(site(url).encode()).digest()[0] % 3 == 0


def without_metadata(case: Case) -> Case:
    """Return the page with JSON-LD, meta tags and <time> tags stripped, truth unchanged."""
    html = _JSON_LD.sub("", case.html)
    html = _META.sub(lambda m: m[0] if _KEPT_META.search(m[0]) else "", html)
    return replace(case, html=_TIME_TAG.sub("", html))


def page_text(html: str) -> str:
    """Return the text a page's body shows (scripts, styles and the head left out)."""
    try:
        root = document_fromstring(html.encode("utf-8", "replace"))
    except (ParserError, ValueError):
        return ""
    # A list first: dropping elements while lxml walks the tree skips the next ones, and the
    # JSON of a script in the body then counted as shown text.
    for el in list(root.iter("script", "style", "noscript", "template", "head")):
        el.drop_tree()
    return root.text_content()


def load_fundus(root: Path = FUNDUS) -> list[Case]:
    """Read the fundus pages and their checked values."""
    cases = []
    for line in (root / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        with gzip.open(root / row["file"], "rt", encoding="utf-8", errors="replace") as f:
            html = f.read()
        cases.append(
            Case(
                corpus="fundus",
                key=Path(row["file"]).name.removesuffix(".html.gz"),
                url=row["url"],
                html=html,
                fetched=datetime.fromisoformat(row["crawl_date"]).replace(tzinfo=UTC),
                body="\n".join(row["body_paragraphs"]),
                title=row["title"],
                published=_fundus_date(row["published"]),
                authors=tuple(row["authors"] or ()),
                held_out=held_out(row["url"]),
            )
        )
    return cases


def load_zyte(root: Path = ZYTE, labels: Path = LABELS) -> list[Case]:
    """Read the Zyte pages, with the hand labels' title and date where a page has them."""
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    marks = {k: v for k, v in json.loads(labels.read_text(encoding="utf-8")).items() if k[0] != "_"}
    cases = []
    for key in sorted(truth):
        with gzip.open(root / "html" / f"{key}.html.gz", "rt", encoding="utf-8") as f:
            html = f.read()
        label = marks.get(key, {})
        published = label.get("published")
        cases.append(
            Case(
                corpus="zyte",
                key=key[:12],
                url=truth[key].get("url", ""),
                html=html,
                fetched=ZYTE_FETCHED,
                body=truth[key].get("articleBody") or "",
                title=label.get("title"),
                published=DateLabel.parse(published, label.get("utc_offset"))
                if published
                else None,
                held_out=held_out(truth[key].get("url", "")),
            )
        )
    return cases


def _fundus_date(text: str) -> DateLabel:
    """Read a fundus time: with an offset it is an instant; a bare midnight is a day only."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return DateLabel(moment.date())
    return DateLabel(moment.date(), moment, moment.tzinfo)
