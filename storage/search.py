"""Full-text search of the archive (FTS5 over title, lead and body) and the newest articles.

`storage.match` turns the user's text into quoted terms; here each word that takes its forms is
spelled out as those forms (`storage.wordforms`), which finds the same inflected words many
times faster in a big archive than a prefix query, and the matches are ranked and filtered.
A PostgreSQL archive is searched by storage/postgres/search.py instead (same terms, tsvector);
`latest` is one statement for both.

    ValueError("empty query")     the text holds no word to search for
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from typing import TYPE_CHECKING, Any

from .dialect import is_postgres
from .hits import (
    MARK_CLOSE,
    MARK_OPEN,
    Bound,
    SearchHit,
    dicts,
    filters,
    hit,
    marked,
    ordered,
    storable,
)
from .match import Term, parse, render
from .postgres import search as postgres
from .wordforms import word_forms

if TYPE_CHECKING:
    from sqlite_utils import Database

__all__ = ["MARK_CLOSE", "MARK_OPEN", "SearchHit", "latest", "marked", "search"]

# bm25 weights of title, lead and body: a word in the title says more than one in the body.
RANK_WEIGHTS = "10.0, 4.0, 1.0"
# Relevance is ranked among at most this many matches, newest first (see `_ranked`).
RANK_WINDOW = 2000
# A source's articles (in the date range), up to this many, are applied as a list of ids;
# otherwise the filters are checked row by row while walking the matches.
MAX_CANDIDATES = 50_000
# A filtered query ranks among fewer matches: with selective filters few matches pass, and the
# walk newest first only ends once this many have, or at the start of the range. The newest 300
# matches of one source (and topic, and period) are a deep enough pool for a page of results.
FILTERED_WINDOW = 300
SNIPPET_TOKENS = 24

# Words whose case folding Python and unicode61 agree on (no Latin diacritics), so their forms
# can be spelled out exactly as the index holds them.
_PLAIN = re.compile(r"[a-z0-9а-яё]+")


def search(
    db: Database,
    query: str,
    *,
    source: str | None = None,
    topic: str | None = None,
    lang: str | None = None,
    since: Bound | None = None,
    until: Bound | None = None,
    limit: int = 20,
) -> list[SearchHit]:
    """Return the articles matching `query`, most relevant first (newest first among equals).

    `since` is inclusive and `until` exclusive: a moment, or each source's own (hits.Bound).
    Relevance is ranked among the newest RANK_WINDOW matches (all of them for most queries), or
    the newest FILTERED_WINDOW when any filter applies.
    """
    if is_postgres(db):
        return postgres.search(
            db, query, source=source, topic=topic, lang=lang, since=since, until=until, limit=limit
        )
    terms, unwanted = parse(query)
    if limit <= 0 or not storable(source, topic, lang):
        return []
    match = render(_inflected(db, terms))
    if unwanted:
        match = f"({match}) NOT {render(_inflected(db, [unwanted]))}"
    # Over-fetch a little so equal ranks (reprints of one text) can be ordered newest first.
    wanted = limit + max(10, limit // 2)
    where = filters(source=source, topic=topic, lang=lang, since=since, until=until)
    among = _candidates(db, where) if source else None  # an index lists a source's articles
    if among is not None:  # few articles pass the filters: walk the matches checking a list
        ranked = _ranked(db, match, wanted, among=among)
    else:
        ranked = _ranked(db, match, wanted, where=where)
    if not ranked:
        return []
    rows = _rows_with_snippets(db, match, [rowid for rowid, _ in ranked])
    hits = [
        hit(rows[rowid], snippet=rows[rowid]["snippet"], rank=rank)
        for rowid, rank in ranked
        if rowid in rows
    ]
    return ordered(hits, limit)


def latest(
    db: Database,
    *,
    limit: int = 5,
    topic: str | None = None,
    source: str | None = None,
    lang: str | None = None,
    since: Bound | None = None,
    until: Bound | None = None,
) -> list[SearchHit]:
    """Return the newest articles by publication time that pass the filters (as `search`'s),
    their summary as the snippet."""
    if limit <= 0 or not storable(source, topic, lang):
        return []
    where, args = filters(source=source, topic=topic, lang=lang, since=since, until=until)
    rows = db.execute(
        f"""select a.id, a.source_key, a.url, a.title, a.published_at, a.lang, a.topics, a.entities,
                   a.duplicate_of, coalesce(nullif(a.summary, ''), a.lead, '') as snippet
            from articles a where a.published_at is not null {where}
            order by a.published_at desc, a.id desc limit ?""",
        [*args, limit],
    )
    return [hit(row, snippet=row["snippet"], rank=0.0) for row in dicts(rows)]


# -- the query ----------------------------------------------------------------------------------


def _inflected(db: Database, terms: list[Term]) -> list[Term]:
    """Return terms with each one-word alternative that takes its forms replaced by those forms.

    FTS5 answers a prefix query by merging the whole posting lists of every word it covers, and
    again for bm25's statistics and for the snippets (tens of milliseconds for a common Russian
    stem in a million articles); the forms, each a plain word, are merged lazily, so a search
    stops at its window. The forms cover inflection ("санкциях" → санкции, санкциями;
    "sanctions" → sanction, sanctioned), not derived words ("санкционный").
    """
    out: list[Term] = []
    for term in terms:
        alternatives: list[tuple[str, bool]] = []
        first = ""
        for text, takes_forms in term:
            if takes_forms and _PLAIN.fullmatch(text):
                forms = list(word_forms(text))
                first = first or forms[0]
                # Only the forms the index holds: every form named costs each statement a seek
                # in every index segment (60-120 forms for a Russian word, most never written),
                # and one the index lacks can match nothing, nor add to bm25 or a snippet.
                alternatives += [(form, False) for form in _indexed(db, forms)]
            else:
                alternatives.append((text, takes_forms))
        if not alternatives:  # no form is in the index: the word alone, which matches nothing
            alternatives.append((first, False))
        out.append(tuple(dict.fromkeys(alternatives)))
    return out


def _indexed(db: Database, words: list[str]) -> list[str]:
    """Return the words some article holds (each word's first match in the index, in one
    statement; fts5vocab would read each word's whole posting list to count it)."""
    start = os.path.commonprefix(words)
    if start and not _holds_start(db, start):  # one seek, not one per form (a ё respelling)
        return []
    found = {
        r[0]
        for r in db.execute(
            "select w.value from json_each(?) w where exists (select 1 from articles_fts "
            "where articles_fts match '\"' || w.value || '\"')",
            [json.dumps(words)],
        )
    }
    return [w for w in words if w in found]


def _holds_start(db: Database, start: str) -> bool:
    """Return True when the index holds a word beginning with `start` (the first one found)."""
    # An 'instance' vocabulary steps through its entries lazily; 'row' would count each word.
    db.execute(
        "create virtual table if not exists temp.articles_fts_entries "
        "using fts5vocab(main, 'articles_fts', 'instance')"
    )
    after = start[:-1] + chr(ord(start[-1]) + 1)  # the first text past every word with `start`
    return bool(
        db.execute(
            "select exists (select 1 from temp.articles_fts_entries where term >= ? and term < ?)",
            [start, after],
        ).fetchone()[0]
    )


# -- SQL ------------------------------------------------------------------------------------------


def _candidates(db: Database, where: tuple[str, list]) -> list[int] | None:
    """Return the ids of the articles that pass the filters (one of them a source), or None when
    more than MAX_CANDIDATES do."""
    ids = [
        r[0]
        for r in db.execute(
            f"select a.id from articles a where 1 {where[0]} limit ?",
            [*where[1], MAX_CANDIDATES + 1],
        )
    ]
    return None if len(ids) > MAX_CANDIDATES else ids


def _ranked(
    db: Database,
    match: str,
    limit: int,
    *,
    among: list[int] | None = None,
    where: tuple[str, list] = ("", []),
) -> list[tuple[int, float]]:
    """Return (rowid, bm25 rank) of the best matches among the newest RANK_WINDOW (or
    FILTERED_WINDOW, with `among` or `where`) ones.

    Ranking every match of a common word means a bm25 call per matching row (hundreds of
    thousands in a big archive); FTS5 walks its matches newest first cheaply and stops at the
    window, so only those are ranked. `among` (ids) is checked while walking: `+` keeps FTS5
    from looking each id up separately, which costs a whole query per id. `where` filters on
    articles `a`, joined row by row.
    """
    sql = f"select f.rowid as id, bm25(articles_fts, {RANK_WEIGHTS}) as r from articles_fts f"
    args: list = [match]
    if where[0]:
        sql += " cross join articles a on a.id = f.rowid"  # CROSS: FTS5 stays the outer loop
    sql += " where articles_fts match ?"
    if among is not None:
        if not among:
            return []
        sql += " and f.rowid between ? and ? and +f.rowid in (select value from json_each(?))"
        args += [min(among), max(among), json.dumps(among)]
    window = FILTERED_WINDOW if where[0] or among is not None else RANK_WINDOW
    sql = f"select id, r from ({sql} {where[0]} order by f.rowid desc limit ?) order by r, id desc limit ?"
    try:
        return [(r[0], r[1]) for r in db.execute(sql, [*args, *where[1], window, limit])]
    except sqlite3.OperationalError as exc:
        # build_match quotes everything; a syntax error here is our bug, not the user's input.
        raise RuntimeError(f"full-text query {match!r} failed: {exc}") from exc


def _rows_with_snippets(db: Database, match: str, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Return the article rows of `ids` with a snippet each, computed only for these few rows."""
    # One walk over the ids' rowid range; `+` stops FTS5 from running the query once per id.
    rows = db.execute(
        f"""select a.id, a.source_key, a.url, a.title, a.published_at, a.lang, a.topics, a.entities,
                   a.duplicate_of,
                   snippet(articles_fts, -1, ?, ?, '…', {SNIPPET_TOKENS}) as snippet
            from articles_fts f cross join articles a on a.id = f.rowid
            where articles_fts match ? and f.rowid between ? and ?
              and +f.rowid in (select value from json_each(?))""",
        [MARK_OPEN, MARK_CLOSE, match, min(ids), max(ids), json.dumps(ids)],
    )
    return {row["id"]: row for row in dicts(rows)}
