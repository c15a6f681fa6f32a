"""Search hits as the command line prints them: an aligned table, a JSON array or CSV."""

from __future__ import annotations

import csv
import json
from typing import TextIO

from bot.cli.common import clip, column_widths, columns, table, terminal_width, widths_within
from bot.service.overview import when
from scrapers.normalize import without_trackers
from storage.search import SearchHit, marked

SEARCH_COLUMNS = (
    "id",
    "published_at",
    "source_key",
    "lang",
    "title",
    "url",
    "topics",
    "entities",
    "duplicate_of",
    "reprint_of",  # the old name of duplicate_of, kept for the scripts that read it
    "rank",
    "score",
    "snippet",
    "raw_url",  # the URL as archived; `url` is the link posts give (see bot/cli/archive.py)
)


def _hit_record(hit: SearchHit, *, position: int, best: float) -> dict:
    """Return a hit as a plain record for JSON and CSV: `rank` its place (1 is the most
    relevant), `score` its relevance as a share of the best hit's, 0-100."""
    return {
        "id": hit.id,
        "published_at": hit.published_at,
        "source_key": hit.source_key,
        "lang": hit.lang,
        "title": hit.title,
        "url": without_trackers(hit.url),  # the link a post gives: no feed's utm_* or fbclid
        "topics": list(hit.topics),
        "entities": list(hit.entities),
        "duplicate_of": hit.duplicate_of,  # the name `export` and the archive's column use
        "reprint_of": hit.duplicate_of,
        "rank": position,
        # The engines' own numbers are no reader's scale: bm25 is negative and, for a word in
        # most articles, about -0.000001; ts_rank is another range. Their ratio to the best
        # is the same on both.
        "score": round(100 * hit.rank / best) if best else None,
        "snippet": marked(hit.snippet, "[", "]"),
        "raw_url": hit.url,
    }


def _records(hits: list[SearchHit]) -> list[dict]:
    """Return the hits as records, best first as searched."""
    best = min((h.rank for h in hits), default=0.0)  # lower is more relevant in both engines
    return [_hit_record(h, position=i, best=best) for i, h in enumerate(hits, start=1)]


def print_hits(
    hits: list[SearchHit], fmt: str, out: TextIO, *, bom: str = "", snippet: str = "MATCH"
) -> None:
    """Write hits as an aligned table (`snippet` heads the snippets' column), a JSON array or
    CSV (after `bom`: see common.BOM)."""
    if fmt == "json":
        out.write(json.dumps(_records(hits), ensure_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        out.write(bom)
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(SEARCH_COLUMNS)
        for hit, record in zip(hits, _records(hits), strict=True):
            record |= {"topics": ";".join(hit.topics), "entities": ";".join(hit.entities)}
            writer.writerow(["" if record[c] is None else record[c] for c in SEARCH_COLUMNS])
    elif hits:
        out.write(_table(hits, width=terminal_width(out), snippet=snippet) + "\n")


# Below this many characters for TITLE and MATCH together MATCH is left out, and the title
# gets them all: a dozen letters of a title beside a dozen of context tell nothing.
_TWO_COLUMNS = 60
_LEAST_TITLE = 20  # in a terminal too narrow even for this, rows wrap rather than lose the title
_TITLE, _MATCH = 3, 4
_WIDEST_TITLE = 70  # in a wide terminal the rest of the row goes to the matched words


def _table(hits: list[SearchHit], *, width: int | None, snippet: str) -> str:
    """Return hits as a table whose rows fit `width` (None: whole rows): ID, date and source
    kept, the title and the matched words cut with an ellipsis."""
    rows = [("ID", "PUBLISHED", "SOURCE", "TITLE", snippet)]
    for hit in hits:
        reprint = f"(reprint of #{hit.duplicate_of}) " if hit.duplicate_of else ""
        rows.append(
            (
                str(hit.id),
                when(hit.published_at),
                hit.source_key,
                reprint + hit.title,
                marked(hit.snippet, "[", "]"),
            )
        )
    if width is None:
        return table(rows)  # the whole title too: a grep for its end must find it
    rows = [(*row[:_TITLE], clip(row[_TITLE], _WIDEST_TITLE), *row[_MATCH:]) for row in rows]
    widths = column_widths(rows)
    if width - sum(widths[:_TITLE]) - 2 * _MATCH < _TWO_COLUMNS:
        rows, widths = [row[:_MATCH] for row in rows], widths[:_MATCH]
    widths = widths_within(widths, width, cut=range(_TITLE, len(widths)), least=_LEAST_TITLE)
    return table(
        [
            (*row[:_TITLE], clip(row[_TITLE], widths[_TITLE]), *_around(row[_MATCH:], widths))
            for row in rows
        ]
    )


def _around(match: tuple[str, ...], widths: list[int]) -> tuple[str, ...]:
    """Return the MATCH cell (if kept) cut to its width around its first [marked] word."""
    if not match:
        return ()
    text, width = match[0], widths[_MATCH]
    if columns(text) <= width:
        return (text,)
    # A third of the room before the mark: the words leading to it, then more after.
    start = max(0, min(text.find("[") - width // 3, len(text) - width))
    lead = "…" if start > 0 else ""
    rest = text[start + len(lead) :].lstrip() if lead else text
    return (lead + clip(rest, width - len(lead)),)
