"""Commands that add and check sources: `add`, `check-source`. Neither writes to the archive."""

from __future__ import annotations

import argparse
import asyncio
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.app import Archive, open_app
from bot.cli.common import EXIT_FAILED, EXIT_OK, Command, CommandError
from bot.config import Config, config_from_dict, load_config
from bot.delivery.compose import Composer
from bot.delivery.render import local_time, shorten
from bot.ingest.discovery import (
    DiscoveryError,
    LinkGroup,
    PageFacts,
    feed_facts,
    group_links,
    guess_timezone,
    infer_link_pattern,
    is_feed,
    link_groups,
    page_facts,
    source_key,
    toml_block,
)
from bot.ingest.poll import (
    PollContext,
    discover,
    newest,
    permanent_failure,
    preview_source,
    read_article,
    unseen,
)
from bot.ingest.routing import channels_for, subscribers_for
from scrapers import Article, Link, NotAFeed, ScrapeError, Source, links_from_feed, url_key
from scrapers.fetch import Fetcher
from storage import OutboxItem, OutboxState

_SHOWN_ARCHIVED = 10


@dataclass(slots=True)
class _Proposal:
    """A source block being proposed, and the notes printed above it."""

    fields: list[tuple[str, object, str]]
    notes: list[str] = field(default_factory=list)


# -- add ----------------------------------------------------------------------------------------


