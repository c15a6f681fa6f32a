"""The configuration's dataclasses: each section once, with its defaults, and the slices parts receive."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from bot.service.fleet_timing import DISPATCH
from bot.text.classify import Taxonomy
from scrapers.models import FetchPolicy, Source
from storage.records import DedupConfig

__all__ = [
    "Channel",
    "Config",
    "Corrections",
    "DedupConfig",
    "DeliveryConfig",
    "EnrichConfig",
    "HealthConfig",
    "ImageMode",
    "ServiceConfig",
    "TelegramConfig",
    "UncertainPolicy",
    "UnknownSource",
    "WorkersConfig",
]


class UncertainPolicy(StrEnum):
    """What to do with a post that may or may not have arrived (`telegram.uncertain`)."""

    HOLD = "hold"  # wait for the operator: never doubled
    RESEND = "resend"  # send it again: never lost, rarely doubled
    # Look in the chat by forwarding its next message ids into telegram.probe_chat_id: found
    # → sent, provably absent → sent again, undecided → `telegram.probe_fallback`.
    PROBE = "probe"


class ImageMode(StrEnum):
    """How a channel shows an article's lead image (`channels[].image`)."""

    LINK = "link"  # a small preview of the article's page, as Telegram builds it (the default)
    NONE = "none"  # no preview at all
    PREVIEW_ABOVE = "preview_above"  # a large preview of the lead image above the text
    PREVIEW_BELOW = "preview_below"  # … below the text
    PHOTO = "photo"  # the image as a photo, the post as its caption (1,024 characters)


class Corrections(StrEnum):
    """What a changed article does to its posts (`telegram.corrections`)."""

    EDIT = "edit"  # edit the post
    REPLY = "reply"  # answer it with a short update
    IGNORE = "ignore"


@dataclass(frozen=True, slots=True)
class Channel:
    """A Telegram chat that receives posts, with an optional filter."""

    name: str
    chat_id: str
    sources: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    # Entity keys ("csto"): only articles carrying one of them, every entity counted, not only
    # the three a post shows as hashtags.
    entities: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    message_thread_id: int | None = None
    disable_notification: bool = False
    # Collect posts for this many seconds and send one digest message instead.
    digest_seconds: int | None = None
    # Hold posts between these local times ("23:00", "07:00") and send them after, oldest first.
    quiet_hours: tuple[str, str] | None = None
    timezone: str = "UTC"
    image: ImageMode = ImageMode.LINK
    # A Jinja2 post template (the text of `template`, or of the file `template_file` names),
    # checked at start-up; None keeps the built-in layout (bot/delivery/render.py).
    template: str | None = None


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    """How to reach Telegram and how carefully to post."""

    api_base_url: str = "https://api.telegram.org/bot"
    token: str = field(default="", repr=False)
    admin_chat_id: str | None = None
    # The loader makes "probe" the default when probe_chat_id is set.
    uncertain: UncertainPolicy = UncertainPolicy.HOLD
    # A private chat where the bot may post and delete (it may be the admin chat): probes land there.
    probe_chat_id: str | None = None
    # What a probe that cannot decide does: HOLD or RESEND (never PROBE).
    probe_fallback: UncertainPolicy = UncertainPolicy.HOLD
    per_chat_per_minute: int = 20
    per_chat_interval: float = 3.0
    per_second: int = 25
    request_timeout: float = 15.0
    corrections: Corrections = Corrections.EDIT
    # Chat commands (/latest, /search, /subscribe…) answered by long polling while `run` serves.
    commands: bool = False
    admin_user_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """How the long-running service exposes itself."""

    http: tuple[str, int] | None = None  # host and port of /healthz and /metrics


@dataclass(frozen=True, slots=True)
class WorkersConfig:
    """How the workers sharing a PostgreSQL archive work together (unused with SQLite)."""

    # Seconds between the dispatcher's runs: how long a due source may wait, and half of how
    # long a dead worker's jobs may (bot/service/fleet_timing.py); one of its PERIODS.
    dispatch_every: int = DISPATCH
    # Whether the file sets it, the default too: `check` notes it on SQLite, which never reads it.
    # Not compared: a config that spells the default out configures the same workers.
    dispatch_every_given: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class HealthConfig:
    """When a source counts as failing or silent, and how far it backs off."""

    alert_after_failures: int = 3
    alert_after_empty_polls: int = 3
    max_backoff_seconds: int = 6 * 3600


