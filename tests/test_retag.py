"""`presswatch retag`: the archive takes a changed taxonomy's topics, resumably, posts untouched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

import bot.cli.retag as retag_cli
from bot.cli.main import main
from bot.ingest.enrich import Enricher
from scrapers.models import Article
from storage import Delivery
from tests.support.archive import add
from tests.support.cli import presswatch
from tests.support.postgres import storage_setting

OLD = """
[topics.summit]
label = "Summits"
phrases = ["summit"]
threshold = 1.0
"""
NEW = """
[topics.summit]
label = "Summits"
phrases = ["summit"]
threshold = 1.0

[topics.border]
label = "Borders"
phrases = ["border"]
threshold = 1.0
"""
TEXTS = [
    ("Leaders meet at the summit", "The summit opened on Friday.", 2021),
    ("Border guards train together", "A border exercise began.", 2022),
    ("Summit talks on border security", "The summit discussed the border.", 2023),
    ("Weather report", "Rain is expected.", 2024),
    ("New border post opens", "The post guards the border.", 2025),
]


def write_config(tmp_path: Path, taxonomy: str, storage: str) -> Path:
    path = tmp_path / "presswatch.toml"
    path.write_text(
        f"[storage]\n{storage}\n"
        '[[channels]]\nname = "main"\nchat_id = "@presswatch_test"\n' + taxonomy,
        encoding="utf-8",
    )
    return path


@dataclass
class Archive:
    """A test archive (SQLite file or PostgreSQL database) and the config that names it."""

    config: str
    backend: object

    def tags(self) -> dict[str, list]:
        """Return each article's topics and the keys of its reasons, by title."""
        store = self.backend.open_read_only()
        try:
            found = {}
            for row in list(store.db.query("select id, title, topics from articles")):
                keys = store.db.query(
                    "select key from article_topics where article_id = ? order by key",
                    [row["id"]],
                )
                found[row["title"]] = [row["topics"], [k["key"] for k in keys]]
            return found
        finally:
            store.close()

    def outbox(self) -> list[dict]:
        store = self.backend.open_read_only()
        try:
            return list(store.db.query("select * from outbox order by id"))
        finally:
            store.close()


@pytest.fixture
def archive(tmp_path, backend) -> Archive:
    """An archive of five articles tagged with the OLD taxonomy, each queued for one channel."""
    from bot.config import load_config

    store = backend.open()
    storage = storage_setting(store, tmp_path / "archive.db")
    config = load_config(write_config(tmp_path, OLD, storage), environ={})
    enricher = Enricher(config.enrich, store)
    for n, (title, body, year) in enumerate(TEXTS):
        url = f"https://example.org/{n}"
        published = datetime(year, 1, 1, tzinfo=UTC)
        enriched = enricher.enrich(
            Article(url=url, canonical_url=url, title=title, body=body, published=published)
        )
        store.add_article(
            enriched.article,
            source_key="example",
            now=published,
            reasons=enriched.reasons,
            deliveries=[Delivery("main", "@presswatch_test")],
        )
    store.db.execute("update outbox set state = 'sent', message_id = id")
    store.db.conn.commit()
    store.close()
    return Archive(str(write_config(tmp_path, NEW, storage)), backend)


def test_retag_gives_the_archive_the_new_taxonomy_and_posts_nothing(archive) -> None:
    before = archive.outbox()
    assert archive.tags()["New border post opens"] == ["[]", []]
    result = presswatch("retag", "--config", archive.config)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "retagged 5 articles: 3 got other topics or tags; no post was sent or edited"
    )
    now = archive.tags()
    assert now["New border post opens"] == ['["border"]', ["border"]]
    assert now["Summit talks on border security"][1] == ["border", "summit"]
    assert now["Weather report"] == ["[]", []]
    assert archive.outbox() == before  # not a row added, changed or re-sent

    again = presswatch("retag", "--config", archive.config)
    assert "was retagged with this taxonomy at" in again.stderr and "nothing to do" in again.stderr
    redo = presswatch("retag", "--restart", "--config", archive.config)
    assert "retagged 5 articles: 0 got other topics" in redo.stderr


