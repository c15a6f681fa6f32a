"""Full-text search on PostgreSQL: the same query language and answers as the SQLite search.

`storage.match` splits the user's text into terms (all ANDed), each a few alternatives (ORed):
a word, or a "quoted phrase". Each alternative becomes `phraseto_tsquery` in both of the
archive's configurations (English and Russian Snowball stems, storage/postgres/migrations/),
with the user's text always a bound parameter: any input is safe, as with SQLite. Stemming
replaces SQLite's spelled-out word forms. Relevance is `ts_rank` with title, lead and body
weighted 10:4:1 (SQLite's bm25 weights), ranked among the newest RANK_WINDOW matches (newest by
publication when a source or a date range narrows the search, by id otherwise).

The statements that rank matches are never prepared (`_ranked`): a prepared statement soon runs
a generic plan, blind to the words' frequency, and a common word's plan then reads every match
instead of the newest few (a dated search 14× slower at 200k articles, 185× at 1M; BENCHMARKS.md,
"Prepared search").

    ValueError("empty query")     the text holds no word to search for
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..hits import (
    MARK_CLOSE,
    MARK_OPEN,
    Bound,
    SearchHit,
    date_range,
    dicts,
    filters,
    hit,
    ordered,
    storable,
)
from ..match import Term, parse

# Relevance is ranked among this many matches, newest first. Smaller than SQLite's window: a
# PostgreSQL walk of the newest rows reads each one's vector (see BENCHMARKS.md).
RANK_WINDOW = 300
# Without filters, the newest this many vectors are read one by one before the GIN index is asked
# (see `_newest`): 40 ms at most, and every word in 1 article of 67 or more is found within.
WALK = 20_000
# With filters, at most this many of the newest articles that pass them are read before the
# planner's plan is asked (see `_filtered`).
FILTERED_WALK = 3_000
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
    since: Bound | None = None,
    until: Bound | None = None,
    limit: int = 20,
) -> list[SearchHit]:
    """Return the articles matching `query`, most relevant first (newest first among equals)."""
    terms, unwanted = parse(query)
    if limit <= 0 or not storable(source, topic, lang):
        return []
    tsquery, params = _tsquery(terms, unwanted)
    wanted = limit + max(10, limit // 2)
    if source or topic or lang or since or until:
        ranked = _filtered(
            db, tsquery, params, source=source, topic=topic, lang=lang, since=since, until=until
        )
    else:
        ranked = _newest(db, tsquery, params)
    ranked = sorted(ranked, key=lambda r: (r[1], -r[0]))[:wanted]
    if not ranked:
        return []
    rows = _rows(db, [i for i, _ in ranked])
    best = ordered([hit(rows[i], snippet="", rank=r) for i, r in ranked if i in rows], limit)
    # ts_headline reads the whole text again: only for the hits shown.
    snippets = _snippets(db, tsquery, params, [h.id for h in best])
    return [replace(h, snippet=" ".join(snippets.get(h.id, "").split())) for h in best]


def _newest(db: Any, tsquery: str, params: list[str]) -> list[tuple[int, float]]:
    """Return (id, rank) of the newest RANK_WINDOW matches of every article.

    First the newest WALK vectors are read in id order, checking each: enough for any word in
    one article of WALK / RANK_WINDOW or more, and bounded. Only a rarer term goes on to the GIN
    index over the older articles: its matches are few. (The planner alone would sometimes
    pick the index for a common phrase, guessing its words independent: seconds, not ms.)
    """
    rank = f"-ts_rank({WEIGHTS}, sv, {tsquery})"
    found = _ranked(
        db,
        f"""select id, {rank} from (select id, sv from article_search order by id desc limit ?) w
            where sv @@ {tsquery} order by id desc limit ?""",
        [*params, WALK, *params, RANK_WINDOW],
    )
    if len(found) < RANK_WINDOW:
        found += _ranked(
            db,
            f"""select id, {rank} from article_search
                where sv @@ {tsquery}
                  and id < (select id from article_search order by id desc offset ? limit 1)
                order by id desc limit ?""",
            [*params, *params, WALK - 1, RANK_WINDOW - len(found)],
        )
    return found


def _filtered(db: Any, tsquery: str, params: list[str], **given: Any) -> list[tuple[int, float]]:
    """Return (id, rank) of the newest RANK_WINDOW matches that pass the filters.

    First the articles that pass the filters are walked newest first in the order of the
    filter's index, each one's vector checked as it comes, until RANK_WINDOW match or
    FILTERED_WALK were read: that answers a common word after a few hundred vectors, and every
    word when fewer articles pass. Only a rarer word among more articles goes on to the
    planner's plan (the GIN index beside the filter's).
    """
    candidates, args = _candidates(**given)
    # The walk's order is the outer order of the nested loop: the LIMIT stops it early.
    found = _ranked(
        db,
        f"""select m.id, -ts_rank({WEIGHTS}, m.sv, {tsquery})
            from ({candidates} limit {FILTERED_WALK}) c
            cross join lateral (select s.id, s.sv from article_search s
                                where s.id = c.id and s.sv @@ {tsquery}) m
            order by c.at desc limit ?""",
        [*params, *args, *params, RANK_WINDOW],
    )
    if len(found) == RANK_WINDOW:
        return found
    walked = db.execute(
        f"select count(*) from ({candidates} limit {FILTERED_WALK}) c", args
    ).fetchone()[0]
    if walked < FILTERED_WALK:
        return found  # every article that passes the filters was read
    where, args = filters(**given)
    order = "a.published_at desc" if given["source"] else "a.id desc"
    return _ranked(
        db,
        f"""select m.id, -ts_rank({WEIGHTS}, m.sv, {tsquery}) from (
                select a.id, a.sv from article_search a where a.sv @@ {tsquery}{where}
                order by {order} limit ?) m""",
        [*params, *params, *args, RANK_WINDOW],
    )


def _ranked(db: Any, sql: str, params: list) -> list[tuple[int, float]]:
    """Return the (id, rank) rows of a ranking statement, planned for this query's words."""
    # Unprepared: PostgreSQL's generic plan of a prepared one guesses every tsquery matches 0.5 %
    # of the rows, so for a common word it reads all matches through the GIN index (200 ms at 200k
    # articles) where the walk reads a few thousand (8 ms).
    return db.execute(sql, params, prepare=False).fetchall()


