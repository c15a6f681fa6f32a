"""`presswatch search` with a filter and no words lists the newest articles that pass it, as an
analyst expects of `search --source tass-ru`; a filter value no article has is told at once,
naming what the archive holds (both backends)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli.archive import absent_line
from storage.facets import Absent, absent, published_span
from storage.search import latest
from tests.support.archive import add, titles
from tests.support.cli import presswatch
from tests.support.postgres import storage_setting


def _day(day: int, hour: int = 12) -> datetime:
    return datetime(2024, 3, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def filled(store):
    """An archive of five synthetic articles from two sources in two languages, 1-5 March."""
    add(store, "Wire one", source="tass-com", published=_day(1))
    add(store, "Лента два", source="tass-ru", lang="ru", published=_day(2), topics=("economy",))
    add(store, "Лента три", source="tass-ru", lang="ru", published=_day(3), summary="Итог дня.")
    add(store, "Wire four", source="tass-com", published=_day(4), topics=("economy",))
    add(store, "Лента пять", source="tass-ru", lang="ru", published=_day(5))
    return store


def test_latest_applies_every_filter_search_takes(filled) -> None:
    db = filled.db
    assert titles(latest(db, source="tass-ru", limit=20)) == [
        "Лента пять",
        "Лента три",
        "Лента два",
    ]
    assert titles(latest(db, lang="en", limit=20)) == ["Wire four", "Wire one"]
    assert titles(latest(db, topic="economy", limit=20)) == ["Wire four", "Лента два"]
    window = latest(db, since=_day(2, 0), until=_day(4, 0), limit=20)
    assert titles(window) == ["Лента три", "Лента два"]
    assert titles(latest(db, source="tass-ru", lang="en", limit=20)) == []


def _config(tmp_path: Path, store) -> Path:
    path = tmp_path / "presswatch.toml"
    blocks = "".join(
        f'[[sources]]\nkey = "{key}"\nkind = "feed"\nurl = "http://127.0.0.1:9/{key}.xml"\n'
        f'timezone = "UTC"\n\n'
        for key in ("tass-com", "tass-ru")
    )
    storage = storage_setting(store, tmp_path / "archive.db")
    path.write_text(f"channels = []\n\n[storage]\n{storage}\n\n{blocks}", encoding="utf-8")
    return path


def test_search_with_a_source_and_no_words_lists_its_newest(filled, tmp_path) -> None:
    config = str(_config(tmp_path, filled))
    result = presswatch("search", "--source", "tass-ru", "--format", "json", "--config", config)
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert [(h["title"], h["rank"]) for h in hits] == [
        ("Лента пять", 1),
        ("Лента три", 2),
        ("Лента два", 3),
    ]
    dated = presswatch("search", "--until", "2024-03-03", "--limit", "1", "--config", config)
    assert dated.returncode == 0, dated.stderr
    header, row = dated.stdout.splitlines()
    assert header.split() == ["ID", "PUBLISHED", "SOURCE", "TITLE", "SUMMARY"]
    assert "2024-03-03 12:00 UTC  tass-ru " in row and row.endswith("Лента три  Итог дня.")


def test_absent_names_the_filter_value_no_article_has_and_what_is_held(filled) -> None:
    db = filled.db
    assert absent(db, source="tass-ru", topic="economy", lang="ru") is None
    assert absent(db, lang="de") == Absent("language", "de", ("en", "ru"))
    assert absent(db, source="interfax", lang="de") == Absent(
        "source", "interfax", ("tass-com", "tass-ru")
    )
    assert absent(db, topic="peacekeeping") == Absent("topic", "peacekeeping", ("economy",))
    # Each language is held, but not by this source: the languages it writes are named.
    assert absent(db, source="tass-ru", lang="en") == Absent("language", "en", ("ru",), "tass-ru")
    assert absent(db, lang="\udcff") == Absent("language", "\udcff", ("en", "ru"))


def test_absent_in_an_empty_archive_names_nothing(store) -> None:
    assert absent(store.db, lang="en") == Absent("language", "en", ())


def test_a_filter_no_article_has_is_told_in_one_line(filled, tmp_path) -> None:
    config = str(_config(tmp_path, filled))
    listing = presswatch("search", "--lang", "de", "--config", config)
    assert (listing.returncode, listing.stdout) == (0, "")
    assert listing.stderr == (
        "presswatch: search: no articles in language 'de'; the archive holds en, ru\n"
    )
    pair = presswatch(
        "search",
        "wire",
        "--source",
        "tass-ru",
        "--lang",
        "en",
        "--format",
        "json",
        "--config",
        config,
    )
    assert (pair.returncode, json.loads(pair.stdout)) == (0, [])
    assert pair.stderr == (
        "presswatch: search: no articles from source 'tass-ru' in language 'en'; tass-ru holds ru\n"
    )
    # A topic of the taxonomy that no article has yet.
    topic = presswatch("search", "--topic", "peacekeeping", "--format", "csv", "--config", config)
    assert topic.returncode == 0 and topic.stdout.startswith("id,published_at,")
    assert len(topic.stdout.splitlines()) == 1
    assert topic.stderr == (
        "presswatch: search: no articles with topic or entity 'peacekeeping'; "
        "the archive holds economy\n"
    )


def test_a_date_range_past_the_archive_names_its_first_and_last_days(filled, tmp_path) -> None:
    config = str(_config(tmp_path, filled))
    span = ": the archive's articles were published from 2024-03-01 to 2024-03-05 (UTC)"
    for dates in (("--since", "2024-04-01"), ("--until", "2024-02-29")):
        listing = presswatch("search", *dates, "--config", config)
        assert (listing.returncode, listing.stdout) == (0, "")
        assert listing.stderr == f"no article matches{span}\n"
    within = presswatch(
        "search", "--source", "tass-com", "--until", "2024-03-03", "--config", config
    )
    assert within.stderr == "" and within.stdout.count("Wire one") == 1
    inside = presswatch("search", "nothing", "--since", "2024-03-02", "--config", config)
    assert inside.stderr == "no article matches\n"  # inside the archive's days: nothing to add


def test_published_span_is_none_without_a_dated_article(store) -> None:
    assert published_span(store.db) is None
    add(store, "Undated", published=None)
    assert published_span(store.db) is None
    add(store, "Dated", published=_day(2, 23))
    assert published_span(store.db) == ("2024-03-02", "2024-03-02")


def test_the_absent_line_names_at_most_twelve_held_values() -> None:
    topics = tuple(f"topic-{n:02}" for n in range(14))
    line = absent_line(Absent("topic", "x", topics))
    assert line == (
        "no articles with topic or entity 'x'; the archive holds "
        + ", ".join(topics[:12])
        + " and 2 more"
    )
    assert absent_line(Absent("language", "de", ("en",))) == (
        "no articles in language 'de'; the archive holds en"
    )
