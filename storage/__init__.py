"""The SQLite archive through sqlite-utils. Imports only data types from scrapers."""

from .records import (
    DROPPED,
    EDIT,
    FAILED,
    PENDING,
    POST,
    REPLY,
    SENDING,
    SENT,
    UNCERTAIN,
    Delivery,
    OutboxItem,
    RunRecord,
    SourceState,
)
from .store import AlreadyRunning, InstanceLock, StorageError, Store, TopicReason

__all__ = [
    "DROPPED",
    "EDIT",
    "FAILED",
    "PENDING",
    "POST",
    "REPLY",
    "SENDING",
    "SENT",
    "UNCERTAIN",
    "AlreadyRunning",
    "Delivery",
    "InstanceLock",
    "OutboxItem",
    "RunRecord",
    "SourceState",
    "StorageError",
    "Store",
    "TopicReason",
]
