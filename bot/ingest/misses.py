"""A source's CSS selector that stopped matching, said in the poll log once, and again only
after it matched in between and an hour passed.

A site that changes its layout leaves a configured selector (`selectors.body`, …) matching
nothing, and extraction falls back to the generic reading without a word. The poll log says it
once per source and selector (its CSS text: one changed by a reload is a new selector), not for
every article while the layout stays. It says it again only when both hold: a page on which the
selector matched was read since, and at least `SAY_AGAIN_AFTER` (an hour) passed since it was
last said. So a site of two templates, one without the element (an author only on signed
stories), is at most one line an hour, not one per article. Only new articles' pages feed this:
a re-read of an older one (a recheck) may be of a template the site left.

What `presswatch status` shows is kept in the archive instead (another process reads it, and on
PostgreSQL another worker may poll the source next): each selector that matched nothing on
`LASTED_PAGES` new pages in a row over at least `SAY_AGAIN_AFTER`, from the first of them, until
a new page matches it. So a selector that matches only some pages (an author only on signed
stories) shows only if as many pages in a row over as long a time lack it, not from whichever
page last did. The run of pages is the archive's too (storage/selector_misses.py): `once` under
cron (a process per poll), a restarted service and each worker of a fleet go on with the same
run. A poll folds its own pages into it and writes the source's note only when it changed, once
at its end, never per article, and only from pages it read: a poll that timed out or failed
before its end leaves what its pages showed out. A run counts its pages up to `LASTED_PAGES` and
stops changing once shown, so a layout that stays broken writes a few notes, not one a poll.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from operator import attrgetter

from scrapers import Selectors, Source
from storage import SelectorMiss, SelectorRun, SourceState, Store

log = logging.getLogger(__name__)

SAY_AGAIN_AFTER = timedelta(hours=1)
# New pages in a row a selector must miss (over at least SAY_AGAIN_AFTER) before status shows it.
LASTED_PAGES = 3
# A poll that never reached its end leaves its pages for the next poll's `keep` to drop; where no
# poll of a source ends, this bounds them (a poll's deadline stops one far sooner).
_FORGET_AFTER = timedelta(days=1)
# The selectors a page is checked for (scrapers/selection.py); `remove` only takes elements out.
_NAMES = tuple(f.name for f in fields(Selectors) if f.name != "remove")


@dataclass(slots=True)
class _Said:
    """When a selector (by its CSS text) was last said, and whether it matched on a page since."""

    css: str
    at: datetime
    matched: bool = False


@dataclass(frozen=True, slots=True)
class _Page:
    """What one new page, read at `at`, showed of the source's set selectors: per name, its CSS
    text then and whether it matched nothing."""

    at: datetime
    outcomes: tuple[tuple[str, str, bool], ...]


class SelectorMisses:
    """Each source's selectors said as matching nothing, and its runs of pages that missed them.

    The log's memory is this process's: the warning is a line of its own log, so a restarted
    service, another worker of a fleet or each `once` says it once more in its log, where its
    reader looks. What status shows, and the runs of pages behind it, are the archive's (`keep`),
    written only when a poll changed them.
    """

    def __init__(self) -> None:
        # Per source key and selector name; its CSS text is compared, so one the operator changed
        # (a reload) is another selector, said when it misses too. Bounded: five names a source.
        self._said: dict[str, dict[str, _Said]] = {}
        # Per source key, the new pages read since its last poll's `keep`, until the next takes
        # those of its own poll.
        self._pages: dict[str, list[_Page]] = {}

    def note(
        self, source: Source, url: str, missed: tuple[str, ...], *, now: datetime
    ) -> tuple[str, ...]:
        """Log the selectors in `missed` (on the page at `url`, read at `now`) that are due by the
        module's rule; return them. A said one not in `missed` matched here (or was unset). The
        page's outcome, matches too, is kept for its poll's `keep`."""
        self._see(source, missed, now=now)
        mine = self._said.setdefault(source.key, {})
        for name, said in mine.items():
            said.matched = said.matched or name not in missed
        fresh = tuple(
            name for name in missed if _due(mine.get(name), source.selectors.css_of(name), now)
        )
        for name in fresh:
            mine[name] = _Said(source.selectors.css_of(name), now)
            log.warning(
                "%s: selectors.%s matched nothing on %s; %s (said again only after it matched"
                " and an hour passed)",
                source.key,
                name,
                url,
                instead(name),
            )
        return fresh

    def _see(self, source: Source, missed: tuple[str, ...], *, now: datetime) -> None:
        """Keep one page's outcome for each of the source's set selectors, for its poll's `keep`."""
        outcome = tuple(
            (name, css, name in missed) for name in _NAMES if (css := source.selectors.css_of(name))
        )
        pages = self._pages.setdefault(source.key, [])
        while pages and now - pages[0].at >= _FORGET_AFTER:
            pages.pop(0)
        pages.append(_Page(now, outcome))

    def standing(
        self, source: Source, known: SourceState, *, started: datetime
    ) -> tuple[tuple[SelectorMiss, ...], tuple[SelectorRun, ...]]:
        """Return the source's selectors missing since when, and its runs of pages not yet shown,
        after the pages of its poll that began at `started`, from `known` (its row then)."""
        pages = [page for page in self._pages.pop(source.key, []) if page.at >= started]
        if not pages:
            # No new page read: nothing learned, and nothing to write.
            return known.selectors_missed, known.selector_runs
        css_of = source.selectors.css_of
        # A note or run of another CSS text than the config's now (a reload) is of another
        # selector: dropped, and its run starts anew.
        notes = {m.name: m for m in known.selectors_missed if m.css == css_of(m.name)}
        runs = {r.name: r for r in known.selector_runs if r.css == css_of(r.name)}
        for page in pages:
            for name, css, missed in page.outcomes:
                if css == css_of(name):  # else read with a CSS text a reload changed since
                    _fold(name, css, missed, page.at, notes, runs)
        return (
            tuple(sorted(notes.values(), key=attrgetter("name"))),
            tuple(sorted(runs.values(), key=attrgetter("name"))),
        )

    def keep(self, source: Source, known: SourceState, store: Store, *, started: datetime) -> None:
        """Store the source's selectors missing since when, if the pages of its poll that began at
        `started` changed that (`known`: its row as the poll began). A failed write is logged, not
        raised: the run is recorded already, and a later poll that reads a page writes the note."""
        notes, runs = self.standing(source, known, started=started)
        if (notes, runs) == (known.selectors_missed, known.selector_runs):
            return
        try:
            store.sources.note_selector_misses(source.key, notes, runs)
        except Exception as exc:  # noqa: BLE001 - a status note must not fail a recorded poll
            log.error(
                "%s: could not store its selectors' note for status", source.key, exc_info=exc
            )


