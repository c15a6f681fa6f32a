"""`presswatch search` as a user runs it: formats, filters, and one clear line for a filter that
names nothing."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from bot.cli.hits import SEARCH_COLUMNS
from storage import Store
from tests.support.archive import CLEAN, TRACKED, add, add_tracked, archive_config
from tests.support.cli import presswatch

EMPTY = (
    "presswatch: search: empty query: give at least one word, or a filter alone (--source, "
    "--topic, --lang, --since, --until) for the newest articles"
)


@pytest.fixture
def config(tmp_path) -> Path:
    """A config whose archive holds tests.support.archive.ARTICLES."""
    return archive_config(tmp_path)


def test_search_prints_a_table_with_reprints_marked(config) -> None:
    result = presswatch("search", "sanction", "--config", str(config))
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["ID", "PUBLISHED", "SOURCE", "TITLE", "MATCH"]
    assert len(rows) == 2
    assert any("belta-en" in r and "(reprint of #1) EU extends sanctions" in r for r in rows)
    assert any("tass-com" in r and "2023-05-02 09:00 UTC" in r and "[sanctions]" in r for r in rows)


def test_search_json_finds_russian_word_forms_and_filters(config) -> None:
    result = presswatch("search", "санкциями", "--format", "json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert sorted(h["source_key"] for h in hits) == ["mid-ru", "tass-ru"]
    assert set(hits[0]) == set(SEARCH_COLUMNS)
    [hit] = [h for h in hits if h["source_key"] == "tass-ru"]
    assert hit["topics"] == ["economy", "politics-diplomacy"] and hit["duplicate_of"] is None
    only = json.loads(
        presswatch(
            "search", "санкции", "--source", "mid-ru", "--format", "json", "--config", str(config)
        ).stdout
    )
    assert [h["title"] for h in only] == ["Брифинг официального представителя"]


def test_search_until_includes_the_whole_day(config) -> None:
    result = presswatch(
        "search",
        "санкции",
        "--since",
        "2024-01-31",
        "--until",
        "2024-01-31",
        "--lang",
        "ru",
        "--format",
        "json",
        "--config",
        str(config),
    )
    assert [h["source_key"] for h in json.loads(result.stdout)] == ["mid-ru"]


def test_search_csv_and_topic_and_limit(config) -> None:
    result = presswatch(
        "search",
        "sanctions",
        "--topic",
        "economy",
        "--limit",
        "1",
        "--format",
        "csv",
        "--config",
        str(config),
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == list(SEARCH_COLUMNS) and len(rows) == 1
    assert rows[0]["topics"] == "economy"


def test_search_by_an_entity_lists_each_hit_s_entities_in_json_and_csv(config, tmp_path) -> None:
    store = Store.open(tmp_path / "archive.db")
    add(store, "Summit in Minsk", "Sanctions were discussed.", entities=("csto", "belarus"))
    store.close()
    args = ["search", "sanctions", "--topic", "csto", "--config", str(config)]
    [hit] = json.loads(presswatch(*args, "--format", "json").stdout)
    assert (hit["title"], hit["topics"], hit["entities"]) == (
        "Summit in Minsk",
        [],
        ["csto", "belarus"],
    )
    [row] = csv.DictReader(io.StringIO(presswatch(*args, "--format", "csv").stdout))
    assert row["entities"] == "csto;belarus"


def test_search_without_words_is_one_clear_line(config) -> None:
    result = presswatch("search", "--config", str(config), '"*" ( ) : -')
    assert result.returncode == 2  # a usage error, like argparse's
    assert result.stderr.strip() == EMPTY


def test_search_leaves_out_a_minus_word_as_typed_after_two_dashes_or_in_quotes(config) -> None:
    words = ("sanctions", "OR", "summit", "-russia")
    typed = presswatch("search", *words, "--format", "json", "-q", "--config", str(config))
    dashes = presswatch("search", "--format", "json", "--config", str(config), "--", *words)
    quoted = presswatch("search", " ".join(words), "--format", "json", "--config", str(config))
    assert typed.returncode == 0, typed.stderr
    assert typed.stdout == dashes.stdout == quoted.stdout
    assert [h["title"] for h in json.loads(quoted.stdout)] == [
        "Collective security summit in Minsk"
    ]
    # The summit holds the phrase; the shell passes '-"collective security"' as one argument.
    left = ("sanctions", "OR", "summit", '-"collective security"', "--format", "json")
    phrase = presswatch("search", *left, "--config", str(config))
    plain = presswatch("search", "sanctions", "--format", "json", "--config", str(config))
    assert phrase.returncode == 0, phrase.stderr
    assert sorted(h["id"] for h in json.loads(phrase.stdout)) == sorted(
        h["id"] for h in json.loads(plain.stdout)
    )
    # Typed bare, -"collective security" reaches argv as `-collective security` (the shell eats
    # the quotes): still the phrase left out, not "collective" left out and "security" required.
    words, as_json = ("sanctions", "OR", "summit", "-collective security"), ("--format", "json")
    for typed in (
        presswatch("search", *words, *as_json, "--config", str(config)),
        presswatch("search", *as_json, "--config", str(config), "--", *words),
    ):
        assert typed.returncode == 0, typed.stderr
        assert typed.stdout == phrase.stdout
    for only in (
        presswatch("search", "--config", str(config), "--", "-russia"),
        presswatch("search", "-russia", "--config", str(config)),
    ):
        assert only.returncode == 2
        assert only.stderr.strip() == (
            "presswatch: search: empty query: give at least one word to find "
            "(a -word only leaves articles out)"
        )
    helped = presswatch("search", "sanctions", "-h", "--config", str(config))
    assert helped.returncode == 0 and helped.stdout.startswith("usage: presswatch search")
    none = presswatch("search", "--config", str(config))
    assert (none.returncode, none.stderr.strip()) == (2, EMPTY)


def test_search_with_no_match_says_so(config) -> None:
    result = presswatch("search", "nonexistent", "--config", str(config))
    assert result.returncode == 0 and result.stdout == "" and "no article matches" in result.stderr


def test_search_in_a_language_the_archive_lacks_says_so(config) -> None:
    wrong = presswatch(
        "search", "sanctions", "--lang", "eng", "--format", "json", "--config", str(config)
    )
    assert wrong.returncode == 0 and json.loads(wrong.stdout) == []
    assert wrong.stderr == (
        "presswatch: search: no articles in language 'eng'; the archive holds en, ru\n"
    )
    held = presswatch("search", "nonexistent", "--lang", "en", "--config", str(config))
    assert "no article matches" in held.stderr and "language" not in held.stderr


def test_search_names_an_unknown_source_with_the_closest_key(config) -> None:
    # No source is configured here: the closest key comes from the archive's own.
    result = presswatch("search", "sanctions", "--source", "tass-cmo", "--config", str(config))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        "presswatch: search: unknown source 'tass-cmo' (did you mean 'tass-com'?)\n"
    )
    # A configured source that has no article yet is known too, and suggested.
    with config.open("a", encoding="utf-8") as toml:
        toml.write(
            '[[sources]]\nkey = "interfax"\nkind = "feed"\nurl = "https://interfax.example/rss"\n'
        )
    typo = presswatch("search", "sanctions", "--source", "interfx", "--config", str(config))
    assert typo.stderr.endswith("unknown source 'interfx' (did you mean 'interfax'?)\n")
    far = presswatch("search", "sanctions", "--source", "zzz", "--config", str(config))
    assert far.stderr.endswith(
        "unknown source 'zzz' (configured or archived: belta-en, interfax, mid-ru, tass-com, tass-ru)\n"
    )
    known = presswatch("search", "sanctions", "--source", "interfax", "--config", str(config))
    assert (known.returncode, known.stdout) == (0, "")
    assert known.stderr == (
        "presswatch: search: no articles from source 'interfax'; "
        "the archive holds belta-en, mid-ru, tass-com, tass-ru\n"
    )


def test_search_topic_takes_a_label_and_names_an_unknown_one(config) -> None:
    by_label = presswatch(
        "search", "sanctions", "--topic", "Экономика", "--format", "json", "--config", str(config)
    )
    assert sorted(h["source_key"] for h in json.loads(by_label.stdout)) == ["belta-en", "tass-com"]
    typo = presswatch("search", "sanctions", "--topic", "econmy", "--config", str(config))
    assert typo.returncode == 2 and typo.stdout == ""
    assert typo.stderr == "presswatch: search: unknown topic 'econmy' (did you mean 'economy'?)\n"
    # A part of a known key beats a near spelling of another: difflib alone offered 'eaeu'.
    short = presswatch("search", "CSTO", "--topic", "peace", "--config", str(config))
    assert short.stderr.endswith("unknown topic 'peace' (did you mean 'peacekeeping'?)\n")


def test_search_refuses_a_since_after_its_until(config) -> None:
    result = presswatch(
        "search", "x", "--since", "2024-02-01", "--until", "2024-01-01", "--config", str(config)
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "presswatch: search: --since 2024-02-01 is after --until 2024-01-01: nothing could match\n"
    )


def test_search_rejects_a_bad_date(config) -> None:
    result = presswatch("search", "x", "--since", "31.01.2024", "--config", str(config))
    assert result.returncode == 2 and "expected a date YYYY-MM-DD" in result.stderr


def test_search_names_a_reprint_s_original_as_export_does(config) -> None:
    found = json.loads(
        presswatch("search", "sanction", "--format", "json", "--config", str(config)).stdout
    )
    exported = presswatch("export", "--format", "jsonl", "--config", str(config)).stdout
    originals = {r["id"]: r["duplicate_of"] for r in map(json.loads, exported.splitlines())}
    assert any(h["duplicate_of"] for h in found)  # the archive holds a reprint of #1
    assert {h["id"]: h["duplicate_of"] for h in found} == {
        h["id"]: originals[h["id"]] for h in found
    }
    assert all(h["reprint_of"] == h["duplicate_of"] for h in found)  # the old name, kept


def test_search_json_ranks_from_one_and_scores_relevance_out_of_a_hundred(tmp_path) -> None:
    config = archive_config(tmp_path)
    store = Store.open(tmp_path / "archive.db")
    # "Minsk" in 7 of its 11 articles: FTS5's bm25 then gives each hit about -0.000001.
    for n, body in enumerate(
        ["Minsk talks.", "Minsk, Minsk and Minsk talks.", "Talks in Minsk."] * 2
    ):
        add(store, f"Meeting {n}", body, source="belta-en")
    store.close()
    found = json.loads(
        presswatch("search", "Minsk", "--format", "json", "--config", str(config)).stdout
    )
    assert [h["rank"] for h in found] == list(range(1, len(found) + 1)) and len(found) == 7
    scores = [h["score"] for h in found]
    assert scores[0] == 100 and all(isinstance(s, int) and 0 < s <= 100 for s in scores)
    assert scores == sorted(scores, reverse=True) and scores[-1] < 100  # weaker hits score less


def test_search_gives_the_link_posts_give_and_the_archived_url_beside_it(config, tmp_path) -> None:
    store = Store.open(tmp_path / "archive.db")
    add_tracked(store)
    store.close()
    args = ["search", "tracked", "--config", str(config)]
    [hit] = json.loads(presswatch(*args, "--format", "json").stdout)
    assert (hit["url"], hit["raw_url"]) == (CLEAN, TRACKED)
    [row] = csv.DictReader(io.StringIO(presswatch(*args, "--format", "csv").stdout))
    assert (row["url"], row["raw_url"]) == (CLEAN, TRACKED)


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--source", "", "a source key"),
        ("--topic", " ", "a topic"),
        ("--lang", "", "a language code (en, ru, …)"),
        ("--lang", "-", "a language code (en, ru, …)"),
    ],
)
def test_search_refuses_a_blank_filter(config, option, value, expected) -> None:
    # `--source "$KEY"` with KEY unset searched every source, silently.
    result = presswatch("search", "sanctions", option, value, "--config", str(config))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"presswatch search: error: argument {option}: expected {expected}, got {value!r} "
        "(see presswatch search --help)\n"
    )


def test_search_reads_a_language_as_articles_keep_it(config) -> None:
    runs = [
        presswatch(
            "search", "sanctions", "--lang", code, "--format", "json", "--config", str(config)
        )
        for code in ("en", "EN", "en-US")
    ]
    assert [r.returncode for r in runs] == [0, 0, 0]
    assert json.loads(runs[0].stdout) and runs[0].stdout == runs[1].stdout == runs[2].stdout
