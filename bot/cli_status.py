"""The `status` command: the service's health at a glance."""

from __future__ import annotations

from .cli_common import Command

COMMANDS: list[Command] = []
