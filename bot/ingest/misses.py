"""A source's CSS selector that stopped matching, said in the poll log once until it matches again.

A site that changes its layout leaves a configured selector (`selectors.body`, …) matching
nothing, and extraction falls back to the generic reading without a word. The poll log says it
once per source and selector (its CSS text: one changed by a reload is a new selector): not for
every article while the layout stays, and again only after a page on which the selector matched
(the site's other template, then the broken one).
"""

from __future__ import annotations

import logging

from scrapers import Source

log = logging.getLogger(__name__)


class SelectorMisses:
    """Which of each source's selectors matched nothing on its last page read, as said so far.

    The memory is this process's: the warning is a line of its own log, so a restarted service
    or another worker of a fleet says it once more in its log, where its reader looks. Keeping
    it in the archive would add a write to polls for a line that no other process prints.
    """

    def __init__(self) -> None:
        # Per source key, each selector said (its name) and the CSS text it had then: one the
        # operator changed (a reload) is another selector, said when it misses too.
        self._said: dict[str, dict[str, str]] = {}

    def note(self, source: Source, url: str, missed: tuple[str, ...]) -> tuple[str, ...]:
        """Log the selectors in `missed` (on the page at `url`) not missing on the source's page
        before with the same CSS text; return them. One not in `missed` matched (or is unset):
        forgotten."""
        before = self._said.get(source.key, {})
        fresh = tuple(name for name in missed if before.get(name) != css(source, name))
        for name in fresh:
            log.warning(
                "%s: selectors.%s matched nothing on %s; %s (said once until it matches again)",
                source.key,
                name,
                url,
                instead(name),
            )
        if missed:
            self._said[source.key] = {name: css(source, name) for name in missed}
        else:
            self._said.pop(source.key, None)
        return fresh


def css(source: Source, name: str) -> str:
    """Return the CSS text of the source's selector `name` ("" where it is unset)."""
    return getattr(source.selectors, name, None) or ""


def instead(name: str) -> str:
    """Say what extraction reads where the source's selector `name` matched nothing."""
    # A source that names its lead element has no lead where it is missing (scrapers/lead.py).
    return "no lead taken" if name == "lead" else "generic extraction used"
