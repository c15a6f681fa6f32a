"""`presswatch export` and `stats` as a user runs them, the progress bar, and the Datasette
metadata that browses the same archive (`search`: test_search_cli.py)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

from bot.cli.archive import EXPORT_COLUMNS, json_record
from bot.cli.progress import Progress
from storage import Store
from tests.support.archive import ARTICLES, CLEAN, TRACKED, add, add_tracked, archive_config
from tests.support.cli import presswatch
from tests.support.clocks import HandClock
from tests.support.world import World, write_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def config(tmp_path) -> Path:
    """A config whose archive holds ARTICLES."""
    return archive_config(tmp_path)


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


def test_export_jsonl_gives_null_for_every_missing_value_and_csv_empty_cells(config) -> None:
    # ARTICLES name no author and have no lead: the archive keeps '' there, NULL for an image.
    store = Store.open(config.parent / "archive.db")
    add(store, "No picture", "A story without one.")
    store.close()
    lines = presswatch("export", "--format", "jsonl", "--config", str(config)).stdout
    records = [json.loads(line) for line in lines.splitlines()]
    assert records[0]["author"] is None and records[0]["lead"] is None
    assert records[-1]["image_url"] is None and records[-1]["title"] == "No picture"
    assert records[0]["topics"] == ["economy"] and records[2]["topics"] == []  # lists stay lists
    rows = list(
        csv.DictReader(
            io.StringIO(presswatch("export", "--format", "csv", "--config", str(config)).stdout)
        )
    )
    assert rows[0]["author"] == "" and rows[-1]["image_url"] == ""


def test_json_record_reads_a_missing_value_alike_on_both_archives(store) -> None:
    add(store, "No picture", "A story without one.")
    [record] = [json_record(row) for row in store.reports.articles()]
    assert {k: record[k] for k in ("author", "lead", "summary", "image_url", "duplicate_of")} == {
        "author": None,
        "lead": None,
        "summary": None,
        "image_url": None,
        "duplicate_of": None,
    }
    assert record["body"] == "A story without one." and record["topics"] == []


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


def test_export_until_ends_with_that_day_and_refuses_a_range_of_no_day(config) -> None:
    # ARTICLES' sources are not in the config: their days are UTC days.
    result = presswatch(
        "export", "--format", "jsonl", "--since", "2024-01-15", "--until", "2024-01-31",
        "--config", str(config),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["source_key"] for line in result.stdout.splitlines()] == [
        "tass-ru",
        "mid-ru",  # 23:59 on the 31st: the whole day is in
    ]
    empty = presswatch(
        "export", "--format", "csv", "--since", "2024-02-01", "--until", "2024-01-31",
        "--config", str(config),
    )  # fmt: skip
    assert empty.returncode == 2 and empty.stdout == ""
    assert empty.stderr.strip() == (
        "presswatch: export: --since 2024-02-01 is after --until 2024-01-31: nothing could match"
    )


def test_export_gives_the_link_posts_give_and_the_archived_url_as_raw_url(config, tmp_path) -> None:
    store = Store.open(tmp_path / "archive.db")
    add_tracked(store)
    store.close()
    args = ["export", "--since", "2024-01-10", "--config", str(config), "--format"]
    [*_, record] = map(json.loads, presswatch(*args, "jsonl").stdout.splitlines())
    assert (record["title"], record["url"], record["raw_url"]) == ("Tracked summit", CLEAN, TRACKED)
    assert record["canonical_url"] == CLEAN
    *untracked, row = csv.DictReader(io.StringIO(presswatch(*args, "csv").stdout))
    assert (row["url"], row["raw_url"]) == (CLEAN, TRACKED)
    assert untracked and all(r["url"] == r["raw_url"] for r in untracked)


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


@pytest.mark.parametrize("given", ["", " ", ".", "..", "{tmp}", "{tmp}/"])
def test_export_refuses_an_output_that_names_no_file_before_reading(
    config, tmp_path, given
) -> None:
    # "" and "." crashed with a traceback; a folder was refused only after the whole export.
    output = given.format(tmp=tmp_path)
    result = presswatch("export", "--format", "csv", "--output", output, "--config", str(config))
    assert (result.returncode, result.stdout) == (2, "")
    folder = " (a folder)" if output.strip() else ""
    assert result.stderr == (
        f"presswatch export: error: argument --output: expected a file name, got {output!r}"
        f"{folder} (see presswatch export --help)\n"
    )


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
        None: 1,  # no topic: null in JSON, "(none)" in the table
    }
    assert [(r["key"], r["articles"]) for r in stats["months"]] == [
        ("2023-05", 1),
        ("2024-01", 2),
        ("2024-02", 2),
    ]
    assert stats["entities"] == [{"key": None, "articles": 5}]  # these carry no entity tag
    table = presswatch("stats", "--config", str(config)).stdout
    assert table.startswith("5 article(s)") and "\nENTITY " in table
    assert any(line.split()[:3] == ["belta-en", "1", "1"] for line in table.splitlines())
    assert any(line.split() == ["2024-01", "2"] for line in table.splitlines())
    assert any(line.split() == ["(none)", "1"] for line in table.splitlines())


def test_stats_count_articles_by_entity_as_datasette_facets_them(store) -> None:
    add(store, "Summit in Minsk", entities=("csto", "belarus"))
    add(store, "Council in Moscow", entities=("csto",))
    add(store, "Weather")
    broken = add(store, "Broken tags", entities=("un",))
    store.db.execute("update articles set entities = '{not json' where id = ?", [broken])
    if getattr(store.db, "backend", None) is None:
        store.db.conn.commit()
    entities = [(r["key"], r["articles"]) for r in store.reports.stats().entities]
    assert entities == [("csto", 2), ("belarus", 1), (None, 2)]  # no tag, or a broken value


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
    # Its SQL knows no source's zone: it must not pass for stats' local months.
    months = database["queries"]["per_source_per_month"]
    assert "UTC month" in months["title"] and "presswatch stats" in months["description"]
    for _name, query in database["queries"].items():
        sql = query["sql"]
        params = {p: "" for p in query.get("params", [])}
        sqlite3.connect(tmp_path / "presswatch.db").execute(
            sql, params
        ).fetchall()  # raises if wrong
    store.close()
