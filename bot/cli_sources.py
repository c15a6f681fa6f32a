"""Commands that add and check sources: `add`, `check-source`."""

from __future__ import annotations

from .cli_common import Command

COMMANDS: list[Command] = []
