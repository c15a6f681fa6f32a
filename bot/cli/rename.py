"""The `rename-source` command: move a source's archive (articles, polls, state, readers'
alerts) from its old key to a new one, in one transaction, while no service writes it.

The config is left to the operator: the command says which lines name the old key (its
[[sources]] block, channels' `sources`), but a file that deploy tooling or comments shape is not
rewritten here.
"""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from typing import TYPE_CHECKING

from bot.archive import Archive, open_backend, open_store
from bot.cli.common import EXIT_OK, Command, CommandError, UsageError
from bot.config import Config, load_config
from bot.config.checks import key_name
from bot.text.plural import counted
from storage import AlreadyRunning, StorageError

if TYPE_CHECKING:
    from storage.rename import Moved


def _cmd_rename(args: argparse.Namespace) -> int:
    """Move every row of source OLD to NEW in the archive, then say what to change in the config."""
    old, new = args.old, args.new
    for key in (old, new):
        try:
            key_name(key)
        except ValueError as exc:
            raise UsageError(f"rename-source: {key!r}: {exc}") from exc
    if old == new:
        raise UsageError(f"rename-source: {old} is {new} already")
    config = load_config(args.config)
    configured = {source.key for source in config.sources}
    if {old, new} <= configured:
        raise UsageError(
            f"rename-source: {old} and {new} are both configured sources: remove {old}'s "
            f"[[sources]] block from {config.path} first (nothing was moved)"
        )
    where, moved = _move(config, old, new, merge=args.merge)
    told = [counted(n, thing) for thing, n in moved.counts if n]
    if moved.alerts_merged:  # their readers follow NEW already: not moved, and not lost
        n = moved.alerts_merged
        told.append(f"{n} reader alert{'' if n == 1 else 's'} on {old} dropped (on {new} already)")
    state = {"moved": "its state", "merged": f"its state (merged into {new}'s)"}.get(moved.state)
    print(f"renamed {old} to {new} in {where}: " + ", ".join([*told, *filter(None, [state])]))
    print(_config_step(config, old, new))
    return EXIT_OK


def _move(config: Config, old: str, new: str, *, merge: bool) -> tuple[str, Moved]:
    """Hold the archive's lock (no service may write meanwhile) and move OLD's rows to NEW;
    return where the archive is and what moved."""
    from storage.rename import KeyTaken, rename_source  # noqa: PLC0415 - sqlite-utils loads here

    with ExitStack() as stack:
        backend = stack.enter_context(open_backend(config))
        if not backend.exists():
            raise StorageError(f"no archive at {backend}: nothing to rename")
        try:
            stack.enter_context(backend.lock(role="rename-source"))
        except AlreadyRunning as exc:
            every = "; every worker on every machine" if backend.dialect == "postgresql" else ""
            raise CommandError(
                f"{exc} (the service: `systemctl stop presswatch`{every}), then rename; nothing "
                "was moved"
            ) from exc
        store = stack.enter_context(open_store(config, backend, Archive.WRITE))
        if old not in store.sources.archived_keys():
            raise CommandError(f"rename-source: the archive holds nothing under {old}")
        try:
            return str(backend), rename_source(store.db, old, new, merge=merge)
        except KeyTaken as exc:
            raise CommandError(
                f"rename-source: {exc}: give --merge to add {old}'s to them, or choose another "
                "key; nothing was moved"
            ) from exc


def _config_step(config: Config, old: str, new: str) -> str:
    """Say what is left to change in the config, then how to go on."""
    if new in {source.key for source in config.sources}:
        return f"{config.path} names {new} already: start the service again"
    channels = [c.name for c in config.channels if old in c.sources]
    where = f'key = "{old}" in its [[sources]] block' + (
        f" and in the sources of channel{'s' if len(channels) > 1 else ''} {', '.join(channels)}"
        if channels
        else ""
    )
    return f"now in {config.path} change {where} to {new}, then start the service again"


def _args_rename(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("old", metavar="OLD", help="the key the archive holds the source under")
    sub.add_argument("new", metavar="NEW", help="the source's new key")
    sub.add_argument(
        "--merge",
        action="store_true",
        help="also when NEW holds articles already (e.g. polled since the config was changed): "
        "OLD's are added to them",
    )


COMMANDS: list[Command] = [
    Command(
        "rename-source",
        "move a source's articles, polls, state and readers' alerts to a new key (stop the "
        "service first)",
        "presswatch rename-source tass-com tass-en --config presswatch.toml",
        _cmd_rename,
        _args_rename,
    ),
]
