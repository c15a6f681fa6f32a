"""`presswatch search`, `export` and `stats` as a user runs them, the progress bar, and the
Datasette metadata that browses the same archive."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli.archive import EXPORT_COLUMNS, SEARCH_COLUMNS
from bot.cli.progress import Progress
from scrapers.models import Article
from storage import Store
from tests.support.cli import presswatch
from tests.support.clocks import HandClock
from tests.support.world import World, write_config

ROOT = Path(__file__).resolve().parent.parent


ARTICLES = [
    # (source, lang, title, body, published, topics, reprint of the article with this index)
    (
        "tass-com",
        "en",
        "EU extends sanctions against Russia",
        "Brussels extended the sanctions.",
        datetime(2023, 5, 2, 9, 0, tzinfo=UTC),
        ("economy",),
        None,
    ),
    (
        "tass-ru",
        "ru",
        "Новые санкции против России",
        "Евросоюз продлил санкции на полгода.",
        datetime(2024, 1, 15, 10, 30, tzinfo=UTC),
        ("economy", "politics-diplomacy"),
        None,
    ),
    (
        "mid-ru",
        "ru",
        "Брифинг официального представителя",
        "Вопросы, связанные с санкциями.",
        datetime(2024, 1, 31, 23, 59, tzinfo=UTC),
        (),
        None,
    ),
    (
        "belta-en",
        "en",
        "EU extends sanctions against Russia",
        "Brussels extended the sanctions.",
        datetime(2024, 2, 1, 0, 0, tzinfo=UTC),
        ("economy",),
        0,
    ),
    (
        "tass-com",
        "en",
        "Collective security summit in Minsk",
        "Leaders met in Minsk.",
        datetime(2024, 2, 10, 8, 0, tzinfo=UTC),
        ("politics-diplomacy",),
        None,
    ),
]


@pytest.fixture
def config(tmp_path) -> Path:
    """A config whose archive holds ARTICLES."""
    path = tmp_path / "presswatch.toml"
    path.write_text(f'[storage]\npath = "{tmp_path / "archive.db"}"\n', encoding="utf-8")
    store = Store.open(tmp_path / "archive.db")
    ids: list[int] = []
    for i, (source, lang, title, body, published, topics, reprint) in enumerate(ARTICLES):
        url = f"https://{source}.example/{i}"
        ids.append(
            store.add_article(
                Article(
                    url=url,
                    canonical_url=url,
                    title=title,
                    body=body,
                    lang=lang,
                    published=published,
                    topics=topics,
                    summary=body,
                    image=f"{url}/lead.jpg",
                ),
                source_key=source,
                now=published,
                duplicate_of=None if reprint is None else ids[reprint],
            )
        )
    store.close()
    return path


# -- search -----------------------------------------------------------------------------------------


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
    assert hit["topics"] == ["economy", "politics-diplomacy"] and hit["reprint_of"] is None
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


def test_search_without_words_is_one_clear_line(config) -> None:
    result = presswatch("search", "--config", str(config), '"*" ( ) : -')
    assert result.returncode == 2  # a usage error, like argparse's
    assert result.stderr.strip() == "presswatch: search: empty query: give at least one word"


def test_search_with_no_match_says_so(config) -> None:
    result = presswatch("search", "nonexistent", "--config", str(config))
    assert result.returncode == 0 and result.stdout == "" and "no article matches" in result.stderr


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
    assert known.returncode == 0 and known.stderr == "no article matches\n"


def test_search_rejects_a_bad_date(config) -> None:
    result = presswatch("search", "x", "--since", "31.01.2024", "--config", str(config))
    assert result.returncode == 2 and "expected a date YYYY-MM-DD" in result.stderr


# -- export ---------------------------------------------------------------------------------------


def test_export_jsonl_to_a_file_streams_every_article(config, tmp_path) -> None:
    out = tmp_path / "out" / "archive.jsonl"
    out.parent.mkdir()
    result = presswatch(
        "export", "--format", "jsonl", "--output", str(out), "--config", str(config)
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["title"] for r in records] == [a[2] for a in ARTICLES]
    assert list(records[1]) == list(EXPORT_COLUMNS)
    assert records[1]["body"] == "Евросоюз продлил санкции на полгода."
    assert records[1]["topics"] == ["economy", "politics-diplomacy"]
    assert records[3]["duplicate_of"] == records[0]["id"]
    # The lead image and a reprint's likeness are the archive's too: an analyst gets them.
    assert records[1]["image_url"] == records[1]["url"] + "/lead.jpg"
    assert "similarity" in records[3]
    assert not list(out.parent.glob("*.part"))
    # Not a terminal and no --progress: no bar, only the summary line.
    assert "export [" not in result.stderr
    assert result.stderr.strip().startswith(f"exported 5 article(s) to {out} in ")


def test_export_csv_since_to_stdout_with_a_forced_progress_bar(config) -> None:
    result = presswatch(
        "export", "--format", "csv", "--since", "2024-01-31", "--progress", "--config", str(config)
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["source_key"] for r in rows] == ["mid-ru", "belta-en", "tass-com"]
    assert (
        rows[0]["body"] == "Вопросы, связанные с санкциями."
        and rows[2]["topics"] == "politics-diplomacy"
    )
    assert "export [####" in result.stderr and "3/3 100%" in result.stderr
    assert (
        result.stderr.rstrip()
        .splitlines()[-1]
        .startswith("exported 3 article(s) to standard output")
    )


def test_export_to_an_unwritable_place_fails_cleanly(config, tmp_path) -> None:
    result = presswatch(
        "export",
        "--format",
        "jsonl",
        "--output",
        str(tmp_path / "no" / "dir" / "x.jsonl"),
        "--config",
        str(config),
    )
    assert result.returncode == 1 and "export: cannot write" in result.stderr


# -- stats ----------------------------------------------------------------------------------------


def test_stats_counts_by_source_topic_and_month(config) -> None:
    result = presswatch("stats", "--format", "json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert stats["articles"] == 5
    by_source = {r["key"]: (r["articles"], r["reprints"]) for r in stats["sources"]}
    assert by_source == {
        "tass-com": (2, 0),
        "tass-ru": (1, 0),
        "mid-ru": (1, 0),
        "belta-en": (1, 1),
    }
    assert {r["key"]: r["articles"] for r in stats["topics"]} == {
        "economy": 3,
        "politics-diplomacy": 2,
        "(none)": 1,
    }
    assert [(r["key"], r["articles"]) for r in stats["months"]] == [
        ("2023-05", 1),
        ("2024-01", 2),
        ("2024-02", 2),
    ]
    table = presswatch("stats", "--config", str(config)).stdout
    assert table.startswith("5 article(s)")
    assert any(line.split()[:3] == ["belta-en", "1", "1"] for line in table.splitlines())
    assert any(line.split() == ["2024-01", "2"] for line in table.splitlines())


def test_archive_commands_on_an_archive_filled_by_a_poll(tmp_path) -> None:
    with World() as world:
        config = write_config(tmp_path, world)
        assert presswatch("once", "--config", str(config)).returncode == 0
    result = presswatch("search", "Stanislav Zas", "--format", "json", "--config", str(config))
    # The briefing has the name in its title; a TASS report mentions him in its text.
    assert (
        json.loads(result.stdout)[0]["title"] == "Briefing by CSTO Secretary General Stanislav Zas"
    )
    stats = json.loads(presswatch("stats", "--format", "json", "--config", str(config)).stdout)
    assert {r["key"]: r["articles"] for r in stats["sources"]} == {
        "interaffairs-en": 3,
        "tass-com": 3,
    }


# -- the progress bar -----------------------------------------------------------------------------


def test_progress_redraws_at_most_every_quarter_second() -> None:
    clock, stream = HandClock(100.0), io.StringIO()
    progress = Progress(1000, stream=stream, enabled=True, label="export", clock=clock)
    for _ in range(500):
        progress.advance()
    assert stream.getvalue().count("\r") == 1  # the first step draws; the rest came too soon
    clock.now += 0.3
    progress.advance()
    assert stream.getvalue().count("\r") == 2
    assert "501/1,000" in stream.getvalue() and " 50%" in stream.getvalue()


def test_progress_shows_the_rate_and_always_ends_with_the_summary() -> None:
    clock, stream = HandClock(100.0), io.StringIO()
    progress = Progress(10, stream=stream, enabled=True, label="backfill", clock=clock)
    clock.now += 2.0
    progress.advance(4, note="4 links")
    assert progress.line(clock.now).startswith("backfill [############")
    assert "4/10  40% 2.0/s  4 links" in progress.line(clock.now)
    progress.finish("done")
    assert stream.getvalue().endswith("\ndone\n")


def test_a_disabled_progress_bar_prints_only_the_summary() -> None:
    stream = io.StringIO()
    progress = Progress(3, stream=stream, enabled=False, label="export", clock=HandClock(100.0))
    for _ in range(3):
        progress.advance()
    progress.finish("exported 3 article(s)")
    assert stream.getvalue() == "exported 3 article(s)\n"


# -- Datasette metadata ---------------------------------------------------------------------------


@pytest.fixture
def metadata() -> dict:
    yaml = pytest.importorskip("yaml", reason="PyYAML reads deploy/datasette.yml")
    return yaml.safe_load((ROOT / "deploy" / "datasette.yml").read_text(encoding="utf-8"))


def test_datasette_metadata_names_real_columns_and_runs_its_queries(metadata, tmp_path) -> None:
    store = Store.open(tmp_path / "presswatch.db")
    db = store.db
    [database] = metadata["databases"].values()
    articles = database["tables"]["articles"]
    columns = set(db["articles"].columns_dict)
    facets = [f if isinstance(f, str) else next(iter(f.values())) for f in articles["facets"]]
    assert {"source_key", "lang", "topics", "published_at"} <= set(facets) <= columns
    assert articles["fts_table"] == "articles_fts" and articles["fts_pk"] == "id"
    assert articles["fts_table"] in db.table_names()
    assert set(articles.get("columns", {})) <= columns
    assert articles.get("sort_desc", "published_at") in columns
    hidden = {name for name, table in database["tables"].items() if table.get("hidden")}
    assert {"_sqlite_migrations", "signatures"} <= hidden
    assert {t for t in db.table_names() if t.startswith("articles_fts_")} <= hidden
    assert {"latest", "per_source_per_month", "reprints", "failing_sources", "outbox"} <= set(
        database["queries"]
    )
    for _name, query in database["queries"].items():
        sql = query["sql"]
        params = {p: "" for p in query.get("params", [])}
        sqlite3.connect(tmp_path / "presswatch.db").execute(
            sql, params
        ).fetchall()  # raises if wrong
    store.close()
