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
PostgreSQL another worker may poll the source next): each selector that matched nothing on every
new page since a moment, from that moment, until a page matches it. A poll folds what its pages
showed into the source's stored note and writes it only when it changed, never per article.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from operator import attrgetter

from scrapers import Selectors, Source
from storage import SelectorMiss, SourceState, Store

log = logging.getLogger(__name__)

SAY_AGAIN_AFTER = timedelta(hours=1)
# The selectors a page is checked for (scrapers/selection.py); `remove` only takes elements out.
_NAMES = tuple(f.name for f in fields(Selectors) if f.name != "remove")


@dataclass(slots=True)
class _Said:
    """When a selector (by its CSS text) was last said, and whether it matched on a page since."""

    css: str
    at: datetime
    matched: bool = False


@dataclass(slots=True)
class _Seen:
    """What one poll's new pages showed of a selector (by its CSS text)."""

    css: str
    missing_since: datetime | None = None  # None: it matched on the last page
    matched: bool = False  # it matched on a page of the poll before that


class SelectorMisses:
    """Each source's selectors said as matching nothing, and what its pages showed of them since.

    The log's memory is this process's: the warning is a line of its own log, so a restarted
    service or another worker of a fleet says it once more in its log, where its reader looks.
    What status shows is the archive's (`keep`), written only when a poll changed it.
    """

    def __init__(self) -> None:
        # Per source key and selector name; its CSS text is compared, so one the operator changed
        # (a reload) is another selector, said when it misses too. Bounded: five names a source.
        self._said: dict[str, dict[str, _Said]] = {}
        # Per source key, what the pages of its poll under way showed, until `keep` takes it.
        self._seen: dict[str, dict[str, _Seen]] = {}

    def note(
        self, source: Source, url: str, missed: tuple[str, ...], *, now: datetime
    ) -> tuple[str, ...]:
        """Log the selectors in `missed` (on the page at `url`, read at `now`) that are due by the
        module's rule; return them. A said one not in `missed` matched here (or was unset)."""
        self._see(source, missed, now=now)
        mine = self._said.setdefault(source.key, {})
        for name, said in mine.items():
            said.matched = said.matched or name not in missed
        fresh = tuple(name for name in missed if _due(mine.get(name), _css(source, name), now))
        for name in fresh:
            mine[name] = _Said(_css(source, name), now)
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
        """Fold one page's outcome for each of the source's set selectors into its poll's."""
        seen = self._seen.setdefault(source.key, {})
        for name in _NAMES:
            if not (css := _css(source, name)):
                continue
            if (was := seen.get(name)) is None or was.css != css:
                was = seen[name] = _Seen(css)
            if name in missed:
                was.missing_since = was.missing_since or now
            else:
                was.missing_since, was.matched = None, True

    def standing(self, source: Source, known: tuple[SelectorMiss, ...]) -> tuple[SelectorMiss, ...]:
        """Return the source's selectors missing since when, after its poll's pages, from `known`
        (its stored note as the poll began); forget what the pages showed."""
        seen = self._seen.pop(source.key, {})
        if not seen:
            return known  # no new page read: nothing learned
        before = {m.name: m for m in known if m.css == _css(source, m.name)}
        standing = []
        for name in _NAMES:
            now_seen, old = seen.get(name), before.get(name)
            if now_seen is None or now_seen.css != _css(source, name):
                standing += [old] if old else []  # not checked with its current CSS this poll
            elif now_seen.missing_since is not None:
                # Missing on every page of the poll: since when the note said, if it said so.
                kept = old if old and not now_seen.matched else None
                standing.append(kept or SelectorMiss(name, now_seen.css, now_seen.missing_since))
        return tuple(sorted(standing, key=attrgetter("name")))

    def keep(self, source: Source, known: SourceState, store: Store) -> None:
        """Store the source's selectors missing since when, if its poll's pages changed that
        (`known`: its row as the poll began)."""
        standing = self.standing(source, known.selectors_missed)
        if standing != known.selectors_missed:
            store.sources.note_selector_misses(source.key, standing)


def _due(said: _Said | None, css: str, now: datetime) -> bool:
    """Return True if a selector (its CSS text `css`) missing at `now` is to be said again."""
    if said is None or said.css != css:
        return True
    return said.matched and now - said.at >= SAY_AGAIN_AFTER


def _css(source: Source, name: str) -> str:
    """Return the CSS text of the source's selector `name` ("" where it is unset)."""
    return getattr(source.selectors, name, None) or ""


def instead(name: str) -> str:
    """Say what extraction reads where the source's selector `name` matched nothing."""
    # A source that names its lead element has no lead where it is missing (scrapers/lead.py).
    return "no lead taken" if name == "lead" else "generic extraction used"
