"""The jobs many workers share, on procrastinate: polls, deliveries, the dispatcher and recovery.

    presswatch.dispatch  periodic (every `[workers] dispatch_every`, 2 s by default, one run for
                         all workers; fleet_timing.py holds the periods): run again the
                         jobs of a worker whose heartbeat stopped (SIGKILL, a lost machine), then
                         defer the due sources' polls in batches and a delivery for every chat
                         with due rows
    presswatch.polls     a batch of sources, polled at once by one worker; no job lock: the
                         dispatcher looks and defers one run at a time (advisory lock DISPATCHING)
                         and never counts as due a source named in a batch waiting or under way
    presswatch.poll      one source (what an earlier version queued, during an upgrade); lock
                         "source:KEY", queueing lock "poll:KEY", both still honoured as due
    presswatch.deliver   one chat's due rows and alerts; lock "chat:ID", queueing lock
                         "deliver:ID": one worker sends to a chat at a time, so a post is sent
                         by one worker only, and the outbox's claim refuses a second anyway

Each job calls back into the worker that runs it (bot/service/fleet.py), found in the job's
context; this module only names the jobs and how they are locked.
"""

from __future__ import annotations

import logging
import select
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import procrastinate
import psycopg_pool
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException
from procrastinate.jobs import Status
from psycopg.pq import TransactionStatus

from bot.service.fleet_timing import DISPATCH, FETCH_POLLING, HEARTBEAT, STALLED, cron
from storage.postgres.fleet import DISPATCHING, TAKE_OVER, alone

log = logging.getLogger(__name__)

# A due source waits at most one dispatcher period. A killed worker's sources and chats move
# within fleet_timing.failover_bound: STALLED, the run that takes its jobs over, then the next
# run's insert or a worker's own look (FETCH_POLLING), 14 s with the default 2 s, 30 s with 15 s;
# `presswatch check` and a starting worker warn past 30.
# Every job queued wakes a worker at once (LISTEN/NOTIFY), and so does each dispatcher run's own
# job, every period, which covers the jobs nothing announces (one taken over, one that waited for
# its lock); FETCH_POLLING is the look a worker takes without being told.
# Most sources in one batch of polls. A job round (defer, fetch, finish) costs about 1.3 ms of
# CPU whatever the job holds, so the dispatcher fills each live worker's job slots with one batch
# rather than one poll; the cap keeps a few big batches from landing on one worker while another
# joins idle, and bounds what a stalled batch's retry reads again.
BATCH = 16
_FLEET = "fleet"


class Worker(Protocol):
    """What a job needs of the worker that runs it (bot/service/fleet.py's FleetService)."""

    async def dispatch(self) -> None: ...

    async def poll(self, key: str) -> None: ...

    async def polls(self, keys: list[str]) -> None: ...

    async def deliver(self, chat: str) -> None: ...


def job_app(url: str, kwargs: dict[str, Any], *, every: int = DISPATCH) -> procrastinate.App:
    """Return the procrastinate app of the archive at `url`, with every presswatch job and the
    dispatcher every `every` s (one of fleet_timing.PERIODS)."""
    # Each of procrastinate's statements is one function call, whole by itself: in autocommit, not
    # wrapped in BEGIN and COMMIT (two round trips saved on every defer, fetch and finish). Set
    # after connecting, since its listening connection passes autocommit itself.
    options = {key: value for key, value in kwargs.items() if key != "autocommit"}
    connector = procrastinate.PsycopgConnector(
        conninfo=url,
        kwargs=options,
        min_size=1,
        max_size=4,
        name="presswatch-jobs",
        configure=_autocommit,
        pool_factory=_pool,
    )
    app = procrastinate.App(connector=connector)

    # One periodic job: each costs a defer by every worker, a fetch and a finish on every run,
    # whether or not anything is due (a second one, every 3 s, took a fifth of an idle worker's).
    # Its cron is fixed here, at the app's making: a new period takes a restart (fleet.py).
    @app.periodic(cron=cron(every), periodic_id="dispatch")
    @app.task(name="presswatch.dispatch", pass_context=True, queueing_lock="dispatch")
    async def dispatch(context: procrastinate.JobContext, timestamp: int) -> None:
        await _worker(context).dispatch()  # a dead worker's jobs first: see queue_polls

    # No longer periodic: runs what a worker of an earlier version queued, during an upgrade.
    @app.task(name="presswatch.recover", pass_context=True, queueing_lock="recover")
    async def recover(context: procrastinate.JobContext, timestamp: int) -> None:
        await take_over(app)

    @app.task(name="presswatch.polls", pass_context=True)
    async def polls(context: procrastinate.JobContext, sources: list[str]) -> None:
        await _worker(context).polls(sources)

    # No longer deferred: runs what a worker of an earlier version queued, during an upgrade.
    @app.task(name="presswatch.poll", pass_context=True)
    async def poll(context: procrastinate.JobContext, source: str) -> None:
        await _worker(context).poll(source)

    @app.task(name="presswatch.deliver", pass_context=True)
    async def deliver(context: procrastinate.JobContext, chat: str) -> None:
        await _worker(context).deliver(chat)

    return app


async def _autocommit(connection: Any) -> None:
    """Put a new connection of procrastinate's pool in autocommit."""
    await connection.set_autocommit(True)


def _pool(**options: Any) -> psycopg_pool.AsyncConnectionPool:
    """Return procrastinate's pool, its connections checked by `QuietCheck` before each loan."""
    return psycopg_pool.AsyncConnectionPool(**(options | {"check": QuietCheck()}))


