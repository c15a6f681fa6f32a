"""The `classify` command: try the taxonomy on JSON Lines text."""

from __future__ import annotations

from .cli_common import Command

COMMANDS: list[Command] = []
