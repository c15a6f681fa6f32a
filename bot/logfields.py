"""Structured fields for log lines: set once per poll or delivery, carried by every line within.

A poll sets `source` and `url`, an article read inside it `url` (the article's) and, once
stored, `article_id`; a send sets `channel`, `chat` and `article_id`. Fields live in a context
variable, so each asyncio task (one per poll, one per send) sees only its own; the CLI's JSON
formatter writes them beside the message (bot/cli/logs.py). A call's own `extra=` wins.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType

FIELDS = ("event", "source", "url", "channel", "chat", "article_id")

_EMPTY: Mapping[str, object] = MappingProxyType({})
_current: ContextVar[Mapping[str, object]] = ContextVar("presswatch_log_fields", default=_EMPTY)


@contextmanager
def log_fields(**fields: object) -> Iterator[None]:
    """Add `fields` (None ones left out) to every log line of this task until the block ends."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown log field(s): {', '.join(sorted(unknown))}")
    merged = {**_current.get(), **{k: v for k, v in fields.items() if v is not None}}
    token = _current.set(MappingProxyType(merged))
    try:
        yield
    finally:
        _current.reset(token)


def current_fields() -> Mapping[str, object]:
    """Return the fields set for this task."""
    return _current.get()
