"""What workers of one PostgreSQL archive share: Telegram's limits counted for all of them (two
workers' senders against the fake Bot API, which answers 429 past its limits), due sources and
the live workers' heartbeats."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from bot.cli.common import EXIT_FAILED
from bot.cli.main import main
from bot.delivery.fleetpace import FleetPacedSender
from bot.delivery.telegram import Delivered, Message, RetryLater, TelegramSender
from bot.service import fleet, jobs
from bot.service.fleet import FleetService
from scrapers.models import Source
from storage import RunRecord
from storage.postgres.fleet import Fleet, Limits, earliest
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram, RateLimit
from tests.support.cli import presswatch
from tests.support.postgres import new_database, point_at
from tests.support.world import write_config

pytestmark = pytest.mark.postgres
CHAT = "-1001000000001"
# Below the fake's limits by a margin, as the shipped config is below Telegram's (25/s, not 30).
LIMITS = Limits(per_minute=60, interval=0.1, per_second=6)
# The two-worker sends' pace: a request may reach the fake a few hundred ms after its slot on a
# loaded machine, so the fake's limits sit well below this pace (0.05 s against 0.3 s a chat,
# 10 a second against 4), yet two workers pacing alone still break them at once.
SHARED = Limits(per_minute=60, interval=0.3, per_second=4)


@pytest.mark.parametrize(
    ("chat", "bot", "blocked", "expected"),
    [
        ((), (), 0.0, 100.0),  # nothing sent: now
        ((99.95,), (), 0.0, 100.05),  # the chat's interval
        ((), (99.5,) * 6, 0.0, 100.5),  # the bot's second is full
        ((), (99.5,) * 5, 0.0, 100.0),  # one slot left in it
        ((), (), 103.0, 103.0),  # a flood wait
        (tuple(41.0 + i for i in range(60)), (), 0.0, 101.0),  # 60 in the last minute
    ],
)
def test_the_earliest_send(chat, bot, blocked, expected) -> None:
    assert earliest(chat, bot, blocked=blocked, now=100.0, limits=LIMITS) == pytest.approx(expected)


@pytest.fixture
def fleets(postgres_archive):
    """Two workers' views of one archive, each on its own connection."""
    stores = [postgres_archive.open(), postgres_archive.open()]
    yield [Fleet(store.db) for store in stores]
    for store in stores:
        store.close()


async def _send_from_two_workers(
    fake: FakeTelegram, fleets, chats: list[str], limits: Limits = SHARED
) -> list:
    """Send one message to each chat in `chats` from each worker (one sender per fleet) at once."""
    senders = [
        TelegramSender.create(token=DEFAULT_TOKEN, api_base_url=fake.base_url, timeout=5)
        for _ in fleets
    ]
    paced = [
        sender if fleet is None else FleetPacedSender(sender, fleet, limits=limits)
        for sender, fleet in zip(senders, fleets)
    ]
    for sender in senders:
        await sender.start()
    try:
        return await asyncio.gather(
            *(
                p.send(Message(chat_id=chat, text=f"{n} to {chat}"))
                for n, p in enumerate(paced)
                for chat in chats
            )
        )
    finally:
        for sender in senders:
            await sender.close()


@pytest.mark.parametrize(
    ("limits", "chats"),
    [
        # The fake's limits leave room (SHARED) for a loaded machine's delay between a reserved
        # send time and the request's arrival, and still refuse what two workers pacing alone
        # would send (two at once; 18 in a moment).
        (RateLimit(per_chat_per_minute=None, per_chat_min_interval=0.05), [CHAT] * 4),
        (RateLimit(per_chat_per_minute=None, global_per_second=10), [f"-100100000000{n}" for n in range(9)]),
    ],
    ids=["one chat", "the bot"],
)  # fmt: skip
def test_two_workers_keep_telegrams_limits_together(fleets, limits, chats) -> None:
    with FakeTelegram(rate_limit=limits) as fake:
        outcomes = asyncio.run(_send_from_two_workers(fake, fleets, chats))
        assert all(isinstance(o, Delivered) for o in outcomes), [
            o for o in outcomes if not isinstance(o, Delivered)
        ]
        assert fake.throttled == {}
        assert len([c for c in fake.requests if c.method == "sendMessage"]) == 2 * len(chats)


def test_without_the_shared_pace_the_fake_refuses_the_excess(fleets) -> None:
    """The check above can fail: two workers pacing alone break the per-chat limit at once."""
    limits = RateLimit(per_chat_per_minute=None, per_chat_min_interval=0.08)
    with FakeTelegram(rate_limit=limits) as fake:
        outcomes = asyncio.run(_send_from_two_workers(fake, [None, None], [CHAT] * 3))
        assert any(isinstance(o, RetryLater) for o in outcomes)
        assert fake.throttled


