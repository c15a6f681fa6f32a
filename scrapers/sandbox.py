"""Parsing of untrusted documents in worker processes, each job under a deadline and a memory cap.

A regular expression that backtracks, a parser quadratic in some input or a document that needs
gigabytes then holds one worker, never the event loop: its caller stops waiting at the deadline,
the worker is killed and replaced, and the caller gets TooSlowToParse. Workers are forked from a
server process that imported only the parsers (scrapers/workers.py), each with an address-space
limit; only plain data crosses (bytes and str in, frozen dataclasses out), errors as their class
and message.

A caller may give the sandbox a `Finish`: what it computes from each article a job reads
(the bot's enrichment), built once in the fork server so every worker shares it, and applied in
the worker that extracted the article (`run_finished`), off the caller's core. Scrapers never
imports the caller: the Finish arrives pickled, by the name of its class.

`InProcess` runs the same jobs in a thread of this process, without deadline or limit: for unit
tests and one-off commands, never for the service.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import pickle
import signal
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any, Protocol, TypeVar

from . import errors
from .errors import ParseError, ParserFailed, TooLargeToParse, TooSlowToParse
from .models import Article
from .outcomes import call
from .workers import ForkServer

log = logging.getLogger(__name__)

T = TypeVar("T")
_MAX_WORKERS = 4  # parsing is a small share of a poll; more workers would only cost memory
# A worker that grew past this after a job (glibc keeps what a 5 MB page needed) is replaced.
_RECYCLE_RSS = 160 * 2**20
_INLINE_SEND = 64 * 1024  # a job this small is written to its worker's socket from the loop


class Finish(Protocol):
    """What a caller computes from each article where it was read (picklable, by class name)."""

    def __call__(self, article: Article) -> Any:
        """Return what the caller wants in the article's place."""

    def warm(self) -> None:
        """Load what a first call would load (in the fork server, so every worker shares it)."""


