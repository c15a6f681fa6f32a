"""Progress on a terminal: a one-line bar for long CLI commands, and when to draw it."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TextIO


class Progress:
    """A one-line textual progress bar, redrawn at most every `every` seconds, and a summary line."""

    def __init__(
        self,
        total: int,
        *,
        stream: TextIO,
        enabled: bool,
        label: str,
        clock: Callable[[], float] = time.monotonic,
        every: float = 0.25,
    ) -> None:
        self.total, self.count, self.note = total, 0, ""
        self._stream, self._enabled, self._label = stream, enabled, label
        self._clock, self._every = clock, every
        self._started = clock()
        self._drawn_at: float | None = None

    def advance(self, n: int = 1, *, note: str = "") -> None:
        """Count `n` more done and redraw if the last drawing is old enough."""
        self.count += n
        self.note = note or self.note
        now = self._clock()
        if self._enabled and (self._drawn_at is None or now - self._drawn_at >= self._every):
            self._draw(now)

    def settle(self, *, note: str = "") -> None:
        """End early with nothing left to do: the total becomes what was done ("2/2 100%", not
        "3/3" counting pages past an archive's end as read), and redraw."""
        self.total, self.note = self.count, note or self.note
        if self._enabled:
            self._draw(self._clock())

    def finish(self, summary: str) -> None:
        """Draw the bar one last time, end its line, and print the summary line (always)."""
        if self._enabled:
            self._draw(self._clock())
            self._stream.write("\n")
        self._stream.write(summary + "\n")
        self._stream.flush()

    @property
    def rate(self) -> float:
        """Return items per second so far."""
        return self.count / max(self._clock() - self._started, 1e-9)

    def line(self, now: float) -> str:
        """Return the bar as text: label, bar, count/total, percent, rate and note."""
        share = min(self.count / self.total, 1.0) if self.total else 1.0
        bar = "#" * round(share * 30)
        rate = self.count / max(now - self._started, 1e-9)
        note = f"  {self.note}" if self.note else ""
        return (
            f"{self._label} [{bar:<30}] {self.count:,}/{self.total:,} {share:4.0%} "
            f"{rate:,.1f}/s{note}"
        )

    def _draw(self, now: float) -> None:
        """Overwrite the current terminal line with the bar."""
        self._drawn_at = now
        self._stream.write("\r" + self.line(now) + "\033[K")
        self._stream.flush()


def progress_flag(sub: argparse.ArgumentParser) -> None:
    """Add --progress, which `show_progress` reads."""
    sub.add_argument(
        "--progress",
        action="store_true",
        help="show the progress bar even when stderr is not a terminal",
    )


def show_progress(args: argparse.Namespace) -> bool:
    """Return True when a bar belongs on stderr: a terminal, or asked for with --progress."""
    return args.progress or sys.stderr.isatty()
