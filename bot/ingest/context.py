"""What one poll needs, built once by the composition root (bot/app.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import InitVar, dataclass, field
from datetime import UTC, datetime

from bot.config import Config, HealthConfig
from bot.ingest.enrich import Enricher
from bot.ingest.intake import Intake
from scrapers.fetch import Fetcher
from storage import Store

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True, kw_only=True)
class PollContext:
    """The collaborators one poll needs, built once by the composition root (bot/app.py)."""

    fetcher: Fetcher
    store: Store
    intake: Intake | None = None  # required; set from `config` by the shim below
    health: HealthConfig = field(default_factory=HealthConfig)
    admin_chat_id: str | None = None
    clock: Clock = _now
    # bench/ still builds a context from the whole Config; bot.app.poll_context is the way, and
    # this InitVar goes once bench/ uses it.
    config: InitVar[Config | None] = None

    def __post_init__(self, config: Config | None) -> None:
        if config is not None:
            self.intake = Intake(
                Enricher(config.enrich, self.store),
                self.store,
                channels=config.channels,
                corrections=config.telegram.corrections,
            )
            self.health, self.admin_chat_id = config.health, config.telegram.admin_chat_id
        if self.intake is None:
            raise TypeError("PollContext needs an intake")
