"""The deploy files: valid YAML and systemd, a container that checks /healthz, a pinned Datasette,
an absolute archive path, and an archive view that reads well at 1400×1000.

Docker images are not built here (no engine in the test environment); the unit is checked with
`systemd-analyze verify` when it is installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from bot.cli.common import EXIT_CONFIG, EXIT_FAILED, EXIT_SETUP
from bot.config import load_config
from scrapers.models import Article
from storage import Store
from tests.support.archive import add, reopen

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_compose_waits_for_a_healthy_presswatch_and_pins_datasette() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["datasette"]["depends_on"] == {"presswatch": {"condition": "service_healthy"}}
    image = services["datasette"]["image"]
    assert re.fullmatch(r"datasetteproject/datasette:\d+\.\d+\.\d+", image), image
    assert "/healthz" in " ".join(services["presswatch"]["healthcheck"]["test"])
    assert "/data/presswatch.db" in services["datasette"]["command"]


def test_compose_runs_two_workers_on_a_healthy_postgresql() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.postgres.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    workers = [name for name in services if name.startswith("presswatch")]
    assert len(workers) == 2
    assert re.fullmatch(r"postgres:\d+\.\d+", services["postgres"]["image"])
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert "UTF8" in services["postgres"]["environment"]["POSTGRES_INITDB_ARGS"]
    for name in workers:
        worker = services[name]
        assert worker["depends_on"] == {"postgres": {"condition": "service_healthy"}}
        assert "/healthz" in " ".join(worker["healthcheck"]["test"])
        assert worker["build"]["args"]["EXTRAS"] == "[postgres]"
        assert "./presswatch.toml:/config/presswatch.toml:ro" in worker["volumes"]
    config = load_config(DEPLOY / "presswatch.postgres.toml.example", environ={})
    assert config.storage_url == "postgresql://presswatch@postgres:5432/presswatch"
    assert config.service.http == ("0.0.0.0", 9108)


def test_the_datasette_front_pages_link_the_brief_view_and_every_link_has_a_target() -> None:
    """Datasette 0.65 lists tables by name and views last, whatever the metadata's order: the
    descriptions of `/` and `/presswatch` are where an analyst finds the way in."""
    meta = yaml.safe_load((DEPLOY / "datasette.yml").read_text(encoding="utf-8"))
    database = meta["databases"]["presswatch"]
    tables = database["tables"]
    assert tables["articles_brief"]["sort_desc"] == "published_at"
    pages = set(tables) | set(database["queries"])
    for html in (meta["description_html"], database["description_html"]):
        # Relative links, read from `/` or `/presswatch` alike: presswatch/<table or query>.
        links = re.findall(r'href="([^"]*)"', html)
        assert "presswatch/articles_brief" in links
        assert [link for link in links if link.removeprefix("presswatch/") not in pages] == []
    brief = tables["articles_brief"]["description_html"]
    # A view's ids are plain cells in Datasette: nothing may promise they open the article.
    assert "Open an id" not in brief and "not links" in brief
    # Its form asks the articles table (a sibling page) for the one id: ?id=N filters by it.
    assert re.search(r'<form action="articles" method="get">.*name="id"', brief, re.S)


def test_the_image_checks_healthz_on_a_config_with_an_absolute_archive(tmp_path) -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    check = next(line for line in dockerfile.splitlines() if "urlopen" in line)
    assert "HEALTHCHECK" in dockerfile and "127.0.0.1:9108/healthz" in check
    assert "COPY deploy/presswatch.toml.example /config/presswatch.toml" in dockerfile
    config = load_config(DEPLOY / "presswatch.toml.example", environ={})
    assert config.storage_path == Path("/data/presswatch.db")
    assert config.service.http == ("0.0.0.0", 9108)


def test_the_build_context_leaves_out_archives_and_secrets() -> None:
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert ignore[1] == "*"  # everything out, then only what the image copies
    included = {line[1:] for line in ignore if line.startswith("!")}
    copied = set(re.findall(r"(?m)^COPY (.+) \./?\S*$", (DEPLOY / "Dockerfile").read_text()))
    assert {"pyproject.toml", "README.md", "bot/", "storage/", "scrapers/"} <= included
    assert copied  # the Dockerfile still copies what the context keeps
    assert not any(".db" in line or ".env" in line for line in included)


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_the_systemd_unit_verifies(tmp_path) -> None:
    unit = (DEPLOY / "presswatch.service").read_text(encoding="utf-8")
    assert "RestartPreventExitStatus=2" in unit and "ExecReload=/bin/kill -HUP $MAINPID" in unit
    # verify checks that ExecStart's program exists: point it at this checkout's presswatch.
    here = shutil.which("presswatch") or str(
        Path(__import__("sys").executable).parent / "presswatch"
    )
    copy = tmp_path / "presswatch.service"
    copy.write_text(unit.replace("/opt/presswatch/bin/presswatch", here), encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_the_systemd_unit_is_hardened_and_a_denied_call_is_an_error_not_a_kill(tmp_path) -> None:
    unit = (DEPLOY / "presswatch.service").read_text(encoding="utf-8")
    # SIGSYS on a call outside the filter would be a crash that Restart=on-failure repeats.
    assert "SystemCallErrorNumber=EPERM" in unit
    copy = tmp_path / "presswatch.service"
    copy.write_text(unit, encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--no-pager", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = re.search(r"Overall exposure level for presswatch\.service: (\d+\.\d)", result.stdout)
    if found is None:
        pytest.skip(f"this systemd-analyze cannot score a unit file offline: {result.stderr}")
    # 1.7 before ProtectProc, PrivateMounts and RemoveIPC; 10 is a unit with no hardening at all.
    assert float(found.group(1)) <= 1.5, result.stdout


BRIEF = ["id", "published_at", "source_key", "title", "topics", "entities", "lang", "url"]
# The view as m010 and p004 made it, and the index p010 drops: an archive of the last release.
OLD_BRIEF = """create view articles_brief as
    select id, published_at, source_key, title, topics, lang, url, duplicate_of as reprint_of
    from articles"""


def test_the_brief_view_lists_title_source_time_topics_and_link(tmp_path) -> None:
    store = Store.open(tmp_path / "presswatch.db")
    add(store, "CSTO summit in Minsk", "Long body text. " * 200, topics=("politics-diplomacy",))
    row = next(store.db.query("select * from articles_brief"))
    store.close()
    assert list(row) == [*BRIEF, "duplicate_of", "reprint_of"]
    assert row["title"] == "CSTO summit in Minsk" and "politics-diplomacy" in row["topics"]


def _as_the_last_release(store: Store) -> None:
    """Put the archive's brief view (and PostgreSQL's topic index) back as the last release had
    them, and forget the migration that changed them."""
    postgres = getattr(store.db, "backend", None) is not None
    store.db.execute("drop view articles_brief")
    store.db.execute(OLD_BRIEF)
    if postgres:
        store.db.execute("create index idx_article_topics_key_kind on article_topics (key, kind)")
        store.db.execute(
            "delete from presswatch_migrations where name = 'p010_brief_view_as_search_names_it'"
        )
    else:
        store.db.execute(
            "delete from _sqlite_migrations where name = 'm014_brief_view_as_search_names_it'"
        )
        store.db.conn.commit()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def own_archive(request, tmp_path):
    """A fresh archive in a database of its own: its migrations are undone and run again, which
    would reorder the shared PostgreSQL archive's record of them for the tests after."""
    from storage.backends import SqliteBackend

    if request.param == "sqlite":
        backend = SqliteBackend(tmp_path / "presswatch.db")
    else:
        from storage.postgres.backend import PostgresBackend
        from tests.support.postgres import new_database

        url = new_database(request.getfixturevalue("postgres"), "presswatch_last_release")
        backend = PostgresBackend(url)
    store = backend.open()
    yield store
    store.close()
    backend.close()