def _no_taxonomy() -> Taxonomy:
    return Taxonomy(topics=(), entities=())


@dataclass(frozen=True, slots=True)
class EnrichConfig:
    """What enrichment reads: the taxonomy and the summary's length (dedup settings are the store's)."""

    taxonomy: Taxonomy
    summary_chars: int


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    """What delivery reads: Telegram's settings, the channels, and how posts name sources and tags."""

    telegram: TelegramConfig
    channels: tuple[Channel, ...]
    sources: tuple[Source, ...]
    taxonomy: Taxonomy


@dataclass(frozen=True, slots=True)
class Config:
    """Everything presswatch needs to run; each part receives only its slice."""

    path: Path
    storage_path: Path  # the SQLite archive, unless storage_url names a PostgreSQL database
    storage_url: str | None = None
    database_password: str = field(default="", repr=False)
    fetch: FetchPolicy = field(default_factory=FetchPolicy)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    channels: tuple[Channel, ...] = ()
    sources: tuple[Source, ...] = ()
    taxonomy: Taxonomy = field(default_factory=_no_taxonomy)
    service: ServiceConfig = field(default_factory=ServiceConfig)
    workers: WorkersConfig = field(default_factory=WorkersConfig)
    health: HealthConfig = field(default_factory=HealthConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    summary_chars: int = 600
    # What the loader found worth saying but not refusing (e.g. no channels): logged at start-up.
    warnings: tuple[str, ...] = ()

    @property
    def enrich(self) -> EnrichConfig:
        """Return the slice enrichment reads."""
        return EnrichConfig(taxonomy=self.taxonomy, summary_chars=self.summary_chars)

    @property
    def delivery(self) -> DeliveryConfig:
        """Return the slice delivery reads."""
        return DeliveryConfig(
            telegram=self.telegram,
            channels=self.channels,
            sources=self.sources,
            taxonomy=self.taxonomy,
        )

    @property
    def chat_ids(self) -> dict[str, str]:
        """Return each channel's chat_id as configured now (where a retried post may go)."""
        return {channel.name: channel.chat_id for channel in self.channels}

    def source(self, key: str) -> Source:
        """Return the source with this key or raise UnknownSource."""
        for source in self.sources:
            if source.key == key:
                return source
        raise UnknownSource(key, tuple(s.key for s in self.sources))


class UnknownSource(LookupError):
    """A command named a source key the config does not have: a usage error, not a config one."""

    def __init__(self, key: str, known: tuple[str, ...], *, listed: str = "configured") -> None:
        super().__init__(unknown_name("source", key, known, listed=listed))


def unknown_name(kind: str, name: str, known: Sequence[str], *, listed: str) -> str:
    """Say that a command named an unknown source or topic, with the closest known name."""
    close = closest_names(name, known)
    # The closest names when one is near (a typo), else the whole list to choose from.
    hint = did_you_mean(close) if close else f"{listed}: {', '.join(known) or 'none'}"
    return f"unknown {kind} {name!r} ({hint})"


def closest_names(name: str, known: Sequence[str]) -> list[str]:
    """Return the known names an unknown `name` was probably meant as: those that hold it (two
    or three), else the closest one by spelling, else none."""
    # A known name that holds the one given comes first: "peace" is short for peacekeeping,
    # though difflib puts "eaeu" nearer (0.67 against 0.59).
    folded = name.casefold()
    holding = [k for k in known if len(folded) >= 3 and folded in k.casefold()]
    if 1 < len(holding) <= 3:  # "csto": odkb-csto-ru and odkb-csto-en; neither is the one meant
        return holding
    return difflib.get_close_matches(name, holding, n=1, cutoff=0) or difflib.get_close_matches(
        name, known, n=1, cutoff=0.6
    )


def did_you_mean(close: Sequence[str]) -> str:
    """Return "did you mean 'a'?" (or "'a', 'b' or 'c'") for the names closest_names found."""
    *others, last = (repr(k) for k in close)
    return f"did you mean {', '.join(others)} or {last}?" if others else f"did you mean {last}?"
