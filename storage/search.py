"""Full-text search of the archive (FTS5 over title, lead and body) and the newest articles.

User words never reach FTS5's query syntax unquoted: `build_match` turns any text into a safe
MATCH expression of quoted terms, all ANDed. Morphology is handled at query time, since the
index's unicode61 tokenizer folds case and Latin diacritics but knows no language (and keeps ё
apart from е): each word becomes a crude stem ("санкциями" → "санкци", "sanctions" → "sanction"),
a prefix term in `build_match`, and in `search` the stem with its language's common endings
spelled out, which finds the same inflected forms many times faster in a big archive.

    ValueError("empty query")     the text holds no word to search for
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from .records import json_keys

# Highlight marks around matched words in `SearchHit.snippet` (plain text, never HTML).
MARK_OPEN, MARK_CLOSE = "[", "]"
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
MAX_TERMS = 12  # More terms ANDed add nothing but cost; the rest of a pasted text is ignored.
SNIPPET_TOKENS = 24

_PHRASE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"[^\W_]+")  # unicode61's token characters: letters and digits
_POSSESSIVE = re.compile(r"(?<=[^\W_])['’]s\b", re.IGNORECASE)
_CYRILLIC = re.compile(r"[а-яё]")
# Words whose case folding Python and unicode61 agree on (no Latin diacritics), so their forms
# can be spelled out exactly as the index holds them.
_PLAIN = re.compile(r"[a-z0-9а-яё]+")

Term = tuple[tuple[str, bool], ...]  # alternatives: (words, prefix on the last word)

# Common Russian inflections, longest first; one is cut (crude, but enough to find word forms).
_RU_ENDINGS = tuple(
    sorted(
        (
            "ами",
            "ями",
            "ыми",
            "ими",
            "ого",
            "его",
            "ому",
            "ему",
            "ая",
            "яя",
            "ое",
            "ее",
            "ые",
            "ие",
            "ых",
            "их",
            "ым",
            "им",
            "ой",
            "ей",
            "ий",
            "ый",
            "ом",
            "ем",
            "ую",
            "юю",
            "ов",
            "ев",
            "ах",
            "ях",
            "ам",
            "ям",
            "а",
            "я",
            "о",
            "е",
            "и",
            "ы",
            "у",
            "ю",
            "ь",
            "й",
        ),
        key=len,
        reverse=True,
    )
)
_EN_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "ed", "es", "s", "e", "y")
# The forms a search spells out for a stem: no ending, or one of these.
# A stem cut before и or ь ("санкций" → "санкц") needs those letters back in its forms.
_RU_FORMS = tuple(
    dict.fromkeys(
        ("", *_RU_ENDINGS, *(v + e for v in "иь" for e in ("", *_RU_ENDINGS) if len(e) <= 2))
    )
)
_EN_FORMS = (
    "",
    "s",
    "es",
    "ed",
    "d",
    "ing",
    "ings",
    "e",
    "er",
    "ers",
    "y",
    "ys",
    "ies",
    "ied",
    "ation",
    "ations",
    "ion",
    "ions",
    "ment",
    "ments",
    "al",
    "ly",
    "ity",
    "ities",
    "ive",
)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One archived article found by `search` or `latest`.

    `rank` is FTS5's bm25 rank (lower is more relevant; 0.0 from `latest`); `snippet` is plain
    text with matched words between MARK_OPEN and MARK_CLOSE (the summary, from `latest`);
    `duplicate_of` is the original's id when the article is a reprint.
    """

    id: int
    source_key: str
    url: str
    title: str
    published_at: str | None
    lang: str
    topics: tuple[str, ...]
    snippet: str
    rank: float
    duplicate_of: int | None = None


def build_match(query: str) -> str:
    """Return a safe FTS5 MATCH expression: every term quoted, phrases kept, all ANDed."""
    return _render(_terms(query))