def test_an_archive_of_the_last_release_keeps_its_rows_and_gets_the_new_brief_view(
    own_archive,
) -> None:
    store = own_archive
    original = add(store, "CSTO summit in Minsk", topics=("politics-diplomacy",))
    url = "https://belta.example/summit"
    reprint = Article(url=url, canonical_url=url, title="Summit", entities=("csto", "belarus"))
    copy = store.add_article(reprint, source_key="belta", now=NOW, duplicate_of=original)
    _as_the_last_release(store)
    assert "reprint_of" in next(store.db.query("select * from articles_brief"))
    upgraded = reopen(store)
    try:
        rows = {r["id"]: r for r in upgraded.db.query("select * from articles_brief order by id")}
        kept = upgraded.db.execute("select count(*) from articles").fetchone()[0]
        index = upgraded.db.execute(
            "select count(*) from sqlite_master where name = 'idx_article_topics_key_kind'"
            if getattr(upgraded.db, "backend", None) is None
            else "select count(*) from pg_indexes where indexname = 'idx_article_topics_key_kind'"
        ).fetchone()[0]
        postgres = getattr(upgraded.db, "backend", None) is not None
    finally:
        upgraded.close()
    assert kept == 2 and list(rows) == [original, copy]
    assert list(rows[copy]) == [*BRIEF, "duplicate_of", "reprint_of"]
    assert rows[copy]["duplicate_of"] == rows[copy]["reprint_of"] == original
    assert json.loads(rows[copy]["entities"]) == ["csto", "belarus"]
    assert rows[original]["duplicate_of"] is None
    assert index == (0 if postgres else 1)  # kept on SQLite for Datasette's facets


