"""A listing's links kept for the polls it answers 304 to: their articles still fall due for
their re-reads (bot/ingest/poll.py's `recheck_known`).

The links are kept with the validators (ETag, Last-Modified) of the reading they came from, in
this process and in the archive (storage/listed_links.py), and a 304 takes them only when it
answered those very validators: a 304 says the listing is still that reading, so every link
re-read is one it lists now. Links rebuilt from articles the archive holds might include ones no
longer listed, whose page may now be another story: a false version. So `once` under cron, a
restarted service and another worker of a fleet re-read on a 304 what the process that read the
listing would. The archive's row is written only when the links or the validators changed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.ingest.context import PollContext
from scrapers import Link, Page, Source
from storage import SourceState
from storage.listed_links import ListedLinks

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Listed:
    """A listing's links as this process knows them, and whether the archive holds them so."""

    listed: ListedLinks
    kept: bool  # written or read there: the same again need not be written


def keep_listing(
    source: Source, links: tuple[Link, ...], ctx: PollContext, *, page: Page
) -> tuple[Link, ...]:
    """Remember a listing's links (returned), read whole from `page`, for the polls it answers
    304 to. Of a feed, only the items read from their own page; of a source whose articles are
    never re-read (`recheck = "0"`), none."""
    if not source.recheck_seconds:
        return links
    if source.kind != "feed":
        kept = links
    elif source.fetch_pages:
        # An item whose text the feed carries is read from it, unchanged while the feed is.
        kept = tuple(link for link in links if not link.content_html)
    else:
        return links
    _remember(source, ListedLinks(page.etag, page.last_modified, kept), ctx)
    return links


def listed_before(
    source: Source, ctx: PollContext, *, state: SourceState, page: Page
) -> tuple[Link, ...]:
    """Return the links of the source's listing that answered 304 (`page`) to the validators the
    poll sent (`state`'s), from this process or else the archive (none when neither has them)."""
    sent = (state.etag, state.last_modified)
    known = ctx.listings.get(source.key)
    if known is not None and (known.listed.etag, known.listed.last_modified) == sent:
        listed = known.listed
    else:
        stored = ctx.store.sources.listed_links(source.key, validators=sent)
        if stored is None:
            return ()
        listed = stored
        ctx.listings[source.key] = Listed(stored, kept=True)
    # A 304 may name the listing's validators anew (an ETag made weak by compression): the run
    # records those, so the links go with them from now on.
    now = (page.etag or state.etag, page.last_modified or state.last_modified)
    if now != sent:
        _remember(source, ListedLinks(*now, listed.links), ctx)
    return listed.links


def _remember(source: Source, listed: ListedLinks, ctx: PollContext) -> None:
    """Keep a listing's links in this process and, where they changed, in the archive."""
    known = ctx.listings.get(source.key)
    if listed.etag is None and listed.last_modified is None:
        # No validators: no poll can get a 304 to this reading. Nothing to store.
        ctx.listings[source.key] = Listed(listed, kept=False)
        return
    if known is not None and known.kept and known.listed == listed:
        return
    try:
        ctx.store.sources.keep_listed_links(source.key, listed)
    except Exception as exc:  # noqa: BLE001 - the poll's articles matter more than its 304s
        # The archive keeps the links of other validators: a 304 takes none of them.
        log.error("%s: could not keep its listing's links for a 304", source.key, exc_info=exc)
        ctx.listings[source.key] = Listed(listed, kept=False)
        return
    ctx.listings[source.key] = Listed(listed, kept=True)
