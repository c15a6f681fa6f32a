"""Renaming a source: `presswatch rename-source OLD NEW` moves the archive's rows of OLD (articles
and their search and topic rows, signatures, polls, state, pages waited for, readers' alerts,
admin alerts) to NEW in one transaction, on SQLite and PostgreSQL; a config whose source has the
address of a key it no longer names is told so by `check` and at the service's start."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import open_app, reconfigure
from bot.cli.main import main
from bot.config import config_from_dict, load_config
from bot.service.renames import note_sources, renamed_hints
from scrapers import Source
from scrapers.models import Article
from storage import RunRecord, Store
from storage.lock import InstanceLock
from storage.neardup import shingles, signature
from storage.rename import KeyTaken, rename_source
from storage.search import search
from storage.sources import Noted
from tests.support.archive import add
from tests.support.offline import offline_config

NOW = datetime(2024, 1, 10, 12, 0, tzinfo=UTC)
FEED = "https://tass.com/rss/v2.xml"
# What every hint ends with: after `rename-source` and before the config's edit, it points back.
OR_CONFIG = ' (or, when the archive was renamed first, set key = "{}" in the config)'


def _fill(store: Store, key: str = "tass-com") -> None:
    """Give source `key` an article with a topic and a signature, polls, a state, a page waited
    for, a reader's alert and an admin alert."""
    store.near_duplicates(now=NOW)
    minhash = signature(shingles("one two three four five six", size=3), num_perm=128)
    add(store, "Summit in Minsk", topics=("diplomacy",), source=key)
    store.add_article(
        _article("https://tass.com/politics/2"), source_key=key, now=NOW, minhash=minhash
    )
    store.sources.record_run(RunRecord(key, NOW, NOW, "ok", 5, 2), baseline=True)
    store.sources.record_run(RunRecord(key, NOW, NOW, "error", error="HTTP 503"))
    store.sources.missing_since(key, "https://tass.com/politics/3", now=NOW)
    store.subscriptions.add(user_id=7, chat_id="7", kind="source", value=key, now=NOW)
    store.alerts.enqueue(chat_id="1", subject=key, kind="failing", text="failing", now=NOW)


def _article(url: str) -> Article:
    """Return an article at `url`."""
    return Article(url, url, "Talks in Moscow", body="Talks.", published=NOW)


def test_every_row_of_the_source_moves_to_the_new_key(store: Store) -> None:
    _fill(store)
    store.subscriptions.add(user_id=8, chat_id="8", kind="source", value="tass-en", now=NOW)
    store.subscriptions.add(user_id=8, chat_id="8", kind="source", value="tass-com", now=NOW)
    moved = rename_source(store.db, "tass-com", "tass-en")
    assert dict(moved.counts) == {
        "article": 2,
        "near-duplicate signature": 1,
        "poll": 2,
        "page waited for": 1,
        "reader alert": 1,  # reader 7's
        "admin alert": 1,
    }
    assert moved.alerts_merged == 1  # reader 8 followed both: one alert is left
    assert moved.state == "moved"
    assert store.sources.article_counts() == {"tass-en": 2}
    assert store.sources.archived_keys() == {"tass-en"}
    state = store.sources.state("tass-en")
    assert (state.consecutive_failures, state.baseline_at) == (1, NOW)
    assert sorted((s.user_id, s.value) for s in store.subscriptions.all()) == [
        (7, "tass-en"),
        (8, "tass-en"),
    ]
    # Search by source reads PostgreSQL's own search and topic rows: they followed the article.
    assert [h.title for h in search(store.db, "summit", source="tass-en")] == ["Summit in Minsk"]
    assert search(store.db, "summit", source="tass-com") == []
    hits = search(store.db, "summit", source="tass-en", topic="diplomacy")
    assert [h.title for h in hits] == ["Summit in Minsk"]


def test_a_new_key_with_articles_is_refused_unless_merged(store: Store) -> None:
    _fill(store)
    add(store, "Talks in Baku", source="tass-en")
    store.sources.record_run(RunRecord("tass-en", NOW, NOW, "ok", 3, 1), baseline=True)
    with pytest.raises(KeyTaken, match="tass-en holds 1 article already"):
        rename_source(store.db, "tass-com", "tass-en")
    assert store.sources.article_counts() == {"tass-com": 2, "tass-en": 1}  # nothing moved
    moved = rename_source(store.db, "tass-com", "tass-en", merge=True)
    assert moved.state == "merged"  # the new key's state row, polled last, is kept
    assert store.sources.article_counts() == {"tass-en": 3}
    assert store.sources.state("tass-en").consecutive_failures == 0
    assert store.sources.archived_keys() == {"tass-en"}


