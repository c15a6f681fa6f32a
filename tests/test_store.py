"""The archive on a real SQLite file: migrations, one-transaction writes, outbox states."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scrapers.models import Article
from storage import (
    AlreadyRunning,
    ConstraintViolation,
    Delivery,
    InstanceLock,
    OutboxKind,
    OutboxState,
    RunRecord,
    StorageError,
    Store,
    TagKind,
    TopicReason,
)
from storage.dialect import is_postgres
from storage.migrations import migrations
from storage.neardup import shingles, signature

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def _article(n: int, body: str = "") -> Article:
    return Article(
        url=f"https://tass.com/politics/{n}?utm_source=rss",
        canonical_url=f"https://tass.com/politics/{n}",
        title=f"Title {n}",
        published=NOW - timedelta(hours=n),
        body=body or f"Body number {n}.",
    )


def test_open_creates_the_folder_uses_wal_and_full_sync(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "deep" / "dir" / "a.db")
    assert (tmp_path / "deep" / "dir" / "a.db").exists()
    assert store.db.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("pragma synchronous").fetchone()[0] == 2
    store.close()


def test_migrations_apply_once(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    Store.open(path).close()
    store = Store.open(path)
    names = [m.name for m in migrations.applied(store.db)]
    assert names == sorted(set(names), key=names.index) and "m001_initial" in names
    store.close()


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="cannot open the archive"):
        Store.open(path)


def test_article_and_its_outbox_rows_are_written_together(store: Store) -> None:
    article_id = store.add_article(
        _article(1),
        source_key="tass-com",
        now=NOW,
        deliveries=[Delivery("main", "@a"), Delivery("alerts", "-1001")],
    )
    rows = list(
        store.db.query("select channel, state from outbox where article_id = ?", [article_id])
    )
    assert sorted((r["channel"], r["state"]) for r in rows) == [
        ("alerts", OutboxState.PENDING),
        ("main", OutboxState.PENDING),
    ]
    assert store.known_url_keys(["http://www.tass.com/politics/1/"]) == {"tass.com/politics/1"}


def test_a_failed_outbox_insert_rolls_back_the_article(store: Store) -> None:
    with pytest.raises((sqlite3.IntegrityError, ConstraintViolation)):
        store.add_article(
            _article(2),
            source_key="tass-com",
            now=NOW,
            deliveries=[Delivery("main", "@a"), Delivery("main", "@a")],
        )
    assert store.db["articles"].count == 0 and store.db["outbox"].count == 0


def test_the_same_url_cannot_be_stored_twice(store: Store) -> None:
    store.add_article(_article(3), source_key="tass-com", now=NOW)
    with pytest.raises((sqlite3.IntegrityError, ConstraintViolation)):
        store.add_article(_article(3), source_key="tass-com", now=NOW)
    # The failed transaction (a pipeline on PostgreSQL) is over: the next article is stored.
    store.add_article(_article(6), source_key="tass-com", now=NOW)
    assert store.known_url_keys([_article(6).url]) == {"tass.com/politics/6"}


def test_content_hash_finds_the_original(store: Store) -> None:
    first = store.add_article(_article(4, body="Same  text here."), source_key="a", now=NOW)
    assert store.article_with_hash(_article(5, body="same text HERE.").content_hash) == first


def test_a_new_articles_arrival_answers_as_the_two_lookups_do(store: Store) -> None:
    first = store.add_article(_article(4, body="Same  text here."), source_key="a", now=NOW)
    store.add_article(
        _article(7, body="Same text here."), source_key="b", now=NOW, duplicate_of=first
    )
    store.add_article(_article(8), source_key="a", now=NOW, aliases=("https://tass.com/old/8",))
    same, other = (_article(n, body=b).content_hash for n, b in ((5, "same TEXT here."), (5, "x")))
    cases = [(url, hash_) for url in (_article(4).url, "https://tass.com/old/8",
             _article(5).url) for hash_ in (same, other, None)]  # fmt: skip
    for url, content_hash in cases:
        answer = store.arrival(url, content_hash)
        expected_original = store.article_with_hash(content_hash) if content_hash else None
        assert (answer.known, answer.original) == (
            bool(store.known_url_keys([url])),
            expected_original,
        ), (url, content_hash)
    answer = store.arrival(_article(5).url, same)
    assert (answer.known, answer.original) == (False, first)  # the original, not its reprint
    assert answer.subscriptions == ()  # not asked for
    for user, value in ((7, "energy"), (8, "tass")):
        store.subscriptions.add(user_id=user, chat_id=str(user), kind="topic", value=value, now=NOW)
    answer = store.arrival(_article(5).url, same, subscriptions=True)
    assert answer.subscriptions == tuple(store.subscriptions.all())
    assert [s.value for s in answer.subscriptions] == ["energy", "tass"]


def test_outbox_lifecycle(store: Store) -> None:
    store.add_article(
        _article(6), source_key="tass-com", now=NOW, deliveries=[Delivery("main", "@a")]
    )
    [item] = store.outbox.due(NOW)
    assert item.article.title == "Title 6" and item.source_key == "tass-com"
    assert store.outbox.claim([item.id], chat=item.chat_id, now=NOW)
    assert store.outbox.due(NOW) == []
    store.outbox.mark_retry(item.id, error="flood wait", at=NOW + timedelta(seconds=30), now=NOW)
    assert store.outbox.due(NOW) == [] and len(store.outbox.due(NOW + timedelta(seconds=31))) == 1
    store.outbox.mark_sent(item.id, message_id=77, now=NOW)
    row = store.db["outbox"].get(item.id)
    assert (row["state"], row["message_id"], row["attempts"]) == (OutboxState.SENT, 77, 1)


def test_the_tally_counts_each_post_update_and_alert_queued(store: Store) -> None:
    """A worker on PostgreSQL looks for chats with due rows after its polls only when it grew."""
    deliveries = [Delivery("main", "@a"), Delivery("alerts", "-1001")]
    article_id = store.add_article(_article(6), source_key="s", now=NOW, deliveries=deliveries)
    assert store.tally.total == 2
    store.add_article(_article(7), source_key="s", now=NOW)  # silent: nothing queued
    [item, _] = store.outbox.due(NOW)
    store.outbox.claim([item.id], chat=item.chat_id, now=NOW)
    store.outbox.mark_sent(item.id, message_id=77, now=NOW)
    assert store.posts.enqueue_update(article_id, kind=OutboxKind.EDIT, now=NOW) == 1
    store.alerts.enqueue(chat_id="-1001", subject="s", kind="down", text="down", now=NOW)
    assert store.tally.total == 4


def test_rows_left_sending_by_a_crash_become_uncertain(store: Store) -> None:
    store.add_article(_article(7), source_key="s", now=NOW, deliveries=[Delivery("main", "@a")])
    [item] = store.outbox.due(NOW)
    assert store.outbox.claim([item.id], chat=item.chat_id, now=NOW)
    assert store.outbox.recover_interrupted(now=NOW) == 1
    assert store.db["outbox"].get(item.id)["state"] == OutboxState.UNCERTAIN


def test_failed_rows_keep_their_reason(store: Store) -> None:
    store.add_article(_article(8), source_key="s", now=NOW, deliveries=[Delivery("main", "@a")])
    [item] = store.outbox.due(NOW)
    store.outbox.mark_failed(item.id, error="Forbidden: bot was kicked", now=NOW)
    row = store.db["outbox"].get(item.id)
    assert (row["state"], row["last_error"]) == (OutboxState.FAILED, "Forbidden: bot was kicked")


def test_outbox_ids_bind_as_one_parameter_however_many_there_are(store: Store) -> None:
    # The relay's look excludes every row it has queued: a service with many digest chats of up
    # to 1,000 due rows each may hold more ids than one statement can bind one by one.
    for n in (11, 12, 13):
        store.add_article(_article(n), source_key="s", now=NOW, deliveries=[Delivery("d", "@a")])
    first, second, third = (item.id for item in store.outbox.due(NOW))
    unknown = range(10**6, 10**6 + _bind_limit(store) + 1)  # ids of rows already gone are fine
    assert [i.id for i in store.outbox.due(NOW, exclude=[first, *unknown])] == [second, third]
    assert store.outbox.states_of([second, *unknown]) == {second: OutboxState.PENDING}
    assert store.outbox.drop([third, *unknown], now=NOW) == 1
    store.outbox.mark_failed([first, *unknown], error="chat not found", now=NOW)
    assert store.outbox.retry([first, *unknown], now=NOW) == 1
    store.outbox.defer([first, second, *unknown], until=NOW + timedelta(hours=1), now=NOW)
    assert store.outbox.due(NOW) == [] and store.outbox.states_of([third]) == {third: "dropped"}


def _bind_limit(store: Store) -> int:
    """Return how many parameters one statement may bind on this backend."""
    if is_postgres(store.db):
        return 65_535  # the wire protocol's 16-bit count, which psycopg refuses to exceed
    return store.db.conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


def test_runs_update_source_state(store: Store) -> None:
    store.sources.record_run(RunRecord("tass-com", NOW, NOW, "error", error="HTTP 503"))
    store.sources.record_run(RunRecord("tass-com", NOW, NOW, "error", error="HTTP 503"))
    assert store.sources.state("tass-com").consecutive_failures == 2
    store.sources.record_run(
        RunRecord("tass-com", NOW, NOW, "ok", links_found=3), etag='"e"', baseline=True
    )
    state = store.sources.state("tass-com")
    assert (state.consecutive_failures, state.etag, state.baseline_at) == (0, '"e"', NOW)
    runs = store.db.query("select status from runs where source_key = 'tass-com' order by id desc")
    assert [r["status"] for r in runs] == ["ok", "error", "error"]


def test_a_batch_of_sources_states_are_read_together_as_one_at_a_time(store: Store) -> None:
    store.sources.record_run(RunRecord("tass-com", NOW, NOW, "error", error="HTTP 503"))
    store.sources.record_run(RunRecord("ria-ru", NOW, NOW, "ok"), etag='"e"', baseline=True)
    keys = ["ria-ru", "new-one", "tass-com", "ria-ru"]
    states = store.sources.states(keys)
    assert list(states) == ["ria-ru", "new-one", "tass-com"]  # each once, in the given order
    assert states == {key: store.sources.state(key) for key in keys}
    assert (states["tass-com"].consecutive_failures, states["ria-ru"].etag) == (1, '"e"')
    assert store.sources.states([]) == {}


def test_a_run_records_when_articles_last_came_and_health_facts_see_it(store: Store) -> None:
    store.sources.record_run(RunRecord("tass-com", NOW, NOW, "ok", links_found=3, new_articles=1))
    assert store.health.read("tass-com").newest_at is None
    later = NOW + timedelta(minutes=5)
    run = RunRecord("tass-com", later, later, "ok", links_found=3, new_articles=2)
    store.sources.record_run(run, new_at=later)
    store.sources.record_run(RunRecord("tass-com", later, later, "error", error="HTTP 503"))
    assert store.health.read("tass-com").newest_at == later  # kept by the failed run after it
    assert store.sources.state("tass-com").last_poll_at == later
    assert store.db["runs"].count == 3


def test_a_sources_state_carries_its_empty_polls(store: Store) -> None:
    store.health.save("tass-com", health="silent", empty_polls=2, now=NOW)
    state = store.sources.state("tass-com")
    assert (state.health, state.empty_polls) == ("silent", 2)


def test_many_rows_replacing_one_key_keep_the_last(store: Store) -> None:
    article_id = store.add_article(_article(9), source_key="s", now=NOW)
    store.db["article_topics"].insert_all(
        (
            {"article_id": article_id, "key": key, "kind": "topic", "score": score, "rules": "[]"}
            for key, score in (("trade", 0.1), ("energy", 0.2), ("trade", 0.3))
        ),
        replace=True,
    )
    rows = store.db.query(
        "select key, score from article_topics where article_id = ? order by key", [article_id]
    )
    assert [(r["key"], r["score"]) for r in rows] == [("energy", 0.2), ("trade", 0.3)]


def test_url_facts_answer_as_the_two_lookups_do(store: Store) -> None:
    # Articles 1-3 of "s" (3 with an alias URL), 4 of another source; 2 re-read 10 minutes ago.
    for n in (1, 2, 3):
        aliases = ("https://tass.com/old/3",) if n == 3 else ()
        store.add_article(
            _article(n), source_key="s", now=NOW - timedelta(hours=n), aliases=aliases
        )
    store.add_article(_article(4), source_key="other", now=NOW - timedelta(hours=4))
    store.mark_checked(2, now=NOW - timedelta(minutes=10))
    urls = [f"https://tass.com/politics/{n}" for n in (1, 2, 3, 4, 5)] + ["https://tass.com/old/3"]
    window = {
        "discovered_since": NOW - timedelta(hours=6),
        "checked_before": NOW - timedelta(minutes=30),
    }
    facts = store.url_facts("s", urls, **window)
    assert facts.known == store.known_url_keys(urls)
    assert facts.due == tuple(store.recheck_candidates("s", urls, limit=10, **window))
    assert [key for _, key, _ in facts.due] == ["tass.com/politics/3", "tass.com/politics/1"]


def test_instance_lock_refuses_a_second_holder(tmp_path: Path) -> None:
    first = InstanceLock(tmp_path / "a.db")
    first.acquire()
    with pytest.raises(AlreadyRunning, match="another presswatch process"):
        InstanceLock(tmp_path / "a.db").acquire()
    first.release()
    with InstanceLock(tmp_path / "a.db"):
        pass


def test_an_archive_this_user_may_only_read_is_refused_at_open(tmp_path: Path, monkeypatch) -> None:
    # Seen by an operator: an archive made by root and run by the service's user opened fine,
    # then the first write (recovering interrupted posts) failed as a traceback.
    from storage.backends import SqliteBackend

    Store.open(tmp_path / "a.db").close()
    connect = sqlite3.connect
    # A read-only connection stands in for a file root owns: root itself may write any file.
    monkeypatch.setattr(
        sqlite3, "connect", lambda p, **kw: connect(f"{Path(p).as_uri()}?mode=ro", uri=True, **kw)
    )
    with pytest.raises(StorageError, match=r"a\.db: cannot write the archive \(attempt to write"):
        SqliteBackend(tmp_path / "a.db").open()


def test_the_full_text_index_gathers_large_segments(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "archive.db")
    try:
        config = dict(store.db.execute("select k, v from articles_fts_config").fetchall())
    finally:
        store.close()
    assert config["hashsize"] == 64 * 1024 * 1024


def test_a_missing_pages_wait_keeps_its_first_moment_until_forgotten(store: Store) -> None:
    url = "https://tass.com/politics/404"
    first = store.sources.missing_since("s", url, now=NOW)
    assert first == NOW.replace(microsecond=0)
    assert store.sources.missing_since("s", url, now=NOW + timedelta(hours=2)) == first
    store.sources.page_answered(url)
    later = NOW + timedelta(hours=3)
    assert store.sources.missing_since("s", url, now=later) == later.replace(microsecond=0)


def test_a_missing_pages_row_left_behind_ages_out(store: Store) -> None:
    store.sources.missing_since("s", "https://tass.com/politics/1", now=NOW - timedelta(days=31))
    store.sources.missing_since("s", "https://tass.com/politics/2", now=NOW)
    kept = [r["url_key"] for r in store.db.query("select url_key from missing_pages")]
    assert len(kept) == 1 and kept[0].endswith("/politics/2")


def test_an_articles_rows_name_its_id_and_on_postgresql_need_no_answer_first(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    minhash = signature(shingles("one two three four five six", size=3), num_perm=128)
    store.near_duplicates(now=NOW)
    reasons = [TopicReason("energy", TagKind.TOPIC, 0.5, ("oil",)),
               TopicReason("un", TagKind.ENTITY, 1.0, ("UN",))]  # fmt: skip

    def add(n: int) -> int:
        return store.add_article(
            _article(n), source_key="a", now=NOW, reasons=reasons, minhash=minhash,
            aliases=(f"https://tass.com/old/{n}",), deliveries=[Delivery("main", "@a")],
        )  # fmt: skip

    first = add(1)  # the ids of the next one are not 1, and each table's key is known
    waits = _count_waits(monkeypatch)
    article_id = add(2)
    written = waits()
    named = {
        table: [r[0] for r in store.db.execute(f"select article_id from {table} order by 1")]
        for table in ("article_topics", "signatures", "article_urls", "outbox")
    }
    assert article_id == max(r["id"] for r in store.db.query("select id from articles")) > first
    assert named == {"article_topics": [first] * 2 + [article_id] * 2,
                     "signatures": [first, article_id], "article_urls": [first, article_id],
                     "outbox": [first, article_id]}  # fmt: skip
    assert store.known_url_keys(["https://tass.com/old/2"]) == {"tass.com/old/2"}
    assert article_id in store.near_duplicates(now=NOW).candidates(minhash)
    if is_postgres(store.db):
        # The rows naming the new id go out with its insert: the server is waited for once, as
        # for the arrival's one round trip, not once for the id and once for the rest.
        waits = _count_waits(monkeypatch)
        store.arrival(_article(5).url, None, subscriptions=True)
        assert written == waits() == 1


def _count_waits(monkeypatch: pytest.MonkeyPatch):
    """Count from now the syncs the store's pipelines send (each waits for the server's answers)."""
    import psycopg

    seen, sync = [], psycopg.Pipeline._enqueue_sync
    monkeypatch.setattr(psycopg.Pipeline, "_enqueue_sync", lambda p: seen.append(1) or sync(p))
    return lambda: len(seen)
