"""Two looks for a dead worker's jobs at once (two dispatcher runs that overlap, or a dispatcher
beside presswatch.recover during an upgrade): the second must not take a job back from the
living worker the first gave it to. Synthetic jobs in the test's PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib

import psycopg
import pytest

from bot.service import jobs
from tests.support.postgres import rows

pytestmark = pytest.mark.postgres


def test_a_look_under_way_keeps_a_second_from_taking_a_job_back(postgres_archive) -> None:
    postgres_archive.open().close()  # migrated: procrastinate's tables are there
    app = jobs.job_app(postgres_archive.url, postgres_archive.connection_kwargs)
    status = "select status::text, worker_id from procrastinate_jobs where args -> 'sources' ? 'a'"

    async def run() -> tuple:
        async with app.open_async():
            manager = app.job_manager
            dead, living = await manager.register_worker(), await manager.register_worker()
            await jobs.defer_batches(app, [["a"]])
            await manager.fetch_job(queues=None, worker_id=dead)
            with psycopg.connect(postgres_archive.url, autocommit=True) as conn:
                conn.execute(
                    "update procrastinate_workers set last_heartbeat = now() - %s * interval '1s' "
                    "where id = %s",
                    (jobs.STALLED + 1, dead),
                )
            read = manager.get_stalled_jobs
            others: list = []

            async def first_reads(**kwargs):
                stalled = await read(**kwargs)
                if not others:  # between the first look's read and its retry: the other look
                    others.append("under way")
                    others.append(await jobs.take_over(app))
                    others.append(await manager.fetch_job(queues=None, worker_id=living))
                return stalled

            manager.get_stalled_jobs = first_reads
            first = await jobs.take_over(app)
            with psycopg.connect(postgres_archive.url) as conn:
                return first, others, conn.execute(status).fetchone(), living

    first, (_, second, fetched), (state, worker), living = asyncio.run(run())
    assert first + second == 1  # taken over once
    # It was: both looks retried it, the living worker's running job went back to "todo", and
    # another worker could fetch it and poll `a` beside it.
    if fetched:
        assert (state, worker) == ("doing", living), (first, second)
    else:
        assert state == "todo"


def test_a_dispatcher_run_takes_over_and_queues_under_both_locks_taken_at_once(
    postgres_archive,
) -> None:
    postgres_archive.open().close()
    app = jobs.job_app(postgres_archive.url, postgres_archive.connection_kwargs)
    batches = "select status::text, count(*) from procrastinate_jobs group by 1 order by 1"
    looks: list[str] = []

    async def run() -> int:
        async with app.open_async():
            manager, pool = app.job_manager, app.connector.pool
            dead = await manager.register_worker()
            await jobs.defer_batches(app, [["a"]])
            await manager.fetch_job(queues=None, worker_id=dead)
            with psycopg.connect(postgres_archive.url, autocommit=True) as conn:
                conn.execute(
                    "update procrastinate_workers set last_heartbeat = now() - %s * interval '1s'",
                    (jobs.STALLED + 1,),
                )
            lend = pool.connection

            @contextlib.asynccontextmanager
            async def lent(*args, **kwargs):
                async with lend(*args, **kwargs) as conn:
                    execute = conn.execute

                    async def counted(sql, *more, **options):
                        looks.append(sql) if "advisory" in str(sql) else None
                        return await execute(sql, *more, **options)

                    conn.execute = counted
                    try:
                        yield conn
                    finally:
                        del conn.execute

            pool.connection = lent
            return await jobs.queue_polls(app, lambda: ["b", "c"], slots=8)

    queued = asyncio.run(run())
    # The dead worker's batch is waiting again and b and c are queued, each once.
    assert (queued, rows(postgres_archive.url, batches)) == (2, [("todo", 3)])
    assert len(looks) == 2  # both locks taken in one statement and let go in one