def search(
    db: Database,
    query: str,
    *,
    source: str | None = None,
    topic: str | None = None,
    lang: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 20,
) -> list[SearchHit]:
    """Return the articles matching `query`, most relevant first (newest first among equals).

    `since` is inclusive and `until` exclusive, both compared with the UTC publication time.
    Relevance is ranked among the newest RANK_WINDOW matches (all of them for most queries), or
    the newest FILTERED_WINDOW when any filter applies.
    """
    terms = _terms(query)
    if limit <= 0 or not _storable(source, topic, lang):
        return []
    match = _render(_inflected(db, terms))
    # Over-fetch a little so equal ranks (reprints of one text) can be ordered newest first.
    wanted = limit + max(10, limit // 2)
    where = _filters(source=source, topic=topic, lang=lang, since=since, until=until)
    among = _candidates(db, where) if source else None  # an index lists a source's articles
    if among is not None:  # few articles pass the filters: walk the matches checking a list
        ranked = _ranked(db, match, wanted, among=among)
    else:
        ranked = _ranked(db, match, wanted, where=where)
    if not ranked:
        return []
    rows = _rows_with_snippets(db, match, [rowid for rowid, _ in ranked])
    hits = [
        _hit(rows[rowid], snippet=rows[rowid]["snippet"], rank=rank)
        for rowid, rank in ranked
        if rowid in rows
    ]
    hits.sort(key=lambda h: h.published_at or "", reverse=True)  # stable: the tie-break first
    hits.sort(key=lambda h: h.rank)
    return hits[:limit]


def latest(
    db: Database, *, limit: int = 5, topic: str | None = None, source: str | None = None
) -> list[SearchHit]:
    """Return the newest articles by publication time, their summary as the snippet."""
    if limit <= 0 or not _storable(source, topic):
        return []
    where, args = _filters(source=source, topic=topic)
    rows = db.execute(
        f"""select a.id, a.source_key, a.url, a.title, a.published_at, a.lang, a.topics,
                   a.duplicate_of, coalesce(nullif(a.summary, ''), a.lead, '') as snippet
            from articles a where a.published_at is not null {where}
            order by a.published_at desc, a.id desc limit ?""",
        [*args, limit],
    )
    return [_hit(row, snippet=row["snippet"], rank=0.0) for row in _dicts(rows)]


# -- the query ----------------------------------------------------------------------------------


def _pieces(text: str) -> list[tuple[str | None, str]]:
    """Split text into (phrase, None) for "quoted" parts and (None, loose) for the rest."""
    pieces: list[tuple[str | None, str]] = []
    last = 0
    for found in _PHRASE.finditer(text):
        pieces.append((None, text[last : found.start()]))
        pieces.append((found.group(1), ""))
        last = found.end()
    # An unbalanced quote is just punctuation: the rest is loose words.
    pieces.append((None, text[last:]))
    return pieces


def _words(text: str) -> list[str]:
    """Return the words of text as the index sees them (letters and digits, lower case)."""
    # lower(), as unicode61 does: casefold() would turn "ß" into "ss", which the index never holds.
    return [w.lower() for w in _WORD.findall(_POSSESSIVE.sub("", text))]


def _terms(query: str) -> list[Term]:
    """Return the query's terms (ANDed), each a tuple of alternatives (ORed)."""
    terms: list[Term] = []
    for phrase, loose in _pieces(query.replace("\x00", " ")):
        if phrase is not None:
            if words := _words(phrase):
                terms.append(tuple((v, False) for v in _yo_variants(words)))
        else:
            terms.extend(t for t in map(_loose_term, loose.split()) if t)
    unique = list(dict.fromkeys(terms))[:MAX_TERMS]
    if not unique:
        raise ValueError("empty query")
    return unique


def _loose_term(chunk: str) -> Term | None:
    """Return one unquoted chunk as a prefix term on its stem, or a phrase if it had inner marks."""
    words = _words(chunk)
    if not words:
        return None
    # "военно-технический", "COVID-19": the index holds the parts as adjacent tokens.
    *head, last = words
    prefix = len(last) > 3 and not last.isdigit()  # "UN", "war", "2021" stay whole words
    return tuple((v, prefix) for v in _yo_variants([*head, stem_word(last)]))


def _render(terms: list[Term]) -> str:
    """Return terms as an FTS5 expression: alternatives ORed in parentheses, terms ANDed."""
    groups = []
    for term in terms:
        alternatives = [_quote(text) + ("*" if prefix else "") for text, prefix in term]
        groups.append(
            alternatives[0] if len(alternatives) == 1 else f"({' OR '.join(alternatives)})"
        )
    return " AND ".join(groups)


def _inflected(db: Database, terms: list[Term]) -> list[Term]:
    """Return terms with each one-word prefix replaced by its stem's inflected forms, named one by one.

    FTS5 answers a prefix query by merging the whole posting lists of every word it covers, and
    again for bm25's statistics and for the snippets (tens of milliseconds for a common Russian
    stem in a million articles); the same stem with its language's endings, each a plain word,
    is merged lazily, so a search stops at its window. The forms cover inflection ("санкци" →
    санкции, санкциями; "sanction" → sanctions, sanctioned), not derived words ("санкционный").
    """
    out: list[Term] = []
    for term in terms:
        alternatives: list[tuple[str, bool]] = []
        for i, (text, prefix) in enumerate(term):
            if prefix and _PLAIN.fullmatch(text):
                forms = [
                    text + ending for ending in (_RU_FORMS if _CYRILLIC.search(text) else _EN_FORMS)
                ]
                if i:  # a ё/е respelling: few of its forms exist, and bm25 pays for each it names
                    forms = _indexed(db, forms)
                alternatives += [(form, False) for form in forms]
            else:
                alternatives.append((text, prefix))
        out.append(tuple(dict.fromkeys(alternatives)))
    return out


def _indexed(db: Database, words: list[str]) -> list[str]:
    """Return the words the full-text index holds (one index lookup each)."""
    db.execute(
        "create virtual table if not exists temp.articles_fts_words "
        "using fts5vocab(main, 'articles_fts', 'row')"
    )
    marks = ",".join("?" * len(words))
    found = {
        r[0]
        for r in db.execute(
            f"select term from temp.articles_fts_words where term in ({marks})", words
        )
    }
    return [w for w in words if w in found]


def _yo_variants(words: list[str]) -> list[str]:
    """Return the words (joined) with ё and е swapped where a text may spell them either way.

    unicode61 does not fold ё into е (remove_diacritics covers Latin letters only), and Russian
    texts write "ещё" or "еще" as they please: a term with ё also looks for е, and a term with
    one or two е also looks for ё in each of those places.
    """
    text = " ".join(words)
    variants = [text]
    if "ё" in text:
        variants.append(text.replace("ё", "е"))
    elif 0 < text.count("е") <= 2:
        variants += [text[:i] + "ё" + text[i + 1 :] for i, c in enumerate(text) if c == "е"]
    return variants


def stem_word(word: str) -> str:
    """Return a crude stem of a case-folded word: a common ending cut, a short stem kept whole."""
    if len(word) <= 3 or word.isdigit():
        return word
    if _CYRILLIC.search(word):
        return _cut(word, _RU_ENDINGS, min_stem=3)
    if word.endswith(("ss", "us", "is")):  # "press", "status", "analysis" are not plurals
        return word
    return _cut(word, _EN_SUFFIXES, min_stem=4)


def _cut(word: str, endings: tuple[str, ...], *, min_stem: int) -> str:
    """Return word without its longest listed ending, if enough of it stays."""
    for ending in endings:
        if word.endswith(ending) and len(word) - len(ending) >= min_stem:
            return word[: -len(ending)]
    return word


def _quote(text: str) -> str:
    """Return text as an FTS5 string (double quotes doubled)."""
    return '"' + text.replace('"', '""') + '"' if text else ""


# -- SQL ------------------------------------------------------------------------------------------


def _filters(
    *,
    source: str | None = None,
    topic: str | None = None,
    lang: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[str, list]:
    """Return the 'and …' SQL of the filters on articles `a`, and its arguments."""
    where, args = [], []
    if source:
        where.append("a.source_key = ?")
        args.append(source)
    if lang:
        where.append("a.lang = ?")
        args.append(lang)
    if since:
        where.append("a.published_at >= ?")
        args.append(_iso(since))
    if until:
        where.append("a.published_at < ?")
        args.append(_iso(until))
    if topic:
        where.append(_TOPIC)
        args.append(topic)
    return "".join(f" and {w}" for w in where), args


# article_topics holds a row for every topic and entity an article has (the archive adds a bare
# one for a listed topic that came without reasons; migration m007 did so for older archives),
# so a topic filter is one lookup in its primary key. Topic and entity keys share the table: the
# config keeps them apart.
_TOPIC = "exists (select 1 from article_topics t where t.article_id = a.id and t.key = ?)"


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
        f"""select a.id, a.source_key, a.url, a.title, a.published_at, a.lang, a.topics,
                   a.duplicate_of,
                   snippet(articles_fts, -1, ?, ?, '…', {SNIPPET_TOKENS}) as snippet
            from articles_fts f cross join articles a on a.id = f.rowid
            where articles_fts match ? and f.rowid between ? and ?
              and +f.rowid in (select value from json_each(?))""",
        [MARK_OPEN, MARK_CLOSE, match, min(ids), max(ids), json.dumps(ids)],
    )
    return {row["id"]: row for row in _dicts(rows)}


def _dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    """Return a cursor's rows as dicts."""
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _hit(row: dict[str, Any], *, snippet: str, rank: float) -> SearchHit:
    """Build a SearchHit from an articles row."""
    return SearchHit(
        id=row["id"],
        source_key=row["source_key"],
        url=row["url"],
        title=row["title"],
        published_at=row["published_at"],
        lang=row["lang"] or "",
        topics=json_keys(row["topics"]),
        snippet=" ".join((snippet or "").split()),
        rank=float(rank),
        duplicate_of=row["duplicate_of"],
    )


def _storable(*values: str | None) -> bool:
    """Return False when a filter value cannot be UTF-8 (a lone surrogate): it matches nothing."""
    try:
        for value in values:
            if value:
                value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _iso(moment: datetime) -> str:
    """Return a moment as the stored UTC text (a naive datetime is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")
