"""Full-text search on PostgreSQL: the same query language and answers as the SQLite search.

`storage.match` splits the user's text into terms (all ANDed), each a few alternatives (ORed):
a word, or a "quoted phrase". Each alternative becomes `phraseto_tsquery` in both of the
archive's configurations (English and Russian Snowball stems, storage/postgres/migrations.py),
with the user's text always a bound parameter: any input is safe, as with SQLite. Stemming
replaces SQLite's spelled-out word forms. Relevance is `ts_rank` with title, lead and body
weighted 10:4:1 (SQLite's bm25 weights), ranked among the newest RANK_WINDOW matches (newest by
publication when a source or a date range narrows the search, by id otherwise).

    ValueError("empty query")     the text holds no word to search for
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from ..hits import MARK_CLOSE, MARK_OPEN, SearchHit, dicts, filters, hit, ordered, storable
from ..match import Term
from ..match import terms as match_terms

# Relevance is ranked among this many matches, newest first. Smaller than SQLite's window: a
# PostgreSQL walk of the newest rows reads each one's vector (see BENCHMARKS.md).
RANK_WINDOW = 300
# Without filters, the newest this many vectors are read one by one before the GIN index is asked
# (see `_newest`): 40 ms at most, and every word in 1 article of 67 or more is found within.
WALK = 20_000
# With filters, this many of the newest articles that pass them are read before the planner's
# plan is asked (see `_filtered`).
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
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 20,
) -> list[SearchHit]:
    """Return the articles matching `query`, most relevant first (newest first among equals)."""
    terms = match_terms(query)
    if limit <= 0 or not storable(source, topic, lang):
        return []
    tsquery, params = _tsquery(terms)
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
    found = db.execute(
        f"""select id, {rank} from (select id, sv from article_search order by id desc limit ?) w
            where sv @@ {tsquery} order by id desc limit ?""",
        [*params, WALK, *params, RANK_WINDOW],
    ).fetchall()
    if len(found) < RANK_WINDOW:
        found += db.execute(
            f"""select id, {rank} from article_search
                where sv @@ {tsquery}
                  and id < (select id from article_search order by id desc offset ? limit 1)
                order by id desc limit ?""",
            [*params, *params, WALK - 1, RANK_WINDOW - len(found)],
        ).fetchall()
    return found


def _filtered(db: Any, tsquery: str, params: list[str], **given: Any) -> list[tuple[int, float]]:
    """Return (id, rank) of the newest RANK_WINDOW matches that pass the filters.

    First the newest FILTERED_WALK articles that pass the filters are read in the order of the
    filter's index and their vectors checked: that answers a common word, and every word when
    fewer articles pass. Only a rarer word among more articles goes on to the planner's plan
    (the GIN index beside the filter's).
    """
    candidates, args = _candidates(**given)
    rows = db.execute(
        f"""with c as materialized ({candidates} limit {FILTERED_WALK}),
                 m as (select s.id, s.sv from c join article_search s on s.id = c.id
                       where s.sv @@ {tsquery} order by c.n limit ?)
            select (select count(*) from c), m.id, -ts_rank({WEIGHTS}, m.sv, {tsquery})
            from (select 1) one left join m on true""",
        [*args, *params, RANK_WINDOW, *params],
    ).fetchall()
    found = [(i, r) for _, i, r in rows if i is not None]
    if len(found) == RANK_WINDOW or rows[0][0] < FILTERED_WALK:
        return found
    where, args = filters(**given)
    order = "a.published_at desc" if given["source"] else "a.id desc"
    return db.execute(
        f"""select m.id, -ts_rank({WEIGHTS}, m.sv, {tsquery}) from (
                select a.id, a.sv from article_search a where a.sv @@ {tsquery}{where}
                order by {order} limit ?) m""",
        [*params, *params, *args, RANK_WINDOW],
    ).fetchall()


def _candidates(
    *,
    source: str | None,
    topic: str | None,
    lang: str | None,
    since: datetime | None,
    until: datetime | None,
) -> tuple[str, list]:
    """Return the SQL of the ids of the articles that pass the filters (and their order `n`).

    `article_search` holds each article's source, language and publication time beside its
    vector, so the filters (SQLite's, on alias `a`) read that one table. The articles come in
    the order of the most selective index a filter offers: a source's by publication time (the
    date range in the same index), a topic's by id, or all of them by id; ids only, from the
    indexes alone where they can (the vectors are read only for the few checked).
    """
    if topic and not source:
        where, args = filters(lang=lang, since=since, until=until)
        join = " join article_search a on a.id = t.article_id" if where else ""
        return (
            "select t.article_id as id, row_number() over (order by t.article_id desc) as n "
            f"from article_topics t{join} where t.key = ?{where} order by t.article_id desc",
            [topic, *args],
        )
    where, args = filters(source=source, topic=topic, lang=lang, since=since, until=until)
    # Only a source's walk follows publication time (its index): an index on the time alone looks
    # cheaper to the planner (rows in time order on disk) but walks every source's rows.
    order = "a.published_at desc" if source else "a.id desc"
    return (
        f"select a.id, row_number() over (order by {order}) as n "
        f"from article_search a where true{where} order by {order}",
        args,
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


def _rows(db: Any, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Return the article rows of `ids`."""
    cursor = db.execute(
        """select a.id, a.source_key, a.url, a.title, a.published_at, a.lang, a.topics,
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
