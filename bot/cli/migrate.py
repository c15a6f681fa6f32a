"""The archive's own upkeep: `upgrade-archive` brings its schema up to this presswatch's, and
`migrate-archive` copies the SQLite archive into PostgreSQL, then compares the counts."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Iterator

from bot.archive import open_backend, open_migration
from bot.cli.common import EXIT_FAILED, EXIT_OK, Command, CommandError, table, whole
from bot.cli.progress import Progress, show_progress
from bot.config import DATABASE_PASSWORD_ENV, load_config
from bot.config.checks import database_url
from bot.text.plural import counted
from storage import OutdatedArchive, StorageError

_MOST_ROWS = 1_000_000  # rows per transaction: more holds a PostgreSQL transaction for minutes


def _args(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--to",
        required=True,
        type=_target,
        metavar="URL",
        help="the PostgreSQL database, postgresql://user@host:port/database (the password from "
        f"${DATABASE_PASSWORD_ENV} or ~/.pgpass)",
    )
    sub.add_argument(
        "--batch",
        type=whole(1, _MOST_ROWS),
        default=5000,
        metavar="N",
        help="rows per transaction (default 5000)",
    )
    sub.add_argument(
        "--progress",
        action="store_true",
        help="show the progress bar even when stderr is not a terminal",
    )


def _target(text: str) -> str:
    """Parse --to, a password-free PostgreSQL URL (argparse type)."""
    try:
        database_url(
            text, given_in="on the command line (it shows in `ps` and the shell's history)"
        )
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _cmd_migrate(args: argparse.Namespace) -> int:
    """Copy the SQLite archive of the config into a PostgreSQL database; exit 1 if counts differ."""
    config = load_config(args.config)
    if config.storage_url:
        raise CommandError(
            "the config's archive is already PostgreSQL ([storage] url): migrate-archive copies "
            "the SQLite archive named by [storage] path"
        )
    try:
        from storage.postgres.copy import (
            articles_that_differ,
            copied_rows,
            copy_archive,
            counts,
            source_rows,
        )
    except ImportError as exc:
        raise CommandError(
            "PostgreSQL needs its driver: pip install 'presswatch[postgres]'"
        ) from exc
    password = os.environ.get(DATABASE_PASSWORD_ENV, "")
    with open_migration(config, args.to, password=password) as (old, new):
        total = sum(source_rows(old.db).values())
        if already := copied_rows(old.db, new.db):
            print(f"resuming: {already:,} of {total:,} rows already copied", file=sys.stderr)
        progress = Progress(
            total, stream=sys.stderr, enabled=show_progress(args), label="migrate-archive"
        )
        try:
            with _stopped_by_sigterm():
                copy_archive(
                    old.db,
                    new.db,
                    batch=args.batch,
                    progress=lambda t, n: progress.advance(n, note=t),
                    analyzing=lambda: progress.finish(
                        f"copied {config.storage_path} into {args.to}; running ANALYZE, so the "
                        "workers plan with the tables' real sizes"
                    ),
                )
        except KeyboardInterrupt as exc:  # SIGINT, or SIGTERM as _stopped_by_sigterm raises it
            progress.finish(
                f"presswatch: migrate-archive stopped after {progress.count:,} of {total:,} "
                "rows; rerun the same command to continue"
            )
            return 128 + (signal.SIGTERM if isinstance(exc, _Terminated) else signal.SIGINT)
        result = counts(old.db, new.db)
        mixed = articles_that_differ(old.db, new.db)
    print(
        table(
            [("TABLE", "SQLITE", "POSTGRESQL")]
            + [(c.table, f"{c.sqlite:,}", f"{c.postgres:,}") for c in result]
        )
    )
    if mixed:
        print(
            f"presswatch: {counted(len(mixed), 'article')} "
            f"{'differs' if len(mixed) == 1 else 'differ'} between the archives (ids "
            f"{', '.join(map(str, mixed[:5]))}{', …' if len(mixed) > 5 else ''}: on one side "
            "only, or another URL): presswatch wrote to the database since an earlier copy; "
            "copy into an empty database",
            file=sys.stderr,
        )
        return EXIT_FAILED
    differ = [c for c in result if not c.equal]
    if differ:
        lines = ", ".join(
            f"{c.table} {c.sqlite:,} in SQLite, {c.postgres:,} in PostgreSQL" for c in differ
        )
        print(f"presswatch: counts differ after the copy: {lines}", file=sys.stderr)
        return EXIT_FAILED
    print(f'all {len(result)} tables match: set [storage] url = "{args.to}" in the config')
    return EXIT_OK


class _Terminated(KeyboardInterrupt):
    """SIGTERM, told as SIGINT is: each batch is a transaction, so a batch cut short rolls back
    and a rerun copies it again."""


@contextlib.contextmanager
def _stopped_by_sigterm() -> Iterator[None]:
    """Raise _Terminated on SIGTERM inside the block (the default ends the process silently)."""

    def stop(signum: int, frame: object) -> None:
        raise _Terminated

    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def _cmd_upgrade(args: argparse.Namespace) -> int:
    """Apply the schema updates the archive lacks (a line per update on stderr), and nothing else."""
    config = load_config(args.config)
    with open_backend(config) as backend:
        if not backend.exists():
            raise StorageError(f"no archive at {backend} yet: `presswatch once` or `run` makes it")
        try:  # read-only first: an archive already current needs no lock, so a running service
            backend.open_read_only(dedup=config.dedup).close()  # never stands in the way
            pending: list[str] = []
        except OutdatedArchive as exc:
            pending = exc.pending
        if pending:
            # The writers' lock: the running service (of the older presswatch) must stop first.
            with backend.lock(role="upgrade"):
                backend.open(dedup=config.dedup).close()  # each update logged as it is applied
    if not pending:
        print(f"{backend}: already up to date; nothing to do")
    else:
        print(
            f"{backend}: upgraded ({counted(len(pending), 'update')} applied: "
            f"{', '.join(pending)}); the reports read it again"
        )
    return EXIT_OK


COMMANDS = [
    Command(
        "upgrade-archive",
        "bring the archive up to this presswatch's schema, polling and posting nothing",
        "presswatch upgrade-archive --config presswatch.toml   # with the service stopped",
        _cmd_upgrade,
    ),
    Command(
        "migrate-archive",
        "copy the SQLite archive into PostgreSQL (resumable), then compare the row counts",
        "presswatch migrate-archive --to postgresql://presswatch@db.example.org:5432/presswatch "
        "--config presswatch.toml",
        _cmd_migrate,
        _args,
    ),
]
