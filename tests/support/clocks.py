"""A clock a test moves by hand, for code that takes its clock as an argument."""

from __future__ import annotations

from typing import Any


class HandClock:
    """Tell the time the test set: call it to read `now`; set or add to `now` to move it."""

    def __init__(self, now: Any) -> None:
        self.now = now

    def __call__(self) -> Any:
        return self.now
