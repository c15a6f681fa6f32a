"""What `add` does: fetch a page or feed, propose a [[sources]] block for it, and preview it.

Imported only when `add` runs (bot/cli/sources.py declares it), or `import-opml` proposes
blocks: the composition root, the feed parser and the page parsers load with it.
"""

from __future__ import annotations

import argparse
import asyncio
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from bot.app import open_app
from bot.archive import Archive
from bot.cli.common import EXIT_FAILED, EXIT_OK, CommandError, UsageError, published_utc
from bot.cli.sources import configured_notes
from bot.config import Config, config_from_dict, load_config
from bot.config.checks import language_tag
from bot.config.sources import reading_twin
from bot.delivery.render import shorten
from bot.ingest.discovery import (
    DiscoveryError,
    LinkGroup,
    group_links,
    infer_link_pattern,
    link_groups,
)
from bot.ingest.preview import preview_source
from bot.ingest.proposal import (
    PageFacts,
    feed_facts,
    guess_timezone,
    is_feed,
    page_facts,
    title_key,
    toml_block,
)
from scrapers import Article, Link, NotAFeed, ScrapeError, Source, links_from_feed
from scrapers.fetch import Fetcher


@dataclass(slots=True)
class _Proposal:
    """A source block being proposed, and the notes printed above it."""

    fields: list[tuple[str, object, str]]
    notes: list[str] = field(default_factory=list)