def test_a_config_source_with_the_address_of_a_key_it_lost_is_told(store: Store, caplog) -> None:
    _fill(store)
    note_sources(store, [Source(key="tass-com", url=FEED, kind="feed")])
    renamed = [Source(key="tass-en", url=FEED + "#"), Source(key="mid", url="https://mid.ru/")]
    with caplog.at_level(logging.WARNING):
        hints = note_sources(store, renamed)
    line = (
        "tass-en has the url of tass-com in the archive: renamed? "
        "presswatch rename-source tass-com tass-en" + OR_CONFIG.format("tass-com")
    )
    assert hints == [line] and f"config: {line}" in caplog.text
    assert {n.key: n.url for n in store.sources.noted()}["tass-en"] == FEED + "#"
    rename_source(store.db, "tass-com", "tass-en")
    assert note_sources(store, renamed) == []  # renamed: nothing left to tell


def test_hints_name_only_keys_the_config_no_longer_has() -> None:
    sources = [Source(key="a", url=FEED), Source(key="b", url="https://b.example/")]
    both = [Noted("a", FEED, None, True, True), Noted("b", FEED, None, True, True)]
    assert renamed_hints(sources, both) == []  # both configured: no rename
    assert renamed_hints(sources, [Noted("old", "https://c.example/", None, True, True)]) == []
    assert renamed_hints(sources, [Noted("old", FEED, None, True, True)]) != []


def _config(tmp_path: Path, key: str, extra: str = "") -> Path:
    """Write an SQLite config with one feed source `key` at FEED, offline."""
    path = tmp_path / "presswatch.toml"
    path.write_text(
        f'[storage]\npath = "{tmp_path / "archive.db"}"\n'
        '[[channels]]\nname = "main"\nchat_id = "@presswatch_test"\n'
        f'{extra}[[sources]]\nkey = "{key}"\nkind = "feed"\nurl = "{FEED}"\n',
        encoding="utf-8",
    )
    return path


def _archive(tmp_path: Path) -> None:
    """Make the SQLite archive of `_config`, tass-com's rows in it and its address noted."""
    store = Store.open(tmp_path / "archive.db")
    try:
        _fill(store)
        note_sources(store, [Source(key="tass-com", url=FEED, kind="feed")])
    finally:
        store.close()


