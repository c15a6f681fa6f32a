"""The `presswatch` command line: a thin shell over the application."""

from bot.cli.main import main

__all__ = ["main"]
