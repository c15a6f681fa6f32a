"""The one configuration object, loaded from TOML and validated once.

Every error names the key path it is about (`sources[2].link_pattern: ...`). The Telegram token
is read only from the environment variable PRESSWATCH_TELEGRAM_TOKEN.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import soupsieve

from bot.text.classify import Taxonomy, taxonomy_from_dict
from scrapers.fetch import FetchPolicy
from scrapers.models import Selectors, Source

TOKEN_ENV = "PRESSWATCH_TELEGRAM_TOKEN"
_MISSING = object()
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.IGNORECASE)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_ITEM_NAMES = {str: "strings", int: "numbers", list: "lists"}
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid; the message names the key."""


@dataclass(frozen=True, slots=True)
class Channel:
    """A Telegram chat that receives posts, with an optional filter."""

    name: str
    chat_id: str
    sources: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
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


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    """How to reach Telegram and how carefully to post."""

    api_base_url: str = "https://api.telegram.org/bot"
    token: str = field(default="", repr=False)
    admin_chat_id: str | None = None
    # "hold": a post whose delivery is unknown waits for the operator (never doubled);
    # "resend": it is sent again (never lost, rarely doubled).
    uncertain: str = "hold"
    per_chat_per_minute: int = 20
    per_chat_interval: float = 3.0
    per_second: int = 25
    request_timeout: float = 15.0
    # What a changed article does to its post: "edit" it, "reply" with a short update, or "ignore".
    corrections: str = "edit"
    # Chat commands (/latest, /search, /subscribe…) answered by long polling while `run` serves.
    commands: bool = False
    admin_user_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """How the long-running service exposes itself."""

    http: tuple[str, int] | None = None  # host and port of /healthz and /metrics


@dataclass(frozen=True, slots=True)
class HealthConfig:
    """When a source counts as failing or silent, and how far it backs off."""

    alert_after_failures: int = 3
    alert_after_empty_polls: int = 3
    max_backoff_seconds: int = 6 * 3600


@dataclass(frozen=True, slots=True)
class DedupConfig:
    """Near-duplicate detection: shingles, MinHash-LSH candidates, exact confirmation."""

    shingle: int = 3
    num_perm: int = 128
    candidate_threshold: float = 0.5
    # Labelled reprints score 0.82-1.0 and distinct releases on the same event 0.04-0.36
    # (tests/data/reprints.jsonl); 0.7 sits between them with margin on both sides.
    threshold: float = 0.7
    window_seconds: int = 30 * 86400