class QuietCheck:
    """A pool's check that makes its round trip only for a connection that may be broken.

    procrastinate asks for psycopg_pool's check: an empty query before each defer, fetch and
    finish, two or three round trips of every poll (5 % of a busy worker's own samples, and a
    wake-up of the server for each). An idle connection whose socket holds nothing to read is sound as far as a
    round trip could tell: a server that stops, restarts or ends the backend (shutdown,
    pg_terminate_backend, a crash) sends its error or closes the socket, which makes it
    readable, and then the full check runs, fails, and the pool lends a new connection.
    """

    def __init__(self, check: Callable[[Any], Awaitable[None]] | None = None) -> None:
        self._check = check or psycopg_pool.AsyncConnectionPool.check_connection

    async def __call__(self, connection: Any) -> None:
        """Return quietly for a sound connection; raise (from the full check) for a broken one."""
        if connection.closed or not _quiet(connection):
            await self._check(connection)


def _quiet(connection: Any) -> bool:
    """Tell whether a connection is idle outside a transaction with nothing waiting to be read."""
    if connection.info.transaction_status != TransactionStatus.IDLE:
        return False
    # poll, not select: select() refuses a descriptor numbered 1024 or more (a busy worker's).
    waiting = select.poll()
    waiting.register(connection.fileno(), select.POLLIN)
    return not waiting.poll(0)


def worker_options(worker: Worker, *, name: str, concurrency: int, stop_deadline: float) -> dict:
    """Return how a presswatch worker runs procrastinate's (signals stay the service's own)."""
    return {
        "name": name,
        "concurrency": concurrency,
        "additional_context": {_FLEET: worker},
        "install_signal_handlers": False,  # SIGTERM drains through the service (scheduler.py)
        "update_heartbeat_interval": HEARTBEAT,
        "stalled_worker_timeout": STALLED,
        "fetch_job_polling_interval": FETCH_POLLING,
        "delete_jobs": "successful",  # the table keeps failures only, for the operator
        "shutdown_graceful_timeout": stop_deadline,
    }


def batches(keys: Sequence[str], *, slots: int, cap: int = BATCH) -> list[list[str]]:
    """Split due sources into batches of polls: one for each of `slots` job slots, at most `cap`."""
    size = min(cap, max(1, -(-len(keys) // max(1, slots))))  # the ceiling of keys / slots
    return [list(keys[start : start + size]) for start in range(0, len(keys), size)]


async def queue_polls(
    app: procrastinate.App, due: Callable[[], Sequence[str]], *, slots: int
) -> int:
    """Run again the jobs of dead workers (take_over), then look for due sources and queue their
    polls in batches; return how many sources were queued.

    One run of each at a time for all workers, each under its lock, both taken in one round trip
    on one connection: two dispatcher runs that overlapped would both read a source as due before
    either's batch exists, and queue it twice. A run that finds a lock taken leaves that part to
    the run under way (the next run looks again).
    """
    async with app.connector.pool.connection() as conn:  # autocommit: the locks are the session's
        async with alone(conn, TAKE_OVER, DISPATCHING) as (taking, dispatching):
            if taking:
                # First, so that a dead worker's polls are queued again before due ones are looked
                # for; a failed take-over must not stop the polls.
                try:
                    await _retry_stalled(app.job_manager)
                except Exception:  # noqa: BLE001 - logged; the next run looks again
                    log.exception("the look for dead workers' jobs failed")
            if not dispatching:
                return 0
            chunks = batches(due(), slots=slots)
            # Committed before the lock is let go: the next run's look already sees these.
            await defer_batches(app, chunks)
            return sum(map(len, chunks))


async def defer_batches(app: procrastinate.App, chunks: Sequence[Sequence[str]]) -> None:
    """Queue one batch-of-polls job for each chunk of source keys, all in one statement."""
    if chunks:
        deferrer = app.tasks["presswatch.polls"].configure()
        made = [deferrer.make_new_job(sources=list(chunk)) for chunk in chunks]
        await app.job_manager.batch_defer_jobs_async(made)


async def defer_delivery(app: procrastinate.App, chat: str) -> bool:
    """Queue a delivery to a chat unless one is waiting already; return True when queued."""
    task = app.tasks["presswatch.deliver"]
    deferrer = task.configure(lock=f"chat:{chat}", queueing_lock=f"deliver:{chat}")
    try:
        await deferrer.defer_async(chat=chat)
    except AlreadyEnqueued:
        return False
    return True


async def take_over(app: procrastinate.App) -> int:
    """Run again the jobs of workers whose heartbeat stopped; return how many were taken over.

    One look at a time for all workers: procrastinate's retry resets any job still "doing", so a
    second look that read the same stalled job would take it back from the living worker that
    took it over meanwhile, freeing its lock "source:KEY" for a second poll. A look that finds
    another under way leaves it to that one (the next dispatcher run looks again).
    """
    async with app.connector.pool.connection() as conn:  # autocommit: the lock is the session's
        async with alone(conn, TAKE_OVER) as (held,):
            return await _retry_stalled(app.job_manager) if held else 0


async def _retry_stalled(manager: Any) -> int:
    """Queue again each job of a dead worker; close one whose queueing lock a newer one holds.

    That newer one (the dispatcher queued it meanwhile) does the work; closing this as failed
    frees its lock.
    """
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED)
    for job in stalled:
        try:
            await manager.retry_job(job)
        except ConnectorException:
            await manager.finish_job(job, status=Status.FAILED, delete_job=False)
        log.warning("took over %s %s from a worker that stopped", job.task_name, job.task_kwargs)
    return len(stalled)


def _worker(context: procrastinate.JobContext) -> Worker:
    """Return the worker running a job (procrastinate passes it in the job's context)."""
    return context.additional_context[_FLEET]