def _args_add(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("url", metavar="URL", help="a listing page, a site's home page, or a feed")
    sub.add_argument("--key", help="the new source's key (default: made from the host name)")
    sub.add_argument(
        "--preview",
        type=int,
        default=5,
        metavar="N",
        help="read the first N articles as a preview (default 5; 0 for none)",
    )


def _cmd_add(args: argparse.Namespace) -> int:
    """Propose a [[sources]] block for a URL and preview its first articles."""
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
        source = _source_from_toml(block)
        notes = proposal.notes + [
            f"Already configured as source {s.key}."
            for s in config.sources
            if url_key(s.url) == url_key(source.url)
        ]
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
            _fields(page.url, feed_facts(page.content), kind="feed", key=key, taken=taken), notes
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
            _fields(feed.url, merged, kind="feed", key=key, taken=taken),
            notes + _feed_notes(items, feed.url),
        )
    try:
        group = infer_link_pattern(page.text, base_url=page.url)
    except DiscoveryError as exc:
        raise CommandError(str(exc)) from exc
    notes += _pattern_notes(group, link_groups(page.text, base_url=page.url)[1:3])
    return _Proposal(
        _fields(page.url, facts, kind="html", key=key, taken=taken, group=group), notes
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


def _fields(
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
    key = key or source_key(url, taken=taken)
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
        ("lang", facts.lang or None, "the language the site writes in"),
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


def _source_from_toml(block: str) -> Source:
    """Validate the printed block exactly as `presswatch` will read it, and return its Source."""
    return config_from_dict(tomllib.loads(block), path=Path("proposal.toml")).sources[0]


def _preview_lines(number: int, item: Article | ScrapeError, *, now: datetime) -> list[str]:
    """Return the preview of one article (or its error) as lines."""
    if isinstance(item, ScrapeError):
        return [f"{number}. ERROR {item}"]
    when = _utc(item.published, now=now)
    lines = [
        f"{number}. {item.title}",
        f"   {when}" + (f" · {item.author}" if item.author else ""),
        f"   {item.url}",
    ]
    summary = shorten(" ".join((item.summary or item.lead).split()), 300)
    return lines + ([f"   {summary}"] if summary else [])


def _utc(published: datetime | None, *, now: datetime) -> str:
    """Return a publication time in UTC, or say that the page gave none."""
    # read_article falls back to the poll's clock when a page has no date at all.
    if published is None or published == now:
        return "no date found (would be stored as the time of the poll)"
    return f"{published.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


# -- check-source -------------------------------------------------------------------------------


def _args_check(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("key", metavar="KEY", help="a configured source's key")
    sub.add_argument(
        "--limit",
        type=int,
        default=10,
        metavar="N",
        help="read at most N new articles (default 10)",
    )


def _cmd_check(args: argparse.Namespace) -> int:
    """Fetch one source live and show what a poll would store and post, writing nothing."""
    config = load_config(args.config)
    source = config.source(args.key)
    print(f"{source.key} ({source.display_name}): {source.kind} {source.url}")
    print(
        f"archive: {config.storage_path}"
        + (
            ", opened read-only"
            if config.storage_path.exists()
            else " does not exist yet: every link is new"
        )
    )
    return asyncio.run(_check(source, config=config, limit=args.limit))


async def _check(source: Source, *, config: Config, limit: int) -> int:
    """Discover the source's links and show each new one as it would be stored and posted."""
    now = datetime.now(UTC)
    async with open_app(config, archive=Archive.DRY, deliver=False, clock=lambda: now) as app:
        ctx, store = app.poll, app.store
        try:
            _, links = await discover(source, ctx)
        except ScrapeError as exc:
            print(f"FAILED: {exc}")
            return EXIT_FAILED
        fresh = unseen(links, store)
        first_run = store.sources.state(source.key).baseline_at is None
        to_post = {link.url for link in (newest(fresh, source.backfill) if first_run else fresh)}
        print(_summary_line(links, fresh, first_run=first_run, backfill=source.backfill))
        for index, link in enumerate(fresh):
            if index >= limit:
                print(f"\nNEW {link.url}\n  not read (--limit {limit})")
                continue
            try:
                article = ctx.enricher.enrich(await read_article(source, link, ctx)).article
            except ScrapeError as exc:
                print(f"\nNEW {link.url}\n  ERROR {exc}\n  {_error_fate(exc)}")
                continue
            print(
                "\n"
                + _article_report(
                    source, article, ctx=ctx, config=config, now=now, post=link.url in to_post
                )
            )
    _print_archived([link for link in links if link not in fresh])
    return EXIT_OK


def _summary_line(
    links: tuple[Link, ...], fresh: list[Link], *, first_run: bool, backfill: int
) -> str:
    """Describe the links found and what the first-run baseline does with them."""
    line = (
        f"links: {len(links)} found, {len(fresh)} new, {len(links) - len(fresh)} already archived"
    )
    if first_run:
        line += (
            f"\nfirst run: the baseline posts only the newest {backfill} (backfill) and records"
            " the rest silently"
        )
    return line


def _article_report(
    source: Source,
    article: Article,
    *,
    ctx: PollContext,
    config: Config,
    now: datetime,
    post: bool,
) -> str:
    """Return what a poll would store for one article, its fate and its rendered post."""
    when = _utc(article.published, now=now)
    if article.published and article.published != now:
        when += f" ({local_time(article.published, source.timezone)})"
    fate = _fate(source, article, ctx=ctx, config=config, now=now, post=post)
    rows = [
        ("title", article.title),
        ("published", when),
        ("author", article.author or "-"),
        ("lead", shorten(article.lead, 300) or "-"),
        ("summary", article.summary or "-"),
        ("topics", ", ".join(article.topics + article.entities) or "-"),
        ("would be", fate),
    ]
    lines = [f"NEW {article.url}", *(f"  {name + ':':<11}{value}" for name, value in rows)]
    # Rendered by the relay's own composer, so hashtags and layout match the real post; the
    # article is not stored, so it has no id and no other sources yet.
    draft = OutboxItem(
        id=0,
        article_id=0,
        source_key=source.key,
        channel="",
        chat_id="",
        state=OutboxState.PENDING,
        attempts=0,
        article=article,
    )
    rendered = Composer(config.delivery, ctx.store).post(draft)
    lines.append("  post (Telegram HTML):")
    lines += [f"    | {line}" for line in rendered.html.split("\n")]
    return "\n".join(lines)


def _fate(
    source: Source, article: Article, *, ctx: PollContext, config: Config, now: datetime, post: bool
) -> str:
    """Say what a poll would do with an article, deciding as Enricher.store does."""
    if ctx.store.known_url_keys([article.canonical_url]):
        return f"skipped: its canonical URL {article.canonical_url} is already archived"
    original = ctx.enricher.find_original(article, ctx.enricher.signature(article), now=now)
    if original:
        return (
            f"stored as a reprint of archived article {original.article_id} "
            f"(similarity {original.similarity:.2f}), not posted"
        )
    if not post:
        return "recorded silently (held back by the first-run baseline)"
    channels = channels_for(article, source_key=source.key, channels=config.channels)
    readers = subscribers_for(
        article, source_key=source.key, subscriptions=ctx.store.subscriptions.all()
    )
    if not channels and not readers:
        return "stored; no channel or subscriber takes it"
    targets = [f"{c.name} ({c.chat_id})" for c in channels]
    return "posted to " + ", ".join(
        targets + ([f"{len(readers)} subscribed reader(s)"] if readers else [])
    )


def _error_fate(exc: ScrapeError) -> str:
    """Say what a poll does with an article page that failed."""
    if permanent_failure(exc):
        return "would be stored from what the listing or feed says, and not tried again"
    return "would be left unseen and tried again next poll"


def _print_archived(links: list[Link]) -> None:
    """List the links already in the archive (the first few)."""
    if not links:
        return
    print("\nalready archived:")
    for link in links[:_SHOWN_ARCHIVED]:
        print(f"  {link.url}")
    if len(links) > _SHOWN_ARCHIVED:
        print(f"  … and {len(links) - _SHOWN_ARCHIVED} more")


COMMANDS: list[Command] = [
    Command(
        "add",
        "propose a [[sources]] block for a page or feed, with a preview (writes nothing)",
        "presswatch add https://en.interaffairs.ru/ --config presswatch.toml >> presswatch.toml",
        _cmd_add,
        _args_add,
    ),
    Command(
        "check-source",
        "fetch one source live and show what would be stored and posted (writes nothing)",
        "presswatch check-source interaffairs-en --config presswatch.toml",
        _cmd_check,
        _args_check,
    ),
]