def test_check_and_rename_source_on_the_command_line(tmp_path: Path, capsys) -> None:
    _archive(tmp_path)
    config = _config(tmp_path, "tass-en", extra='sources = ["tass-en"]\n')
    assert main(["check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.endswith(
        "warning: tass-en has the url of tass-com in the archive: renamed? "
        "presswatch rename-source tass-com tass-en" + OR_CONFIG.format("tass-com") + "\n"
    )
    store = Store.open(tmp_path / "archive.db")
    try:  # reader 8 follows both keys, reader 7 tass-com alone
        for key in ("tass-com", "tass-en"):
            store.subscriptions.add(user_id=8, chat_id="8", kind="source", value=key, now=NOW)
    finally:
        store.close()
    assert main(["rename-source", "tass-com", "tass-en", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"renamed tass-com to tass-en in {tmp_path / 'archive.db'}: 2 articles, "
        "1 near-duplicate signature, 2 polls, 1 page waited for, 1 reader alert, "
        "1 admin alert, 1 reader alert on tass-com dropped (on tass-en already), its state",
        f"{config} names tass-en already: start the service again",
    ]
    assert main(["check", "--config", str(config)]) == 0
    assert "renamed?" not in capsys.readouterr().out
    assert main(["sources", "--config", str(config)]) == 0
    assert "tass-en  feed" in capsys.readouterr().out.replace("   ", "  ")


def test_rename_source_says_what_to_change_in_the_config(tmp_path: Path, capsys) -> None:
    _archive(tmp_path)
    channel = (
        '[[channels]]\nname = "politics"\nchat_id = "@politics_test"\nsources = ["tass-com"]\n'
    )
    config = _config(tmp_path, "tass-com", extra=channel)
    assert main(["rename-source", "tass-com", "tass-en", "--config", str(config)]) == 0
    assert capsys.readouterr().out.splitlines()[1] == (
        f'now in {config} change key = "tass-com" in its [[sources]] block and in the sources '
        "of channel politics to tass-en, then start the service again"
    )


def test_rename_source_refuses_while_the_archive_is_held_or_the_key_is_taken(
    tmp_path: Path, capsys
) -> None:
    _archive(tmp_path)
    config = _config(tmp_path, "tass-en")
    rename = ["rename-source", "tass-com", "tass-en", "--config", str(config)]
    with InstanceLock(tmp_path / "archive.db", role="run"):  # the service, as its lock names it
        assert main(rename) == 1
    err = capsys.readouterr().err
    assert "is using" in err and "systemctl stop presswatch" in err
    assert err.rstrip().endswith("then rename; nothing was moved")
    store = Store.open(tmp_path / "archive.db")
    try:
        add(store, "Talks in Baku", source="tass-en")
    finally:
        store.close()
    assert main(rename) == 1
    assert capsys.readouterr().err == (
        "presswatch: rename-source: tass-en holds 1 article already: give --merge to add "
        "tass-com's to them, or choose another key; nothing was moved\n"
    )
    assert main([*rename, "--merge"]) == 0
    assert capsys.readouterr().out.startswith("renamed tass-com to tass-en")
    assert main(rename) == 1  # nothing is left under tass-com
    assert "the archive holds nothing under tass-com" in capsys.readouterr().err
    assert main(["rename-source", "tass-en", "Tass", "--config", str(config)]) == 2
    assert main(["rename-source", "tass-en", "tass-en", "--config", str(config)]) == 2
    both = '[[sources]]\nkey = "tass-com"\nkind = "feed"\nurl = "https://tass.com/rss/"\n'
    config = _config(tmp_path, "tass-en", extra=both)
    assert main(["rename-source", "tass-com", "tass-en", "--config", str(config)]) == 2
    assert "tass-com and tass-en are both configured sources" in capsys.readouterr().err


def test_once_logs_a_renamed_source_as_the_service_does_at_start(
    tmp_path: Path, capsys, restore_logging, monkeypatch
) -> None:
    config = offline_config(tmp_path, telegram="https://api.telegram.org/bot")
    alpha = load_config(config).source("alpha")
    store = Store.open(tmp_path / "archive.db")
    try:
        add(store, "Summit in Minsk", source="alpha-old")
        note_sources(store, [Source(key="alpha-old", url=alpha.url, kind="feed")])
    finally:
        store.close()
    monkeypatch.delenv("PRESSWATCH_TELEGRAM_TOKEN", raising=False)
    main(["once", "--config", str(config)])  # the sources refuse connections: exit 1
    assert (
        "config: alpha has the url of alpha-old in the archive: renamed? "
        "presswatch rename-source alpha-old alpha"
    ) in capsys.readouterr().err


def _storage_line(backend, tmp_path: Path) -> str:
    """Return the [storage] line that names the test's archive, a file or a database."""
    url = getattr(backend, "url", None)
    return f'url = "{url}"' if url else f'path = "{tmp_path / "archive.db"}"'


def test_rename_source_on_either_backend_waits_for_no_service(
    backend, tmp_path: Path, capsys
) -> None:
    store = backend.open()
    try:
        _fill(store)
    finally:
        store.close()
    config = tmp_path / "presswatch.toml"
    config.write_text(
        f"[storage]\n{_storage_line(backend, tmp_path)}\n"
        f'[[sources]]\nkey = "tass-en"\nkind = "feed"\nurl = "{FEED}"\n',
        encoding="utf-8",
    )
    rename = ["rename-source", "tass-com", "tass-en", "--config", str(config)]
    with backend.lock(role="run"):  # a service (on PostgreSQL, one of its workers)
        assert main(rename) == 1
    err = capsys.readouterr().err
    assert "nothing was moved" in err
    every = "; every worker on every machine" in err
    assert every == (backend.dialect == "postgresql")
    assert main(rename) == 0
    assert capsys.readouterr().out.startswith("renamed tass-com to tass-en in ")
    store = backend.open()
    try:
        assert store.sources.article_counts() == {"tass-en": 2}
    finally:
        store.close()


def test_a_reload_that_renames_a_key_logs_the_hint(
    telegram, backend, tmp_path: Path, caplog
) -> None:
    storage = _storage_line(backend, tmp_path).split(" = ")

    def config(key: str):
        return config_from_dict(
            {
                "storage": {storage[0]: storage[1].strip('"')},
                "telegram": {"api_base_url": telegram.base_url},
                "channels": [{"name": "main", "chat_id": "@presswatch_test"}],
                "sources": [{"key": key, "kind": "feed", "url": FEED}],
            },
            path=tmp_path / "presswatch.toml",
        )

    async def start_and_reload() -> None:
        async with open_app(config("tass-com"), role="run", deliver=False) as app:
            add(app.store, "Summit in Minsk", source="tass-com")  # a key with nothing is no rename
            assert "renamed?" not in caplog.text
            reconfigure(app, config("tass-en"))

    with caplog.at_level(logging.WARNING):
        asyncio.run(start_and_reload())
    assert (
        "config: tass-en has the url of tass-com in the archive: renamed? "
        "presswatch rename-source tass-com tass-en"
    ) in caplog.text
