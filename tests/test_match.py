"""Any user text becomes a safe FTS5 query: quoted terms, phrases kept, operators plain words."""

from __future__ import annotations

from datetime import datetime

import pytest

from storage.match import MAX_TERMS, build_match, excluded, terms
from storage.search import SearchHit, latest, search
from tests.support.archive import add

# -- build_match ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("санкциями", '"санкц"*'),
        ("countries", '"countr"*'),
        ("sanctions", '"sanction"*'),
        ("Russia's talks", '"russia"* AND "talk"*'),
        ('"collective security" treaty', '"collective security" AND "treat"*'),
        ("UN war 2021", '"un" AND "war" AND "2021"'),
        ("военно-технический", '"военно техническ"*'),
        ("COVID-19", '"covid 19"'),
        ("press status", '"press"* AND "status"*'),
        ("отчёт", '("отчёт"* OR "отчет"*)'),
        ("Straße", '"straße"*'),  # lower(), not casefold(): the index never holds "ss"
        ('"ещё раз"', '("ещё раз" OR "еще раз")'),
        ("summit summit SUMMIT", '"summit"*'),
        ("санкции OR sanctions talks", '("санкц"* OR "sanction"*) AND "talk"*'),
        ('"collective security" OR CSTO OR ОДКБ', '("collective security" OR "csto"* OR "одкб"*)'),
        ("summit or talks", '"summit"* AND "or" AND "talk"*'),  # only upper case is the operator
        ("OR summit OR", '"summit"*'),  # an OR without two sides is left out
    ],
)
def test_build_match_quotes_every_term_and_ands_them(query: str, expected: str) -> None:
    assert build_match(query) == expected


@pytest.mark.parametrize(
    "query",
    [
        'announce."',
        "AND(",
        "NOT summit",
        "summit OR talks",
        "NEAR(a b)",
        "title:sanctions",
        "{title}: x",
        "^start",
        "word*",
        "plus -minus",  # a -word is left out of the match: `excluded` has it
        "+plus",
        'a"b',
        '"""x',
        "((x))",
    ],
)
def test_operators_and_punctuation_become_plain_words(query: str) -> None:
    match = build_match(query)
    outside_quotes = "".join(match.split('"')[::2])
    assert set(outside_quotes) <= set(" ANDOR()*"), match
    assert all(op not in outside_quotes for op in ("NOT", "NEAR", ":", "^", "+", "{"))


def test_a_minus_word_is_excluded_and_a_hyphen_joins() -> None:
    assert build_match("sanctions -Russia -ещё") == '"sanction"*'
    assert excluded("sanctions -Russia -ещё") == (("russia", True), ("ещё", False), ("еще", False))
    assert excluded("военно-технический - -- 2-3") == ()  # hyphens and dashes, no -word
    assert build_match("военно-технический") == '"военно техническ"*'


def test_a_dash_before_a_quoted_phrase_leaves_the_phrase_out() -> None:
    assert excluded('sanctions -"collective security"') == (("collective security", False),)
    assert build_match('sanctions -"collective security"') == '"sanction"*'
    # A dash apart from the quote, or inside a word, is punctuation: the phrase is wanted.
    for query in ('sanctions - "collective security"', 'sanctions military-"collective security"'):
        assert excluded(query) == () and '"collective security"' in build_match(query)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "\t\n",
        "***",
        '""',
        "- : ( )",
        "\x00\x00",
        "-russia -ОДКБ",
        '-"collective security"',
    ],
)
def test_a_query_without_words_is_an_empty_query(query: str) -> None:
    with pytest.raises(ValueError, match="empty query"):
        build_match(query)


def test_a_pasted_text_keeps_only_its_first_words() -> None:
    match = build_match(" ".join(f"word{i}" for i in range(500)))
    assert match.count(" AND ") < 20


# -- hostile input never breaks the query --------------------------------------------------------

HOSTILE = [
    '"',
    '""',
    '"""unbalanced',
    "'single'",
    'he said "announce."',
    "AND",
    "OR",
    "NOT",
    "AND(",
    "NEAR(",
    ")",
    "* * *",
    "-",
    "--",
    ":",
    "col:val",
    "{title lead}: x",
    "^",
    "x^y",
    "\\",
    "%",
    "_",
    "'; DROP TABLE articles; --",
    "\x00",
    "sanctions\x00Russia",
    "\x00" * 100,
    "🙂 санкции 🙂",
    "مرحبا",
    "שלום",
    "e\u0301",
    "\u200b\u200b",
    "\ud800",
    "a\ud800b",
    "\ufeffsummit",
    "Ⅻ ½ ²",
    "x" * 10_000,
    "санкции " * 2_000,
    '"' * 10_001,
    "word " * 3_000 + '"open phrase',
    "\r\n\t",
    "ǅemal İstanbul ß",
    "NULL",
    "rowid = 1",
    "articles_fts",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_input_never_raises_except_empty_query(store, query: str) -> None:
    add(store, "Sanctions against Russia", "The summit discussed санкции and announce. AND OR")
    try:
        hits = search(
            store.db,
            query,
            source="x'; --",
            topic='"',
            lang="\x00",
            since=datetime(2000, 1, 1),
            until=datetime(2100, 1, 1),
        )
        hits += search(store.db, query)
        latest(store.db, topic=query[:100], source=query[:100])
    except ValueError as exc:
        assert str(exc) == "empty query"
    else:
        assert all(isinstance(h, SearchHit) for h in hits)


def test_words_joined_by_or_are_capped_as_words_joined_by_and_are() -> None:
    """A pasted list of 600 words joined by OR is one term: its alternatives are capped too."""
    query = " OR ".join(f"word{n}" for n in range(600))
    [term] = terms(query)
    assert len(term) == MAX_TERMS
    assert len(terms(" ".join(f"word{n}" for n in range(600)))) == MAX_TERMS


def test_minus_words_are_capped_by_word_not_by_spelling() -> None:
    """Seven ё-words are 14 spellings: all seven are still excluded (a word counts once)."""
    words = ["ёж", "ёлка", "ёмкость", "ёрш", "ёкать", "ёжик", "ёршик"]
    unwanted = excluded("news " + " ".join(f"-{w}" for w in words))
    assert {text for text, _ in unwanted} >= set(words) | {w.replace("ё", "е") for w in words}
    many = excluded("news " + " ".join(f"-word{n}" for n in range(600)))
    assert [text for text, _ in many] == [f"word{n}" for n in range(MAX_TERMS)]
