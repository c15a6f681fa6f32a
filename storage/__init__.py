"""The archive: SQLite through sqlite-utils, or PostgreSQL through psycopg. Imports only data types from scrapers."""

from importlib import import_module

from .lock import (
    AlreadyRunning,
    ConstraintViolation,
    InstanceLock,
    OutdatedArchive,
    StorageError,
    lock_holder,
)
from .reasons import TopicReason
from .records import (
    ChannelState,
    Delivery,
    DigestMark,
    Health,
    OutboxItem,
    OutboxKind,
    OutboxState,
    RunRecord,
    RunStatus,
    SourceCondition,
    SourceState,
    TagKind,
)
from .selector_misses import SelectorMiss, SelectorRun

# The store (sqlite-utils, the near-duplicate index) is imported on first use (PEP 562): a
# command that only names the archive's records or errors does not load it.
_FROM_STORE = ("Store",)

__all__ = [
    "AlreadyRunning",
    "ChannelState",
    "ConstraintViolation",
    "Delivery",
    "DigestMark",
    "Health",
    "InstanceLock",
    "OutboxItem",
    "OutboxKind",
    "OutboxState",
    "RunRecord",
    "RunStatus",
    "SelectorMiss",
    "SelectorRun",
    "SourceCondition",
    "SourceState",
    "OutdatedArchive",
    "StorageError",
    "Store",
    "TagKind",
    "TopicReason",
    "lock_holder",
]


def __getattr__(name: str) -> object:
    """Return Store, importing the store the first time."""
    if name not in _FROM_STORE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(".store", __name__), name)
    globals()[name] = value  # later look-ups find it without this hook
    return value
