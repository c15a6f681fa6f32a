"""Load the TOML file into a Config: one reader per section, each key validated once.

Every error names the key path it is about (`sources[2].link_pattern: ...`). The Telegram token
is read only from the environment variable PRESSWATCH_TELEGRAM_TOKEN, the database password only
from PRESSWATCH_DATABASE_PASSWORD (or libpq's ~/.pgpass). A key the file leaves out
keeps its dataclass default (bot/config/model.py, scrapers/models.py, scrapers/fetch.py).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

from bot.config.fields import (
    ABSENT,
    ConfigError,
    Table,
    css,
    fail,
    key_name,
    one_of,
    present,
    quiet_hours,
    regex,
    unique,
    web_url,
    zone,
)
from bot.config.model import (
    Channel,
    Config,
    Corrections,
    DedupConfig,
    HealthConfig,
    ServiceConfig,
    TelegramConfig,
    UncertainPolicy,
)
from bot.text.classify import Taxonomy, taxonomy_from_dict
from scrapers.fetch import FetchPolicy
from scrapers.models import Selectors, Source

TOKEN_ENV = "PRESSWATCH_TELEGRAM_TOKEN"
DATABASE_PASSWORD_ENV = "PRESSWATCH_DATABASE_PASSWORD"
DEFAULT_ARCHIVE = "presswatch.db"  # beside the config file
_CHAT_ID = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,}|-?\d+")


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
    return config_from_dict(
        data,
        path=path,
        token=environ.get(TOKEN_ENV, "").strip(),
        database_password=environ.get(DATABASE_PASSWORD_ENV, ""),
    )


def config_from_dict(
    data: dict, *, path: Path, token: str = "", database_password: str = ""
) -> Config:
    """Validate parsed TOML into a Config."""
    root = Table(data, "")
    storage = root.table("storage")
    given = storage.get("path", str)
    url = storage.get("url", str, check=database_url)
    if given is not ABSENT and url is not ABSENT:
        raise storage.error("url", "give either path (SQLite) or url (PostgreSQL), not both")
    archive = Path(DEFAULT_ARCHIVE if given is ABSENT else given)
    storage.finish()
    fetch = _fetch_policy(root.table("fetch"))
    telegram = _telegram(root.table("telegram"), token=token)
    channels = tuple(_channel(t) for t in root.tables("channels"))
    unique([c.name for c in channels], "channels", "name")
    sources = tuple(_source(t) for t in root.tables("sources"))
    unique([s.key for s in sources], "sources", "key")
    taxonomy = _taxonomy(root)
    _check_channel_filters(channels, sources, taxonomy)
    config = Config(
        **present(
            path=path,
            storage_path=archive if archive.is_absolute() else path.parent / archive,
            storage_url=url,
            database_password=database_password if url is not ABSENT else ABSENT,
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
    )
    root.finish()
    return config


def database_url(value: str) -> bool:
    """Accept a password-free postgresql://user@host:port/database URL (libpq's URI form)."""
    parts = urlsplit(value)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError("expected a PostgreSQL URL: postgresql://user@host:port/database")
    if parts.password is not None or "password=" in parts.query:
        raise ValueError(
            f"never put the database password in the config file: set {DATABASE_PASSWORD_ENV} "
            "or use a ~/.pgpass file"
        )
    if not parts.path.strip("/") and "dbname=" not in parts.query:
        raise ValueError("name the database: postgresql://user@host:port/DATABASE")
    return True


def _fetch_policy(t: Table) -> FetchPolicy:
    """Read [fetch]."""
    policy = FetchPolicy(
        **present(
            user_agent=t.get("user_agent", str, check=bool),
            timeout=t.get("timeout", float, check=lambda v: 0 < v <= 600),
            min_delay_per_host=t.get("min_delay_per_host", float, check=lambda v: 0 <= v <= 3600),
            allow_private_addresses=t.get("allow_private_addresses", bool),
            max_bytes=t.get("max_bytes", int, check=lambda v: v >= 10_000),
            retries=t.get("retries", int, check=lambda v: 0 <= v <= 10),
        )
    )
    t.finish()
    return policy


