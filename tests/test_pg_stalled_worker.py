"""A PostgreSQL worker that stalls mid-transaction never stalls the fleet.

Worker A stalls inside its storing transaction (a synthetic stall: a hook in the run's write,
which its last new article's transaction makes, waits), holding that article's near-duplicate
keys and its source's row. Worker B polls a source carrying the same text (a reprint), or the
same source (as after taking A's jobs over), and another: it waits at most lock_timeout for A's
locks, says in one line which article was not stored and why, stores the other source's articles,
and its next poll, once A's transaction has ended, stores the article once and the relay posts
it once. A worker whose transaction the server
ended (idle_in_transaction_session_timeout) goes on over a fresh connection. Synthetic feeds on
loopback, the fake Bot API, the session's PostgreSQL server.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from bot.app import poll_context
from bot.config import Config, config_from_dict
from bot.delivery.publish import Relay
from bot.delivery.telegram import TelegramSender
from bot.ingest.poll import poll_source
from scrapers.fetch import Fetcher, make_client
from storage import RunRecord, StorageError, Store
from storage.busy import ArchiveBusy
from storage.sources import Sources
from tests.fakes.sites import FakeSites
from tests.fakes.telegram import DEFAULT_TOKEN
from tests.support.ministry import TOPICS
from tests.support.postgres import rows

pytestmark = pytest.mark.postgres

BOUND = 60.0  # seconds a poll may take before the test calls it stuck: many lock_timeouts
RSS = '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'


def _item(base: str, n: int, *, path: str = "news") -> str:
    """Return synthetic release n as an RSS item with its full text (no near-duplicate of another)."""
    topic = TOPICS[n % len(TOPICS)]
    text = " ".join(f"Delegates discussed {topic} in round {n}.{k} of the talks." for k in range(9))
    published = format_datetime(datetime.now(UTC) - timedelta(minutes=n))
    return (
        f"<item><title>Release {n} on {topic}</title><link>{base}/{path}/{n}</link>"
        f"<content:encoded><![CDATA[<p>{text}</p>]]></content:encoded>"
        f"<pubDate>{published}</pubDate></item>"
    )


def _feeds(sites: FakeSites) -> Config:
    """Serve feed "held" (release 1), feed "other" (releases 2 and 3) and feed "wire" (release 1
    again, its own address: a reprint of its text); return their config."""
    feeds = {"held": (1,), "other": (3, 2), "wire": (1,)}
    for key, numbers in feeds.items():
        path = "wire" if key == "wire" else "news"
        items = "".join(_item(sites.base_url, n, path=path) for n in numbers)
        sites.add(f"/{key}.xml", f"{RSS}<channel><title>{key}</title>{items}</channel></rss>",
                  content_type="application/rss+xml")  # fmt: skip
    sources = [
        {
            "key": key,
            "kind": "feed",
            "url": f"{sites.base_url}/{key}.xml",
            "robots": False,
            "fetch_pages": False,
            "backfill": 5,
        }  # fmt: skip
        for key in feeds
    ]
    return config_from_dict(
        {
            "storage": {"url": "postgresql://unused@/unused"},  # the stores are the test's
            "fetch": {"min_delay_per_host": 0, "allow_private_addresses": True, "retries": 0},
            "channels": [{"name": "main", "chat_id": "@main"}],
            "sources": sources,
        },
        path=Path("presswatch.toml"),
    )


def _poll(config: Config, store: Store, *keys: str) -> list[RunRecord]:
    """Poll the sources `keys` once into `store`, as one worker's loop does; return their runs."""

    async def go() -> list[RunRecord]:
        async with make_client(config.fetch) as client:
            ctx = poll_context(config, fetcher=Fetcher(client, config.fetch), store=store)
            return list(await asyncio.gather(*(poll_source(config.source(k), ctx) for k in keys)))

    return asyncio.run(go())


