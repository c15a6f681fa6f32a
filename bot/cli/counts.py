"""Archive counts as `stats` prints them: by source, by topic, by entity and by month."""

from __future__ import annotations

from collections.abc import Iterable

from bot.cli.common import table
from bot.service.overview import when


def with_silent(rows: list[dict], configured: Iterable[str]) -> list[dict]:
    """Return the sources' counts and, after them, a row of 0 for each configured source with
    no article: an analyst looks for the silent ones."""
    counted = {row["key"] for row in rows}
    silent = sorted(set(configured) - counted)
    return rows + [
        {"key": key, "articles": 0, "reprints": 0, "first": None, "last": None} for key in silent
    ]


def stats_text(articles: int, report: dict[str, list[dict]]) -> str:
    """Return the total and one table for each of the report's counts."""
    sources = table(
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
        ]
    )
    parts = [f"{articles:,} article(s)", sources]
    # A null key is the articles with no topic or entity, or with no date (JSON keeps it null).
    for name, heading, unset in (
        ("topics", "TOPIC", "(none)"),
        ("entities", "ENTITY", "(none)"),
        ("months", "MONTH", "(unknown)"),
    ):
        rows = [(r["key"] or unset, str(r["articles"])) for r in report[name]]
        parts.append(table([(heading, "ARTICLES"), *rows]))
    return "\n\n".join(parts)