def _telegram(t: Table, *, token: str) -> TelegramConfig:
    """Read [telegram]; refuse a token in the file."""
    if "token" in t.data:
        raise t.error(
            "token",
            f"put the bot token in the environment variable {TOKEN_ENV}, never in the config file",
        )
    admin = t.get("admin_chat_id", (str, int))
    admins = t.get("admin_user_ids", list, items=int)
    config = TelegramConfig(
        **present(
            api_base_url=t.get("api_base_url", str, check=web_url),
            token=token,
            admin_chat_id=admin if admin is ABSENT else str(admin),
            uncertain=t.choice("uncertain", UncertainPolicy),
            per_chat_per_minute=t.get("per_chat_per_minute", int, check=lambda v: 1 <= v <= 60),
            per_chat_interval=t.get("per_chat_interval", float, check=lambda v: 0 <= v <= 3600),
            request_timeout=t.get("request_timeout", float, check=lambda v: 1 <= v <= 300),
            per_second=t.get("per_second", int, check=lambda v: 1 <= v <= 30),
            corrections=t.choice("corrections", Corrections),
            commands=t.get("commands", bool),
            admin_user_ids=admins if admins is ABSENT else tuple(admins),
        )
    )
    t.finish()
    return config


def _channel(t: Table) -> Channel:
    """Read one [[channels]] entry."""
    chat = t.require("chat_id", (str, int))
    if isinstance(chat, str) and not _CHAT_ID.fullmatch(chat):
        raise t.error("chat_id", f"expected '@channelname' or a numeric id, got {chat!r}")
    channel = Channel(
        **present(
            name=t.require("name", str, check=key_name),
            chat_id=str(chat),
            sources=t.strings("sources"),
            topics=t.strings("topics"),
            languages=t.strings("languages"),
            include=t.strings("include"),
            exclude=t.strings("exclude"),
            message_thread_id=t.get("message_thread_id", int),
            disable_notification=t.get("disable_notification", bool),
            digest_seconds=t.duration("digest"),
            quiet_hours=quiet_hours(t.get("quiet_hours", str), t.where("quiet_hours")),
            timezone=t.get("timezone", str, check=zone),
        )
    )
    if channel.message_thread_id is not None and channel.chat_id.startswith("@"):
        raise t.error(
            "message_thread_id",
            "forum topics exist only in supergroups; give the group's numeric chat_id",
        )
    t.finish()
    return channel


def _source(t: Table) -> Source:
    """Read one [[sources]] entry."""
    source = Source(
        **present(
            kind=t.get("kind", str, check=one_of("html", "feed")),
            key=t.require("key", str, check=key_name),
            name=t.get("name", str),
            url=t.require("url", str, check=web_url),
            link_pattern=t.get("link_pattern", str, check=regex),
            lang=t.get("lang", str),
            timezone=t.get("timezone", str, check=zone),
            every_seconds=t.duration("every"),
            backfill=t.get("backfill", int, check=lambda v: 0 <= v <= 1000),
            fetch_pages=t.get("fetch_pages", bool),
            robots=t.get("robots", bool),
            dateline=t.get("dateline", str, check=regex),
            trust_offset=t.get("trust_offset", bool),
            trailers=t.strings("trailers"),
            drop_lines=t.strings("drop_lines", check=lambda v: all(map(regex, v))),
            url_rewrites=_rewrites(t),
            selectors=_selectors(t.table("selectors")),
            max_silence_seconds=t.duration("max_silence"),
            recheck_seconds=_recheck(t),
            pages=t.get(
                "pages",
                str,
                check=lambda v: "{page}" in v or fail("expected a URL template containing {page}"),
            ),
        )
    )
    if source.kind == "html" and not source.link_pattern:
        raise t.error("link_pattern", 'required for kind = "html"')
    t.finish()
    return source