def _deliver(config: Config, store: Store, telegram) -> None:
    """Send every due post through the real relay to the fake Bot API."""

    async def go() -> None:
        sender = TelegramSender.create(
            token=DEFAULT_TOKEN, api_base_url=telegram.base_url, timeout=5
        )
        await sender.start()
        try:
            await Relay(store=store, sender=sender, config=config.delivery).deliver_due()
        finally:
            await sender.close()

    asyncio.run(go())


def _stall(monkeypatch, store: Store, stalled: Callable[[], None]) -> threading.Event:
    """Make `store`'s worker run `stalled` inside its first poll's last storing transaction, its
    locks taken; return the event set once it stalls there."""
    record, inside = Sources.record_run, threading.Event()

    def stalling(self: Sources, run, **kwargs) -> None:
        record(self, run, **kwargs)
        if self.db is store.db and not inside.is_set():
            self.db.execute("select 1").fetchone()  # sends what the pipeline queued: the locks
            inside.set()
            stalled()

    monkeypatch.setattr(Sources, "record_run", stalling)
    return inside


def _stored(url: str, title: str) -> tuple[int, int]:
    """Return how many articles have this title, and how many posts to chats were queued for them."""
    articles = rows(url, "select count(*) from articles where title = %s", title)[0][0]
    posts = rows(
        url,
        "select count(*) from outbox o join articles a on a.id = o.article_id "
        "where a.title = %s and o.kind = 'post'",
        title,
    )[0][0]
    return articles, posts


@pytest.mark.parametrize("stalled_on", ["wire", "held"])
def test_a_stalled_workers_locks_fail_anothers_store_within_the_bound_and_lose_nothing(
    postgres_archive, telegram, monkeypatch, caplog, stalled_on
) -> None:
    store_a, store_b = postgres_archive.open(), postgres_archive.open()
    release = threading.Event()

    def stall_then_end() -> None:
        release.wait(BOUND * 2)
        raise RuntimeError("synthetic: worker A's transaction ends here, rolled back")

    inside = _stall(monkeypatch, store_a, stall_then_end)
    with FakeSites() as sites:
        config = _feeds(sites)
        worker_a = threading.Thread(target=_poll, args=(config, store_a, stalled_on))
        worker_a.start()
        assert inside.wait(BOUND), "worker A never reached its storing transaction"
        first: list[list[RunRecord]] = []
        with caplog.at_level(logging.WARNING, logger="bot.ingest.intake"):
            worker_b = threading.Thread(
                target=lambda: first.append(_poll(config, store_b, "held", "other"))
            )
            worker_b.start()
            worker_b.join(BOUND)
            stuck = worker_b.is_alive()
            release.set()  # worker A's transaction ends (rolled back): its locks go
            worker_a.join(BOUND)
            worker_b.join(BOUND)
        assert not stuck, "worker B waited for worker A's locks without bound"
        held, other = first[0]
        second = _poll(config, store_b, "held")
        _deliver(config, store_b, telegram)
    store_a.close()
    store_b.close()
    busy = [r.getMessage() for r in caplog.records if "archive busy" in r.getMessage()]
    if stalled_on == "held":  # the run's own write met A's row lock too: one warning for it
        assert [line for line in busy if line.startswith("poll held ")] == [
            f"poll held {sites.base_url}/held.xml: could not record the run: archive busy: another "
            "worker holds a lock this write needs (lock_timeout 5 s); recorded at the next poll"
        ]
    assert [line for line in busy if line.startswith("article ")] == [
        f"article held {sites.base_url}/news/1: archive busy: another worker holds a lock this "
        "write needs (lock_timeout 5 s); not stored, retried next poll"
    ]
    # One warning, not also an "unexpected … failed" line with a traceback.
    assert not [r for r in caplog.records if isinstance(r.exc_info and r.exc_info[1], ArchiveBusy)]
    if stalled_on == "wire":  # a reprint: the article waited for A's near-duplicate keys
        assert held.status == "partial" and held.error.startswith(
            f"{sites.base_url}/news/1: archive busy: "
        )
    else:  # the same source: its run's write waited for A's write of the source's row too
        assert held.status == "error" and held.error.startswith("archive error: ")
    assert held.error.endswith("archive busy: another worker holds a lock this write needs "
                               "(lock_timeout 5 s)")  # fmt: skip
    assert (other.status, other.new_articles) == ("ok", 2)
    assert (second[0].status, second[0].new_articles) == ("ok", 1)
    title = "Release 1 on grain exports"
    assert _stored(postgres_archive.url, title) == (1, 1)
    assert sum(title in m.plain for m in telegram.messages) == 1


