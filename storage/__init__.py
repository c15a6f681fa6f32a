"""The SQLite archive through sqlite-utils. Imports only data types from scrapers."""

from .lock import AlreadyRunning, InstanceLock, StorageError, lock_holder
from .records import (
    ChannelState,
    Delivery,
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
from .store import Store, TopicReason

__all__ = [
    "AlreadyRunning",
    "ChannelState",
    "Delivery",
    "Health",
    "InstanceLock",
    "OutboxItem",
    "OutboxKind",
    "OutboxState",
    "RunRecord",
    "RunStatus",
    "SourceCondition",
    "SourceState",
    "StorageError",
    "Store",
    "TagKind",
    "TopicReason",
    "lock_holder",
]