def test_a_flood_wait_one_worker_met_holds_the_other(fleets) -> None:
    first, second = fleets
    with FakeTelegram(rate_limit=None) as fake:
        fake.flood_next(1, retry_after=30)
        # Only the first worker sends: with two senders racing, either could meet the flood.
        outcomes = asyncio.run(_send_from_two_workers(fake, [first], [CHAT]))
    assert isinstance(outcomes[0], RetryLater)
    assert second.reserve(CHAT, LIMITS)[0] > 20  # the other worker waits out Telegram's 30 s
    assert second.reserve("-1001000000002", LIMITS)[0] == 0  # other chats go on


def test_due_sources_are_neither_recent_nor_paused_nor_backing_off(postgres_archive) -> None:
    store = postgres_archive.open()
    fleet = Fleet(store.db)
    now = datetime.now(UTC)
    for key, ago in (("fresh", 5), ("stale", 120), ("paused", 120)):
        at = now - timedelta(seconds=ago)
        store.sources.record_run(RunRecord(key, at, at, "ok"))
    store.sources.set_paused("paused", paused=True)
    try:
        every = {"fresh": 60, "stale": 60, "paused": 60, "never": 60}
        assert fleet.due_sources(every) == ["never", "stale"]
        assert store.sources.state("fresh").polled_since(now - timedelta(seconds=30))
        assert not store.sources.state("stale").polled_since(now - timedelta(seconds=30))
        assert not store.sources.state("never").polled_since(now - timedelta(seconds=30))
    finally:
        store.close()


def test_workers_are_live_while_they_beat(postgres_archive) -> None:
    store = postgres_archive.open()
    fleet = Fleet(store.db)
    try:
        fleet.beat("a:1", host="a", pid=1, http="127.0.0.1:9109")
        fleet.beat("b:2", host="b", pid=2)
        store.db.execute(
            "update workers set seen_at = now() - interval '1 minute' where id = 'b:2'"
        )
        assert [(w.id, w.http) for w in fleet.live(within=30)] == [("a:1", "127.0.0.1:9109")]
        fleet.leave("a:1")
        assert [w.id for w in fleet.live(within=120)] == ["b:2"]
    finally:
        store.close()


def test_reload_on_postgresql_says_to_signal_each_worker(tmp_path, postgres_archive) -> None:
    config = tmp_path / "presswatch.toml"
    config.write_text(f'channels = []\n[storage]\nurl = "{postgres_archive.url}"\n', "utf-8")
    result = presswatch("reload", "--config", str(config))
    assert result.returncode == 1, result.stderr
    assert "send SIGHUP to each worker" in result.stderr


def test_the_one_periodic_job_takes_a_dead_workers_poll_over_before_it_dispatches(
    postgres_archive,
) -> None:
    """The dispatcher's run is also the look for stalled jobs: one periodic job where there were
    two, each a defer, a fetch and a finish every few seconds whether or not anything is due."""
    import procrastinate
    import psycopg

    postgres_archive.open().close()  # migrated: procrastinate's tables are there
    app = jobs.job_app(postgres_archive.url, postgres_archive.connection_kwargs)
    periodic = [p.task.name for p in app.periodic_registry.periodic_tasks.values()]
    assert periodic == ["presswatch.dispatch"]
    status = "select status::text from procrastinate_jobs where args -> 'sources' ? 'a'"
    seen: list[tuple] = []

    def due() -> list[str]:
        with psycopg.connect(postgres_archive.url) as conn:
            seen.append(conn.execute(status).fetchone())
        return []

    class Dispatcher:
        async def dispatch(self) -> None:  # as FleetService's: the look for due sources
            await jobs.queue_polls(app, due, slots=1)

    async def run() -> None:
        async with app.open_async():
            manager = app.job_manager
            dead = await manager.register_worker()
            await jobs.defer_batches(app, [["a"]])
            assert (await manager.fetch_job(queues=None, worker_id=dead)).task_kwargs == {
                "sources": ["a"]
            }
            with psycopg.connect(postgres_archive.url, autocommit=True) as conn:
                conn.execute(
                    "update procrastinate_workers set last_heartbeat = now() - %s * interval '1s' "
                    "where id = %s",
                    (jobs.STALLED + 1, dead),
                )
            options = jobs.worker_options(Dispatcher(), name="w", concurrency=1, stop_deadline=1)
            context = procrastinate.JobContext(
                app=app, job=None, start_timestamp=0.0, abort_reason=lambda: None,
                additional_context=options["additional_context"],
            )  # fmt: skip
            await app.tasks["presswatch.dispatch"](context, timestamp=0)

    asyncio.run(run())
    assert seen == [("todo",)]  # queued again, for any worker, before the dispatch looked


def test_a_worker_looks_for_unannounced_jobs_less_often_than_the_dispatcher_wakes_it() -> None:
    """Each dispatcher run's job wakes every worker (NOTIFY) every DISPATCH s, which also picks up
    a job taken over or freed by its lock: a shorter look of its own only adds empty fetches. A
    killed worker's jobs still move within 30 s: silent STALLED s, then two dispatcher runs."""
    options = jobs.worker_options(object(), name="w", concurrency=1, stop_deadline=1)
    assert options["fetch_job_polling_interval"] > jobs.DISPATCH
    assert jobs.STALLED + 2 * jobs.DISPATCH < 30