def _until_ended(url: str, pid: int) -> None:
    """Wait until the server backend `pid` is gone (the worker stalls until its session ends)."""
    ask = "select count(*) from pg_stat_activity where pid = %s"
    for _ in range(int(BOUND / 0.05)):
        if not rows(url, ask, pid)[0][0]:
            return
        threading.Event().wait(0.05)
    raise AssertionError(f"server backend {pid} was never ended")


def test_a_worker_stalled_past_the_idle_bound_is_named_by_the_worker_it_blocks(
    postgres_archive, telegram, monkeypatch, caplog
) -> None:
    # The idle bound, shortened: A's stall outlasts it before B's lock wait runs out. A stalls
    # polling the source B takes over; its storing transaction is pipelined, which the server's
    # idle timeout never sees (storage/postgres/stalled.py): B names it, the operator ends it.
    monkeypatch.setattr("storage.busy.IDLE_TIMEOUT_SECONDS", 1)
    store_a, store_b = postgres_archive.open(), postgres_archive.open()
    pid_a = store_a.db.conn.info.backend_pid
    inside = _stall(monkeypatch, store_a, lambda: _until_ended(postgres_archive.url, pid_a))
    with FakeSites() as sites:
        config = _feeds(sites)
        stalled: list[list[RunRecord]] = []
        worker_a = threading.Thread(target=lambda: stalled.append(_poll(config, store_a, "held")))
        worker_a.start()
        assert inside.wait(BOUND), "worker A never reached its storing transaction"
        with caplog.at_level(logging.WARNING):
            [held, other] = _poll(config, store_b, "held", "other")
            rows(postgres_archive.url, "select pg_terminate_backend(%s)", pid_a)  # as advised
            worker_a.join(BOUND)
        assert not worker_a.is_alive(), "worker A's transaction was never ended"
        [second] = _poll(config, store_b, "held")
        [known] = _poll(config, store_a, "held")  # A goes on, over a fresh connection
        _deliver(config, store_b, telegram)
    store_a.close()
    store_b.close()
    named = [r.getMessage() for r in caplog.records if "pg_terminate_backend" in r.getMessage()]
    assert len(named) == 1 and named[0].endswith(
        f"(server pid {pid_a}, from a local socket): if that worker is stalled, end it with "
        f"`select pg_terminate_backend({pid_a})`"
    )
    assert held.status == "error" and "archive busy" in held.error  # its row held too, unended
    assert (other.new_articles, second.new_articles) == (2, 1)
    assert stalled[0][0].status == "partial" and (known.status, known.new_articles) == ("ok", 0)
    title = "Release 1 on grain exports"
    assert _stored(postgres_archive.url, title) == (1, 1)
    assert sum(title in m.plain for m in telegram.messages) == 1


def test_a_worker_whose_transaction_the_server_ended_goes_on(postgres_archive, telegram) -> None:
    store = postgres_archive.open()
    pid = store.db.conn.info.backend_pid
    # The server's bound, shortened for this session: the stall outlasts it.
    store.db.execute("set idle_in_transaction_session_timeout = '300ms'")
    with pytest.raises(StorageError) as ended, store.db.atomic():
        store.db.execute("select 1").fetchone()
        _until_ended(postgres_archive.url, pid)  # the worker stalls (SIGSTOP, a paused VM)
        store.db.execute("select 1").fetchone()
    with FakeSites() as sites:
        config = _feeds(sites)
        [again] = _poll(config, store, "held")  # the same worker, no restart
        _deliver(config, store, telegram)
    store.close()
    assert "idle_in_transaction_session_timeout (60 s), the worker stalled" in str(ended.value)
    assert (again.status, again.new_articles) == ("ok", 1)
    title = "Release 1 on grain exports"
    assert _stored(postgres_archive.url, title) == (1, 1)
    assert sum(title in m.plain for m in telegram.messages) == 1


