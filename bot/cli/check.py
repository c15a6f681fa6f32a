"""The `check-source` command: poll one source live as a dry run, printing ingest's own plan.

Each new article is read, enriched and planned exactly as a poll does it (bot/ingest/intake.py),
against the archive opened read-only; only the carrying out is left undone.
"""

from __future__ import annotations

import argparse

from bot.cli.common import Command, later, whole


def _args_check(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("key", metavar="KEY", help="a configured source's key")
    sub.add_argument(
        "--limit",
        type=whole(0, 1000),
        default=10,
        metavar="N",
        help="read at most N new articles (default 10)",
    )


COMMANDS: list[Command] = [
    Command(
        "check-source",
        "fetch one source live and show what would be stored and posted (writes nothing)",
        "presswatch check-source interaffairs-en --config presswatch.toml",
        later("bot.cli.dryrun", "check_source"),
        _args_check,
    ),
]
