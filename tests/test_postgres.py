"""The PostgreSQL archive itself: config, migrations, the schema beside SQLite's, locks, errors.

Everything both archives share (articles, outbox, search, status…) is tested on both through the
parametrized `store` fixture; here is what only PostgreSQL has.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, config_from_dict
from scrapers.models import Article
from storage import AlreadyRunning, Delivery, StorageError, Store
from storage.postgres import migrations
from storage.postgres.sql import pyformat
from storage.status import read_snapshot

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
URL = "postgresql://presswatch@db.example.org:5432/presswatch"


def _article(n: int, **fields) -> Article:
    url = f"https://tass.com/politics/{n}"
    return Article(url=url, canonical_url=url, title=f"Title {n}", published=NOW, **fields)


# -- config ---------------------------------------------------------------------------------------


def test_storage_url_selects_postgresql_and_the_password_comes_from_outside(tmp_path) -> None:
    config = config_from_dict(
        {"storage": {"url": URL}}, path=tmp_path / "p.toml", database_password="s3cret"
    )
    assert config.storage_url == URL and config.database_password == "s3cret"
    assert "s3cret" not in repr(config)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://presswatch:s3cret@db/presswatch", "never put the database password"),
        (
            "postgresql://presswatch@db/presswatch?password=s3cret",
            "never put the database password",
        ),
        ("mysql://presswatch@db/presswatch", "expected a PostgreSQL URL"),
        ("postgresql://presswatch@db", "name the database"),
    ],
)
def test_a_bad_storage_url_is_a_config_error_naming_the_key(tmp_path, url, message) -> None:
    with pytest.raises(ConfigError, match=f"^storage.url: {message}") as caught:
        config_from_dict({"storage": {"url": url}}, path=tmp_path / "p.toml")
    assert "s3cret" not in str(caught.value)


def test_path_and_url_together_are_a_config_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="^storage.url: give either path"):
        config_from_dict({"storage": {"path": "a.db", "url": URL}}, path=tmp_path / "p.toml")


# -- schema and migrations ------------------------------------------------------------------------


def test_migrations_are_recorded_once_in_order(postgres_archive) -> None:
    store = postgres_archive.open()
    try:
        assert migrations.applied(store.db) == [fn.__name__ for fn in migrations.MIGRATIONS]
        assert migrations.apply(store.db) == []  # a second start changes nothing
    finally:
        store.close()


def test_every_sqlite_table_and_column_exists_in_postgresql(postgres_archive, tmp_path) -> None:
    sqlite = Store.open(tmp_path / "a.db")
    store = postgres_archive.open()
    try:
        theirs: dict[str, set[str]] = {}
        for table, column in store.db.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'public'"
        ):
            theirs.setdefault(table, set()).add(column)
        ours = {
            t.name: {c.name for c in t.columns}
            for t in sqlite.db.tables
            if not t.name.startswith(("articles_fts", "_sqlite"))
        }
        # A new SQLite migration needs its PostgreSQL twin (storage/postgres/migrations/).
        assert {t: cols - theirs.get(t, set()) for t, cols in ours.items()} == dict.fromkeys(
            ours, set()
        )
    finally:
        sqlite.close()
        store.close()


def test_timestamps_read_back_as_the_text_sqlite_stores(store) -> None:
    article_id = store.add_article(_article(1), source_key="tass-com", now=NOW)
    row = store.db["articles"].get(article_id)
    assert row["published_at"] == row["discovered_at"] == "2026-11-28T09:00:00+00:00"


def test_placeholders_are_translated_outside_quotes_only() -> None:
    assert pyformat("select '?', \"a?\" from t where x = ? and y like 'a%'") == (
        "select '?', \"a?\" from t where x = %s and y like 'a%%'"
    )


def test_a_nul_in_scraped_text_is_stored_as_a_replacement_character(postgres_archive) -> None:
    store = postgres_archive.open()
    try:
        article_id = store.add_article(
            _article(2, body="before\x00after"), source_key="tass-com", now=NOW
        )
        assert store.db["articles"].get(article_id)["body"] == "before\ufffdafter"
    finally:
        store.close()


# -- locks, readers and errors --------------------------------------------------------------------


def test_a_second_writer_is_refused_naming_the_holder(postgres_archive) -> None:
    with postgres_archive.lock():
        with pytest.raises(AlreadyRunning, match="another presswatch process .*server pid"):
            postgres_archive.lock().acquire()
    with postgres_archive.lock():  # released: it can be taken again
        pass


def test_status_reads_the_database_in_one_snapshot(postgres_archive) -> None:
    store = postgres_archive.open()
    try:
        store.add_article(
            _article(3), source_key="tass-com", now=NOW, deliveries=[Delivery("main", "@a")]
        )
    finally:
        store.close()
    snapshot = read_snapshot(postgres_archive, full=True, lags_after=0)
    assert snapshot.articles == {"tass-com": 1}
    assert snapshot.outbox == {("main", "pending"): 1}
    assert [(lag.state, lag.seconds) for lag in snapshot.lags] == [("pending", None)]
    # Never tried (no next_attempt_at): due since it was queued, not held.
    assert snapshot.held == {} and snapshot.oldest_due == {"main": NOW}


def test_rows_a_flood_wait_holds_with_their_chat_are_due_not_held(postgres_archive) -> None:
    store = postgres_archive.open()
    try:
        for n in (4, 5):
            store.add_article(
                _article(n), source_key="tass-com", now=NOW, deliveries=[Delivery("main", "@a")]
            )
        first, _ = [r for (r,) in store.db.execute("select id from outbox order by id")]
        until = datetime.now(UTC) + timedelta(minutes=10)
        store.outbox.mark_retry(first, error="flood wait of 600s", at=until, now=NOW)
        assert store.outbox.defer_chat("@a", until=until, now=NOW) == 1
    finally:
        store.close()
    snapshot = read_snapshot(postgres_archive)
    # Both wait out the chat's flood wait: the row the 429 answered and the one held with it.
    assert snapshot.flood_waiting == {"main": 2} and snapshot.held == {}


def test_rows_a_flood_wait_holds_have_waited_since_their_digest_hour(postgres_archive) -> None:
    # Both rows waited for a digest hour; at the hour one met a 429 and the other waits with it.
    hour = NOW + timedelta(hours=1)
    until = hour + timedelta(minutes=10)
    store = postgres_archive.open()
    try:
        for n in (6, 7):
            store.add_article(
                _article(n), source_key="tass-com", now=NOW, deliveries=[Delivery("main", "@a")]
            )
        rows = [r for (r,) in store.db.execute("select id from outbox order by id")]
        store.outbox.defer(rows, until=hour, now=NOW)
        store.outbox.mark_retry(rows[0], error="flood wait of 600s", at=until, now=hour)
        assert store.outbox.defer_chat("@a", until=until, now=hour) == 1
    finally:
        store.close()
    snapshot = read_snapshot(postgres_archive, now=hour + timedelta(minutes=5))
    assert snapshot.held == {} and snapshot.oldest_due == {"main": hour}  # not NOW, nor "now"


def test_an_unreachable_server_is_a_storage_error(tmp_path: Path) -> None:
    from storage.postgres.backend import PostgresBackend

    backend = PostgresBackend(f"postgresql://nobody@/presswatch?host={tmp_path}&connect_timeout=1")
    try:
        with pytest.raises(StorageError, match="cannot connect"):
            backend.open()
    finally:
        backend.close()


def test_rows_can_be_claimed_by_one_connection_while_another_skips_them(postgres_archive) -> None:
    """The seam many workers will use: a row locked in one transaction is skipped by another."""
    first, second = postgres_archive.open(), postgres_archive.open()
    try:
        ids = [
            first.add_article(
                _article(n), source_key="tass-com", now=NOW, deliveries=[Delivery("main", "@a")]
            )
            for n in (4, 5)
        ]
        claim = "select id from outbox where state = 'pending' order by id limit 1 for update skip locked"
        with first.db.atomic():
            mine = first.db.execute(claim).fetchone()[0]
            with second.db.atomic():
                theirs = second.db.execute(claim).fetchone()[0]
        assert (mine, theirs) == tuple(ids)  # outbox ids follow article ids here
    finally:
        first.close()
        second.close()


def test_a_database_whose_locale_cannot_fold_cyrillic_is_refused(postgres) -> None:
    from storage.postgres.backend import PostgresBackend
    from tests.support.postgres import admin

    admin(postgres, "drop database if exists presswatch_c with (force)")
    admin(
        postgres,
        "create database presswatch_c template template0 encoding 'UTF8' "
        "lc_collate 'C' lc_ctype 'C'",
    )
    backend = PostgresBackend(postgres.url("presswatch_c"))
    try:
        with pytest.raises(StorageError, match="--locale C.UTF-8"):
            backend.open()
    finally:
        backend.close()


def test_a_search_past_its_first_walk_gives_the_same_answer(postgres_archive, monkeypatch) -> None:
    """The first walk reads few rows here, so the index (second) step must find the rest."""
    from storage.search import search
    from tests.support.archive import add, titles

    store = postgres_archive.open()
    try:
        for n in range(12):
            title = f"Summit {n}" if n % 3 else f"Weather {n}"
            add(store, title, source="mid-en", topics=("x",), published=NOW + timedelta(days=n))
        queries = [
            {},
            {"source": "mid-en"},
            {"topic": "x"},
            {"source": "mid-en", "topic": "x", "lang": "en"},
            {"lang": "en"},
        ]
        whole = [titles(search(store.db, "summit", **q)) for q in queries]
        monkeypatch.setattr("storage.postgres.search.WALK", 2)
        monkeypatch.setattr("storage.postgres.search.FILTERED_WALK", 2)
        monkeypatch.setattr("storage.postgres.search.RANK_WINDOW", 5)
        assert [titles(search(store.db, "summit", **q)) for q in queries] == [
            sorted_like(w, 5) for w in whole
        ]
    finally:
        store.close()


def test_topic_rows_follow_their_article_into_a_source_and_topic_search(postgres_archive) -> None:
    """article_topics keeps a copy of each article's source and date (p008's triggers)."""
    from storage.search import search
    from tests.support.archive import add, titles

    store = postgres_archive.open()
    try:
        article_id = add(store, "Summit moved", source="mid-en", topics=("x",), published=NOW)
        later = dict(source="mid-en", topic="x", since=NOW + timedelta(days=1))
        assert titles(search(store.db, "summit", **later)) == []
        moved = NOW + timedelta(days=2)
        store.db.execute("update articles set published_at = ? where id = ?", [moved, article_id])
        assert titles(search(store.db, "summit", **later)) == ["Summit moved"]
        url = f"https://mid-en.example/{article_id}"
        new_text = Article(url=url, canonical_url=url, title="Summit moved", topics=("x",))
        store.update_article(article_id, new_text, now=moved)  # its topic rows written anew
        assert titles(search(store.db, "summit", **later)) == ["Summit moved"]
        assert titles(search(store.db, "summit", **{**later, "source": "tass-com"})) == []
    finally:
        store.close()


def test_a_search_repeated_on_one_connection_ranks_with_unprepared_statements(
    postgres_archive,
) -> None:
    """psycopg prepares a statement run 5 times; a prepared ranking statement soon gets
    PostgreSQL's generic plan, blind to the words' frequency (5-30 times slower), so none is."""
    from storage.search import search
    from tests.support.archive import add, titles

    store = postgres_archive.open()
    try:
        for n in range(4):
            add(store, f"Summit {n}", source="mid-en", topics=("x",), published=NOW)
        for _ in range(8):  # past psycopg's threshold: a prepared statement would be listed
            for given in ({}, {"source": "mid-en"}, {"topic": "x", "since": NOW}):
                assert len(titles(search(store.db, "summit", **given))) == 4
        prepared = [s for (s,) in store.db.execute("select statement from pg_prepared_statements")]
        assert any("a.id = any" in s for s in prepared)  # the rows' lookup still is
        assert not [s for s in prepared if "ts_rank" in s]
    finally:
        store.close()


def sorted_like(found: list[str], window: int) -> list[str]:
    """Return what a window of the newest `window` matches keeps of an answer (ranks are equal)."""
    newest = sorted(found, key=lambda t: -int(t.split()[1]))[:window]
    return [t for t in found if t in newest]
