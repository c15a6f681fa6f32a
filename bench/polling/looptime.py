"""Where the event loop's wall time goes: waiting for events, on the CPU, or blocked off the CPU."""

from __future__ import annotations

import asyncio
import time


class LoopTime:
    """Count the time the running loop sits in its selector (idle, waiting for events)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.idle = 0.0
        # The selector of asyncio's default loop: private, but a bench may look inside.
        selector = loop._selector  # type: ignore[attr-defined]
        select = selector.select

        def timed(timeout: float | None = None):
            began = time.perf_counter()
            try:
                return select(timeout)
            finally:
                self.idle += time.perf_counter() - began

        selector.select = timed

    def mark(self) -> tuple[float, float, float]:
        """Return (wall, idle, the loop thread's CPU) now; call it on the loop's thread."""
        return time.perf_counter(), self.idle, time.thread_time()


def shares(before: tuple[float, float, float], after: tuple[float, float, float]) -> tuple:
    """Return the loop's (CPU, blocked) shares of the wall time between two marks.

    Blocked is the time the loop was neither waiting for events nor on the CPU: a system call
    that sleeps in the loop's thread (an fsync inside a COMMIT) or a wait to be scheduled.
    """
    wall = after[0] - before[0]
    busy = wall - (after[1] - before[1])
    cpu = after[2] - before[2]
    return cpu / wall, max(0.0, busy - cpu) / wall
