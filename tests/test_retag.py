"""`presswatch retag`: the archive takes a changed taxonomy's topics, resumably, posts untouched."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

import bot.cli.retag as retag_cli
from bot.cli.main import main
from bot.ingest.enrich import Enricher
from scrapers.models import Article
from storage import Delivery, Store
from tests.support.cli import presswatch

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


def write_config(tmp_path: Path, taxonomy: str) -> Path:
    path = tmp_path / "presswatch.toml"
    path.write_text(
        f'[storage]\npath = "{tmp_path / "archive.db"}"\n'
        '[[channels]]\nname = "main"\nchat_id = "@presswatch_test"\n' + taxonomy,
        encoding="utf-8",
    )
    return path


@pytest.fixture
def archive(tmp_path):
    """An archive of five articles tagged with the OLD taxonomy, each queued for one channel."""
    from bot.config import load_config

    config = load_config(write_config(tmp_path, OLD), environ={})
    store = Store.open(config.storage_path)
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
    write_config(tmp_path, NEW)
    return tmp_path


def tags(path: Path) -> dict[str, list[str]]:
    """Return each article's topics and the keys of its reasons, by title."""
    conn = sqlite3.connect(path / "archive.db")
    found = {}
    for article_id, title, topics in conn.execute("select id, title, topics from articles"):
        keys = [
            k
            for (k,) in conn.execute(
                "select key from article_topics where article_id = ? order by key", [article_id]
            )
        ]
        found[title] = [topics, keys]
    return found


def outbox(path: Path) -> list[tuple]:
    return (
        sqlite3.connect(path / "archive.db").execute("select * from outbox order by id").fetchall()
    )


def test_retag_gives_the_archive_the_new_taxonomy_and_posts_nothing(archive) -> None:
    before = outbox(archive)
    assert tags(archive)["New border post opens"] == ["[]", []]
    result = presswatch("retag", "--config", str(archive / "presswatch.toml"))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "retagged 5 article(s): 3 got other topics or tags; no post was sent or edited"
    )
    now = tags(archive)
    assert now["New border post opens"] == ['["border"]', ["border"]]
    assert now["Summit talks on border security"][1] == ["border", "summit"]
    assert now["Weather report"] == ["[]", []]
    assert outbox(archive) == before  # not a row added, changed or re-sent

    again = presswatch("retag", "--config", str(archive / "presswatch.toml"))
    assert "was retagged with this taxonomy at" in again.stderr and "nothing to do" in again.stderr
    redo = presswatch("retag", "--restart", "--config", str(archive / "presswatch.toml"))
    assert "retagged 5 article(s): 0 got other topics" in redo.stderr


def test_a_stopped_retag_continues_where_it_stopped(archive, monkeypatch, capsys) -> None:
    monkeypatch.setattr(retag_cli, "_BATCH", 2)
    real, seen = Enricher.enrich, []

    def stop_at_the_fifth(self, article):
        seen.append(article.title)
        if len(seen) == 5:
            raise KeyboardInterrupt  # Ctrl-C in the third batch
        return real(self, article)

    monkeypatch.setattr(Enricher, "enrich", stop_at_the_fifth)
    config = str(archive / "presswatch.toml")
    assert main(["retag", "--config", config]) == 130
    assert tags(archive)["Summit talks on border security"][1] == ["border", "summit"]
    assert tags(archive)["New border post opens"] == ["[]", []]  # its batch never committed

    monkeypatch.setattr(Enricher, "enrich", real)
    capsys.readouterr()
    assert main(["retag", "--progress", "--config", config]) == 0
    err = capsys.readouterr().err
    assert "resuming: 4 of 5 articles were done" in err
    assert "retag [" in err and "5/5 100%" in err  # the bar, asked for off a terminal
    assert err.strip().splitlines()[-1].startswith("retagged 1 article(s): 1 got other")
    assert tags(archive)["New border post opens"] == ['["border"]', ["border"]]


def test_retag_since_a_day_leaves_older_articles_alone(archive) -> None:
    result = presswatch(
        "retag", "--since", "2023-01-01", "--config", str(archive / "presswatch.toml")
    )
    assert result.returncode == 0 and "retagged 3 article(s) since 2023-01-01" in result.stderr
    now = tags(archive)
    assert now["Border guards train together"] == ["[]", []]  # 2022: not retagged
    assert now["New border post opens"] == ['["border"]', ["border"]]
