"""Archive counts as `stats` prints them: by source, by topic, by entity and by month."""

from __future__ import annotations

from collections.abc import Iterable

from bot.cli.common import clip, column_widths, table, widths_within
from bot.service.overview import when


def with_silent(rows: list[dict], configured: Iterable[str]) -> list[dict]:
    """Return the sources' counts and, after them, a row of 0 for each configured source with
    no article: an analyst looks for the silent ones."""
    counted = {row["key"] for row in rows}
    silent = sorted(set(configured) - counted)
    return rows + [
        {"key": key, "articles": 0, "reprints": 0, "first": None, "last": None} for key in silent
    ]


def stats_text(articles: int, report: dict[str, list[dict]], *, width: int | None = None) -> str:
    """Return the total and one table for each of the report's counts, fitted to `width`
    terminal columns (None: whole rows)."""
    sources = _fitted(
        [
            ("SOURCE", "ARTICLES", "REPRINTS", "FIRST", "LAST"),
            *(
                (
                    r["key"],
                    str(r["articles"]),
                    str(r["reprints"]),
                    when(r["first"]),
                    when(r["last"]),
                )
                for r in report["sources"]
            ),
        ],
        width,
    )
    parts = [f"{articles:,} article(s)", sources]
    # A null key is the articles with no topic or entity, or with no date (JSON keeps it null).
    for name, heading, unset in (
        ("topics", "TOPIC", "(none)"),
        ("entities", "ENTITY", "(none)"),
        ("months", "MONTH", "(unknown)"),
    ):
        rows = [(r["key"] or unset, str(r["articles"])) for r in report[name]]
        parts.append(_fitted([(heading, "ARTICLES"), *rows], width))
    return "\n\n".join(parts)


# In a terminal too narrow even for this many columns of the name, rows wrap rather than show
# names that say nothing.
_LEAST_NAME = 12


def _fitted(rows: list[tuple[str, ...]], width: int | None) -> str:
    """Return rows as a table within `width` columns (None: whole rows), the first column's
    long names (sources, topics, entities) cut with an ellipsis and the counts kept."""
    if width is None:
        return table(rows)
    [name, *_] = widths_within(column_widths(rows), width, cut=[0], least=_LEAST_NAME)
    return table([(clip(row[0], name), *row[1:]) for row in rows])
