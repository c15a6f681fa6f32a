"""What one poll needs, built once by the composition root (bot/app.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.config import HealthConfig
from bot.ingest.intake import Intake
from bot.ingest.misses import SelectorMisses
from scrapers.fetch import Fetcher
from scrapers.sandbox import Parser
from storage import Store

Clock = Callable[[], datetime]


@dataclass(slots=True, kw_only=True)
class PollContext:
    """The collaborators one poll needs, built once by the composition root (bot/app.py)."""

    fetcher: Fetcher
    parser: Parser  # where fetched pages and feeds are parsed: the sandbox's worker processes
    store: Store
    intake: Intake
    health: HealthConfig
    admin_chat_id: str | None
    clock: Clock
    # Per source key, its feed's last reading when every item in it was archived and settled
    # (bot/ingest/links.py): a feed rebuilt with the same items is not parsed again.
    settled_feeds: dict = field(default_factory=dict)
    # Per source key, its listing page's links as last read, with their validators
    # (bot/ingest/listed.py): a listing that answers 304 to those still lists them, and their
    # re-reads fall due.
    listings: dict = field(default_factory=dict)
    # What the poll log said of selectors that matched nothing (None: not said, check-source's).
    selector_misses: SelectorMisses | None = field(default_factory=SelectorMisses)
