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

from scrapers.fetch import FetchPolicy
from scrapers.models import Selectors, Source

TOKEN_ENV = "PRESSWATCH_TELEGRAM_TOKEN"
_MISSING = object()
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.IGNORECASE)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
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
    request_timeout: float = 15.0


@dataclass(frozen=True, slots=True)
class Config:
    """Everything presswatch needs to run."""

    path: Path
    storage_path: Path
    fetch: FetchPolicy
    telegram: TelegramConfig
    channels: tuple[Channel, ...]
    sources: tuple[Source, ...]
    raw: dict = field(default_factory=dict, repr=False, compare=False)

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
    for section in ("service", "topics", "entities", "logging"):
        root.table(section).accept_rest()  # Validated by the modules that own them.
    root.finish()
    return Config(
        path=path,
        storage_path=raw_path if raw_path.is_absolute() else path.parent / raw_path,
        fetch=fetch, telegram=telegram, channels=channels, sources=sources, raw=data,
    )


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
        min_delay_per_host=t.get("min_delay_per_host", float, default.min_delay_per_host,
                                 check=lambda v: 0 <= v <= 3600),
        allow_private_addresses=t.get("allow_private_addresses", bool, False),
        max_bytes=t.get("max_bytes", int, default.max_bytes, check=lambda v: v >= 10_000),
        retries=t.get("retries", int, default.retries, check=lambda v: 0 <= v <= 10),
    )
    t.finish()
    return policy


def _telegram(t: _Table, *, token: str) -> TelegramConfig:
    """Read [telegram]; refuse a token in the file."""
    if "token" in t.data:
        raise ConfigError(f"telegram.token: put the bot token in the environment variable "
                          f"{TOKEN_ENV}, never in the config file")
    default = TelegramConfig()
    admin = t.get("admin_chat_id", (str, int), None)
    config = TelegramConfig(
        api_base_url=t.get("api_base_url", str, default.api_base_url,
                           check=lambda v: v.startswith(("http://", "https://"))),
        token=token,
        admin_chat_id=str(admin) if admin is not None else None,
        uncertain=t.get("uncertain", str, default.uncertain, check=_one_of("hold", "resend")),
        per_chat_per_minute=t.get("per_chat_per_minute", int, default.per_chat_per_minute,
                                  check=lambda v: 1 <= v <= 60),
        per_chat_interval=t.get("per_chat_interval", float, default.per_chat_interval,
                                check=lambda v: 0 <= v <= 3600),
        request_timeout=t.get("request_timeout", float, default.request_timeout,
                              check=lambda v: 1 <= v <= 300),
    )
    t.accept("admin_user_ids", "digest")  # Read by the chat commands and digests.
    t.finish()
    return config


def _channel(t: _Table) -> Channel:
    """Read one [[channels]] entry."""
    chat = t.get("chat_id", (str, int))
    if isinstance(chat, str) and not re.fullmatch(r"@[A-Za-z][A-Za-z0-9_]{3,}|-?\d+", chat):
        raise ConfigError(f"{t.path}.chat_id: expected '@channelname' or a numeric id, got {chat!r}")
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
    )
    t.accept("digest", "quiet_hours")
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
        max_silence_seconds=(parse_duration(t.data.pop("max_silence"), f"{t.path}.max_silence")
                             if "max_silence" in t.data else None),
    )
    if kind == "html" and not source.link_pattern:
        raise ConfigError(f"{t.path}.link_pattern: required for kind = \"html\"")
    t.finish()
    return source


def _selectors(t: _Table) -> Selectors:
    """Read a source's [sources.selectors] table."""
    selectors = Selectors(
        **{name: t.get(name, str, None) for name in ("title", "date", "author", "lead", "body")},
        remove=tuple(t.get("remove", list, [])),
    )
    t.finish()
    return selectors


def _rewrites(t: _Table) -> tuple[tuple[str, str], ...]:
    """Read url_rewrites = [["pattern", "replacement"], ...]."""
    pairs = t.get("url_rewrites", list, [])
    for i, pair in enumerate(pairs):
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
                and _regex(pair[0])):
            raise ConfigError(f"{t.path}.url_rewrites[{i}]: expected [\"regex\", \"replacement\"]")
    return tuple((p, r) for p, r in pairs)


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
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Moscow)") from exc
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

    def get(self, key: str, kind, default: Any = _MISSING, *, check=None) -> Any:
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
        if kind is list and not all(isinstance(v, (str, list)) for v in value):
            raise ConfigError(f"{self._where(key)}: expected a list of strings")
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
