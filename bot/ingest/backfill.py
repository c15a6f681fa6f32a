"""Backfill: walk a source's older listing or feed pages and store their articles without posting."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from bot.ingest.context import PollContext
from bot.ingest.links import discover, unseen
from bot.ingest.plan import Quiet
from bot.ingest.poll import store_links
from bot.text.plural import counted
from scrapers import ScrapeError, Source
from scrapers.errors import HTTPStatusError, NoLinksFound


class Progress(Protocol):
    """Something that shows a long walk's progress (the command line's bar)."""

    def advance(self, n: int = 1, *, note: str = "") -> None:
        """Count `n` more pages done, with a short note on the last one."""

    def settle(self, *, note: str = "") -> None:
        """End early: the pages done so far are all there are."""


@dataclass(slots=True)
class BackfillReport:
    """What one backfill did."""

    pages: int = 0
    links: int = 0
    stored: int = 0
    errors: list[str] = field(default_factory=list)
    stopped: str = ""

    def summary(self, key: str) -> str:
        """Return the one-line summary."""
        end = f"; stopped: {self.stopped}" if self.stopped else ""
        return (
            f"backfill {key}: read {counted(self.pages, 'page')}, saw "
            f"{counted(self.links, 'link')}, stored {counted(self.stored, 'new article')} "
            f"without posting, {counted(len(self.errors), 'error')}{end}"
        )


async def walk_pages(
    source: Source, ctx: PollContext, *, pages: int, progress: Progress
) -> BackfillReport:
    """Read pages 2..pages+1 (page 1 is `source.url`, which polls read) and store what is new, unposted.

    The walk stops early past the end of the archive: a 404/410, a page without article links, or
    a page that repeats the one before (sites that answer any page number with the last page);
    the first older page missing so is an error (a wrong `pages` template), not the end.
    The source's poll state (baseline, validators, failures) is left alone, so a source never
    polled still has its quiet first run, and nothing stored here is ever posted.
    """
    report, previous = BackfillReport(), None
    for number in range(2, pages + 2):
        url = source.pages.replace("{page}", str(number))
        try:
            _, links = await discover(source, ctx, url=url)
        except ScrapeError as exc:
            if _past_the_end(exc):
                if number > 2:  # after page 2, read or failed (a 500): the archive's end
                    report.stopped = f"page {number}: {exc}"
                    _the_end(progress, note=f"page {number} {_gone(exc)}")
                else:
                    # Not even the first older page: the template is wrong far more often than a
                    # source has no past, and an exit status 0 would say the archive was filled.
                    note = "(the first older page: check `pages`)"
                    report.errors.append(f"page {number}: {exc} {note}")
                break
            report.errors.append(f"page {number}: {exc}")
            progress.advance(note=f"page {number} failed")
            continue
        identities = {link.canonical_url for link in links}
        if identities == previous:
            report.stopped = f"page {number} repeats page {number - 1}"
            _the_end(progress, note=report.stopped)
            break
        previous = identities
        report.pages += 1
        report.links += len(links)
        for link in reversed(unseen(links, ctx.store)):  # oldest first, as a poll stores them
            stored, problems, _, _ = await store_links(
                source, [link], ctx, post=lambda link: False, quiet=Quiet.BACKFILL
            )
            report.stored += stored
            report.errors.extend(problems)
        progress.advance(note=f"{report.links} links, {report.stored} new")
    return report


def _past_the_end(exc: ScrapeError) -> bool:
    """Return True for the errors that mean there are no more pages."""
    return isinstance(exc, NoLinksFound) or (
        isinstance(exc, HTTPStatusError) and exc.status in (404, 410)
    )


def _the_end(progress: Progress, *, note: str) -> None:
    """Fill the bar at the archive's end with the pages there were: the page past it is not
    counted as read (the summary's "read 2 pages" and the bar's "2/2" agree)."""
    progress.settle(note=f"{note}: the end of the archive")


def _gone(exc: ScrapeError) -> str:
    """Say how a page past the end answered: missing (404, 410) or without article links."""
    if isinstance(exc, HTTPStatusError):
        return f"missing ({exc.status})"
    return "has no article links"
