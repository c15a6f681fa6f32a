"""Load the TOML file into a Config: one reader per section, each key validated once.

Every problem names the key path it is about (`sources[2].link_pattern: ...`), and all of them
are reported together, one line each: a reader records a problem and goes on, a section with a
problem is not built, and `config_from_dict` raises one ConfigError at the end. An unknown key
is named with the known key it most resembles. The Telegram token is read only from the
environment variable PRESSWATCH_TELEGRAM_TOKEN, the database password only from
PRESSWATCH_DATABASE_PASSWORD (or libpq's ~/.pgpass). A key the file leaves out keeps its
dataclass default (bot/config/model.py, scrapers/models.py, scrapers/fetch.py).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from pathlib import Path

from bot.config.checks import (
    DATABASE_PASSWORD_ENV,
    PIPE,
    archive,
    bot_token,
    chat_id,
    database_url,
    filled,
    key_name,
    keyword,
    language_code,
    read_text_file,
    user_agent,
    web_url,
    zone,
)
from bot.config.fields import (
    ABSENT,
    ConfigError,
    Table,
    listen_address,
    one_of,
    present,
    quiet_hours,
    shown,
    toml_problem,
    within,
)
from bot.config.filters import Known, source_keys
from bot.config.model import (
    Channel,
    Config,
    Corrections,
    DedupConfig,
    HealthConfig,
    ImageMode,
    ServiceConfig,
    TelegramConfig,
    UncertainPolicy,
)
from bot.config.sources import read_source, twin_warnings
from bot.config.templates import read_template
from bot.config.topics import taxonomy_from_config, unlabelled
from bot.config.workers import read_workers
from bot.text.classify import Taxonomy
from scrapers.models import FetchPolicy

TOKEN_ENV = "PRESSWATCH_TELEGRAM_TOKEN"
DEFAULT_ARCHIVE = "presswatch.db"  # beside the config file
NO_CHANNELS = (
    "no [[channels]]: articles are archived but never posted; add a [[channels]] block, "
    "or write `channels = []` to say the archive alone is meant"
)
NO_SOURCES = (
    "no [[sources]]: nothing will be polled; add a [[sources]] block (`presswatch add URL` "
    "proposes one), or write `sources = []` to say none is meant"
)
_WEEK = 7 * 86400
# `run` re-reads its config on every reload; a pipe gives its text once.
_ONE_READ = " (run reads its config again at each reload, which a pipe cannot give twice)"
_MOST_BYTES = 2**20  # config.example.toml, every key with its comments, is 46 KiB
# A digest gathers a period's posts in one message: a second gathers none. A shorter one is sent
# at this period with a warning (refusing it would stop a service that started before the floor).
_MIN_DIGEST = 60


def load_config(
    path: str | Path,
    *,
    environ: dict[str, str] | None = None,
    archive_in_use: Path | None = None,
    pipe: bool = True,
) -> Config:
    """Read and validate the TOML file at `path`; raise ConfigError naming every bad key.

    `archive_in_use` is the SQLite archive this process has open (a reload's): it is not read.
    `pipe`: the file may be a pipe (`--config <(…)`), read once; `run`, which reads it again at
    each reload, says False."""
    path = Path(path)
    environ = os.environ if environ is None else environ
    if not pipe and path.is_fifo():
        raise ConfigError(f"{path} is {PIPE}: expected a TOML file{_ONE_READ}")
    try:
        text = read_text_file(path, _MOST_BYTES, pipe=pipe)
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path}: config file not found (name one with --config PATH or $PRESSWATCH_CONFIG; "
            "config.example.toml is one to copy)"
        ) from exc
    except ValueError as exc:
        raise ConfigError(f"{exc}: expected a TOML file") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML {toml_problem(text, str(exc))}") from exc
    return config_from_dict(
        data,
        path=path,
        token=environ.get(TOKEN_ENV, "").strip(),
        database_password=environ.get(DATABASE_PASSWORD_ENV, ""),
        archive_in_use=archive_in_use,
        # A pipe's folder is /dev/fd: the relative paths of a piped config are the shell's.
        folder=None if path.is_file() else Path.cwd(),
    )


def config_from_dict(
    data: dict,
    *,
    path: Path,
    token: str = "",
    database_password: str = "",
    archive_in_use: Path | None = None,
    folder: Path | None = None,
) -> Config:
    """Validate parsed TOML into a Config, or raise one ConfigError listing every problem;
    relative paths are under `folder`, by default the config's own."""
    root = Table.root(data)
    stated_channels = "channels" in root.data  # `channels = []`: the archive alone is meant
    stated_sources = "sources" in root.data
    folder = path.parent if folder is None else folder
    storage_path, storage_url = _storage(root.table("storage"), folder, archive_in_use)
    # Read before the channels, whose filters must name them.
    sources, taxonomy = _each(root, "sources", read_source, "key"), _taxonomy(root)
    filters = Known(
        source_keys(data.get("sources", [])),
        taxonomy if isinstance(taxonomy, Taxonomy) else None,  # None: the taxonomy was refused
    )
    values = present(
        path=path,
        storage_path=storage_path,
        storage_url=storage_url,
        database_password=database_password if storage_url is not ABSENT else ABSENT,
        fetch=_fetch_policy(root.table("fetch")),
        telegram=_telegram(root.table("telegram"), token=token),
        channels=_each(root, "channels", lambda t: _channel(t, folder, filters), "name"),
        sources=sources,
        taxonomy=taxonomy,
        service=_service(root.table("service")),
        workers=read_workers(root.table("workers")),
        health=_health(root.table("health")),
        dedup=_dedup(root.table("dedup")),
        summary_chars=_summary(root.table("summary")),
    )
    root.finish()
    root.problems.raise_any()
    warnings = () if values["sources"] or stated_sources else (NO_SOURCES,)
    warnings += () if values["channels"] or stated_channels else (NO_CHANNELS,)
    warnings += unlabelled(values["taxonomy"]) if "taxonomy" in values else ()
    warnings += twin_warnings(values.get("sources", ()))
    warnings += tuple(root.problems.warnings)
    return Config(**values, warnings=warnings)


def _each(root: Table, section: str, read: Callable[[Table], object], name: str) -> tuple:
    """Read every entry of an array of tables, and refuse two entries with the same `name`."""
    entries, seen = [], set()
    for table in root.tables(section):
        given = table.data.get(name)
        entry = read(table)
        if isinstance(given, str) and given in seen:
            table.report(name, f"duplicate {name} {given!r}")
        seen.add(given if isinstance(given, str) else None)
        if entry is not None:
            entries.append(entry)
    return tuple(entries)


def _storage(t: Table, folder: Path, in_use: Path | None) -> tuple:
    """Read [storage]: the SQLite archive's path (relative to the config's folder) or a PostgreSQL url."""
    given = t.get("path", str, check=filled("the archive's file name such as 'presswatch.db'"))
    url = t.get("url", str, check=database_url)
    if given is not ABSENT and url is not ABSENT:
        t.report("url", "give either path (SQLite) or url (PostgreSQL), not both")
    t.finish()
    path = Path(DEFAULT_ARCHIVE if given is ABSENT else given)
    path = path if path.is_absolute() else folder / path
    if url is not ABSENT:
        return path, url  # the path is unused: nothing to check on disk
    try:
        archive(path, in_use=in_use)
    except ValueError as exc:
        t.report("path", str(exc))
        return ABSENT, url
    return path, url


def _fetch_policy(t: Table):
    """Read [fetch]."""
    values = present(
        user_agent=t.get("user_agent", str, check=user_agent),
        timeout=t.get("timeout", float, check=within(0.1, 600)),
        min_delay_per_host=t.get("min_delay_per_host", float, check=within(0, 3600)),
        allow_private_addresses=t.get("allow_private_addresses", bool),
        max_bytes=t.get("max_bytes", int, check=within(10_000, 200_000_000)),
        retries=t.get("retries", int, check=within(0, 10)),
        parse_timeout=t.get("parse_timeout", float, check=within(0.1, 600)),
        parse_memory_mb=t.get("parse_memory", int, check=within(64, 65536)),
    )
    t.finish()
    return FetchPolicy(**values) if t.ok else ABSENT


def _telegram(t: Table, *, token: str):
    """Read [telegram]; refuse a token in the file."""
    if t.take("token") is not ABSENT:
        t.report(
            "token",
            f"put the bot token in the environment variable {TOKEN_ENV}, never in the config file",
        )
    try:
        bot_token(token) if token else None  # none: posts are printed to the console
    except ValueError as exc:
        t.problems.add(TOKEN_ENV, str(exc))
    admin = t.get("admin_chat_id", (str, int), check=chat_id)
    admins = t.get("admin_user_ids", list, items=int, check=lambda v: all(map(_user_id, v)))
    probe_chat, uncertain, fallback = _probe_settings(t)
    values = present(
        api_base_url=t.get("api_base_url", str, check=web_url),
        token=token,
        admin_chat_id=admin if admin is ABSENT else str(admin),
        uncertain=uncertain,
        probe_chat_id=probe_chat,
        probe_fallback=fallback,
        per_chat_per_minute=t.get("per_chat_per_minute", int, check=within(1, 60)),
        per_chat_interval=t.get("per_chat_interval", float, check=within(0, 3600)),
        request_timeout=t.get("request_timeout", float, check=within(1, 300)),
        per_second=t.get("per_second", int, check=within(1, 30)),
        corrections=t.choice("corrections", Corrections),
        commands=t.get("commands", bool),
        admin_user_ids=admins if admins is ABSENT else tuple(admins),
    )
    t.finish()
    return TelegramConfig(**values) if t.ok else ABSENT


def _user_id(value: int) -> bool:
    """Accept a Telegram user id."""
    if not 0 < value < 2**53:
        raise ValueError(f"expected Telegram user ids (positive numbers), got {value!r}")
    return True


def _probe_settings(t: Table) -> tuple:
    """Read probe_chat_id, uncertain and probe_fallback: "probe" is the default with a probe chat."""
    given = "probe_chat_id" in t.data  # a wrong one is its own problem, not also a missing one
    chat = t.get("probe_chat_id", (str, int), check=chat_id)
    uncertain = t.choice("uncertain", UncertainPolicy)
    if given and uncertain is ABSENT:
        uncertain = UncertainPolicy.PROBE
    if uncertain == UncertainPolicy.PROBE and not given:
        t.report("uncertain", '"probe" needs telegram.probe_chat_id (see README)')
    fallback = t.get("probe_fallback", str, check=one_of("hold", "resend"))
    return (
        chat if chat is ABSENT else str(chat),
        uncertain,
        fallback if fallback is ABSENT else UncertainPolicy(fallback),
    )


def _channel(t: Table, base: Path, known: Known) -> Channel | None:
    """Read one [[channels]] entry; None when it has a problem (recorded in `t`)."""
    chat = t.require("chat_id", (str, int), check=chat_id)
    thread = t.get("message_thread_id", int, check=within(1, 2**31 - 1))
    image = t.choice("image", ImageMode)
    if thread is not ABSENT and isinstance(chat, str) and chat.startswith("@"):
        t.report(
            "message_thread_id",
            "forum topics exist only in supergroups; give the group's numeric chat_id",
        )
    values = present(
        name=t.require("name", str, check=key_name),
        chat_id=chat if chat is ABSENT else str(chat),
        sources=known.sources_of(t),
        topics=known.named(t, "topics"),
        entities=known.named(t, "entities"),
        languages=t.strings("languages", check=language_code),
        include=t.strings("include", check=keyword),
        exclude=t.strings("exclude", check=keyword),
        message_thread_id=thread,
        disable_notification=t.get("disable_notification", bool),
        digest_seconds=_digest(t),
        quiet_hours=quiet_hours(t.get("quiet_hours", str, check=quiet_hours)),
        timezone=t.get("timezone", str, check=zone),
        image=image,
        template=read_template(t, base=base, photo=image == ImageMode.PHOTO),
    )
    t.finish()
    return Channel(**values) if t.ok else None


def _digest(t: Table):
    """Read a channel's digest period, a period under a minute raised to one with a warning."""
    written = t.data.get("digest")
    period = t.duration("digest", most=_WEEK)
    if period is ABSENT or period >= _MIN_DIGEST:
        return period
    t.warn("digest", f"{shown(written)} is under a minute: the digest is sent every minute")
    return _MIN_DIGEST


def _taxonomy(root: Table):
    """Compile the [topics.*] and [entities.*] tables, or take the shipped default taxonomy."""
    tables = {name: root.take(name) for name in ("topics", "entities")}
    try:
        return taxonomy_from_config({k: v for k, v in tables.items() if v is not ABSENT})
    except ConfigError as exc:
        # The taxonomy's messages start with their key path ("topics.x.regex[0]: ...").
        where, _, message = str(exc).partition(": ")
        root.problems.add(where if message else "topics", message or str(exc))
        return ABSENT


def _service(t: Table):
    """Read [service]."""
    http = t.get("http", str)
    t.finish()
    if http is ABSENT:
        return ServiceConfig() if t.ok else ABSENT
    try:
        return ServiceConfig(http=listen_address(http))
    except ValueError as exc:
        t.report("http", str(exc))
        return ABSENT


def _health(t: Table):
    """Read [health]."""
    values = present(
        alert_after_failures=t.get("alert_after_failures", int, check=within(1, 10_000)),
        alert_after_empty_polls=t.get("alert_after_empty_polls", int, check=within(1, 10_000)),
        max_backoff_seconds=t.duration("max_backoff", most=_WEEK),
    )
    t.finish()
    return HealthConfig(**values) if t.ok else ABSENT


def _dedup(t: Table):
    """Read [dedup]."""
    values = present(
        shingle=t.get("shingle", int, check=within(1, 10)),
        num_perm=t.get("num_perm", int, check=within(16, 512)),
        candidate_threshold=t.get("candidate_threshold", float, check=_share),
        threshold=t.get("threshold", float, check=lambda v: v == 1 or _share(v)),
        window_seconds=t.duration("window"),
    )
    t.finish()
    return DedupConfig(**values) if t.ok else ABSENT


def _summary(t: Table):
    """Read [summary] (ABSENT keeps the Config default)."""
    chars = t.get("max_chars", int, check=within(100, 3000))
    t.finish()
    return chars


def _share(value: float) -> bool:
    """Accept a number strictly between 0 and 1."""
    if not 0 < value < 1:
        raise ValueError(f"expected a number between 0 and 1, got {value!r}")
    return True
