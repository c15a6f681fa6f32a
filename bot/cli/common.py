"""What every command module shares: exit codes, errors, a command record, table output."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bot.config import Config
from storage import Store

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


@contextmanager
def open_store(config: Config, *, read_only: bool = False) -> Iterator[Store]:
    """Open the archive for a short command and close it afterwards.

    A read-only command never creates or migrates the archive (a service may be running on it).
    """
    if read_only and not config.storage_path.exists():
        raise CommandError(f"no archive at {config.storage_path} yet: run `presswatch once` first")
    store = (
        Store.open_read_only(config.storage_path) if read_only else Store.open(config.storage_path)
    )
    try:
        yield store
    finally:
        store.close()


def table(rows: list[tuple[str, ...]]) -> str:
    """Return rows as aligned columns (the last column is not padded)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join([*(c.ljust(w) for c, w in zip(r, widths)), r[-1]]).rstrip() for r in rows
    )
