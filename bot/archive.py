"""How every command opens the archive: where it lives (SQLite or PostgreSQL), and in which mode.

The part of the composition root (bot/app.py) that reports need alone: `search`, `status`,
`sources` or `outbox` open the archive from here without loading what polls and posts need
(the HTTP client, Telegram, the parsing sandbox).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.config import Config
from bot.secrets import scrubber
from storage import StorageError
from storage.backends import Backend, SqliteBackend, in_memory

if TYPE_CHECKING:
    from storage import Store


class Archive(StrEnum):
    """How a command opens the archive."""

    WRITE = "write"  # the service, `once` and `backfill`: created, migrated, one writer (a lock)
    READ = "read"  # reports: read-only, never created (a service may be writing meanwhile)
    DRY = "dry"  # dry runs: read-only when it exists, else an empty one in memory
    MEMORY = "memory"  # a throwaway archive in memory (`add`'s preview)


@contextmanager
def open_archive(
    config: Config, *, read_only: bool = False, existing: bool = False
) -> Iterator[Store]:
    """Open the archive for a short command that needs no network, and close it afterwards;
    `existing`: a command that changes only what is there never creates an empty one."""
    with open_backend(config) as backend:
        if existing and not backend.exists():
            raise StorageError(f"no archive at {backend} yet: run `presswatch once` first")
        with open_store(config, backend, Archive.READ if read_only else Archive.WRITE) as store:
            yield store


@contextmanager
def open_backend(config: Config) -> Iterator[Backend]:
    """Return where the archive lives: PostgreSQL when `[storage] url` is set, else SQLite."""
    if config.storage_url is None:
        backend: Backend = SqliteBackend(config.storage_path)
    else:
        backend = _postgres(config.storage_url, password=config.database_password)
    try:
        yield backend
    finally:
        backend.close()


@contextmanager
def open_migration(
    config: Config, url: str, *, password: str = ""
) -> Iterator[tuple[Store, Store]]:
    """Open the SQLite archive and the PostgreSQL database it moves to, both locked against writers.

    `password` is the caller's: an SQLite config (the only kind migrated) carries none.
    """
    source = SqliteBackend(config.storage_path)
    if not source.exists():
        raise StorageError(f"no archive at {source} to copy")
    target = _postgres(url, password=password)
    with (
        source.lock(),
        _closing(target),
        target.lock(),
        _closing(source.open(dedup=config.dedup)) as old,
        _closing(target.open(dedup=config.dedup)) as new,
    ):
        yield old, new


def _postgres(url: str, *, password: str) -> Backend:
    """Return a PostgreSQL backend, or say which extra to install when psycopg is missing."""
    try:  # psycopg is an optional extra: SQLite installs never import it
        from storage.postgres.backend import PostgresBackend
    except ImportError as exc:
        raise StorageError(
            "PostgreSQL needs its driver: pip install 'presswatch[postgres]'"
        ) from exc
    return PostgresBackend(url, password=password)


@contextmanager
def _closing(thing: Backend | Store) -> Iterator:
    """Close a backend or a store when the block ends."""
    try:
        yield thing
    finally:
        thing.close()


@contextmanager
def open_store(
    config: Config, backend: Backend, archive: Archive, *, sync_in_thread: bool = False
) -> Iterator[Store]:
    """Open the archive as the command needs it; a read-only one is never created or migrated."""
    dedup = config.dedup
    scrub = scrubber(config.telegram.token)  # no error text stores the bot token
    if archive == Archive.WRITE:
        store = backend.open(dedup=dedup, scrub=scrub, sync_in_thread=sync_in_thread)
    elif archive == Archive.READ:
        store = backend.open_read_only(dedup=dedup)
    elif archive == Archive.MEMORY or not backend.exists():
        store = in_memory(dedup=dedup, scrub=scrub)
    else:
        store = backend.open_read_only(dedup=dedup)
    try:
        yield store
    finally:
        store.close()
