"""The `backfill` command: store a source's older listing or feed pages without posting them.

The one command over the archive that writes it: it holds the instance lock and polls with the
composition root's tools, which load only when it runs (bot/cli/archive.py's reads need none).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.cli.common import EXIT_FAILED, EXIT_OK, Command, UsageError, whole
from bot.cli.progress import Progress, progress_flag, show_progress
from bot.config import Config, load_config
from scrapers.models import Source

if TYPE_CHECKING:
    from bot.ingest.backfill import BackfillReport

_MAX_PAGES = 10_000


def _args_backfill(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("key", metavar="KEY", help="the source to backfill")
    sub.add_argument(
        "--pages",
        type=whole(1, _MAX_PAGES),
        required=True,
        metavar="N",
        help="how many older pages to read: pages 2 to N+1 of the source's `pages` template",
    )
    progress_flag(sub)


def _cmd_backfill(args: argparse.Namespace) -> int:
    """Walk a source's older pages and store their articles silently."""
    config = load_config(args.config)
    source = config.source(args.key)
    if not source.pages:
        raise UsageError(
            f"backfill: source {source.key!r} has no `pages` setting; add a URL template of its "
            f'older listing or feed pages to its [[sources]] block, e.g. pages = "{source.url}?page={{page}}"'
        )
    progress = Progress(
        args.pages, stream=sys.stderr, enabled=show_progress(args), label="backfill"
    )
    import asyncio  # noqa: PLC0415 - ~40 ms, for backfill alone: --help loads this module too

    report = asyncio.run(_backfill(config, source, pages=args.pages, progress=progress))
    for error in report.errors:
        print(f"{source.key}: {error}", file=sys.stderr)
    progress.finish(report.summary(source.key))
    return EXIT_FAILED if report.errors else EXIT_OK


async def _backfill(
    config: Config, source: Source, *, pages: int, progress: Progress
) -> BackfillReport:
    """Hold the instance lock (one writer per archive) and walk the pages with a poll's tools."""
    # The composition root (HTTP, the parsing sandbox) loads for backfill, not for search.
    from bot.app import open_app  # noqa: PLC0415
    from bot.ingest.backfill import walk_pages  # noqa: PLC0415

    async with open_app(config, deliver=False) as app:
        return await walk_pages(source, app.poll, pages=pages, progress=progress)


COMMANDS: list[Command] = [
    Command(
        "backfill",
        "store a source's older listing or feed pages without posting them",
        "presswatch backfill odkb-csto-en --pages 5 --config presswatch.toml",
        _cmd_backfill,
        _args_backfill,
    ),
]
