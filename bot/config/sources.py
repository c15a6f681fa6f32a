"""Read the [[sources]] entries: each key checked, every regex vetted, every problem recorded."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from bot.config.checks import (
    css,
    filled,
    flexible_pattern,
    is_loopback_host,
    key_name,
    language_tag,
    pattern,
    rewrite,
    url_template,
    web_url,
    zone,
)
from bot.config.fields import ABSENT, Table, one_of, present, shown, span, within
from scrapers.models import Selectors, Source
from scrapers.normalize import url_key

MAX_EVERY = 31 * 86400  # a poll interval longer than a month is a typo
# Polling a real site faster than this is rude, and gets a bot blocked: conditional requests and
# per-host pacing save bandwidth, not the site's request log. A shorter `every` is polled at this
# (with a warning, not refused: a service whose config said "30s" must still start after an upgrade).
MIN_EVERY = 60
_DATELINE_GROUPS = ("day", "month")


def read_source(t: Table) -> Source | None:
    """Read one [[sources]] entry; None when it has a problem (recorded in `t`)."""
    # An html source finds its articles by link_pattern (kind defaults to "html").
    needs_pattern = t.data.get("kind", "html") == "html" and "link_pattern" not in t.data
    written = t.data.get("every")  # "59.5s" is told as written, not as the 59 s it is read as
    kind = t.get("kind", str, check=one_of("html", "feed"))
    values = present(
        kind=kind,
        key=t.require("key", str, check=key_name),
        name=t.get("name", str, check=filled("the name posts show, such as 'TASS'")),
        url=t.require("url", str, check=web_url),
        link_pattern=t.get("link_pattern", str, check=pattern),
        lang=t.get("lang", str, check=language_tag),
        timezone=t.get("timezone", str, check=zone),
        every_seconds=t.duration("every", most=MAX_EVERY),
        backfill=t.get("backfill", int, check=within(0, 1000)),
        fetch_pages=t.get("fetch_pages", bool),
        robots=t.get("robots", bool),
        dateline=t.get("dateline", str, check=_dateline),
        trust_offset=t.get("trust_offset", bool),
        trailers=t.strings("trailers"),
        drop_lines=t.strings("drop_lines", check=flexible_pattern),
        url_rewrites=_rewrites(t),
        selectors=_selectors(t.table("selectors")),
        max_silence_seconds=t.duration("max_silence"),
        recheck_seconds=_duration_or_off(t, "recheck"),
        missing_page_wait_seconds=_duration_or_off(t, "missing_page_wait"),
        missing_page=t.get("missing_page", str, check=one_of("archive", "post")),
        pages=t.get("pages", str, check=url_template),
    )
    if needs_pattern:
        t.report("link_pattern", 'required for kind = "html"', missing=True)
    if _too_often(t, values.get("url"), values.get("every_seconds"), written):
        values["every_seconds"] = MIN_EVERY
    t.finish()
    return Source(**values) if t.ok else None


def reads(url: str, link_pattern: str | None) -> tuple[str, str | None]:
    """Return what a source reads: its address as url_key compares it, and its link_pattern.
    Two sources alike in both store the same articles (the second nothing); two patterns on one
    listing page split it."""
    return url_key(url), link_pattern


def reading_twin(source: Source, others: Iterable[Source]) -> Source | None:
    """Return the first of `others` that reads what `source` reads, or None."""
    mine = reads(source.url, source.link_pattern)
    return next((o for o in others if reads(o.url, o.link_pattern) == mine), None)


def twin_warnings(sources: Sequence[Source]) -> tuple[str, ...]:
    """Say of each source that reads what an earlier one reads that it stores nothing (a config
    that worked before this was checked still starts)."""
    lines = []
    for i, source in enumerate(sources):
        twin = reading_twin(source, sources[:i])
        if twin is not None:
            lines.append(
                f"sources {twin.key} and {source.key} read the same address ({twin.url})"
                + (" with the same link_pattern" if source.link_pattern else "")
                + f": {source.key} stores nothing (every article is {twin.key}'s); remove one"
            )
    return tuple(lines)


def _too_often(t: Table, url: str | None, every: int | None, written: object) -> bool:
    """Tell whether a site on the network is asked to be polled more often than once a minute,
    warning so (a test server on this machine may be polled as often as its test needs)."""
    if url is None or every is None or every >= MIN_EVERY:
        return False
    host = urlsplit(url).hostname or ""
    if is_loopback_host(host):
        return False
    t.warn(
        "every",
        f"{shown(written)} is under a minute, so {host} is polled every {span(MIN_EVERY)}: a site "
        "on the network is polled at most once a minute (intervals under a minute are for a test "
        "server on this machine: localhost, 127.0.0.1, [::1])",
    )
    return True


def _dateline(value: str) -> bool:
    """Accept a dateline regex with at least the day and month groups."""
    pattern(value)
    missing = [g for g in _DATELINE_GROUPS if g not in re.compile(value).groupindex]
    if missing:
        raise ValueError(f"a dateline needs the named groups {', '.join(missing)} (?P<day>...)")
    return True


def _duration_or_off(t: Table, key: str):
    """Read a duration that may be 0 ("off"): the recheck window, the wait for a missing page."""
    if t.data.get(key) in (0, "0", "off"):
        t.take(key)
        return 0
    return t.duration(key)


def _selectors(t: Table):
    """Read a source's [sources.selectors] table."""
    values = present(
        **{
            name: t.get(name, str, check=css)
            for name in ("title", "date", "author", "lead", "body")
        },
        remove=t.strings("remove", check=css),
    )
    t.finish()
    return Selectors(**values) if t.ok else ABSENT


def _rewrites(t: Table):
    """Read url_rewrites = [["pattern", "replacement"], ...]."""
    pairs = t.get("url_rewrites", list, items=list)
    if pairs is ABSENT:
        return ABSENT
    wrong = False
    for i, pair in enumerate(pairs):
        try:
            rewrite(pair)
        except ValueError as exc:
            t.report(f"url_rewrites[{i}]", str(exc))
            wrong = True
    return ABSENT if wrong else tuple((p, r) for p, r in pairs)
