"""Full-text search of the archive: word forms, ranking, filters, latest (the query: test_match)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from storage import Store
from storage.dialect import is_postgres
from storage.search import MARK_CLOSE, MARK_OPEN, latest, marked, search
from tests.support.archive import add, titles

JAN, FEB, MAR = (datetime(2024, m, 10, 12, 0, tzinfo=UTC) for m in (1, 2, 3))


# -- what it finds ----------------------------------------------------------------------------------


def test_russian_word_forms_find_each_other(store) -> None:
    add(store, "Новые санкции против России", lang="ru")
    add(
        store,
        "Встреча министров",
        "Обсудили вопросы, связанные с санкциями и торговлей.",
        lang="ru",
    )
    add(store, "Погода в Москве", "Тепло.", lang="ru")
    assert sorted(titles(search(store.db, "санкциями"))) == [
        "Встреча министров",
        "Новые санкции против России",
    ]
    assert titles(search(store.db, "санкций против России")) == ["Новые санкции против России"]


@pytest.mark.parametrize("query", ["учения", "учений", "учениях", "Учениями"])
def test_every_case_of_a_russian_noun_finds_the_others(store, query) -> None:
    add(store, "Учения ОДКБ начались", lang="ru")
    add(store, "Итоги учений", "Подвели итоги совместных учений.", lang="ru")
    add(store, "Миротворцы на учениях", lang="ru")
    add(store, "Погода", "Тепло.", lang="ru")
    assert sorted(titles(search(store.db, query))) == [
        "Итоги учений",
        "Миротворцы на учениях",
        "Учения ОДКБ начались",
    ]


def test_russian_verb_and_adjective_forms_find_each_other(store) -> None:
    add(store, "Генсек заявил о готовности", lang="ru")
    add(store, "Министры заявили о поддержке", lang="ru")
    add(store, "Пограничная служба усилена", lang="ru")
    add(store, "Встреча пограничных ведомств", lang="ru")
    assert sorted(titles(search(store.db, "заявила"))) == [
        "Генсек заявил о готовности",
        "Министры заявили о поддержке",
    ]
    assert sorted(titles(search(store.db, "пограничной"))) == [
        "Встреча пограничных ведомств",
        "Пограничная служба усилена",
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("country", ["Countries agree", "One country"]),
        ("countries", ["Countries agree", "One country"]),
        ("talked", ["Ministers talk", "Talking points", "Talks resumed"]),
        ("talks", ["Ministers talk", "Talking points", "Talks resumed"]),
        ("agreed", ["Countries agree", "The parties agreed"]),
        # Forms, not a prefix: "planet" starts like "plan" but is another word.
        ("planning", ["Planned drills", "Planning ahead", "Plans for 2027"]),
    ],
)
def test_english_plurals_and_verb_forms_find_each_other(store, query, expected) -> None:
    for title in [
        "One country",
        "Countries agree",
        "Ministers talk",
        "Talks resumed",
        "Talking points",
        "The parties agreed",
        "Planned drills",
        "Planning ahead",
        "Plans for 2027",
        "Planet news",
    ]:
        add(store, title)
    assert sorted(titles(search(store.db, query))) == expected


def test_yo_and_ye_find_each_other(store) -> None:
    add(store, "Отчет о работе", lang="ru")
    add(store, "Ещё одно заявление", lang="ru")
    add(store, "Годовой отчёт опубликован", lang="ru")
    assert sorted(titles(search(store.db, "отчётом"))) == [
        "Годовой отчёт опубликован",
        "Отчет о работе",
    ]
    assert sorted(titles(search(store.db, "отчета"))) == [
        "Годовой отчёт опубликован",
        "Отчет о работе",
    ]
    assert titles(search(store.db, "еще")) == ["Ещё одно заявление"]


def test_english_plurals_and_case_are_folded(store) -> None:
    add(store, "EU extends SANCTIONS", "Ministers agreed.")
    add(store, "A sanction lifted", "")
    assert len(search(store.db, "Sanctions")) == 2
    assert titles(search(store.db, "sanction ministers")) == ["EU extends SANCTIONS"]


def test_a_quoted_phrase_needs_its_words_together_and_in_order(store) -> None:
    add(store, "Collective security summit", "")
    add(store, "Security of the collective", "")
    assert titles(search(store.db, '"collective security"')) == ["Collective security summit"]
    assert len(search(store.db, "collective security")) == 2


def test_every_word_must_appear(store) -> None:
    add(store, "Summit in Minsk", "")
    add(store, "Summit in Astana", "")
    assert titles(search(store.db, "summit astana")) == ["Summit in Astana"]


def test_an_upper_case_or_finds_either_side(store) -> None:
    add(store, "Новые санкции против России", "", lang="ru")
    add(store, "EU sanctions talks", "")
    add(store, "Collective security summit", "")
    add(store, "Weather report", "")
    found = search(store.db, 'санкциях OR sanctions OR "collective security"')
    assert sorted(titles(found)) == [
        "Collective security summit",
        "EU sanctions talks",
        "Новые санкции против России",
    ]
    assert titles(search(store.db, "санкции OR sanctions talks")) == ["EU sanctions talks"]
    assert search(store.db, "sanctions or summit") == []  # lower-case "or" is a word to find


def test_a_minus_word_leaves_out_the_articles_that_hold_it(store) -> None:
    add(store, "EU extends sanctions against Russia", "")
    add(store, "Sanctions on Belarus", "Minsk replied.")
    add(store, "Новые санкции против России", "", lang="ru")
    add(store, "Санкции и Минск", "", lang="ru")
    assert titles(search(store.db, "sanctions -russia")) == ["Sanctions on Belarus"]
    assert titles(search(store.db, "санкции -России")) == ["Санкции и Минск"]  # any form, too
    found = search(store.db, "sanctions OR санкции -minsk -минске")
    assert sorted(titles(found)) == [
        "EU extends sanctions against Russia",
        "Новые санкции против России",
    ]
    assert search(store.db, "sanctions -sanctions") == []
    # A -"phrase" leaves out the articles holding the phrase, not every one with its words.
    assert titles(search(store.db, 'sanctions -"against russia"')) == ["Sanctions on Belarus"]
    assert len(search(store.db, 'sanctions -"russia against"')) == 2


def test_a_title_match_outranks_a_body_match(store) -> None:
    # Unweighted, the short body that says "border" twice would win; the title weighs more.
    filler = " ".join(["The delegations discussed plans for cooperation."] * 6)
    add(store, "Border guards meet", filler, published=JAN)
    add(store, "Weather report", "The border stays calm. Border posts are quiet.", published=MAR)
    assert titles(search(store.db, "border")) == ["Border guards meet", "Weather report"]


def test_equal_ranks_are_newest_first_and_reprints_are_marked(store) -> None:
    body = "The joint staff held a command post exercise."
    original = add(store, "Joint staff exercise", body, published=JAN)
    add(
        store, "Joint staff exercise", body, source="belta-en", published=MAR, duplicate_of=original
    )
    add(store, "Joint staff exercise", body, source="mid-en", published=FEB, duplicate_of=original)
    hits = search(store.db, "joint staff")
    assert [h.source_key for h in hits] == ["belta-en", "mid-en", "tass-com"]
    assert [h.duplicate_of for h in hits] == [original, original, None]


def test_snippet_marks_the_matched_words(store) -> None:
    add(store, "Talks", "In Minsk the delegations discussed border protection at length.")
    [hit] = search(store.db, "border")
    assert f"{MARK_OPEN}border{MARK_CLOSE}" in hit.snippet


def test_marks_are_told_from_the_texts_own_brackets_and_stay_balanced() -> None:
    snippet = f"Article [3] on {MARK_OPEN}border{MARK_CLOSE} and {MARK_OPEN}guards"  # cut inside
    assert marked(snippet, "<b>", "</b>") == "Article [3] on <b>border</b> and <b>guards</b>"
    assert marked(f"a{MARK_CLOSE}b{MARK_OPEN}{MARK_OPEN}c", "[", "]") == "ab[c]"  # strays dropped


def test_hit_fields(store) -> None:
    article_id = add(
        store,
        "Summit",
        "Text.",
        source="kremlin-en",
        lang="en",
        published=FEB,
        topics=("politics-diplomacy", "economy"),
        entities=("csto", "belarus"),
    )
    [hit] = search(store.db, "summit")
    assert (hit.id, hit.source_key, hit.title, hit.lang, hit.topics) == (
        article_id,
        "kremlin-en",
        "Summit",
        "en",
        ("politics-diplomacy", "economy"),
    )
    # An entity filters as a topic does (--topic csto): the hit says which it carries.
    assert hit.entities == ("csto", "belarus")
    assert [h.entities for h in search(store.db, "summit", topic="csto")] == [hit.entities]
    assert hit.url.startswith("https://kremlin-en.example/")
    assert hit.published_at == "2024-02-10T12:00:00+00:00"
    assert isinstance(hit.rank, float) and hit.rank < 0


# -- filters --------------------------------------------------------------------------------------


def test_filters_by_source_lang_and_dates(store) -> None:
    add(store, "Summit one", source="tass-com", lang="en", published=JAN)
    add(store, "Summit two", source="mid-en", lang="en", published=FEB)
    add(store, "Summit three", source="mid-en", lang="fr", published=MAR)
    add(store, "Summit undated", source="mid-en", lang="en", published=None)
    assert titles(search(store.db, "summit", source="tass-com")) == ["Summit one"]
    assert titles(search(store.db, "summit", lang="fr")) == ["Summit three"]
    # since is inclusive, until exclusive; an undated article has no place in a date range.
    assert sorted(titles(search(store.db, "summit", since=FEB))) == ["Summit three", "Summit two"]
    assert titles(search(store.db, "summit", since=JAN, until=FEB)) == ["Summit one"]
    naive = datetime(2024, 2, 10, 12, 0)  # taken as UTC
    assert sorted(titles(search(store.db, "summit", since=naive))) == ["Summit three", "Summit two"]
    assert len(search(store.db, "summit")) == 4


def test_filters_by_topic_from_the_reasons_or_the_listed_topics(store) -> None:
    add(store, "Summit on trade", topics=("economy",))
    add(store, "Summit on peace", topics=("peacekeeping", "economy-watch"))
    reasoned = add(store, "Summit on gas", topics=())
    # An article whose topics came with reasons (article_topics) is filtered by those.
    store.db["article_topics"].insert(
        {"article_id": reasoned, "key": "economy", "kind": "topic", "score": 2.0, "rules": "[]"}
    )
    assert sorted(titles(search(store.db, "summit", topic="economy"))) == [
        "Summit on gas",
        "Summit on trade",
    ]
    assert titles(search(store.db, "summit", topic="econ")) == []


def test_a_broken_topics_value_shows_no_topic_and_filters_still_work(store) -> None:
    # The topics list is for display; filters read the topic rows stored with the article.
    article_id = add(store, "Summit", topics=("economy",))
    store.db.execute("update articles set topics = '{not json' where id = ?", [article_id])
    [hit] = search(store.db, "summit")
    assert hit.topics == ()
    assert titles(search(store.db, "summit", topic="economy")) == ["Summit"]


def test_an_archive_from_before_topic_rows_is_filtered_by_its_listed_topics(tmp_path) -> None:
    # Archives written before every listed topic had a row: m007 adds the rows, so the topic
    # filter (now an index lookup only) still finds those articles.
    path = tmp_path / "archive.db"
    store = Store.open(path)
    listed = add(store, "Summit on trade", topics=("economy", "politics-diplomacy"))
    reasoned = add(store, "Summit on gas", topics=("economy",))
    broken = add(store, "Summit on oil", topics=("economy",))
    store.db.execute("delete from article_topics where article_id in (?, ?)", [listed, broken])
    store.db.execute("update articles set topics = '{not json' where id = ?", [broken])
    store.db.execute(
        "delete from _sqlite_migrations where name = 'm007_topic_rows_for_listed_topics'"
    )
    store.db.conn.commit()
    store.close()

    reopened = Store.open(path)
    try:
        assert sorted(titles(search(reopened.db, "summit", topic="economy"))) == [
            "Summit on gas",
            "Summit on trade",
        ]
        assert titles(search(reopened.db, "summit", topic="politics-diplomacy")) == [
            "Summit on trade"
        ]
        rows = {
            r["article_id"]: r["kind"]
            for r in reopened.db.query(
                "select article_id, kind from article_topics where key = 'economy'"
            )
        }
        assert rows == {listed: "topic", reasoned: "topic"}
    finally:
        reopened.close()


def test_filters_that_let_many_through_give_the_same_answer(store, monkeypatch) -> None:
    for i in range(30):
        add(
            store,
            f"Summit number {i}",
            source="tass-com" if i % 3 else "mid-en",
            published=datetime(2024, 1, 1 + i, tzinfo=UTC),
        )
    narrow = search(store.db, "summit", source="mid-en", limit=50)
    monkeypatch.setattr("storage.search.MAX_CANDIDATES", 3)  # too many for a list: a join
    assert search(store.db, "summit", source="mid-en", limit=50) == narrow
    assert len(narrow) == 10


def test_limit(store) -> None:
    for i in range(5):
        add(store, f"Summit {i}", published=datetime(2024, 1, 1 + i, tzinfo=UTC))
    assert len(search(store.db, "summit", limit=2)) == 2
    assert search(store.db, "summit", limit=0) == []


def test_nothing_found_is_an_empty_list(store) -> None:
    add(store, "Summit", "")
    assert search(store.db, "nonexistentword") == []
    assert search(store.db, "summit", source="nobody") == []


# -- latest ---------------------------------------------------------------------------------------


def test_latest_is_newest_by_publication_with_the_summary(store) -> None:
    add(store, "Old", published=JAN, summary="Old summary.")
    add(store, "New", published=MAR, summary="New summary.", source="mid-en", topics=("economy",))
    add(store, "Middle", published=FEB, lead="Middle lead.")
    add(store, "Undated", published=None)
    hits = latest(store.db, limit=2)
    assert titles(hits) == ["New", "Middle"]
    assert [h.snippet for h in hits] == ["New summary.", "Middle lead."]
    assert hits[0].rank == 0.0 and hits[0].topics == ("economy",)
    assert titles(latest(store.db, topic="economy")) == ["New"]
    assert titles(latest(store.db, source="tass-com")) == ["Middle", "Old"]
    assert latest(store.db, limit=0) == []


def test_search_reads_an_archive_it_did_not_write(tmp_path) -> None:
    path = tmp_path / "archive.db"
    writer = Store.open(path)
    add(writer, "Summit in Minsk", "")
    writer.close()
    reader = Store.open(path)
    try:
        assert titles(search(reader.db, "minsk")) == ["Summit in Minsk"]
        assert json.loads(reader.db.execute("select topics from articles").fetchone()[0]) == []
    finally:
        reader.close()


def test_search_spells_out_inflections_but_not_derived_words(store) -> None:
    add(store, "Санкционный режим продлен", lang="ru")
    add(store, "Новые санкции", "Связанные с санкциями вопросы.", lang="ru")
    add(store, "Café society", "Naïve summit.")
    add(store, "Sanctioned banks", "")
    assert titles(search(store.db, "санкциях")) == ["Новые санкции"]
    assert titles(search(store.db, "sanctions")) == ["Sanctioned banks"]
    # Words with Latin diacritics stay prefix terms: FTS5 folds them on both sides.
    assert (
        titles(search(store.db, "cafe naive"))
        == titles(search(store.db, "Café naïve"))
        == ["Café society"]
    )


def test_a_word_the_archive_never_saw_finds_nothing(store) -> None:
    add(store, "Summit in Minsk", "")
    assert search(store.db, "summit zzzyzx") == []
    assert search(store.db, "отчёт") == []


def test_a_surname_snowball_cuts_to_a_preposition_finds_the_person_only(store, request) -> None:
    # Snowball stems Зась and Зася to "за": the CSTO's Secretary General matched every "за".
    if is_postgres(store.db):
        # Its index holds lexemes, and Зась's is the preposition's: only a stop-word list in
        # the text search dictionary and a reindex would tell them apart (strict: says when).
        request.applymarker(pytest.mark.xfail(strict=True, reason="one lexeme 'за'"))
    add(store, "Зась: пандемия не способствовала снижению напряженности", lang="ru")
    add(store, "Брифинг Станислава Зася", lang="ru")
    add(store, "Голосование за резолюцию", "Выступили за продление мандата.", lang="ru")
    assert sorted(titles(search(store.db, "Зась"))) == [
        "Брифинг Станислава Зася",
        "Зась: пандемия не способствовала снижению напряженности",
    ]