def add(args: argparse.Namespace) -> int:
    """Propose a [[sources]] block for a URL and preview its first articles."""
    parts = urlsplit(args.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # Said of the address given, not of the robots.txt the fetcher would ask for first.
        raise UsageError(f"add: {args.url!r} is not a web address (http:// or https://)")
    path = Path(args.config)
    # A first source may come before any config file: then the default fetch policy applies.
    config = load_config(path) if path.exists() else config_from_dict({}, path=path)
    return asyncio.run(_add(args.url, config=config, key=args.key, preview=args.preview))


async def _add(url: str, *, config: Config, key: str | None, preview: int) -> int:
    """Fetch the URL, print the proposed block as TOML, then a preview as TOML comments."""
    now = datetime.now(UTC)
    # The preview enriches articles in a throwaway archive: nothing is stored.
    async with open_app(config, archive=Archive.MEMORY, deliver=False, clock=lambda: now) as app:
        taken = tuple(s.key for s in config.sources)
        proposal = await _propose(url, app.fetcher, key=key, taken=taken)
        block = toml_block(proposal.fields)
        source = source_from_block(block)
        notes = proposal.notes + configured_notes(config.sources, url, source.url)
        twin = reading_twin(source, config.sources)
        if twin is not None:
            # Appended with `>>` as the README says, an active block would read what the source
            # reads a second time, and store nothing: the proposal is shown, and adds nothing.
            notes.append(
                f"Nothing to append: {twin.key} reads this address already, so the block is "
                f"commented out (a new key for it: presswatch rename-source {twin.key} NEW)."
            )
            block = "".join(f"# {line}\n" for line in block.splitlines())
        print("".join(f"# {note}\n" for note in notes) + block)
        if preview <= 0:
            return EXIT_OK
        try:
            links, articles = await preview_source(source, app.poll, limit=preview)
        except ScrapeError as exc:
            print(f"# Preview failed: {exc}")
            return EXIT_FAILED
    print(f"# Preview: {len(links)} links; the first {len(articles)} as presswatch reads them:")
    for number, item in enumerate(articles, 1):
        print("#\n" + "\n".join(f"# {line}" for line in _preview_lines(number, item, now=now)))
    return EXIT_OK if any(isinstance(a, Article) for a in articles) else EXIT_FAILED


async def _propose(
    url: str, fetcher: Fetcher, *, key: str | None, taken: tuple[str, ...]
) -> _Proposal:
    """Return a feed source when the URL is or advertises a usable feed, else an html source."""
    page = await fetcher.get(url)
    if is_feed(page.content):
        notes = [
            f"{page.url} is a feed.",
            *_feed_notes(_feed_links(page.content, page.url), page.url),
        ]
        return _Proposal(
            proposed_fields(page.url, feed_facts(page.content), kind="feed", key=key, taken=taken),
            notes,
        )
    facts, notes = page_facts(page.text, base_url=page.url), []
    for feed_url in facts.feeds[:3]:
        try:
            feed = await fetcher.get(feed_url)
            items = _feed_links(feed.content, feed.url)
        except ScrapeError as exc:
            notes.append(f"The page advertises the feed {feed_url}, but it is unusable: {exc}")
            continue
        found = feed_facts(feed.content)
        merged = PageFacts(name=facts.name or found.name, lang=facts.lang or found.lang)
        notes.append(
            f"{page.url} advertises this feed ({len(items)} items); a feed outlasts redesigns."
        )
        return _Proposal(
            proposed_fields(feed.url, merged, kind="feed", key=key, taken=taken),
            notes + _feed_notes(items, feed.url),
        )
    try:
        group = infer_link_pattern(page.text, base_url=page.url)
    except DiscoveryError as exc:
        kind = page.content_type.split(";")[0].strip().lower()
        if kind.endswith(("rss+xml", "atom+xml", "rdf+xml", "/xml")):
            # Not a page that lacks article links: a feed address whose body is broken.
            raise CommandError(
                f"{page.url}: served as a feed ({kind}) but not an RSS or Atom document; check "
                "the address, or open it in a browser"
            ) from exc
        raise CommandError(str(exc)) from exc
    notes += _pattern_notes(group, link_groups(page.text, base_url=page.url)[1:3])
    return _Proposal(
        proposed_fields(page.url, facts, kind="html", key=key, taken=taken, group=group), notes
    )


def _feed_links(content: bytes, url: str) -> tuple[Link, ...]:
    """Return a feed's items; raise NotAFeed or NoLinksFound when it is unusable."""
    if not is_feed(content):
        raise NotAFeed(f"{url}: not an RSS or Atom feed")
    return links_from_feed(content, source=Source(key="probe", url=url, kind="feed"))


def _feed_notes(items: tuple[Link, ...], url: str) -> list[str]:
    """Suggest a link_pattern when most, but not all, of a feed's items share one shape."""
    groups = group_links(((link.canonical_url, link.title) for link in items), base_url=url)
    if not groups or len(groups[0].urls) == len(items):
        return []
    group = groups[0]
    others = [link.url for link in items if link.canonical_url not in group.urls]
    return (
        [
            f"{len(group.urls)} of the {len(items)} items are shaped {group.shape}; to skip the "
            f"others (e.g. {others[0]}) add: link_pattern = '{group.pattern}'"
        ]
        if others
        else []
    )


def proposed_fields(
    url: str,
    facts: PageFacts,
    *,
    kind: str,
    key: str | None,
    taken: tuple[str, ...],
    group: LinkGroup | None = None,
) -> list[tuple[str, object, str]]:
    """Return the rows of a proposed [[sources]] block."""
    zone, why = guess_timezone(url, lang=facts.lang)
    key = key or title_key(facts.name, url, taken=taken)
    return [
        ("key", key, ""),
        ("name", facts.name or key, "the name readers see"),
        ("kind", kind, "a listing page" if kind == "html" else "an RSS or Atom feed"),
        ("url", url, ""),
        (
            "link_pattern",
            group.pattern if group else None,
            f"{len(group.urls)} links shaped {group.shape}" if group else "",
        ),
        ("lang", _language(facts.lang), "the language the site writes in"),
        ("timezone", zone, why),
        ("every", "10m", "poll interval"),
        ("backfill", 0, "first run: post the newest N, record the rest silently"),
    ]


def _pattern_notes(group: LinkGroup, others: list[LinkGroup]) -> list[str]:
    """Explain the inferred link_pattern and name the runner-up shapes."""
    notes = [
        f"link_pattern matches {len(group.urls)} links of the page shaped {group.shape}, "
        f"e.g. {group.urls[0]}"
    ]
    for other in others:
        notes.append(
            f"Another shape on the page: {other.shape} ({len(other.urls)} links), "
            f"pattern {other.pattern}"
        )
    return notes


def _language(lang: str | None) -> str | None:
    """Return the page's language if the config would take it, else None (the key is left out)."""
    # A page's lang="english" or "x-default" would make the proposal itself a config error.
    try:
        return lang if lang and language_tag(lang) else None
    except ValueError:
        return None


def source_from_block(block: str) -> Source:
    """Validate the printed block exactly as `presswatch` will read it, and return its Source."""
    return config_from_dict(tomllib.loads(block), path=Path("proposal.toml")).sources[0]


def _preview_lines(number: int, item: Article | ScrapeError, *, now: datetime) -> list[str]:
    """Return the preview of one article (or its error) as lines."""
    if isinstance(item, ScrapeError):
        return [f"{number}. ERROR {item}"]
    when = published_utc(item.published, now=now)
    lines = [
        f"{number}. {item.title}",
        f"   {when}" + (f" · {item.author}" if item.author else ""),
        f"   {item.url}",
    ]
    summary = shorten(" ".join((item.summary or item.lead).split()), 300)
    return lines + ([f"   {summary}"] if summary else [])