def _fold(
    name: str,
    css: str,
    missed: bool,
    at: datetime,
    notes: dict[str, SelectorMiss],
    runs: dict[str, SelectorRun],
) -> None:
    """Fold one page's outcome for a selector into the source's `notes` and `runs`."""
    if not missed:
        notes.pop(name, None)
        runs.pop(name, None)
        return
    if name in notes:
        return  # shown already, from its first page: more pages change nothing to write
    run = runs.get(name)
    # Counted up to LASTED_PAGES: beyond, only the time it lasted decides.
    pages = 1 if run is None else min(run.pages + 1, LASTED_PAGES)
    since = at if run is None else run.since
    if pages >= LASTED_PAGES and at - since >= SAY_AGAIN_AFTER:
        runs.pop(name, None)
        notes[name] = SelectorMiss(name, css, since)
    else:
        runs[name] = SelectorRun(name, css, since, pages)


def _due(said: _Said | None, css: str, now: datetime) -> bool:
    """Return True if a selector (its CSS text `css`) missing at `now` is to be said again."""
    if said is None or said.css != css:
        return True
    return said.matched and now - said.at >= SAY_AGAIN_AFTER


def instead(name: str) -> str:
    """Say what extraction reads where the source's selector `name` matched nothing."""
    # A source that names its lead element has no lead where it is missing (scrapers/lead.py).
    return "no lead taken" if name == "lead" else "generic extraction used"
