"""The long-running service: APScheduler polls each source, a relay task delivers posts.

Beside them, when configured, a local HTTP endpoint answers /healthz and /metrics
(bot/service/monitor.py), the chat commands the command line hands in (bot/chat/) answer readers,
and a journal (bot/service/journal.py) logs the first round's summary and a heartbeat. SIGHUP
re-reads the config (bot/service/reload.py) without losing the outbox or the schedule. Each
source's poll job, skipped or stopped at its deadline, is bot/service/polling.py's.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING

from bot.app import App, reconfigure
from bot.config import Config, ConfigError, load_config
from bot.secrets import scrubber
from bot.service import timetable
from bot.service.endpoint import AddressTaken, MonitorServer
from bot.service.journal import HEARTBEAT, Journal, stop_line
from bot.service.monitor import Monitor
from bot.service.polling import PollJobs
from bot.service.reload import applicable, compare
from bot.service.upkeep import keep_history
from bot.text.plural import counted
from storage.status import Snapshot

log = logging.getLogger(__name__)

_RELAY_IDLE = 5.0  # seconds between outbox checks when nothing wakes the relay sooner
# SIGTERM to exit takes at most STOP_DEADLINE, well under the 10 s a container runtime or a test
# allows and systemd's default 90 s: in-flight polls and sends get FINISH_DEADLINE, then they are
# cancelled, which every stage survives (the outbox commits `sending` before each call), and get
# _CANCEL_GRACE to unwind; closing the archive and the interpreter (its heap frozen, so no last
# cycle collections over it: bot/cli/core.py) takes the rest.
STOP_DEADLINE = 6.0
_CANCEL_GRACE = 1.0
_EXIT = 0.5
FINISH_DEADLINE = STOP_DEADLINE - _CANCEL_GRACE - _EXIT


class ChatBot(Protocol):
    """Chat commands answered beside the service (bot/chat/application.py's Chat)."""

    async def start_when_reachable(self, stopping: asyncio.Event) -> bool:
        """Start once Telegram answers; False when stopped first or the token is refused."""

    async def stop(self) -> None:
        """Stop answering."""

    def reconfigure(self, config: Config) -> None:
        """Answer from a reloaded config."""


# Builds the chat bot around the service's own archive reader.
STOP_READ = 1.0  # seconds the stop's summary may wait for the outbox's counts
ChatFactory = Callable[[Callable[[], Awaitable[Snapshot]]], ChatBot]


class Service(PollJobs):
    """Run polls on their schedules and deliver posts until asked to stop."""

    def __init__(
        self,
        app: App,
        *,
        chat: ChatFactory | None = None,
        stop_deadline: float = FINISH_DEADLINE,
        poll_timeout: float | None = None,
        heartbeat: float = HEARTBEAT,
        http: tuple[str, int] | None = None,
    ) -> None:
        self.app = app
        # `run --http`: this process's address, over `[service] http` (workers of one config
        # on one machine each need their own); a reload keeps it, as it keeps [service].
        self._http = http
        self._chat = chat
        self._chatting: ChatBot | None = None  # the chat answering now, told of each reload
        self.counters = app.counters
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.monitor = Monitor(
            app.backend,
            app.counters,
            sources=[s.key for s in app.config.sources],
            channels=[c.name for c in app.config.channels],
            scheduler_state=self.scheduler_state,
            scrub=scrubber(app.config.telegram.token),
            next_polls=self.next_polls,
        )
        self.journal = Journal(
            app.counters,
            snapshot=lambda: self.monitor.snapshot(full=False),
            sources=lambda: [s.key for s in self.app.config.sources],
            next_polls=self.next_polls,
            every=heartbeat,
        )
        self._stop_deadline, self._poll_timeout = stop_deadline, poll_timeout
        # Why the service stopped on its own, not asked to: `run` then exits 1, so that a
        # supervisor that restarts on failure (systemd's Restart=on-failure) starts it again.
        self.failure: str | None = None
        self.started = (
            asyncio.Event()
        )  # set once polls are scheduled (tests and readiness wait on it)
        self._stop = asyncio.Event()
        self._wake_relay = asyncio.Event()
        self._inflight: set[asyncio.Task] = set()
        self._skipping: dict[str, str] = {}  # source -> why its polls are skipped, as last logged
        self._reloading = asyncio.Lock()
        self.reloads = 0  # reloads applied (tests wait on it)
        self._started_at = datetime.now(UTC)  # what the stop's summary counts from

    async def run(self) -> None:
        """Serve until SIGINT or SIGTERM (or `stop()`), then stop gracefully; SIGHUP reloads."""
        # The handlers come first, as `run`'s own early ones end: a SIGTERM during the bind's
        # await stops the service instead of setting an event nothing reads any more.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop)
        loop.add_signal_handler(signal.SIGHUP, self.request_reload)
        try:
            server = await self._start_http()
        except AddressTaken:  # ends the start before any poll; the command line says it
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            self.monitor.close()
            raise
        firsts = {s.key: self._schedule(s) for s in self.app.config.sources}
        now = datetime.now(UTC)
        due_now = [key for key, first in firsts.items() if first <= now]
        self.scheduler.add_listener(self._on_job_event, timetable.EVENT_MASK)
        self.scheduler.start()
        self.started.set()
        self._started_at = datetime.now(UTC)
        upcoming = min(self.next_polls().items(), key=lambda pair: pair[1], default=None)
        log.info(
            "service started: %s, %s%s",
            counted(len(self.app.config.sources), "source"),
            counted(len(self.app.config.channels), "channel"),
            f"; first poll {upcoming[0]} at {upcoming[1].isoformat(timespec='seconds')}"
            if upcoming
            else "",
        )
        tasks = [
            asyncio.create_task(self._relay_loop(), name="relay"),
            asyncio.create_task(keep_history(self.app.store, self._stop), name="upkeep"),
            self.journal.start(
                first_round=due_now, telegram=self.app.config.telegram, stopping=self._stop
            ),
        ]
        if self._chat is not None:
            if self.app.config.telegram.token:
                tasks.append(asyncio.create_task(self._serve_chat(), name="chat"))
            else:
                log.warning("telegram.commands is on, but without a bot token there is no chat")
        outbox = None
        try:
            await self._stop.wait()
            await self._shutdown(tasks)
            outbox = await self._left_pending()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            if server:
                await server.close()
            self.monitor.close()
        line = stop_line(
            self.counters,
            since=self._started_at,
            outbox=outbox,
            shared=self.app.fleet is not None,
            policy=self.app.config.telegram.uncertain,
        )
        log.info("service stopped; %s", line)

    async def _left_pending(self) -> Snapshot | None:
        """Read what the outbox holds under the monitor's deadline, or None if it does not answer."""
        try:
            # A second at most: the stop keeps its promise (exit within 6 s) if the archive hangs.
            return await asyncio.wait_for(self.monitor.snapshot(full=False), STOP_READ)
        except Exception as exc:  # noqa: BLE001 - the stop's summary must not fail the stop
            log.warning("the outbox could not be read at stop: %s", str(exc) or type(exc).__name__)
            return None

    def stop(self) -> None:
        """Ask the service to stop (safe to call from a signal handler)."""
        if not self._stop.is_set():
            log.info("stop requested; finishing in-flight work (at most %gs)", self._stop_deadline)
        self._stop.set()
        self._wake_relay.set()

    def request_reload(self) -> None:
        """Re-read the config soon (safe to call from a signal handler)."""
        if not self._stop.is_set():
            asyncio.get_running_loop().create_task(self.reload(), name="reload")

    async def reload(self) -> bool:
        """Re-read the config file and apply it; a bad one is refused and the running one kept."""
        async with self._reloading:
            old = self.app.config
            try:
                # A reload reads the file again, which a pipe cannot give twice.
                new = await asyncio.to_thread(
                    load_config, old.path, archive_in_use=old.storage_path, pipe=False
                )
            except ConfigError as exc:
                log.error("reload refused, the running config stays: %s", exc)
                return False
            if self._stop.is_set():
                return False
            for warning in new.warnings:  # as the start logs them
                log.warning("config: %s", warning)
            change = compare(old, new)
            reconfigure(self.app, applicable(old, new))
            if self._chatting is not None:
                self._chatting.reconfigure(self.app.config)
            self.monitor.reconfigure(
                sources=[s.key for s in new.sources], channels=[c.name for c in new.channels]
            )
            for source in change.removed + change.changed:
                self._skipping.pop(source.key, None)  # its next skip is said again, as it now is
                if self.scheduler.get_job(source.key):  # a poll under way finishes as it began
                    self.scheduler.remove_job(source.key)
            for source in change.added + change.changed:
                self._schedule(source)
            self.reloads += 1
            log.info("config reloaded from %s: %s", old.path, change.describe())
            if change.at_restart:
                log.warning(
                    "reload: %s changed; that takes effect at the next restart",
                    ", ".join(change.at_restart),
                )
            self._wake_relay.set()
            return True

    def scheduler_state(self) -> str:
        """Return 'running', 'paused' (stopping) or 'stopped'."""
        if self.scheduler.state == STATE_RUNNING and not self._stop.is_set():
            return "running"
        return "paused" if self.scheduler.state == STATE_PAUSED else "stopped"

    async def _start_http(self) -> MonitorServer | None:
        """Serve /healthz and /metrics at `run --http` or `[service] http`, if either is given;
        raise AddressTaken if it is taken."""
        if not (self._http or self.app.config.service.http):
            return None
        host, port = self._http or self.app.config.service.http
        setting = "--http" if self._http else "[service] http"
        server = MonitorServer(self.monitor, host=host, port=port, setting=setting)
        await server.start()
        return server

    async def _relay_loop(self) -> None:
        """Deliver due posts whenever a poll finishes, and every few seconds for retries."""
        while not self._stop.is_set():
            try:
                await self.app.relay.deliver_due()
            except Exception:  # noqa: BLE001 - the relay must outlive a bad round
                log.exception("relay round failed")
            self._wake_relay.clear()
            if self._stop.is_set():
                break  # stop() woke the relay during the round, and clear() just lost that
            try:
                async with asyncio.timeout(_RELAY_IDLE):
                    await self._wake_relay.wait()
            except TimeoutError:
                pass

    async def _serve_chat(self) -> None:
        """Answer chat commands until the service stops; a broken chat never stops the posts."""
        try:
            chat = self._chatting = self._chat(self.monitor.snapshot)
            if await chat.start_when_reachable(self._stop):
                await self._stop.wait()
                await chat.stop()
        except Exception:  # noqa: BLE001 - logged; polls and posts go on
            log.exception("chat commands failed and are off")

    async def _shutdown(self, tasks: list[asyncio.Task]) -> None:
        """Stop scheduling, let in-flight work finish within the deadline, then cancel the rest."""
        self.scheduler.pause()
        self.app.relay.stop()
        pending = [*self._inflight, *tasks]
        _, late = await asyncio.wait(pending, timeout=self._stop_deadline)
        # A poll still parsing now holds a hostile or huge document: the parsing workers are
        # killed at once, not waited for, which cancels the polls waiting on them.
        self.app.poll.parser.close()
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=_CANCEL_GRACE)
            log.warning(
                "stopped %s that did not finish in time: %s",
                counted(len(late), "task"),
                ", ".join(sorted(t.get_name() for t in late)),
            )
        self.scheduler.shutdown(wait=False)
