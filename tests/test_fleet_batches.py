"""Polls in batches on PostgreSQL: the dispatcher queues a few `presswatch.polls` jobs, one run at
a time, and never a source twice; a worker polls a batch at once, one failing source never
stopping the others; a dead worker's batch is taken over and polls nothing twice. Synthetic feeds
on loopback and synthetic jobs in the test's PostgreSQL."""

from __future__ import annotations

import asyncio
import random
import threading
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from bot.app import open_app
from bot.config import load_config
from bot.service import jobs
from bot.service.fleet import FleetService
from storage.postgres.fleet import Fleet
from tests.fakes.feeds import atom_feed
from tests.fakes.sites import FakeSites
from tests.support.postgres import rows

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
BATCHED = "select args -> 'sources' from procrastinate_jobs where task_name = 'presswatch.polls'"


@pytest.mark.parametrize(
    ("due", "slots", "sizes"),
    [
        (83, 8, [11] * 7 + [6]),  # one worker at 6 s: a batch for each of its 8 slots
        (83, 16, [6] * 13 + [5]),  # two workers: twice the batches, each half the size
        (3, 8, [1, 1, 1]),  # fewer sources than slots: one each, as before batches
        (400, 8, [16] * 25),  # past the cap: more batches than slots wait their turn
        (0, 8, []),
    ],
)
def test_batches_fill_the_live_workers_slots_up_to_the_cap(due, slots, sizes) -> None:
    keys = [f"s{n}" for n in range(due)]
    chunks = jobs.batches(keys, slots=slots)
    assert [len(chunk) for chunk in chunks] == sizes
    assert [key for chunk in chunks for key in chunk] == keys  # each once, in the given order


def _app(archive):
    archive.open().close()  # migrated: procrastinate's tables are there
    return jobs.job_app(archive.url, archive.connection_kwargs)


def test_two_dispatcher_runs_that_overlap_never_queue_a_source_twice(postgres_archive) -> None:
    store = postgres_archive.open()
    fleet = Fleet(store.db)
    every = {f"s{n}": 60 for n in range(10)}
    seconds: list[int] = []

    def second_run() -> None:
        """Another worker's dispatcher, on its own loop and connections, while the first looks."""
        other = _app(postgres_archive)
        other_fleet = Fleet(postgres_archive.open().db)

        async def go() -> int:
            async with other.open_async():
                return await jobs.queue_polls(
                    other, lambda: other_fleet.due_sources(every), slots=4
                )

        seconds.append(asyncio.run(go()))
        other_fleet.db.close()

    def first_look() -> list[str]:
        due = fleet.due_sources(every)
        # Between the first run's look and its defer: without the lock the second run reads
        # the same ten sources as due and queues them all again.
        overlap = threading.Thread(target=second_run)
        overlap.start()
        overlap.join()
        return due

    async def go() -> int:
        app = _app(postgres_archive)
        async with app.open_async():
            first = await jobs.queue_polls(app, first_look, slots=4)
            again = await jobs.queue_polls(app, lambda: fleet.due_sources(every), slots=4)
            return first + again

    try:
        assert (asyncio.run(go()), seconds) == (10, [0])  # the later run finds them all queued
        queued = [key for (chunk,) in rows(postgres_archive.url, BATCHED) for key in chunk]
        assert sorted(queued) == sorted(every)
    finally:
        store.close()


def test_sources_in_a_waiting_or_running_batch_or_an_old_poll_are_not_due(postgres_archive) -> None:
    app = _app(postgres_archive)
    store = postgres_archive.open()

    async def go() -> None:
        async with app.open_async():
            await jobs.defer_batches(app, [["a", "b"], ["c"]])
            worker = await app.job_manager.register_worker()
            await app.job_manager.fetch_job(queues=None, worker_id=worker)  # one batch: doing
            # What a worker of the earlier version queues: one source, locked by its key.
            old = app.tasks["presswatch.poll"].configure(lock="source:d", queueing_lock="poll:d")
            await old.defer_async(source="d")

    try:
        asyncio.run(go())
        status = "select status::text from procrastinate_jobs order by id"
        assert rows(postgres_archive.url, status) == [("doing",), ("todo",), ("todo",)]
        assert Fleet(store.db).due_sources({k: 60 for k in "abcde"}) == ["e"]
    finally:
        store.close()


def _worker_config(folder: Path, sites: FakeSites, url: str, keys: list[str]) -> Path:
    """Write a worker's config: the test's archive, one synthetic feed per key, no channels."""
    sources = "".join(
        f'[[sources]]\nkey = "{key}"\nkind = "feed"\nurl = "{sites.base_url}/{key}.xml"\n'
        'lang = "en"\nevery = "60s"\nbackfill = 1000\nfetch_pages = false\nrobots = false\n\n'
        for key in keys
    )
    path = folder / "worker.toml"
    path.write_text(
        f'channels = []\n[storage]\nurl = "{url}"\n\n[fetch]\nmin_delay_per_host = 0\n'
        "allow_private_addresses = true\nretries = 0\ntimeout = 5\n\n" + sources,
        encoding="utf-8",
    )
    return path


def _serve_feeds(sites: FakeSites, keys: list[str]) -> None:
    """Serve three synthetic entries on each key's feed."""
    for key in keys:
        sites.add(f"/{key}.xml", atom_feed(sites.base_url, key, 3, random.Random(key)),
                  content_type="application/atom+xml")  # fmt: skip


