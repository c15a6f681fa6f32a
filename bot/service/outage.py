"""A worker's database going away and coming back: telling a lost connection from other
failures, waiting for the server with a bounded backoff, and one log line per outage, not one a
second from each library that reconnects.

procrastinate's worker ends when its connection is lost (a side task fails and it stops), and
says why only in its log: `Quiet` reads that log, so the worker knows to wait for the database
rather than exit (bot/service/fleet.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import procrastinate.exceptions
import psycopg

FIRST, CAP = 1.0, 30.0  # seconds between looks for the database: doubling from FIRST to CAP
_NOISY = ("procrastinate.utils", "psycopg.pool")  # each says so on every reconnect attempt


def delays(first: float = FIRST, cap: float = CAP) -> Iterator[float]:
    """Yield the waits between looks for the database: doubling, never past `cap`."""
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, cap)


def lost_connection(exc: BaseException | None) -> bool:
    """Return True when an error (or one it was raised from) is a connection to the database lost."""
    seen = 0
    while exc is not None and seen < 20:  # a cause chain is short; a cycle must not hang us
        if isinstance(exc, psycopg.OperationalError | procrastinate.exceptions.ConnectorException):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


class Quiet(logging.Filter):
    """Note a lost connection in the job engine's log, and keep its repeats and tracebacks out."""

    def __init__(self, worker: str, *, on_lost: Callable[[], object] = lambda: None) -> None:
        super().__init__()
        self.lost = False  # the engine's log reported a lost connection since the last reset
        self._on_lost = on_lost
        self._loggers = [logging.getLogger(f"procrastinate.worker.{worker}")]
        self._loggers += [logging.getLogger(name) for name in _NOISY]
        self._said: set[str] = set()

    def __enter__(self) -> Quiet:
        for logger in self._loggers:
            logger.addFilter(self)
        return self

    def __exit__(self, *_: object) -> None:
        for logger in self._loggers:
            logger.removeFilter(self)

    def reset(self) -> None:
        """Start a new outage's count: the database answers again."""
        self.lost = False
        self._said.clear()

    def filter(self, record: logging.LogRecord) -> bool:
        """Pass the first record of each logger in an outage, without its traceback."""
        exc = record.exc_info[1] if record.exc_info else None
        lost = lost_connection(exc)
        if lost and not self.lost:
            self.lost = True
            self._on_lost()  # the engine is stopping: no need to wait for it to say so
        if lost or record.name == "psycopg.pool":
            record.exc_info, record.exc_text = None, None
            if record.name in self._said:
                return False
            self._said.add(record.name)
        return True