def test_a_worker_whose_job_engine_stops_exits_1_for_its_supervisor(
    world, tmp_path, postgres, monkeypatch
) -> None:
    """systemd's Restart=on-failure restarts only a failed exit: a worker taking no jobs fails."""
    import procrastinate

    async def engine_stops(self, **options) -> None:
        """Stand for procrastinate's worker ending on its own (e.g. its connection lost)."""

    monkeypatch.setattr(procrastinate.App, "run_worker_async", engine_stops)
    url = new_database(postgres, "presswatch_engine")
    config = point_at(write_config(tmp_path, world), url)
    assert main(["run", "--config", str(config)]) == EXIT_FAILED


def test_a_job_connection_is_checked_with_a_round_trip_only_when_the_server_left_it(
    postgres_archive,
) -> None:
    """A sound idle connection is lent as it is; one whose backend ended is replaced, no error."""
    import psycopg
    import psycopg_pool

    checks: list[int] = []

    async def full_check(connection) -> None:
        checks.append(1)
        await psycopg_pool.AsyncConnectionPool.check_connection(connection)

    async def backend_pid(pool) -> int:
        async with pool.connection() as conn:
            return (await (await conn.execute("select pg_backend_pid()")).fetchone())[0]

    async def run() -> tuple[int, int, int, list[int]]:
        pool = psycopg_pool.AsyncConnectionPool(
            postgres_archive.url, min_size=1, max_size=1, open=False,
            kwargs={"autocommit": True}, check=jobs.QuietCheck(full_check),
        )  # fmt: skip
        async with pool:
            first, again = await backend_pid(pool), await backend_pid(pool)
            quiet = list(checks)
            with psycopg.connect(postgres_archive.url, autocommit=True) as admin:
                admin.execute("select pg_terminate_backend(%s)", (first,))
                gone = "select count(*) from pg_stat_activity where pid = %s"
                while admin.execute(gone, (first,)).fetchone()[0]:
                    await asyncio.sleep(0.01)  # the backend exits after the signal: wait for it
            return first, again, await backend_pid(pool), quiet

    first, again, replaced, quiet = asyncio.run(run())
    assert (again, quiet) == (first, [])  # the same connection, lent with no round trip
    assert replaced != first  # the pool's full check found it broken and opened another
    assert checks == [1]


def test_the_quiet_check_reads_a_connection_numbered_past_select_s_limit() -> None:
    """A busy worker's connection may have a descriptor over 1023, which select() refuses."""
    import os
    import resource
    import socket
    from types import SimpleNamespace

    from psycopg.pq import TransactionStatus

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if max(soft, hard if hard != resource.RLIM_INFINITY else 4096) < 1200:
        pytest.skip("this machine allows too few open files to number one past 1100")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    ours, server = socket.socketpair()
    high = os.dup2(ours.fileno(), 1100)
    idle = SimpleNamespace(info=SimpleNamespace(transaction_status=TransactionStatus.IDLE))
    try:
        idle.fileno = lambda: high
        assert jobs._quiet(idle)
        server.send(b"E")  # the server's farewell: something to read
        assert not jobs._quiet(idle)
    finally:
        os.close(high)
        ours.close()
        server.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_an_overdue_source_is_due_now_not_at_a_time_already_past(monkeypatch) -> None:
    now = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return now

    monkeypatch.setattr(fleet, "datetime", Frozen)
    sources = [
        Source(key=key, name=key, kind="feed", url=f"https://{key}.org/rss", every_seconds=every)
        for key, every in (("overdue", 600), ("waiting", 3600), ("never", 600))
    ]
    last = {"overdue": now - timedelta(hours=3), "waiting": now - timedelta(minutes=20)}
    worker = SimpleNamespace(
        app=SimpleNamespace(
            config=SimpleNamespace(sources=sources),
            store=SimpleNamespace(
                sources=SimpleNamespace(
                    states=lambda keys: {k: SimpleNamespace(last_poll_at=last.get(k)) for k in keys}
                )
            ),
        )
    )
    planned = FleetService.next_polls(worker)
    assert planned == {
        "overdue": now,  # 2 h 50 min overdue: polled at the next dispatch
        "waiting": now + timedelta(minutes=40),
        "never": now,
    }


def test_a_workers_schedule_line_gives_the_interval_as_a_config_writes_it(caplog) -> None:
    source = Source(
        key="tass-com", name="TASS", kind="feed", url="https://t.org/rss", every_seconds=600
    )
    with caplog.at_level(logging.INFO, logger=fleet.log.name):
        FleetService._schedule(SimpleNamespace(), source)
    assert "tass-com: every 10m, polled by whichever worker is free" in caplog.text