def _candidates(
    *,
    source: str | None,
    topic: str | None,
    lang: str | None,
    since: Bound | None,
    until: Bound | None,
) -> tuple[str, list]:
    """Return the SQL of the ids of the articles that pass the filters, newest first (as `at`).

    The articles come in the order of the most selective index a filter offers, ids only, from
    the index alone where they can (the vectors are read only for the few checked): a source's
    and a topic's together from article_topics' (topic, source, time) index (migration p008),
    a source's alone from article_search's (source, time), a topic's alone by id, or all of
    them by id. `article_search` holds each article's source, language and publication time
    beside its vector, so the other filters (SQLite's, on alias `a`) read that one table.
    """
    if topic:
        where, args = filters(lang=lang)
        join = " join article_search a on a.id = t.article_id" if where else ""
        dated, dates = date_range("t", since=since, until=until)
        dated = f" and {dated}" if dated else ""
        if source:
            return (
                "select t.article_id as id, t.published_at as at "
                f"from article_topics t{join} where t.key = ? and t.source_key = ?{dated}{where} "
                "order by t.published_at desc",
                [topic, source, *dates, *args],
            )
        return (
            "select t.article_id as id, t.article_id as at "
            f"from article_topics t{join} where t.key = ?{dated}{where} "
            "order by t.article_id desc",
            [topic, *dates, *args],
        )
    where, args = filters(source=source, lang=lang, since=since, until=until)
    # Only a source's walk follows publication time (its index): an index on the time alone looks
    # cheaper to the planner (rows in time order on disk) but walks every source's rows.
    at = "a.published_at" if source else "a.id"
    return (
        f"select a.id, {at} as at from article_search a where true{where} order by {at} desc",
        args,
    )


def _tsquery(terms: list[Term], unwanted: Term = ()) -> tuple[str, list[str]]:
    """Return the tsquery SQL of the terms (alternatives ORed, terms ANDed), none of the
    `unwanted` alternatives (-words) beside them, and its parameters."""
    parts = [_either(term) for term in terms]
    if unwanted:
        sql, args = _either(unwanted)
        parts.append(("!!" + sql, args))
    return "(" + " && ".join(sql for sql, _ in parts) + ")", [a for _, args in parts for a in args]


def _either(term: Term) -> tuple[str, list[str]]:
    """Return the tsquery SQL that any of a term's alternatives matches, and its parameters."""
    # Both configurations fold ё into е: a term's ё/е spellings are one alternative here.
    alternatives = dict.fromkeys(text.replace("ё", "е") for text, _ in term)
    sql = "(" + " || ".join([_ALTERNATIVE] * len(alternatives)) + ")"
    return sql, [text for text in alternatives for _ in range(2)]


def _rows(db: Any, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Return the article rows of `ids`."""
    cursor = db.execute(
        """select a.id, a.source_key, a.url, a.title, a.published_at, a.lang, a.topics, a.entities,
                  a.duplicate_of
           from articles a where a.id = any(?)""",
        [ids],
    )
    return {row["id"]: row for row in dicts(cursor)}


def _snippets(db: Any, tsquery: str, params: list[str], ids: list[int]) -> dict[int, str]:
    """Return each article's lead and body cut around its matched words, the words marked."""
    cursor = db.execute(
        f"""select a.id, ts_headline(presswatch_config(a.lang),
                                     coalesce(nullif(trim(concat_ws(' ', a.lead, a.body)), ''),
                                              a.title),
                                     {tsquery}, ?)
            from articles a where a.id = any(?)""",
        [*params, _HEADLINE, ids],
    )
    return dict(cursor.fetchall())
