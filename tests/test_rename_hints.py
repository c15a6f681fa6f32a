"""The rename hint and the state a rename keeps, on SQLite and PostgreSQL: a source is what it
reads (its address and link_pattern); the hint is given only while the configured key holds
nothing of its own and the old key holds articles."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.service.renames import note_sources
from scrapers import Source
from storage import RunRecord, Store
from storage.rename import rename_source
from tests.support.archive import add

NOW = datetime(2024, 1, 10, 12, 0, tzinfo=UTC)
HOME = "https://tass.com/"
NEWS = Source(key="tass-news", url=HOME, link_pattern="/politics/")
OPINION = Source(key="tass-opinion", url=HOME, link_pattern="/opinion/")


def _poll(store: Store, key: str, status: str = "ok", **kwargs) -> None:
    """Record one poll of `key` (an error one counts a failure)."""
    error = "HTTP 503" if status == "error" else None
    store.sources.record_run(RunRecord(key, NOW, NOW, status, 3, 1, error=error), **kwargs)


def test_two_sources_of_one_address_are_told_apart_by_their_patterns(store: Store) -> None:
    for source in (NEWS, OPINION):
        add(store, f"Talks {source.key}", source=source.key)
        _poll(store, source.key)
    assert note_sources(store, [NEWS, OPINION]) == []
    assert note_sources(store, [NEWS]) == []  # opinion removed: news reads something else
    assert note_sources(store, [NEWS]) == []  # at every start after it too


def test_a_source_replaced_on_purpose_is_hinted_at_until_its_first_poll(store: Store) -> None:
    add(store, "Talks in Minsk", source="tass-news")
    _poll(store, "tass-news")
    note_sources(store, [NEWS])
    replaced = Source(key="tass-politics", url=HOME, link_pattern="/politics/")
    [hint] = note_sources(store, [replaced])
    assert hint.startswith("tass-politics has the url of tass-news in the archive: renamed?")
    _poll(store, "tass-politics")  # the operator meant it: the new key polled
    assert note_sources(store, [replaced]) == []


def test_an_old_key_without_articles_is_no_rename(store: Store) -> None:
    _poll(store, "tass-news", "error")  # polled, never stored anything: nothing to move
    note_sources(store, [NEWS])
    politics = Source(key="tass-politics", url=HOME, link_pattern="/politics/")
    assert note_sources(store, [politics]) == []
    add(store, "Talks in Minsk", source="tass-news")
    assert len(note_sources(store, [politics])) == 1


def test_the_hint_after_the_archive_is_renamed_says_the_config_may_follow(store: Store) -> None:
    add(store, "Talks in Minsk", source="tass-com")
    _poll(store, "tass-com")
    com = Source(key="tass-com", url=HOME, link_pattern="/politics/")
    note_sources(store, [com])
    rename_source(store.db, "tass-com", "tass-en")  # the README's step, before the config's
    [hint] = note_sources(store, [com])
    assert hint == (
        "tass-com has the url of tass-en in the archive: renamed? presswatch rename-source "
        'tass-en tass-com (or, when the archive was renamed first, set key = "tass-en" in the '
        "config)"
    )


def test_a_key_with_only_its_address_noted_is_not_archived(store: Store) -> None:
    note_sources(store, [NEWS])  # a start with it configured: a row with its address alone
    assert store.sources.archived_keys() == set()
    _poll(store, "tass-news")
    assert store.sources.archived_keys() == {"tass-news"}
