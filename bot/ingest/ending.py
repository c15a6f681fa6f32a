"""How a poll that read its source ends: its run, and the source's state recorded with it.

The common poll (a healthy source, a new article or a few, nothing due for a re-read) writes its
run in the transaction of its last new article: on PostgreSQL in the same round trip, on SQLite
in the same commit, where each was one of its own. Every other poll records its run after its
articles, as before (bot/ingest/recording.py's `keep_run`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.ingest.context import PollContext
from bot.ingest.health import steady
from bot.ingest.links import Lookups, due_for_recheck
from scrapers import Link, Page, Source, url_key
from storage import RunRecord, RunStatus, SourceState


class Ended:
    """A poll's end once its source was read: its run, and the run written with an article."""

    def __init__(
        self,
        source: Source,
        ctx: PollContext,
        *,
        links: tuple[Link, ...],
        page: Page,
        started: datetime,
        problems: list[str],
    ) -> None:
        self._source, self._ctx, self._links, self._page = source, ctx, links, page
        self._started, self._problems = started, problems
        self._written: RunRecord | None = None

    def run(self, new: int, problems: list[str]) -> RunRecord:
        """Return the poll's run, ending now."""
        return RunRecord(
            self._source.key,
            self._started,
            self._ctx.clock(),
            RunStatus.PARTIAL if problems else RunStatus.OK,
            links_found=len(self._links),
            new_articles=new,
            error=problems_text(problems),
        )

    def state(self, skipped: int) -> dict:
        """Return the source's state to record with the run."""
        # Links skipped for a transient failure must be seen again: no validators (a 304 would
        # hide them). The first run's baseline is recorded all the same, from the links that were
        # read: a first run that failed to read an item silently stores it from the listing.
        page = self._page
        return {
            "etag": None if skipped else page.etag,
            "last_modified": None if skipped else page.last_modified,
            "baseline": True,
        }

    def with_article(
        self, known: SourceState, lookups: Lookups
    ) -> Callable[[int, list[str], int], None] | None:
        """Return the writes of the run to make with the last new article (given what the poll
        stored, its problems and skips by then), or None when the poll has more to do after it."""
        by_key = {url_key(link.canonical_url): link for link in self._links}
        if self._source.recheck_seconds:
            # Only when the feed's scan answered (no query here) that nothing is due for a re-read.
            # by_key's keys are url_key's already: a second url_key would change a site's root.
            if not lookups.covers(set(by_key)) or due_for_recheck(
                self._source, by_key, self._ctx, now=self._started, limit=1, lookups=lookups
            ):
                return None

        def write(new: int, failed: list[str], skipped: int) -> None:
            run = self.run(new, [*self._problems, *failed])
            if steady(self._source, run, known):  # else health is read and decided with the run
                sources = self._ctx.store.sources
                sources.record_run(run, new_at=run.finished_at, **self.state(skipped))
                self._written = run

        return write

    def written(self, new: int) -> RunRecord | None:
        """Return the run if it was written with the poll's last new article (`new`: the articles
        the poll stored: a write that failed after the run was made counts one fewer)."""
        run = self._written
        return run if run is not None and run.new_articles == new else None


def problems_text(problems: list[str]) -> str | None:
    """Return a run's error text: how many items failed, and the first few reasons."""
    if not problems:
        return None
    shown = "; ".join(problems[:5])
    return shown if len(problems) == 1 else f"{len(problems)} items failed: {shown}"