@dataclass(frozen=True, slots=True)
class Config:
    """Everything presswatch needs to run."""

    path: Path
    storage_path: Path
    fetch: FetchPolicy
    telegram: TelegramConfig
    channels: tuple[Channel, ...]
    sources: tuple[Source, ...]
    taxonomy: Taxonomy = field(default_factory=lambda: Taxonomy(topics=(), entities=()))
    service: ServiceConfig = field(default_factory=ServiceConfig)
    health: HealthConfig = field(default_factory=HealthConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    summary_chars: int = 600

    def source(self, key: str) -> Source:
        """Return the source with this key or raise ConfigError."""
        for source in self.sources:
            if source.key == key:
                return source
        known = ", ".join(s.key for s in self.sources) or "none"
        raise ConfigError(f"unknown source {key!r} (configured: {known})")


def load_config(path: str | Path, *, environ: dict[str, str] | None = None) -> Config:
    """Read and validate the TOML file at `path`; raise ConfigError naming the bad key."""
    path = Path(path)
    environ = os.environ if environ is None else environ
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: config file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    return config_from_dict(data, path=path, token=environ.get(TOKEN_ENV, "").strip())


def config_from_dict(data: dict, *, path: Path, token: str = "") -> Config:
    """Validate parsed TOML into a Config."""
    root = _Table(data, "")
    storage = root.table("storage")
    raw_path = Path(storage.get("path", str, "presswatch.db"))
    storage.finish()
    fetch = _fetch_policy(root.table("fetch"))
    telegram = _telegram(root.table("telegram"), token=token)
    channels = tuple(_channel(t) for t in root.tables("channels"))
    _unique([c.name for c in channels], "channels", "name")
    sources = tuple(_source(t) for t in root.tables("sources"))
    _unique([s.key for s in sources], "sources", "key")
    taxonomy = _taxonomy(root)
    _check_channel_filters(channels, sources, taxonomy)
    config = Config(
        path=path,
        storage_path=raw_path if raw_path.is_absolute() else path.parent / raw_path,
        fetch=fetch,
        telegram=telegram,
        channels=channels,
        sources=sources,
        taxonomy=taxonomy,
        service=_service(root.table("service")),
        health=_health(root.table("health")),
        dedup=_dedup(root.table("dedup")),
        summary_chars=_summary(root.table("summary")),
    )
    root.finish()
    return config


def parse_duration(value: Any, where: str) -> int:
    """Return seconds from an int or a string like '10m', '1h30m', '45s', '2d'."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str):
        text = value.replace(" ", "")
        parts = _DURATION.findall(text)
        if parts and "".join(n + u for n, u in parts).lower() == text.lower():
            seconds = sum(float(n) * _UNIT_SECONDS[u.lower()] for n, u in parts)
            if seconds >= 1:
                return int(seconds)
    raise ConfigError(f"{where}: expected a duration such as '10m', '1h' or '30s', got {value!r}")


def _fetch_policy(t: _Table) -> FetchPolicy:
    """Read [fetch]."""
    default = FetchPolicy()
    policy = FetchPolicy(
        user_agent=t.get("user_agent", str, default.user_agent, check=bool),
        timeout=t.get("timeout", float, default.timeout, check=lambda v: 0 < v <= 600),
        min_delay_per_host=t.get(
            "min_delay_per_host", float, default.min_delay_per_host, check=lambda v: 0 <= v <= 3600
        ),
        allow_private_addresses=t.get("allow_private_addresses", bool, False),
        max_bytes=t.get("max_bytes", int, default.max_bytes, check=lambda v: v >= 10_000),
        retries=t.get("retries", int, default.retries, check=lambda v: 0 <= v <= 10),
    )
    t.finish()
    return policy


def _telegram(t: _Table, *, token: str) -> TelegramConfig:
    """Read [telegram]; refuse a token in the file."""
    if "token" in t.data:
        raise ConfigError(
            f"telegram.token: put the bot token in the environment variable "
            f"{TOKEN_ENV}, never in the config file"
        )
    default = TelegramConfig()
    admin = t.get("admin_chat_id", (str, int), None)
    config = TelegramConfig(
        api_base_url=t.get(
            "api_base_url",
            str,
            default.api_base_url,
            check=lambda v: v.startswith(("http://", "https://")),
        ),
        token=token,
        admin_chat_id=str(admin) if admin is not None else None,
        uncertain=t.get("uncertain", str, default.uncertain, check=_one_of("hold", "resend")),
        per_chat_per_minute=t.get(
            "per_chat_per_minute", int, default.per_chat_per_minute, check=lambda v: 1 <= v <= 60
        ),
        per_chat_interval=t.get(
            "per_chat_interval", float, default.per_chat_interval, check=lambda v: 0 <= v <= 3600
        ),
        request_timeout=t.get(
            "request_timeout", float, default.request_timeout, check=lambda v: 1 <= v <= 300
        ),
        per_second=t.get("per_second", int, default.per_second, check=lambda v: 1 <= v <= 30),
        corrections=t.get(
            "corrections", str, default.corrections, check=_one_of("edit", "reply", "ignore")
        ),
        commands=t.get("commands", bool, default.commands),
        admin_user_ids=tuple(t.get("admin_user_ids", list, [], items=int)),
    )
    t.finish()
    return config


def _channel(t: _Table) -> Channel:
    """Read one [[channels]] entry."""
    chat = t.get("chat_id", (str, int))
    if isinstance(chat, str) and not re.fullmatch(r"@[A-Za-z][A-Za-z0-9_]{3,}|-?\d+", chat):
        raise ConfigError(
            f"{t.path}.chat_id: expected '@channelname' or a numeric id, got {chat!r}"
        )
    channel = Channel(
        name=t.get("name", str, check=_KEY.match),
        chat_id=str(chat),
        sources=tuple(t.get("sources", list, [])),
        topics=tuple(t.get("topics", list, [])),
        languages=tuple(t.get("languages", list, [])),
        include=tuple(t.get("include", list, [])),
        exclude=tuple(t.get("exclude", list, [])),
        message_thread_id=t.get("message_thread_id", int, None),
        disable_notification=t.get("disable_notification", bool, False),
        digest_seconds=(
            parse_duration(t.data.pop("digest"), f"{t.path}.digest") if "digest" in t.data else None
        ),
        quiet_hours=_quiet_hours(t.get("quiet_hours", str, None), f"{t.path}.quiet_hours"),
        timezone=t.get("timezone", str, "UTC", check=_zone),
    )
    if channel.message_thread_id is not None and channel.chat_id.startswith("@"):
        raise ConfigError(
            f"{t.path}.message_thread_id: forum topics exist only in supergroups; "
            "give the group's numeric chat_id"
        )
    t.finish()
    return channel


def _source(t: _Table) -> Source:
    """Read one [[sources]] entry."""
    kind = t.get("kind", str, "html", check=_one_of("html", "feed"))
    source = Source(
        key=t.get("key", str, check=_KEY.match),
        name=t.get("name", str, ""),
        kind=kind,
        url=t.get("url", str, check=lambda v: v.startswith(("http://", "https://"))),
        link_pattern=t.get("link_pattern", str, None, check=_regex),
        lang=t.get("lang", str, None),
        timezone=t.get("timezone", str, "UTC", check=_zone),
        every_seconds=parse_duration(t.data.pop("every", "10m"), f"{t.path}.every"),
        backfill=t.get("backfill", int, 0, check=lambda v: 0 <= v <= 1000),
        fetch_pages=t.get("fetch_pages", bool, True),
        robots=t.get("robots", bool, True),
        dateline=t.get("dateline", str, None, check=_regex),
        trust_offset=t.get("trust_offset", bool, True),
        trailers=tuple(t.get("trailers", list, [])),
        drop_lines=tuple(t.get("drop_lines", list, [], check=lambda v: all(map(_regex, v)))),
        url_rewrites=_rewrites(t),
        selectors=_selectors(t.table("selectors")),
        max_silence_seconds=(
            parse_duration(t.data.pop("max_silence"), f"{t.path}.max_silence")
            if "max_silence" in t.data
            else None
        ),
        recheck_seconds=_recheck(t),
        pages=t.get(
            "pages",
            str,
            None,
            check=lambda v: "{page}" in v or _fail("expected a URL template containing {page}"),
        ),
    )
    if kind == "html" and not source.link_pattern:
        raise ConfigError(f'{t.path}.link_pattern: required for kind = "html"')
    t.finish()
    return source


def _taxonomy(root: _Table) -> Taxonomy:
    """Compile the [topics.*] and [entities.*] tables."""
    tables = {name: root.data.pop(name) for name in ("topics", "entities") if name in root.data}
    if not tables:
        return Taxonomy(topics=(), entities=())
    tables.setdefault("topics", {})
    try:
        return taxonomy_from_dict(tables)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def _check_channel_filters(
    channels: tuple[Channel, ...], sources: tuple[Source, ...], taxonomy: Taxonomy
) -> None:
    """Refuse channel filters that name unknown sources or topics (a typo would silence a channel)."""
    source_keys, topic_keys = {s.key for s in sources}, {t.key for t in taxonomy.topics}
    for i, channel in enumerate(channels):
        for key in channel.sources:
            if key not in source_keys:
                raise ConfigError(f"channels[{i}].sources: unknown source {key!r}")
        for key in channel.topics:
            if key not in topic_keys:
                raise ConfigError(f"channels[{i}].topics: unknown topic {key!r}")


def _service(t: _Table) -> ServiceConfig:
    """Read [service]."""
    http = t.get("http", str, None)
    t.finish()
    if http is None:
        return ServiceConfig()
    host, _, port = http.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(
            f"service.http: expected 'host:port' such as '127.0.0.1:9108', got {http!r}"
        )
    return ServiceConfig(http=(host.strip("[]"), int(port)))


def _health(t: _Table) -> HealthConfig:
    """Read [health]."""
    default = HealthConfig()
    config = HealthConfig(
        alert_after_failures=t.get(
            "alert_after_failures", int, default.alert_after_failures, check=lambda v: v >= 1
        ),
        alert_after_empty_polls=t.get(
            "alert_after_empty_polls", int, default.alert_after_empty_polls, check=lambda v: v >= 1
        ),
        max_backoff_seconds=(
            parse_duration(t.data.pop("max_backoff"), "health.max_backoff")
            if "max_backoff" in t.data
            else default.max_backoff_seconds
        ),
    )
    t.finish()
    return config


def _dedup(t: _Table) -> DedupConfig:
    """Read [dedup]."""
    default = DedupConfig()
    config = DedupConfig(
        shingle=t.get("shingle", int, default.shingle, check=lambda v: 1 <= v <= 10),
        num_perm=t.get("num_perm", int, default.num_perm, check=lambda v: 16 <= v <= 512),
        candidate_threshold=t.get(
            "candidate_threshold", float, default.candidate_threshold, check=lambda v: 0 < v < 1
        ),
        threshold=t.get("threshold", float, default.threshold, check=lambda v: 0 < v <= 1),
        window_seconds=(
            parse_duration(t.data.pop("window"), "dedup.window")
            if "window" in t.data
            else default.window_seconds
        ),
    )
    t.finish()
    return config


def _summary(t: _Table) -> int:
    """Read [summary]."""
    chars = t.get("max_chars", int, 600, check=lambda v: 100 <= v <= 3000)
    t.finish()
    return chars


def _quiet_hours(value: str | None, where: str) -> tuple[str, str] | None:
    """Parse 'HH:MM-HH:MM' into a pair of times."""
    if value is None:
        return None
    match = re.fullmatch(
        r"\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)\s*", value
    )
    if not match:
        raise ConfigError(f"{where}: expected 'HH:MM-HH:MM' such as '23:00-07:00', got {value!r}")
    h1, m1, h2, m2 = match.groups()
    return f"{int(h1):02d}:{m1}", f"{int(h2):02d}:{m2}"


def _fail(message: str) -> bool:
    """Raise a ValueError (for use inside check lambdas)."""
    raise ValueError(message)


def _recheck(t: _Table) -> int:
    """Read a source's recheck window: a duration, or 0 to never re-read."""
    value = t.data.pop("recheck", "6h")
    return 0 if value in (0, "0", "off") else parse_duration(value, f"{t.path}.recheck")


def _selectors(t: _Table) -> Selectors:
    """Read a source's [sources.selectors] table."""
    selectors = Selectors(
        **{
            name: t.get(name, str, None, check=_css)
            for name in ("title", "date", "author", "lead", "body")
        },
        remove=tuple(t.get("remove", list, [], check=lambda v: all(map(_css, v)))),
    )
    t.finish()
    return selectors


def _rewrites(t: _Table) -> tuple[tuple[str, str], ...]:
    """Read url_rewrites = [["pattern", "replacement"], ...]."""
    pairs = t.get("url_rewrites", list, [], items=list)
    for i, pair in enumerate(pairs):
        if not (
            isinstance(pair, list)
            and len(pair) == 2
            and all(isinstance(p, str) for p in pair)
            and _regex(pair[0])
        ):
            raise ConfigError(f'{t.path}.url_rewrites[{i}]: expected ["regex", "replacement"]')
    return tuple((p, r) for p, r in pairs)


def _css(value: str) -> bool:
    """Return True for a valid CSS selector, else raise a ValueError for the caller."""
    try:
        soupsieve.compile(value)
    except soupsieve.SelectorSyntaxError as exc:
        raise ValueError(f"not a valid CSS selector ({str(exc).splitlines()[0]})") from exc
    return True


def _one_of(*allowed: str):
    """Return a check that accepts only the given strings."""

    def check(value: str) -> bool:
        if value not in allowed:
            raise ValueError(f"expected {' or '.join(map(repr, allowed))}, got {value!r}")
        return True

    return check


def _regex(value: str) -> bool:
    """Return True for a valid regular expression, else raise a ValueError for the caller."""
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression ({exc})") from exc
    return True


def _zone(value: str) -> bool:
    """Return True for a known IANA time zone name."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name such as Europe/Moscow)"
        ) from exc
    return True


def _unique(values: list[str], section: str, key: str) -> None:
    """Raise when two entries of a section share a key."""
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise ConfigError(f"{section}[{i}].{key}: duplicate {key} {value!r}")
        seen.add(value)


class _Table:
    """A TOML table being read: typed getters, and an error for every key nobody asked for."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a table")
        self.data, self.path = dict(data), path

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str, kind, default: Any = _MISSING, *, check=None, items: type = str) -> Any:
        """Pop and type-check one key; `check` returns falsy or raises ValueError when invalid."""
        if key not in self.data:
            if default is _MISSING:
                raise ConfigError(f"{self._where(key)}: required key is missing")
            return default
        value = self.data.pop(key)
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise ConfigError(f"{self._where(key)}: expected {names}, got {value!r}")
        if kind is list and not all(
            isinstance(v, items) and not isinstance(v, bool) for v in value
        ):
            raise ConfigError(
                f"{self._where(key)}: expected a list of {_ITEM_NAMES.get(items, items.__name__)}"
            )
        try:
            ok = check(value) if check else True
        except ValueError as exc:
            raise ConfigError(f"{self._where(key)}: {exc}") from exc
        if not ok:
            raise ConfigError(f"{self._where(key)}: invalid value {value!r}")
        return value

    def table(self, key: str) -> _Table:
        """Pop a sub-table (empty when absent)."""
        return _Table(self.data.pop(key, {}), self._where(key))

    def tables(self, key: str) -> list[_Table]:
        """Pop an array of tables."""
        items = self.data.pop(key, [])
        if not isinstance(items, list):
            raise ConfigError(f"{self._where(key)}: expected [[{key}]] entries")
        return [_Table(item, f"{self._where(key)}[{i}]") for i, item in enumerate(items)]

    def accept(self, *keys: str) -> None:
        """Let keys pass that another module validates."""
        for key in keys:
            self.data.pop(key, None)

    def accept_rest(self) -> None:
        """Let the whole table pass (validated elsewhere)."""
        self.data.clear()

    def finish(self) -> None:
        """Raise for the first key nobody read."""
        for key in self.data:
            raise ConfigError(f"{self._where(key)}: unknown key")
