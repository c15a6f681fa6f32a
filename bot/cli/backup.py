"""Keeping the SQLite archive safe and small: `backup-archive` copies it while the service runs,
`compact-archive` gives the pages of deleted rows back to the disk with the service stopped."""

from __future__ import annotations

import argparse
import sys
import time

from bot.archive import open_backend
from bot.cli.common import EXIT_OK, Command, UsageError, file_name
from bot.cli.progress import Progress, progress_flag, show_progress
from bot.config import Config, load_config
from storage.backup import back_up, check_destination, require_archive, size_text
from storage.compact import compact


def _args_backup(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("dest", metavar="DEST", type=file_name, help="the file to write the copy to")
    sub.add_argument("--force", action="store_true", help="replace DEST if it exists")
    sub.add_argument(
        "--compact",
        action="store_true",
        help="write a compacted copy, without the free pages (SQLite's vacuum into; no progress bar)",
    )
    progress_flag(sub)


def _sqlite_only(config: Config, command: str, advice: str) -> None:
    """Refuse a PostgreSQL archive (exit 2) with one line saying what to use instead."""
    if config.storage_url:
        raise UsageError(
            f"{command}: the archive is PostgreSQL ([storage] url): {advice} (README: "
            "Backing up the archive)"
        )


def _cmd_backup(args: argparse.Namespace) -> int:
    """Copy the live SQLite archive to DEST, consistent as of the copy's start."""
    config = load_config(args.config)
    _sqlite_only(
        config,
        "backup-archive",
        "back it up with pg_dump --format=custom --file=presswatch.dump DATABASE_URL",
    )
    source, dest = config.storage_path, args.dest
    check_destination(source, dest, force=args.force)
    started = time.monotonic()
    # VACUUM INTO is one statement, with no pages to count: no bar, only the final line.
    bar = show_progress(args) and not args.compact
    progress = Progress(0, stream=sys.stderr, enabled=bar, label="backup-archive")

    def advance(done: int, total: int) -> None:
        progress.total = total
        progress.advance(done - progress.count)

    copied = back_up(source, dest, compact=args.compact, progress=advance)
    what = "a compacted copy of" if args.compact else "a copy of"
    progress.finish(
        f"{dest}: {what} {source} as of the copy's start, {size_text(copied.bytes)}, checked "
        f"(quick_check ok), in {time.monotonic() - started:.1f} s"
    )
    return EXIT_OK


def _cmd_compact(args: argparse.Namespace) -> int:
    """VACUUM the SQLite archive with the service stopped; say its size before and after."""
    config = load_config(args.config)
    _sqlite_only(
        config,
        "compact-archive",
        "PostgreSQL's autovacuum reuses the space of deleted rows; VACUUM FULL gives it back",
    )
    require_archive(config.storage_path)  # before the lock, which would make its folder
    with open_backend(config) as backend:
        # The writers' lock: VACUUM rewrites every page, so the service must stop first.
        with backend.lock(role="compact"):
            print(
                f"{backend}: compacting (VACUUM); the service cannot start until it ends",
                file=sys.stderr,
            )
            result = compact(config.storage_path)
    late = "" if result.settled else "; a reader (a backup?) holds it: the file shrinks after"
    print(
        f"{backend}: compacted from {size_text(result.before)} to {size_text(result.after)}"
        f" ({size_text(max(result.before - result.after, 0))} given back){late}"
    )
    return EXIT_OK


COMMANDS = [
    Command(
        "backup-archive",
        "copy the SQLite archive to DEST while the service runs, checked before it takes the name",
        "presswatch backup-archive /var/backups/presswatch.db --force --config presswatch.toml\n"
        "  presswatch backup-archive presswatch-small.db --compact --config presswatch.toml",
        _cmd_backup,
        _args_backup,
    ),
    Command(
        "compact-archive",
        "give the SQLite archive's free pages back to the disk (VACUUM), with the service stopped",
        "presswatch compact-archive --config presswatch.toml   # with the service stopped",
        _cmd_compact,
    ),
]
