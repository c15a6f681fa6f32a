"""Source health: failing and silent sources are noticed, alerted once, and their recovery told."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapers.models import Source
from storage import RunRecord

if TYPE_CHECKING:
    from .pipeline import PollContext


def record_health(source: Source, run: RunRecord, ctx: PollContext) -> None:
    """Update the source's health after a poll and queue an alert when it changes."""
