"""Two PostgreSQL workers storing reprints of one story at the same moment post it once.

Each worker decides from committed rows, outside its write transaction; the storing transaction
then takes locks on the article's near-duplicate keys and looks again. Here worker A's storing
transaction is held open (inside its `also` hook) while worker B decides and carries out; the
releases are synthetic.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Channel, Corrections, config_from_dict
from bot.ingest.enrich import Enricher
from bot.ingest.intake import Intake
from scrapers.models import Article
from storage import Store

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CHANNELS = (Channel("main", "@main"), Channel("second", "@second"))
# A synthetic release: long enough for near-duplicate detection to confirm a reprint.
BODY = (
    "The foreign ministers of the member states met in Minsk on Monday and agreed on a joint "
    "statement on regional security. The statement calls for closer cooperation of the border "
    "services, a common register of threats and yearly exercises of the rapid reaction forces. "
    "The ministers also discussed the preparation of the summit to be held in the autumn and the "
    "budget of the organisation for the next year, the press service of the secretariat said."
)


def _article(source: str, *, preface: str = "") -> Article:
    """Return the synthetic release as a source's page gives it."""
    url = f"https://{source}.example/news/ministers-meet"
    return Article(
        url=url,
        canonical_url=url,
        title="Foreign ministers agree on a joint statement",
        published=NOW,
        lang="en",
        body=preface + BODY,
    )


def _intake(store: Store) -> Intake:
    """Return one worker's intake over its own store (its own connection, its own index)."""
    config = config_from_dict({}, path=Path("p.toml"))
    store.near_duplicates(now=NOW)  # the index a worker loads at its start
    return Intake(
        Enricher(config.enrich, store), store, channels=CHANNELS, corrections=Corrections.EDIT
    )


def _waits_on_a_lock(observer: Store, pid: int) -> bool:
    """Tell whether the server backend `pid` is waiting for a lock."""
    row = observer.db.execute(
        "select wait_event_type from pg_stat_activity where pid = ?", [pid]
    ).fetchone()
    return bool(row) and row[0] == "Lock"


def _race(postgres_archive, first: Article, second: Article) -> tuple[Store, bool]:
    """Let worker A store `first` while worker B decides and stores `second`; return an observer
    and whether B waited for A's locks."""
    store_a, store_b, observer = (postgres_archive.open() for _ in range(3))
    a, b = _intake(store_a), _intake(store_b)
    decision_a = a.decide("source-a", first, post=True, now=NOW)
    decision_b = b.decide("source-b", second, post=True, now=NOW)
    # Both decided from an archive without the story: each plans a post to every chat.
    assert decision_a.plan.story is None and decision_b.plan.story is None
    pid_b = store_b.db.conn.info.backend_pid
    b_done, release, failures, waited = threading.Event(), threading.Event(), [], []

    def run(fn: Callable[[], object], done: threading.Event | None = None) -> None:
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)
        finally:
            if done is not None:
                done.set()

    def worker_b() -> None:
        b.carry_out("source-b", decision_b, now=NOW)

    def hold() -> None:
        # A's transaction is open here; a read on its connection sends what it queued (its
        # locks among it). Let B carry out, and wait until B has stored (it took no lock A
        # holds) or waits for A's locks; then A commits.
        store_a.db.execute("select 1").fetchone()
        threading.Thread(target=run, args=(worker_b, b_done)).start()
        while not b_done.wait(0.01):
            if _waits_on_a_lock(observer, pid_b):
                waited.append(True)
                break
        release.set()

    thread_a = threading.Thread(
        target=run, args=(lambda: a.carry_out("source-a", decision_a, now=NOW, also=hold),)
    )
    thread_a.start()
    thread_a.join(30)
    assert b_done.wait(30), "worker B never finished"
    assert release.is_set() and not failures, failures
    store_a.close()
    store_b.close()
    return observer, bool(waited)


def _stories(observer: Store) -> tuple[list[tuple], list[tuple]]:
    """Return (source, reprint of which source) of each article, and the posts per chat."""
    articles = observer.db.execute(
        "select a.source_key, o.source_key from articles a "
        "left join articles o on o.id = a.duplicate_of order by a.id"
    ).fetchall()
    posts = observer.db.execute(
        "select channel, count(*) from outbox where kind = 'post' group by channel order by 1"
    ).fetchall()
    return [tuple(r) for r in articles], [tuple(r) for r in posts]


def test_two_workers_storing_reprints_at_once_post_the_story_once(postgres_archive) -> None:
    observer, waited = _race(
        postgres_archive,
        _article("source-a"),
        _article("source-b", preface="The press office of the secretariat reports. "),
    )
    try:
        articles, posts = _stories(observer)
    finally:
        observer.close()
    assert posts == [("main", 1), ("second", 1)]
    assert waited, "B stored while A held the story's keys"
    assert articles == [("source-a", None), ("source-b", "source-a")]


def test_two_workers_storing_the_same_text_at_once_post_it_once(postgres_archive) -> None:
    observer, waited = _race(postgres_archive, _article("source-a"), _article("source-b"))
    try:
        articles, posts = _stories(observer)
        similarity = observer.db.execute(
            "select similarity from articles where duplicate_of is not null"
        ).fetchall()
    finally:
        observer.close()
    assert posts == [("main", 1), ("second", 1)]
    assert waited, "B stored while A held the text's hash"
    assert articles == [("source-a", None), ("source-b", "source-a")]
    assert [tuple(r) for r in similarity] == [(1.0,)]


