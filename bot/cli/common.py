"""What every command module shares: exit codes, errors, a command record, table output."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


class CommandError(Exception):
    """A command cannot do what was asked; the message is shown as is."""


@dataclass(frozen=True, slots=True)
class Command:
    """One subcommand: its name, a one-line summary, an example, its arguments and its handler."""

    name: str
    summary: str
    example: str
    handler: Callable[[argparse.Namespace], int]
    add_arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None


def table(rows: list[tuple[str, ...]]) -> str:
    """Return rows as aligned columns (the last column is not padded)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join([*(c.ljust(w) for c, w in zip(r, widths)), r[-1]]).rstrip() for r in rows
    )


def published_utc(published: datetime | None, *, now: datetime) -> str:
    """Return a publication time in UTC, or say that the page gave none."""
    # read_article falls back to the poll's clock when a page has no date at all.
    if published is None or published == now:
        return "no date found (would be stored as the time of the poll)"
    return f"{published.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
