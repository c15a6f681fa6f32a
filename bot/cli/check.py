"""The `check` command: validate a config offline, and `check-source`: poll one source live as a
dry run, printing ingest's own plan.

`check` reads the config as every command does (each problem on one line naming its key, exit 2)
and says what it found, and whether this user could write the SQLite archive where it is set
(exit 3 when not, as `run`'s), and how many schema updates an SQLite archive an older
presswatch wrote waits for (read as a report reads it); nothing is fetched, sent, or written, so
it is safe beside a running service. Each new article `check-source` reads is read, enriched and planned exactly as a poll
does it (bot/ingest/intake.py), against the archive opened read-only; only the carrying out is
left undone.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

from bot.archive import open_archive
from bot.cli.common import EXIT_OK, EXIT_SETUP, Command, cannot_write, later, whole
from bot.config import TOKEN_ENV, Config, load_config
from bot.config.fields import authority, span
from bot.delivery.moves import moved_hints
from bot.service.fleet_timing import FAILOVER_GOAL, PERIODS, failover_bound
from bot.service.renames import renamed_hints
from bot.text.plural import counted
from storage import StorageError


def _cmd_check(args: argparse.Namespace) -> int:
    """Load the config (a problem exits 2, one line each) and print what it sets up; exit 3 when
    `run` could not write its archive here."""
    config = load_config(args.config)
    # The loader accepts an archive it may only read (status, search); `run` and `once` write.
    why = "" if config.storage_url is not None else unwritable(config.storage_path)
    # Never "valid" above a problem: the first line is the one an operator reads.
    found = f"storage.path: {why}" if why else "valid"
    print(f"{config.path}: {found} (nothing was fetched, sent or written)")
    for line in summary(config):
        print(f"  {line}")
    for warning in (*config.warnings, *workers_warnings(config), *archive_warnings(config)):
        print(f"warning: {warning}")
    if why:
        print(
            cannot_write(f"storage.path: {why}", outcome="`run` and `once` would not start"),
            file=sys.stderr,
        )
        return EXIT_SETUP
    return EXIT_OK


def unwritable(path: Path) -> str:
    """Say why this user could not write an SQLite archive at `path`, or "" when it could."""
    # Beside the archive go its lock, -wal and -shm files: its folder must take new files, and
    # a folder not made yet is made in the nearest one that exists.
    resolved = path.resolve()
    folder = next(p for p in resolved.parents if p.exists())
    if not os.access(folder, os.W_OK | os.X_OK):  # a read-only mount too, even for root
        return f"this user cannot write in {folder}"
    if resolved.exists() and not os.access(resolved, os.W_OK):
        return f"this user cannot write {resolved}"
    return ""


def archive_warnings(config: Config) -> list[str]:
    """Say which sources look renamed, by the addresses an SQLite archive knows, and which
    channels name a chat Telegram said became a supergroup (read, never written; PostgreSQL's
    is not contacted: its service's start and reload log say it)."""
    if config.storage_url is not None or not config.storage_path.exists():
        return []
    try:
        with open_archive(config, read_only=True) as store:
            renamed = renamed_hints(config.sources, store.sources.noted())
            return renamed + moved_hints(config.channels, store.outbox.channels.moves())
    except StorageError:
        # An archive an older presswatch wrote (before m020's link_patterns or m022's moves) is
        # refused on opening (OutdatedArchive), before either is read: the archive line says
        # which update it waits for, and both hints come once it is applied.
        return []


def workers_warnings(config: Config) -> list[str]:
    """Say what in [workers] does not do what it may seem to: a failover past its goal, a
    setting SQLite's service never reads."""
    every = config.workers.dispatch_every
    if config.storage_url is None:
        unused = "workers.dispatch_every applies to workers on PostgreSQL (storage.url) only"
        # The default spelt out is no more read than any other period.
        return [unused] if config.workers.dispatch_every_given else []
    bound = failover_bound(every)
    if bound <= FAILOVER_GOAL:
        return []
    within = max(p for p in PERIODS if failover_bound(p) <= FAILOVER_GOAL)
    return [
        f"workers.dispatch_every = {span(every)}: a killed worker's sources and chats may wait "
        f"{bound:g} s to move to the others, beyond the {FAILOVER_GOAL:g} s goal "
        f"({span(within)} or less keeps it)"
    ]


def summary(config: Config) -> list[str]:
    """Return one line each on the sources, channels, archive, dispatcher, Telegram and /healthz."""
    kinds = Counter(s.kind for s in config.sources)
    every = sorted({s.every_seconds for s in config.sources})
    polled = (
        f", polled every {span(every[0])}" + (f" to {span(every[-1])}" if len(every) > 1 else "")
        if every
        else ""
    )
    sources = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    channels = ", ".join(c.name for c in config.channels)
    if config.storage_url is not None:  # the password stays out of the config, and of this
        archive = f"{config.storage_url} (PostgreSQL; not contacted)"
    elif config.storage_path.exists():
        archive = f"{config.storage_path} (exists{behind(config.storage_path)})"
    else:
        archive = f"{config.storage_path} (created by the first `once` or `run`)"
    token = config.telegram.token
    telegram = (
        f"a token is set ({TOKEN_ENV}); `presswatch once` asks Telegram whether it is accepted"
        if token
        else f"no {TOKEN_ENV}: posts are printed to the console instead"
    )
    http = authority(*config.service.http) if config.service.http else ""
    every = config.workers.dispatch_every
    # Only PostgreSQL's workers have a dispatcher; SQLite's service schedules each source itself.
    workers = (
        [
            f"workers: the dispatcher looks for due sources every {span(every)}; a killed "
            f"worker's jobs move to the others within {failover_bound(every):g} s at most"
        ]
        if config.storage_url is not None
        else []
    )
    return [
        f"sources: {len(config.sources)}" + (f" ({sources}){polled}" if sources else ""),
        f"channels: {len(config.channels)}" + (f" ({channels})" if channels else ""),
        f"archive: {archive}",
        *workers,
        f"telegram: {telegram}",
        "health: " + (f"/healthz and /metrics at {http}" if http else "no [service] http"),
    ]


def behind(path: Path) -> str:
    """Say, after "exists", how many schema updates the SQLite archive at `path` lacks (read
    only, as a report opens it), or that it cannot be read; "" when it is current."""
    from storage import OutdatedArchive, StorageError  # noqa: PLC0415 - only with an archive
    from storage.backends import SqliteBackend  # noqa: PLC0415

    try:
        SqliteBackend(path).open_read_only().close()
    except OutdatedArchive as exc:
        return (
            f"; from an older presswatch: {counted(len(exc.pending), 'update')} to apply, by "
            "`presswatch upgrade-archive` or the service's next start; until then the reports "
            "refuse it"
        )
    except StorageError as exc:
        return f"; cannot be read: {exc}"
    return ""


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
        "check",
        "validate the config offline and say what it sets up; exit 2 naming each bad key",
        "presswatch check --config presswatch.toml",
        _cmd_check,
    ),
    Command(
        "check-source",
        "fetch one source live and show what would be stored and posted (writes nothing)",
        "presswatch check-source interaffairs-en --config presswatch.toml",
        later("bot.cli.dryrun", "check_source"),
        _args_check,
    ),
]
