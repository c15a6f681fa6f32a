"""The `sources` command (each source's state), and `add`: propose a [[sources]] block for a page
or feed, with a preview (writes nothing; its work is in bot/cli/add.py, imported when it runs)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from bot.archive import open_archive
from bot.cli.common import EXIT_OK, Command, later, table, whole
from bot.config import load_config
from bot.service.overview import failures, when
from scrapers import Source, url_key
from storage import SourceState
from storage.records import source_from_row

# -- add ---------------------------------------------------------------------------------------


def _args_add(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("url", metavar="URL", help="a listing page, a site's home page, or a feed")
    sub.add_argument(
        "--key",
        help="the new source's key (default: made from the feed's or site's title, else the host)",
    )
    sub.add_argument(
        "--preview",
        type=whole(0, 100),
        default=5,
        metavar="N",
        help="read the first N articles as a preview (default 5; 0 for none)",
    )


def configured_twins(sources: tuple[Source, ...], *urls: str) -> list[str]:
    """Return the keys of the configured sources at one of these addresses (said in a note;
    whether `add` comments its block out is bot.config.sources.reading_twin's to say)."""
    keys = {url_key(u) for u in urls}
    return [s.key for s in sources if url_key(s.url) in keys]


def configured_notes(sources: tuple[Source, ...], *urls: str) -> list[str]:
    """Say which configured sources already read these addresses, or the same site."""
    twins = configured_twins(sources, *urls)
    same = [s for s in sources if s.key in twins]
    if same:
        return [f"Already configured as source {s.key} ({s.url})." for s in same]
    hosts = {_site(u) for u in urls}
    return [
        f"The site {_site(s.url)} is already configured as source {s.key} ({s.url})."
        for s in sources
        if _site(s.url) in hosts
    ]


def _site(url: str) -> str:
    """Return a URL's host (and port) without 'www.'."""
    return urlsplit(url).netloc.lower().removeprefix("www.")


# -- sources ------------------------------------------------------------------------------------


def _cmd_sources(args: argparse.Namespace) -> int:
    """List each source with its last poll, last success, last error and article count."""
    config = load_config(args.config)
    with open_archive(config, read_only=True) as store:
        since = datetime.now(UTC) - timedelta(days=1)
        states = {row["key"]: row for row in store.sources.overview(problems_since=since)}
        counts = store.sources.article_counts()
    rows = [("KEY", "KIND", "EVERY", "LAST POLL", "LAST SUCCESS", "ARTICLES", "LAST ERROR")]
    for source in config.sources:
        state = states.get(source.key, {})
        row = source_from_row(state) if state else SourceState(source.key)
        error = f"[{failures(row)}] {row.last_error}" if row.consecutive_failures else ""
        if not error and state.get("last_problem"):  # the poll worked; an item of it did not
            error = f"[an item, in 24h] {state['last_problem']}"
        rows.append(
            (
                source.key,
                source.kind,
                _every(source.every_seconds),
                when(state.get("last_poll_at")),
                when(state.get("last_success_at")),
                str(counts.get(source.key, 0)),
                error,
            )
        )
    print(table(rows))
    return EXIT_OK


def _every(seconds: int) -> str:
    """Return a poll interval as '10m' or '1h'."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


COMMANDS: list[Command] = [
    Command(
        "sources",
        "list sources with last poll, last success, last error and article count",
        "presswatch sources --config presswatch.toml",
        _cmd_sources,
    ),
    Command(
        "add",
        "propose a [[sources]] block for a page or feed, with a preview (writes nothing)",
        "presswatch add https://en.interaffairs.ru/ --config presswatch.toml >> presswatch.toml",
        later("bot.cli.add", "add"),
        _args_add,
    ),
]
