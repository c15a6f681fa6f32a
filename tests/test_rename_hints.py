"""The rename hint and the state a rename keeps, on SQLite and PostgreSQL: a source is what it
reads (its address and link_pattern); the hint is given only while the configured key holds
nothing of its own and the old key holds articles; a rename after a start with the renamed
config keeps the old key's state, not the empty row that start noted."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.service.renames import note_sources, renamed_hints
from scrapers import Source
from storage import RunRecord, Store
from storage.dialect import is_postgres
from storage.records import iso
from storage.rename import rename_source
from storage.search import search
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


def test_a_configured_key_polled_before_its_address_was_noted_is_no_rename(store: Store) -> None:
    politics = Source(key="tass-politics", url=HOME, link_pattern="/politics/")
    add(store, "Talks in Baku", source="tass-politics")
    _poll(store, "tass-politics")  # by an older presswatch: its row has no address yet
    add(store, "Talks in Minsk", source="tass-news")
    note_sources(store, [NEWS])
    assert renamed_hints([politics], store.sources.noted()) == []


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


def test_a_rename_after_a_start_keeps_the_old_keys_state(store: Store) -> None:
    later = NOW + timedelta(minutes=10)
    add(store, "Talks in Minsk", source="tass-com")
    _poll(store, "tass-com", etag='"v1"', baseline=True)
    _poll(store, "tass-com", "error", next_poll_at=later)
    store.sources.set_paused("tass-com", paused=True)
    note_sources(store, [Source(key="tass-com", url=HOME)])
    # The renamed config started: tass-en's row holds its address and nothing else.
    note_sources(store, [Source(key="tass-en", url=HOME + "#")])
    assert rename_source(store.db, "tass-com", "tass-en").state == "moved"
    state = store.sources.state("tass-en")
    assert (state.etag, state.baseline_at, state.last_poll_at) == ('"v1"', NOW, NOW)
    assert (state.next_poll_at, state.consecutive_failures, state.paused) == (later, 1, True)
    assert {n.key: n.url for n in store.sources.noted()} == {"tass-en": HOME + "#"}


def test_a_merge_with_a_polled_new_key_fills_its_gaps(store: Store) -> None:
    add(store, "Talks in Minsk", source="tass-com")
    _poll(store, "tass-com", etag='"v1"', baseline=True)
    store.sources.set_paused("tass-com", paused=True)
    add(store, "Talks in Baku", source="tass-en")
    _poll(store, "tass-en", "error")  # polled, failed: no validators, no baseline
    assert rename_source(store.db, "tass-com", "tass-en", merge=True).state == "merged"
    state = store.sources.state("tass-en")
    assert (state.etag, state.baseline_at, state.paused) == ('"v1"', NOW, True)
    assert state.consecutive_failures == 1  # its own count: it polled last
    assert store.sources.state("tass-com").last_poll_at is None  # no row left


def test_a_pause_of_the_new_key_before_its_first_poll_holds_after_a_rename(store: Store) -> None:
    add(store, "Talks in Minsk", source="tass-com")
    _poll(store, "tass-com")
    note_sources(store, [Source(key="tass-en", url=HOME)])
    store.sources.set_paused("tass-en", paused=True)  # /pause tass-en before it ever polled
    assert rename_source(store.db, "tass-com", "tass-en").state == "moved"
    assert store.sources.state("tass-en").paused is True


def test_a_merge_leaves_the_old_keys_last_error_behind(store: Store) -> None:
    add(store, "Talks in Minsk", source="tass-com")
    _poll(store, "tass-com", "error")
    add(store, "Talks in Baku", source="tass-en")
    _poll(store, "tass-en")  # the new key has only ever succeeded
    assert rename_source(store.db, "tass-com", "tass-en", merge=True).state == "merged"
    assert store.sources.state("tass-en").last_error is None


def test_search_follows_a_rename_and_a_title_change(store: Store) -> None:
    article_id = add(store, "Summit in Minsk", source="tass-com")
    rename_source(store.db, "tass-com", "tass-en")  # PostgreSQL: the search row's key moves
    assert [h.title for h in search(store.db, "summit", source="tass-en")] == ["Summit in Minsk"]
    later = NOW + timedelta(days=1)
    store.db.execute("update articles set published_at = ? where id = ?", [iso(later), article_id])
    if is_postgres(store.db):  # its search row's copy moves with it, the vector kept
        row = store.db.execute("select published_at from article_search").fetchone()
        assert row[0] == iso(later)
    store.db.execute("update articles set title = ? where id = ?", ["Talks in Baku", article_id])
    assert search(store.db, "summit") == []  # the text changed: its vector is made again
    assert [h.title for h in search(store.db, "baku", source="tass-en")] == ["Talks in Baku"]


@pytest.mark.postgres
def test_polls_queued_for_the_old_key_are_forgotten(postgres_archive) -> None:
    store = postgres_archive.open()
    try:
        add(store, "Summit in Minsk", source="tass-com")
        queued = [
            ("presswatch.polls", {"sources": ["tass-com"]}, "todo"),
            ("presswatch.polls", {"sources": ["mid", "tass-com", "ria"]}, "todo"),
            ("presswatch.poll", {"source": "tass-com"}, "todo"),  # an earlier version's
            ("presswatch.polls", {"sources": ["tass-com"]}, "doing"),  # (no worker: not begun)
            ("presswatch.polls", {"sources": ["tass-com-ru"]}, "todo"),
        ]
        for task, args, status in queued:
            store.db.execute(
                "insert into procrastinate_jobs (queue_name, task_name, args, status) "
                "values ('fleet', ?, ?::jsonb, ?::procrastinate_job_status)",
                [task, json.dumps(args), status],
            )
        moved = rename_source(store.db, "tass-com", "tass-en")
        assert dict(moved.counts)["queued poll"] == 3
        left = store.db.execute("select args, status::text from procrastinate_jobs order by id")
        assert [(args, status) for args, status in left] == [
            ({"sources": ["mid", "ria"]}, "todo"),
            ({"sources": ["tass-com"]}, "doing"),
            ({"sources": ["tass-com-ru"]}, "todo"),
        ]
    finally:
        store.close()
