"""The archive: SQLite through sqlite-utils, or PostgreSQL through psycopg. Imports only data types from scrapers."""

from .lock import AlreadyRunning, ConstraintViolation, InstanceLock, StorageError, lock_holder
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
    "ConstraintViolation",
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