def test_the_example_config_documents_the_container_paths() -> None:
    example = tomllib.loads((DEPLOY / "presswatch.toml.example").read_text(encoding="utf-8"))
    assert Path(example["storage"]["path"]).is_absolute()


def _fresh_archive(tmp_path) -> Store:
    return Store.open(tmp_path / "presswatch.db")


@pytest.mark.parametrize("table", ["articles", "article_topics", "sources", "runs"])
def test_datasette_describes_every_column_of_the_tables_analysts_read(tmp_path, table) -> None:
    meta = yaml.safe_load((DEPLOY / "datasette.yml").read_text(encoding="utf-8"))
    notes = meta["databases"]["presswatch"]["tables"][table]["columns"]
    store = _fresh_archive(tmp_path)
    columns = store.db[table].columns_dict
    store.close()
    assert [c for c in columns if c not in notes] == []
    assert [c for c in notes if c not in columns] == []


def test_datasette_titles_or_hides_every_table_and_facets_real_columns(tmp_path) -> None:
    meta = yaml.safe_load((DEPLOY / "datasette.yml").read_text(encoding="utf-8"))
    database = meta["databases"]["presswatch"]
    store = _fresh_archive(tmp_path)
    names = store.db.table_names() + store.db.view_names()
    # A table an analyst meets says what it holds; the bookkeeping ones are out of sight.
    shown = [n for n in names if "title" in database["tables"].get(n, {})]
    hidden = [n for n in names if database["tables"].get(n, {}).get("hidden")]
    assert sorted(set(names) - set(shown) - set(hidden)) == []
    # A facet is a column's name, or {"array": name} / {"date": name}.
    named = [
        (table, column if isinstance(column, str) else next(iter(column.values())))
        for table, spec in database["tables"].items()
        for column in [*spec.get("facets", []), spec.get("sort_desc")]
        if column
    ]
    missing = [(t, c) for t, c in named if c not in store.db[t].columns_dict]
    store.close()
    assert missing == []


def test_the_systemd_unit_lets_the_parsing_workers_cap_their_memory() -> None:
    """Later SystemCallFilter= lines amend earlier ones: setrlimit must be allowed last."""
    unit = (DEPLOY / "presswatch.service").read_text(encoding="utf-8")
    filters = [
        line.split("=", 1)[1].split()
        for line in unit.splitlines()
        if line.startswith("SystemCallFilter=")
    ]
    deciding = [
        words for words in filters if {"setrlimit", "~@resources", "@resources"} & set(words)
    ]
    assert deciding and "setrlimit" in deciding[-1] and not deciding[-1][0].startswith("~")