def test_a_stopped_retag_continues_where_it_stopped(archive, monkeypatch, capsys) -> None:
    monkeypatch.setattr(retag_cli, "_BATCH", 2)
    real, seen = Enricher.enrich, []

    def stop_at_the_fifth(self, article):
        seen.append(article.title)
        if len(seen) == 5:
            raise KeyboardInterrupt  # Ctrl-C in the third batch
        return real(self, article)

    monkeypatch.setattr(Enricher, "enrich", stop_at_the_fifth)
    config = archive.config
    assert main(["retag", "--config", config]) == 130
    assert archive.tags()["Summit talks on border security"][1] == ["border", "summit"]
    assert archive.tags()["New border post opens"] == ["[]", []]  # its batch never committed

    monkeypatch.setattr(Enricher, "enrich", real)
    capsys.readouterr()
    assert main(["retag", "--progress", "--config", config]) == 0
    err = capsys.readouterr().err
    assert "resuming: 4 of 5 articles were done" in err
    assert "retag [" in err and "5/5 100%" in err  # the bar, asked for off a terminal
    assert err.strip().splitlines()[-1].startswith("retagged 1 article: 1 got other")
    assert archive.tags()["New border post opens"] == ['["border"]', ["border"]]


def test_retag_since_a_day_leaves_older_articles_alone(archive) -> None:
    result = presswatch("retag", "--since", "2023-01-01", "--config", archive.config)
    assert result.returncode == 0 and "retagged 3 articles since 2023-01-01" in result.stderr
    now = archive.tags()
    assert now["Border guards train together"] == ["[]", []]  # 2022: not retagged
    assert now["New border post opens"] == ['["border"]', ["border"]]


def test_retag_since_is_each_sources_local_day(tmp_path, backend) -> None:
    # odkb-csto.org's day-only dates are Moscow midnights: 2 January is 21:00 UTC on 1 January,
    # and search's --since 2023-01-02 finds it; retag's must take it too, and not 20:00 UTC
    # (1 January in Moscow) nor a UTC source's 1 January 22:00.
    store = backend.open()
    storage = storage_setting(store, tmp_path / "archive.db")
    moscow, utc = "odkb-csto-en", "tass-com"
    add(store, "Border day 2", source=moscow, published=datetime(2023, 1, 1, 21, tzinfo=UTC))
    add(store, "Border day 1", source=moscow, published=datetime(2023, 1, 1, 20, tzinfo=UTC))
    add(store, "Border UTC day 1", source=utc, published=datetime(2023, 1, 1, 22, tzinfo=UTC))
    store.close()
    config = write_config(tmp_path, NEW, storage)
    config.write_text(
        config.read_text(encoding="utf-8")
        + f'[[sources]]\nkey = "{moscow}"\nkind = "html"\nurl = "https://en.odkb-csto.org/"\n'
        'link_pattern = "/news/"\ntimezone = "Europe/Moscow"\n',
        encoding="utf-8",
    )
    result = presswatch("retag", "--since", "2023-01-02", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "retagged 1 article since 2023-01-02: 1 got other" in result.stderr
    tags = Archive(str(config), backend).tags()
    assert tags["Border day 2"] == ['["border"]', ["border"]]
    assert tags["Border day 1"] == ["[]", []]
    assert tags["Border UTC day 1"] == ["[]", []]


@pytest.mark.parametrize("command", [("retag",), ("outbox", "retry", "1")])
def test_a_command_that_changes_the_archive_never_creates_one(tmp_path, command) -> None:
    config = tmp_path / "presswatch.toml"
    config.write_text(f'channels = []\n[storage]\npath = "{tmp_path / "typo.db"}"\n')
    result = presswatch(*command, "--config", str(config))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"presswatch: no archive at {tmp_path / 'typo.db'} yet: run `presswatch once` first"
    )
    assert not (tmp_path / "typo.db").exists()
