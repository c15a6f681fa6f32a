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
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from scrapers import Source

log = logging.getLogger(__name__)

SAY_AGAIN_AFTER = timedelta(hours=1)


@dataclass(slots=True)
class _Said:
    """When a selector (by its CSS text) was last said, and whether it matched on a page since."""

    css: str
    at: datetime
    matched: bool = False


class SelectorMisses:
    """Each source's selectors said as matching nothing, and what its pages showed of them since.

    The memory is this process's: the warning is a line of its own log, so a restarted service
    or another worker of a fleet says it once more in its log, where its reader looks. Keeping
    it in the archive would add a write to polls for a line that no other process prints.
    """

    def __init__(self) -> None:
        # Per source key and selector name; its CSS text is compared, so one the operator changed
        # (a reload) is another selector, said when it misses too. Bounded: five names a source.
        self._said: dict[str, dict[str, _Said]] = {}

    def note(
        self, source: Source, url: str, missed: tuple[str, ...], *, now: datetime
    ) -> tuple[str, ...]:
        """Log the selectors in `missed` (on the page at `url`, read at `now`) that are due by the
        module's rule; return them. A said one not in `missed` matched here (or was unset)."""
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