class Parser(Protocol):
    """Where a poll parses what it fetched: a Sandbox, or InProcess in tests."""

    async def run(self, label: str, job: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Return job(*args, **kwargs); raise only ParseError (`label` names the document)."""

    async def run_finished(self, label: str, job: Callable[..., Any], /, *args, **kwargs) -> Any:
        """Return job(*args, finish=<the Finish or None>, **kwargs), as run does."""

    def finish_with(self, finish: Finish | None) -> None:
        """Apply `finish` to the articles of later run_finished jobs."""

    def close(self) -> None:
        """Stop the workers, if any."""


class InProcess:
    """Run parsing jobs in a thread of this process, with no deadline: tests and dry runs only."""

    def __init__(self, finish: Finish | None = None) -> None:
        self.finish = finish

    async def run(self, label: str, job: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Return job(*args, **kwargs) computed in a thread; raise only ParseError."""
        return unwrap(label, await asyncio.to_thread(call, job, args, kwargs))

    async def run_finished(self, label: str, job: Callable[..., Any], /, *args, **kwargs) -> Any:
        """Return job(*args, finish=self.finish, **kwargs) computed in a thread, as run does."""
        return await self.run(label, job, *args, finish=self.finish, **kwargs)

    def finish_with(self, finish: Finish | None) -> None:
        """Apply `finish` to the articles of later run_finished jobs."""
        self.finish = finish

    def close(self) -> None:
        """Nothing to stop."""


class Sandbox:
    """A few worker processes that parse untrusted documents, each job under a deadline."""

    def __init__(
        self,
        *,
        deadline: float,
        memory_mb: int,
        workers: int = 0,
        server: ForkServer | None = None,
        finish: Finish | None = None,
    ) -> None:
        # `server`: a fork server to share (tests start one for many sandboxes); by default the
        # sandbox starts its own on first use and stops it on close.
        self.deadline, self.memory_mb = deadline, memory_mb
        # Two at least, even on one core: a document stuck until its deadline must leave a
        # worker for the other sources.
        self.size = workers or max(2, min(_MAX_WORKERS, len(os.sched_getaffinity(0))))
        self._server, self._own_server = server or ForkServer(), server is None
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        # Callers waiting for an idle worker, and for a worker's answer: close() cancels them.
        self._waiters: deque[asyncio.Future] = deque()
        self._answers: set[asyncio.Future] = set()
        self._starting: asyncio.Lock | None = None
        self._closed = False
        self._finish = _Pickled(finish)

    async def start(self) -> None:
        """Start the workers, off the event loop (the fork server's first start takes a second)."""
        self._starting = self._starting or asyncio.Lock()
        async with self._starting:
            while len(self._all) < self.size and not self._closed:
                self._release(await asyncio.to_thread(self._spawn))

    async def run(self, label: str, job: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Return job(*args, **kwargs) computed by a worker within the deadline.

        Raises TooSlowToParse past the deadline, TooLargeToParse past the memory cap,
        ParserFailed when the job raised an unexpected error or its worker died, and the
        job's own ParseError otherwise; CancelledError when the sandbox is closed meanwhile.
        """
        return await self._run(label, (job, args, kwargs, False))

    async def run_finished(self, label: str, job: Callable[..., Any], /, *args, **kwargs) -> Any:
        """Return job(*args, finish=<the Finish>, **kwargs) computed by a worker, as run does.

        The worker applies the Finish it was forked with; an error it raises fails the job
        (ParserFailed), like any unexpected error of the job's own.
        """
        return await self._run(label, (job, args, kwargs, True))

    def finish_with(self, finish: Finish | None) -> None:
        """Apply `finish` to later jobs: idle workers with another are replaced now, busy ones
        when their job ends (a job under way keeps the Finish it started with)."""
        pickled = _Pickled(finish)
        if pickled.key == self._finish.key:
            return
        self._finish = pickled
        # No waiter can be queued while workers are idle, and the next job starts new workers.
        for worker in [w for w in self._idle if w.finish_key != pickled.key]:
            self._idle.remove(worker)
            self._retire(worker)

    async def _run(self, label: str, request: tuple) -> Any:
        """Have a worker run a request (job, args, kwargs, finished) within the deadline."""
        if len(self._all) < self.size:
            await self.start()
        worker = await self._acquire(label)
        try:
            outcome = await self._exchange(worker, request)
        except TimeoutError:
            self._replace(worker)
            raise TooSlowToParse(
                f"{label}: too slow to parse (over {self.deadline:g}s; its worker was stopped)"
            ) from None
        except (EOFError, OSError) as exc:
            worker.alive = False  # its pid may be another process's by now: never kill it
            self._replace(worker)
            raise ParserFailed(f"{label}: the parsing worker died ({_death(exc)})") from None
        except BaseException:
            self._replace(worker)  # cancelled mid-job: the worker's state is unknown
            raise
        *outcome, logged, size = outcome
        if outcome[0] == "memory" or size > _RECYCLE_RSS or worker.finish_key != self._finish.key:
            self._replace(worker)
        else:
            self._release(worker)
        for name, level, message in logged:
            logging.getLogger(name).log(level, "%s", message)
        return unwrap(label, tuple(outcome))

    def processes(self) -> list[int]:
        """Return the process ids of the fork server and the workers (to measure or place them)."""
        server = [self._server.pid] if self._server.pid is not None else []
        return server + [worker.pid for worker in self._all if worker.alive]

    def close(self) -> None:
        """Kill every worker at once, busy or idle, and cancel the jobs waiting on them."""
        self._closed = True
        for waiting in (*self._waiters, *self._answers):
            waiting.cancel()
        for worker in list(self._all):
            self._retire(worker)
        self._idle.clear()
        if self._own_server:
            self._server.stop()

    async def _acquire(self, label: str) -> _Worker:
        """Return an idle worker, waiting for one to come free."""
        while not self._idle:
            if self._closed:
                raise ParserFailed(f"{label}: not parsed, the parsing workers are stopped")
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        return self._idle.pop()

    async def _exchange(self, worker: _Worker, request: tuple) -> tuple:
        """Send a job to a worker and wait for its outcome, without blocking the event loop."""
        payload = ForkingPickler.dumps(request)
        if len(payload) <= _INLINE_SEND:
            worker.conn.send_bytes(payload)  # fits the socket's buffer: never blocks
        else:
            # A page may be megabytes: the send waits for the worker to read it, which on a
            # busy machine waits for the worker to be scheduled; the event loop must not.
            await asyncio.to_thread(worker.conn.send_bytes, payload)
        loop, fd = asyncio.get_running_loop(), worker.conn.fileno()
        ready = loop.create_future()
        loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
        self._answers.add(ready)
        try:
            async with asyncio.timeout(self.deadline):
                await ready
        finally:
            self._answers.discard(ready)
            loop.remove_reader(fd)
        return worker.conn.recv()

    def _spawn(self) -> _Worker:
        """Start one worker process (blocking: call it in a thread)."""
        finish = self._finish
        pid, conn = self._server.fork(
            memory_mb=self.memory_mb, deadline=self.deadline, finish=finish.payload
        )
        return _Worker(pid, conn, finish.key)

    def _release(self, worker: _Worker) -> None:
        """Make a worker available (waking a caller waiting for one), or stop it if closed."""
        self._all.add(worker)
        if self._closed:
            self._retire(worker)
            return
        self._idle.append(worker)
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                break

    def _replace(self, worker: _Worker) -> None:
        """Kill a worker and start another in its place, in the background."""
        self._retire(worker)
        if not self._closed:
            task = asyncio.get_running_loop().create_task(self.start())
            task.add_done_callback(_log_failure)

    def _retire(self, worker: _Worker) -> None:
        """Kill a worker (its fork server reaps it)."""
        worker.kill()
        self._all.discard(worker)


class _Worker:
    """One worker process and our end of its socket."""

    def __init__(self, pid: int, conn: Connection, finish_key: str) -> None:
        self.pid, self.conn, self.alive = pid, conn, True
        self.finish_key = finish_key  # which Finish it was forked with

    def kill(self) -> None:
        """Kill the process without waiting for it, unless it is known to have ended."""
        self.conn.close()
        if self.alive:
            self.alive = False
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class _Pickled:
    """A Finish as the fork server receives it, and a key that tells two apart."""

    def __init__(self, finish: Finish | None) -> None:
        self.payload = b"" if finish is None else pickle.dumps(finish)
        self.key = hashlib.sha256(self.payload).hexdigest()


def _death(exc: BaseException) -> str:
    """Describe how a worker's socket ended."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _log_failure(task: asyncio.Task) -> None:
    """Log a replacement worker that could not be started (the next job tries again)."""
    if not task.cancelled() and task.exception() is not None:
        log.error("could not start a parsing worker: %r", task.exception())


def unwrap(label: str, outcome: tuple) -> Any:
    """Return a job's value, or raise the documented error its outcome names (see outcomes.call)."""
    kind = outcome[0]
    if kind == "ok":
        return outcome[1]
    if kind == "error":
        cls = getattr(errors, outcome[1], ParseError)
        raise (cls if isinstance(cls, type) and issubclass(cls, ParseError) else ParseError)(
            outcome[2]
        )
    if kind == "memory":
        raise TooLargeToParse(f"{label}: too large to parse (over the workers' memory limit)")
    log.error("parsing %s failed: %s\n%s", label, outcome[1], outcome[2])
    raise ParserFailed(f"{label}: the parser failed ({outcome[1]})")
