"""How many rows this process has queued for delivery: a worker on PostgreSQL looks for chats with
due rows after its polls only when they queued some (bot/service/fleet.py)."""

from __future__ import annotations


class Tally:
    """A running count of the outbox rows and alerts queued through one store."""

    __slots__ = ("total",)

    def __init__(self) -> None:
        self.total = 0

    def add(self, rows: int = 1) -> None:
        """Count rows just queued (a rolled-back transaction's too: one look too many is harmless)."""
        self.total += rows