def _recheck(t: Table):
    """Read a source's recheck window: a duration, or 0 to never re-read."""
    if t.data.get("recheck") in (0, "0", "off"):
        t.data.pop("recheck")
        return 0
    return t.duration("recheck")


def _selectors(t: Table) -> Selectors:
    """Read a source's [sources.selectors] table."""
    selectors = Selectors(
        **present(
            **{
                name: t.get(name, str, check=css)
                for name in ("title", "date", "author", "lead", "body")
            },
            remove=t.strings("remove", check=lambda v: all(map(css, v))),
        )
    )
    t.finish()
    return selectors


def _rewrites(t: Table):
    """Read url_rewrites = [["pattern", "replacement"], ...]."""
    pairs = t.get("url_rewrites", list, items=list)
    if pairs is ABSENT:
        return ABSENT
    for i, pair in enumerate(pairs):
        if not (
            isinstance(pair, list)
            and len(pair) == 2
            and all(isinstance(p, str) for p in pair)
            and regex(pair[0])
        ):
            raise t.error(f"url_rewrites[{i}]", 'expected ["regex", "replacement"]')
    return tuple((p, r) for p, r in pairs)


def _taxonomy(root: Table):
    """Compile the [topics.*] and [entities.*] tables."""
    tables = {name: root.data.pop(name) for name in ("topics", "entities") if name in root.data}
    if not tables:
        return ABSENT
    tables.setdefault("topics", {})
    try:
        return taxonomy_from_dict(tables)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def _check_channel_filters(
    channels: tuple[Channel, ...], sources: tuple[Source, ...], taxonomy
) -> None:
    """Refuse channel filters that name unknown sources or topics (a typo would silence a channel)."""
    topics = taxonomy.topics if isinstance(taxonomy, Taxonomy) else ()
    source_keys, topic_keys = {s.key for s in sources}, {t.key for t in topics}
    for i, channel in enumerate(channels):
        for key in channel.sources:
            if key not in source_keys:
                raise ConfigError(f"channels[{i}].sources: unknown source {key!r}")
        for key in channel.topics:
            if key not in topic_keys:
                raise ConfigError(f"channels[{i}].topics: unknown topic {key!r}")


def _service(t: Table):
    """Read [service]."""
    http = t.get("http", str)
    t.finish()
    if http is ABSENT:
        return ServiceConfig()
    host, _, port = http.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise t.error("http", f"expected 'host:port' such as '127.0.0.1:9108', got {http!r}")
    return ServiceConfig(http=(host.strip("[]"), int(port)))


def _health(t: Table) -> HealthConfig:
    """Read [health]."""
    config = HealthConfig(
        **present(
            alert_after_failures=t.get("alert_after_failures", int, check=lambda v: v >= 1),
            alert_after_empty_polls=t.get("alert_after_empty_polls", int, check=lambda v: v >= 1),
            max_backoff_seconds=t.duration("max_backoff"),
        )
    )
    t.finish()
    return config


def _dedup(t: Table) -> DedupConfig:
    """Read [dedup]."""
    config = DedupConfig(
        **present(
            shingle=t.get("shingle", int, check=lambda v: 1 <= v <= 10),
            num_perm=t.get("num_perm", int, check=lambda v: 16 <= v <= 512),
            candidate_threshold=t.get("candidate_threshold", float, check=lambda v: 0 < v < 1),
            threshold=t.get("threshold", float, check=lambda v: 0 < v <= 1),
            window_seconds=t.duration("window"),
        )
    )
    t.finish()
    return config


def _summary(t: Table):
    """Read [summary] (ABSENT keeps the Config default)."""
    chars = t.get("max_chars", int, check=lambda v: 100 <= v <= 3000)
    t.finish()
    return chars