def test_a_batch_with_one_failing_source_polls_the_others(postgres_archive, tmp_path) -> None:
    keys = ["good-1", "broken", "good-2", "raises"]
    with FakeSites() as sites:
        _serve_feeds(sites, ["good-1", "good-2", "raises"])
        sites.add("/broken.xml", "down for maintenance", status=500)
        config = load_config(
            _worker_config(tmp_path, sites, postgres_archive.url, keys), environ={}
        )

        async def go() -> None:
            async with open_app(config, deliver=False) as app:
                service = FleetService(app)
                poll = service._poll_job

                async def failing_poll(source, **kwargs):
                    if source.key == "raises":
                        raise RuntimeError("this source's poll crashed")
                    await poll(source, **kwargs)

                service._poll_job = failing_poll
                await service.polls(keys)  # returns: the job succeeds whatever one poll did

        asyncio.run(go())
    runs = "select source_key, status from runs order by source_key"
    assert rows(postgres_archive.url, runs) == [
        ("broken", "error"),  # recorded against the source that failed
        ("good-1", "ok"),
        ("good-2", "ok"),
    ]
    archived = "select count(*) from articles"
    assert rows(postgres_archive.url, archived) == [(6,)]


def test_a_batch_reads_its_sources_rows_in_one_query(postgres_archive, tmp_path) -> None:
    keys = ["a", "b", "c"]
    with FakeSites() as sites:
        _serve_feeds(sites, keys)
        config = load_config(
            _worker_config(tmp_path, sites, postgres_archive.url, keys), environ={}
        )

        async def go() -> list[str]:
            async with open_app(config, deliver=False) as app:
                service, db, asked = FleetService(app), app.store.db, []
                query = db.query

                def counted(sql, params=None):
                    asked.append(sql) if "from sources where key" in sql else None
                    return query(sql, params)

                db.query = counted
                await service.polls(keys)
                return asked

        asked = asyncio.run(go())
    assert len(asked) == 1  # one round trip for the batch, not one a source
    assert rows(postgres_archive.url, "select count(*) from runs where status = 'ok'") == [(3,)]


def test_a_stalled_batch_is_taken_over_and_polls_nothing_twice(postgres_archive, tmp_path) -> None:
    keys = ["a", "b", "c"]
    with FakeSites() as sites:
        _serve_feeds(sites, keys)
        config = load_config(
            _worker_config(tmp_path, sites, postgres_archive.url, keys), environ={}
        )

        async def go() -> dict:
            async with open_app(config, deliver=False) as app:
                service = FleetService(app)
                manager = service.jobs.job_manager
                async with service.jobs.open_async():
                    await jobs.defer_batches(service.jobs, [keys])
                    dead, living = await manager.register_worker(), await manager.register_worker()
                    await manager.fetch_job(queues=None, worker_id=dead)
                    await service.poll("a")  # the dead worker got through one poll, then died
                    with psycopg.connect(postgres_archive.url, autocommit=True) as conn:
                        conn.execute(
                            "update procrastinate_workers set last_heartbeat = now() - "
                            "%s * interval '1s' where id = %s",
                            (jobs.STALLED + 1, dead),
                        )
                    assert await jobs.take_over(service.jobs) == 1
                    job = await manager.fetch_job(queues=None, worker_id=living)
                    await service.polls(job.task_kwargs["sources"])  # the whole batch again
            return {key: sites.hits(f"/{key}.xml") for key in keys}

        hits = asyncio.run(go())
    assert hits == {"a": 1, "b": 1, "c": 1}  # "a", polled before the death, not polled again
    runs = "select source_key, count(*) from runs group by source_key order by source_key"
    assert rows(postgres_archive.url, runs) == [("a", 1), ("b", 1), ("c", 1)]


def test_a_worker_looks_for_due_chats_after_polls_only_when_it_queued_something(
    postgres_archive, tmp_path
) -> None:
    """Each look is two queries, at most twice a second while polls finish: a poll that stored no
    post and raised no alert (most of them) has nothing to make a chat due."""
    with FakeSites() as sites:
        config = load_config(
            _worker_config(tmp_path, sites, postgres_archive.url, ["a"]), environ={}
        )

    async def until(condition) -> None:
        while not condition():
            await asyncio.sleep(0)  # lets the worker's loop run: a turn, not a guess at a time

    async def go() -> list[int]:
        async with open_app(config, deliver=False, role="run") as app:
            service = FleetService(app)
            looks: list[int] = []

            async def look() -> None:
                looks.append(app.store.tally.total)

            service._defer_deliveries = look
            service._engine = asyncio.get_running_loop().create_future()  # jobs run elsewhere
            serving = asyncio.create_task(service._serve())
            service._wake_relay.set()  # a poll finished and queued nothing
            await until(lambda: not service._wake_relay.is_set())
            app.store.alerts.enqueue(chat_id="-1001", subject="a", kind="down", text="t", now=NOW)
            service._wake_relay.set()  # a poll finished and queued an alert
            await until(lambda: looks)
            service.stop()
            await serving
            service._engine.cancel()
            return looks

    assert asyncio.run(go()) == [1]  # one look, after the alert; none after the first poll
