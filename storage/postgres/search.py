"""Full-text search on PostgreSQL: the same query language and answers as the SQLite search.

`storage.match` splits the user's text into terms (all ANDed), each a few alternatives (ORed):
a word, or a "quoted phrase". Each alternative becomes `phraseto_tsquery` in both of the
archive's configurations (English and Russian Snowball stems, storage/postgres/migrations.py),
with the user's text always a bound parameter: any input is safe, as with SQLite. Stemming
replaces SQLite's spelled-out word forms. Relevance is `ts_rank` with title, lead and body
weighted 10:4:1 (SQLite's bm25 weights), ranked among the newest RANK_WINDOW matches.

    ValueError("empty query")     the text holds no word to search for
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..hits import MARK_CLOSE, MARK_OPEN, SearchHit, dicts, filters, hit, ordered, storable
from ..match import Term
from ..match import terms as match_terms

# Relevance is ranked among this many matches, newest first. Smaller than SQLite's window: a
# PostgreSQL walk of the newest rows reads each one's vector (see BENCHMARKS.md).
RANK_WINDOW = 300
# ts_rank's weights of D, C, B, A: body, (unused), lead, title.
WEIGHTS = "'{0.1, 0.2, 0.4, 1.0}'"
SNIPPET_WORDS = 24
_HEADLINE = (
    f'StartSel="{MARK_OPEN}", StopSel="{MARK_CLOSE}", '
    f"MaxWords={SNIPPET_WORDS}, MinWords={SNIPPET_WORDS // 2}, ShortWord=2"
)
_ALTERNATIVE = (
    "(phraseto_tsquery('presswatch_english', presswatch_fold(?))"
    " || phraseto_tsquery('presswatch_russian', presswatch_fold(?)))"
)


def search(
    db: Any,
    query: str,
    *,
    source: str | None = None,
    topic: str | None = None,
    lang: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 20,
) -> list[SearchHit]:
    """Return the articles matching `query`, most relevant first (newest first among equals)."""
    terms = match_terms(query)
    if limit <= 0 or not storable(source, topic, lang):
        return []
    tsquery, params = _tsquery(terms)
    where, args = filters(source=source, topic=topic, lang=lang, since=since, until=until)
    wanted = limit + max(10, limit // 2)
    join = " join articles a on a.id = s.article_id" if where else ""
    ranked = db.execute(
        f"""select m.id, -ts_rank({WEIGHTS}, m.sv, {tsquery}) as r from (
                select s.article_id as id, s.sv from article_search s{join}
                where s.sv @@ {tsquery}{where} order by s.article_id desc limit ?) m
            order by r, m.id desc limit ?""",
        [*params, *params, *args, RANK_WINDOW, wanted],
    ).fetchall()
    if not ranked:
        return []
    rows = _rows_with_snippets(db, tsquery, params, [i for i, _ in ranked])
    return ordered(
        [hit(rows[i], snippet=rows[i]["snippet"], rank=r) for i, r in ranked if i in rows], limit
    )


def _tsquery(terms: list[Term]) -> tuple[str, list[str]]:
    """Return the tsquery SQL of the terms (alternatives ORed, terms ANDed) and its parameters."""
    groups, params = [], []
    for term in terms:
        # Both configurations fold ё into е: a term's ё/е spellings are one alternative here.
        alternatives = dict.fromkeys(text.replace("ё", "е") for text, _ in term)
        groups.append("(" + " || ".join([_ALTERNATIVE] * len(alternatives)) + ")")
        params += [text for text in alternatives for _ in range(2)]
    return "(" + " && ".join(groups) + ")", params


def _rows_with_snippets(
    db: Any, tsquery: str, params: list[str], ids: list[int]
) -> dict[int, dict[str, Any]]:
    """Return the article rows of `ids` with a snippet each, computed only for these few rows."""
    cursor = db.execute(
        f"""select a.id, a.source_key, a.url, a.title, a.published_at, a.lang, a.topics,
                   a.duplicate_of,
                   ts_headline(presswatch_config(a.lang),
                               coalesce(nullif(trim(concat_ws(' ', a.lead, a.body)), ''), a.title),
                               {tsquery}, ?) as snippet
            from articles a where a.id = any(?)""",
        [*params, _HEADLINE, ids],
    )
    return {row["id"]: row for row in dicts(cursor)}