def test_a_worker_whose_wait_ran_out_never_ends_an_export_its_reader_pauses(
    postgres_archive, monkeypatch, caplog
) -> None:
    # `presswatch export | less`: the stream's transaction waits for its reader, as long as a
    # person reads (the idle bound, shortened to nothing, is long past). A worker's lock wait
    # runs out meanwhile: it names that session, and the export reads on.
    import psycopg

    monkeypatch.setattr("storage.busy.IDLE_TIMEOUT_SECONDS", 0)
    exporter, worker = postgres_archive.open(), postgres_archive.open()
    reader = exporter.db.stream("select generate_series(1, 3)")
    first = next(reader)
    pid = exporter.db.conn.info.backend_pid
    with psycopg.connect(postgres_archive.url) as holder:  # another worker, its lock held
        holder.execute("select pg_advisory_xact_lock(28772, 99)")
        with caplog.at_level(logging.WARNING), pytest.raises(StorageError, match="archive busy"):
            with worker.db.atomic():
                worker.db.execute("select pg_advisory_xact_lock(28772, 99)")
    assert [first, *reader] == [(1,), (2,), (3,)]
    exporter.close()
    worker.close()
    named = [r.getMessage() for r in caplog.records if f"server pid {pid}," in r.getMessage()]
    assert len(named) == 1 and named[0].startswith("archive: a transaction silent for ")
    assert named[0].endswith(
        f"s may hold the locks (server pid {pid}, from a local socket): if that worker is "
        f"stalled, end it with `select pg_terminate_backend({pid})`"
    )


def test_a_send_whose_pace_another_worker_holds_goes_once_that_worker_is_ended(
    postgres_archive,
) -> None:
    # Another worker holds the bot's send pace (its transaction stalled): this worker's wait runs
    # out. Its post, already claimed `sending`, waits as for a slot and goes once the holder
    # ends: sent once, never left to look uncertain (an exception here left it `sending`).
    import psycopg

    from bot.delivery.fleetpace import FleetPacedSender
    from bot.delivery.telegram import Delivered, Message
    from storage.postgres.fleet import Fleet, Limits
    from tests.fakes.telegram import FakeTelegram

    store, waited = postgres_archive.open(), threading.Event()
    seen = logging.Handler()
    seen.emit = lambda record: waited.set() if "send pace" in record.getMessage() else None
    logging.getLogger("storage.postgres.fleet").addHandler(seen)
    outcome: list = []

    async def send(fake: FakeTelegram) -> None:
        sender = TelegramSender.create(token=DEFAULT_TOKEN, api_base_url=fake.base_url, timeout=5)
        await sender.start()
        try:
            paced = FleetPacedSender(sender, Fleet(store.db), limits=Limits(60, 0.1, 6))
            outcome.append(await paced.send(Message(chat_id="-1001000000001", text="held")))
        finally:
            await sender.close()

    try:
        with FakeTelegram(rate_limit=None) as fake:
            with psycopg.connect(postgres_archive.url) as holder:
                holder.execute("insert into send_pace (key) values ('bot') on conflict do nothing")
                worker = threading.Thread(target=lambda: asyncio.run(send(fake)))
                worker.start()
                assert waited.wait(BOUND), "the send never met the held pace"
            worker.join(BOUND)  # the holder's transaction ended with its connection
            sent = [c for c in fake.requests if c.method == "sendMessage"]
    finally:
        logging.getLogger("storage.postgres.fleet").removeHandler(seen)
        store.close()
    assert not worker.is_alive(), "the send never went after the pace was freed"
    assert [type(o) for o in outcome] == [Delivered] and len(sent) == 1
