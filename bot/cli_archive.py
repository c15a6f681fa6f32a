"""Commands over the archive: `search`, `export`, `stats`, `backfill`."""

from __future__ import annotations

from .cli_common import Command

COMMANDS: list[Command] = []