def test_a_worker_learns_the_stories_others_stored_since_its_start(postgres_archive) -> None:
    store_a, store_b = postgres_archive.open(), postgres_archive.open()
    a, b = _intake(store_a), _intake(store_b)  # both indexes loaded before the story came
    try:
        a.store("source-a", _article("source-a"), post=True, now=NOW)
        reprint = _article("source-b", preface="The press office of the secretariat reports. ")
        decision = b.decide("source-b", reprint, post=True, now=NOW)
        assert decision.plan.story is None  # B's index, loaded at its start, lacks A's story
        b.carry_out("source-b", decision, now=NOW)
        articles, posts = _stories(store_b)
        # The next reprint B meets is found in its index at once.
        later = b.decide(
            "source-c", _article("source-c", preface="A reader writes. "), post=True, now=NOW
        )
    finally:
        store_a.close()
        store_b.close()
    assert posts == [("main", 1), ("second", 1)]
    assert articles == [("source-a", None), ("source-b", "source-a")]
    assert later.plan.story is not None and later.plan.posts == ()


def test_a_story_already_posted_is_edited_once_another_worker_stores_its_reprint(
    postgres_archive,
) -> None:
    store_a, store_b = postgres_archive.open(), postgres_archive.open()
    a, b = _intake(store_a), _intake(store_b)
    try:
        a.store("source-a", _article("source-a"), post=True, now=NOW)
        store_a.db.execute("update outbox set state = 'sent', message_id = id + 100")
        reprint = _article("source-b", preface="The press office of the secretariat reports. ")
        b.store("source-b", reprint, post=True, now=NOW)
        queued = store_b.db.execute(
            "select o.kind, o.channel, a.source_key from outbox o "
            "join articles a on a.id = o.article_id where o.state = 'pending' order by o.channel"
        ).fetchall()
    finally:
        store_a.close()
        store_b.close()
    # The story's posts name the reprint's source: an edit each, no new post.
    assert [tuple(r) for r in queued] == [
        ("edit", "main", "source-a"),
        ("edit", "second", "source-a"),
    ]


def test_the_last_try_stores_as_decided_and_says_so(postgres_archive, monkeypatch, caplog) -> None:
    monkeypatch.setattr("bot.ingest.intake._ATTEMPTS", 1)  # the first try is the last
    store_a, store_b = postgres_archive.open(), postgres_archive.open()
    a, b = _intake(store_a), _intake(store_b)
    try:
        a.store("source-a", _article("source-a"), post=True, now=NOW)
        reprint = _article("source-b", preface="The press office of the secretariat reports. ")
        with caplog.at_level(logging.WARNING, logger="bot.ingest.intake"):
            b.store("source-b", reprint, post=True, now=NOW)
        articles, _ = _stories(store_b)
    finally:
        store_a.close()
        store_b.close()
    assert articles == [("source-a", None), ("source-b", None)]  # what B decided, kept
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        "article source-b https://source-b.example/news/ministers-meet: stored as decided after "
        "1 tries: others stored near-duplicates meanwhile"
    ]


def test_a_rolled_back_try_leaves_no_rows_and_nothing_findable(postgres_archive) -> None:
    store_a, store_b = postgres_archive.open(), postgres_archive.open()
    a, b = _intake(store_a), _intake(store_b)
    try:
        a.store("source-a", _article("source-a"), post=True, now=NOW)
        reprint = _article("source-b", preface="The press office of the secretariat reports. ")
        decision = b.decide("source-b", reprint, post=True, now=NOW)
        b.carry_out("source-b", decision, now=NOW)  # its first try rolled back, then a reprint
        stored = {r[0] for r in store_b.db.execute("select id from articles").fetchall()}
        signed = store_b.db.execute("select count(*) from signatures").fetchone()[0]
        outbox = store_b.db.execute("select count(*) from outbox").fetchone()[0]
        found = store_b.near_duplicates(now=NOW).candidates(decision.minhash)
    finally:
        store_a.close()
        store_b.close()
    assert len(stored) == 2 and signed == 2 and outbox == 2  # A's posts only
    assert set(found) == stored  # not the id of the try rolled back


def test_a_worker_asks_what_others_stored_before_deciding_once_a_minute(postgres_archive) -> None:
    store_a, store_b = postgres_archive.open(), postgres_archive.open()
    a, b = _intake(store_a), _intake(store_b)  # B's index loaded (and others asked) at NOW
    try:
        a.store("source-a", _article("source-a"), post=True, now=NOW)
        reprint = _article("source-b", preface="The press office of the secretariat reports. ")
        # Within the minute B does not ask again: its storing transaction would (and re-plan).
        soon = b.decide("source-b", reprint, post=True, now=NOW + timedelta(seconds=30))
        later = b.decide("source-b", reprint, post=True, now=NOW + timedelta(minutes=2))
    finally:
        store_a.close()
        store_b.close()
    assert soon.plan.story is None
    assert later.plan.story is not None and later.plan.posts == ()
