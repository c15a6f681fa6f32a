"""New items whose pages answer 404 or 410: how long they are waited for, and what is said when
they are given up (bot/ingest/poll.py)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config.fields import span
from scrapers.errors import HTTPStatusError, ScrapeError
from scrapers.models import Link, Source
from storage import Store


def page_missing(exc: ScrapeError) -> bool:
    """Tell whether an article's page answered 404 or 410: not there (yet, or any more)."""
    return isinstance(exc, HTTPStatusError) and exc.status in (404, 410)


class MissingPages:
    """New items whose pages answer 404 or 410, and since when they are waited for.

    An official site often lists an item minutes before its page answers, so such an item is
    tried again at each poll until the source's `missing_page_wait` has passed, counted from
    the time its listing gives it (a date alone does not count) or else from when presswatch
    first met it: the archive keeps that moment, for a restart, the next `once` and every worker.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        # Items this process has waited for: only they can have a row to forget (the others'
        # reads cost no statement; a row left by an earlier process ages out, see Sources).
        self._asked: set[str] = set()

    def waiting(self, source: Source, link: Link, *, now: datetime) -> bool:
        """Return True while a new item's missing page is still to be waited for."""
        wait = timedelta(seconds=source.missing_page_wait_seconds)
        if not wait:
            return False
        self._asked.add(link.canonical_url)
        first = self._store.sources.missing_since(source.key, link.canonical_url, now=now)
        if now - min(first, _listed(link, source) or now) < wait:
            return True
        self.found(link)
        return False

    def found(self, link: Link) -> None:
        """Forget an item: its page answered, or it was given up."""
        if link.canonical_url in self._asked:
            self._asked.discard(link.canonical_url)
            self._store.sources.page_answered(link.canonical_url)


def gave_up(source: Source, exc: ScrapeError) -> str:
    """Say why an item whose page never answered is not posted (or is, title only)."""
    wait = source.missing_page_wait_seconds
    after = f"still after {span(wait)}" if wait else "not waited for (missing_page_wait = 0)"
    if source.missing_page == "post":
        return f'{exc}, {after}: posted with its listed title only (missing_page = "post")'
    return f"{exc}, {after}: archived from its listing, not posted"


def _listed(link: Link, source: Source) -> datetime | None:
    """Return the time the listing gives an item, None for none or a date alone (midnight)."""
    if link.published is None:
        return None
    local = link.published.astimezone(ZoneInfo(source.timezone))
    return None if local.time() == time(0) else link.published
