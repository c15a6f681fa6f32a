"""The `outbox` command: list and act on pending, uncertain and failed posts."""

from __future__ import annotations

from .cli_common import Command

COMMANDS: list[Command] = []
