"""What `once` under cron ends with: its exit status, the line of a round skipped for a `once`
still running, and the clean stop SIGTERM or SIGINT asks of it (as `run` stops)."""

from __future__ import annotations

import asyncio
import logging
import signal
import sqlite3
import sys
from datetime import datetime, timedelta

from bot.cli.common import EXIT_FAILED, EXIT_OK
from bot.delivery.publish import Relay, RelayReport
from bot.service.reachability import TelegramCheck
from bot.service.scheduler import FINISH_DEADLINE
from storage import AlreadyRunning, RunRecord, RunStatus, SourceState, StorageError
from storage.backends import Backend
from storage.status import FloodWait, read_flood_wait, read_held

log = logging.getLogger(__name__)

# A round polls each due source once (a long Retry-After is never slept through) and sends at
# Telegram's pace: minutes at most, even when quiet hours end on a backlog. A `once` still running
# after this is taken for hung, which the overlapping round's exit 1 makes someone look at.
HUNG_AFTER = timedelta(minutes=15)


def once_status(
    runs: list[RunRecord],
    *,
    report: RelayReport,
    waiting: list[SourceState],
    telegram: TelegramCheck,
    held: int = 0,
) -> int:
    """Return once's exit status: 1 when a source or a post failed, Telegram does not answer,
    nothing could be polled while sources back off after failures, or posts wait for the operator."""
    # A held post waits for good; under cron only the exit status reaches a person.
    failed = any(r.status == RunStatus.ERROR for r in runs) or report.failed or held
    # Nothing polled while sources back off is an outage, not a quiet round: a cron job's exit
    # status must say so (sooner than `status`, whose "failing" waits for a third failure while
    # backing off starts at the second). Beside sources that answered, a source backing off
    # fails no round by itself: the poll that failed already did.
    stalled = not runs and any(not state.paused for state in waiting)
    return EXIT_FAILED if failed or stalled or not telegram.healthy else EXIT_OK


def overlap(exc: AlreadyRunning, *, now: datetime) -> int:
    """Say in one line that this round was skipped for a `once` still running: exit 0, or 1 when
    that one has run over HUNG_AFTER (or says not since when)."""
    ran = now - exc.since if exc.since else None
    # On PostgreSQL the holder may run on another machine: its kill must be run there.
    where = f" on {exc.host}" if exc.host else ""
    pid = f"pid {exc.pid}" if exc.pid is not None else "pid unknown"
    line = f"presswatch once: skipped this round: `presswatch once` {pid}{where} has run for "
    if ran is not None and ran <= HUNG_AFTER:
        print(f"{line}{took(ran)} (still within {took(HUNG_AFTER)})", file=sys.stderr)
        return EXIT_OK
    stop = f"kill {exc.pid}{where} to stop it" if exc.pid is not None else f"stop it{where}"
    print(
        f"{line}{took(ran) if ran is not None else 'an unknown time'}, over the "
        f"{took(HUNG_AFTER)} a round takes: it may hang ({stop})",
        file=sys.stderr,
    )
    return EXIT_FAILED


def held_for_their_time(backend: Backend) -> int:
    """Return how many pending posts wait for their time (a digest, quiet hours); 0 when the
    archive does not answer within 2 s (the summary then leaves them out)."""
    try:
        return read_held(backend, deadline=2.0)
    except (sqlite3.Error, StorageError) as exc:
        log.warning("posts held for their time not counted: %s", str(exc) or type(exc).__name__)
        return 0


def waiting_out_floods(backend: Backend) -> FloodWait:
    """Return the posts a Telegram flood wait holds and until when; none when the archive does
    not answer within 2 s (the summary then leaves them out)."""
    try:
        return read_flood_wait(backend, deadline=2.0)
    except (sqlite3.Error, StorageError) as exc:
        log.warning(
            "posts waiting out a flood wait not counted: %s", str(exc) or type(exc).__name__
        )
        return FloodWait()


def took(span: timedelta) -> str:
    """Return a span as '4 min 05 s' or '12 s'."""
    minutes, seconds = divmod(max(int(span.total_seconds()), 0), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


class Stop:
    """SIGTERM and SIGINT for one `once`: no new poll or send, the sends in flight finish (for
    FINISH_DEADLINE at most, as `run`'s stop), then the round is cancelled."""

    def __init__(self, *, deadline: float = FINISH_DEADLINE) -> None:
        self.event = asyncio.Event()
        self.by = ""  # the signal's name, once one came
        self.relay: Relay | None = None  # set once the round delivers
        self.round: asyncio.Task | None = None  # what the deadline cancels
        self._deadline = deadline

    def __enter__(self) -> Stop:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop, sig)
        return self

    def __exit__(self, *exc: object) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)

    def stop(self, sig: signal.Signals) -> None:
        """Stop the round cleanly (safe to call from a signal handler; a second signal waits)."""
        if self.by:
            return
        self.by = sig.name
        log.info(
            "%s: stopping; finishing the sends in flight (at most %gs)", sig.name, self._deadline
        )
        self.event.set()
        if self.relay is not None:
            self.relay.stop()
        if self.round is not None:
            asyncio.get_running_loop().call_later(self._deadline, self.round.cancel)
