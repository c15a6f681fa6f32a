"""The SQLite archive through sqlite-utils. Imports only data types from scrapers."""

from .records import (
    FAILED, PENDING, SENDING, SENT, UNCERTAIN, Delivery, OutboxItem, RunRecord, SourceState,
)
from .store import AlreadyRunning, InstanceLock, StorageError, Store

__all__ = [
    "FAILED", "PENDING", "SENDING", "SENT", "UNCERTAIN", "AlreadyRunning", "Delivery",
    "InstanceLock", "OutboxItem", "RunRecord", "SourceState", "StorageError", "Store",
]