def test_datasette_facets_articles_by_entity_as_the_archive_stores_them(tmp_path) -> None:
    meta = yaml.safe_load((DEPLOY / "datasette.yml").read_text(encoding="utf-8"))
    tables = meta["databases"]["presswatch"]["tables"]
    assert {"array": "entities"} in tables["articles"]["facets"]
    assert {"array": "entities"} in tables["articles_brief"]["facets"]  # the view Datasette opens
    store = _fresh_archive(tmp_path)
    for n, entities in enumerate([("csto", "belarus"), ("csto",), ()]):
        url = f"https://tass.com/politics/{n}"
        summit = Article(url=url, canonical_url=url, title=f"Summit {n}", entities=entities)
        store.add_article(summit, source_key="tass-com", now=datetime(2026, 12, 1, tzinfo=UTC))
    # What Datasette's array facet counts: each value of a column holding JSON arrays.
    counts = dict(
        store.db.execute(
            "select j.value, count(*) from articles, json_each(articles.entities) j"
            " where json_type(articles.entities) = 'array' group by j.value"
        ).fetchall()
    )
    store.close()
    assert counts == {"csto": 2, "belarus": 1}


def _unit_sections() -> dict[str, dict[str, list[str]]]:
    """Return the unit's settings by section, every value of a key repeated."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for line in (DEPLOY / "presswatch.service").read_text(encoding="utf-8").splitlines():
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
        elif "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            current.setdefault(key, []).append(value)
    return sections


def test_the_unit_stops_on_a_broken_setup_and_restarts_a_crash() -> None:
    unit, service = _unit_sections()["Unit"], _unit_sections()["Service"]
    assert service["Restart"] == ["on-failure"]
    # The exits no restart can fix end it at once: a bad config, a start this machine cannot give.
    prevented = {
        int(code) for value in service["RestartPreventExitStatus"] for code in value.split()
    }
    assert prevented == {EXIT_CONFIG, EXIT_SETUP} and EXIT_FAILED not in prevented
    # Any other failure is retried for as long as it lasts (a database down for minutes must not
    # leave the workers down for good), at a pace, with no start limit, in [Unit] where systemd
    # reads it.
    assert "StartLimitBurst" not in service and "StartLimitIntervalSec" not in service
    assert unit["StartLimitIntervalSec"] == ["0"] and "StartLimitBurst" not in unit
    assert int(service["RestartSec"][0].removesuffix("s")) >= 5


def test_the_brief_view_datasette_opens_on_searches_as_the_articles_table_does(tmp_path) -> None:
    meta = yaml.safe_load((DEPLOY / "datasette.yml").read_text(encoding="utf-8"))
    tables = meta["databases"]["presswatch"]["tables"]
    # Datasette finds a table's FTS index itself, a view's only in the metadata: without it the
    # brief view shows no search box and ignores ?_search=, listing every article instead.
    searchable = {n: (t["fts_table"], t["fts_pk"]) for n, t in tables.items() if "fts_table" in t}
    assert searchable["articles_brief"] == searchable["articles"]
    store = _fresh_archive(tmp_path)
    add(store, "CSTO summit in Minsk", "Leaders met.")
    add(store, "Weather in Moscow", "Warm.")
    # What Datasette runs for ?_search=summit on each of them.
    found = {
        name: [
            row["title"]
            for row in store.db.query(
                f"select title from {name} where {pk} in "
                f"(select rowid from {fts} where {fts} match :q)",
                {"q": "summit"},
            )
        ]
        for name, (fts, pk) in searchable.items()
    }
    store.close()
    assert found == {
        "articles": ["CSTO summit in Minsk"],
        "articles_brief": ["CSTO summit in Minsk"],
    }
