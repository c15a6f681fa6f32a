"""Pure scheduling of digests and quiet hours, and packing of digest messages.

A digest channel collects its posts for a period (boundaries counted from local midnight in the
channel's time zone: "1h" sends at every full hour) and sends them as one message, split on
article boundaries: a heading (the period, how many articles from how many sources), then the
articles grouped under their source's name, each a linked title and its time. Quiet hours
("23:00"-"07:00" local) hold posts until they end.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.delivery.render import (
    day_only,
    escape_html,
    link_label,
    local_time,
    shorten,
    shown_time,
    utf16_len,
    word,
    zone_name,
)
from bot.text.plural import counted, ru_form
from scrapers.models import Article
from scrapers.normalize import without_trackers

DAY = 86400
DIGEST_BUDGET = 4000  # UTF-16 units of parsed text; Telegram's limit is 4096
MAX_ENTRIES = 40  # each entry is two entities (bold, link); Telegram allows about 100 a message


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """One article of a digest, as HTML and as the text Telegram will count, and the heading
    (its source's name) it is listed under, and its address (the console prints it: plain text
    has no links, and Telegram does not count an address behind a link)."""

    html: str
    plain: str
    group: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class DigestHead:
    """A digest's heading, as HTML and as plain text; "(1/2)" is added to a split one's."""

    html: str
    plain: str


@dataclass(frozen=True, slots=True)
class DigestPart:
    """One digest message: which entries (by index) it holds, its HTML and its plain text, and
    the plain text with each entry's address under it, as the console prints it."""

    indexes: tuple[int, ...]
    html: str
    plain: str
    console: str = ""


def quiet_until(moment: datetime, quiet: tuple[str, str] | None, zone: str) -> datetime | None:
    """Return when the quiet period containing `moment` ends (UTC), or None if it is not quiet."""
    if not quiet or quiet[0] == quiet[1]:
        return None
    tz = ZoneInfo(zone)
    local = moment.astimezone(tz)
    start, end = _hhmm(quiet[0]), _hhmm(quiet[1])
    now = local.time().replace(tzinfo=None)
    if start < end:
        inside, end_day = start <= now < end, local.date()
    else:  # the period wraps midnight: 23:00-07:00
        inside = now >= start or now < end
        end_day = local.date() + timedelta(days=1) if now >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=tz).astimezone(UTC)


def next_digest_at(moment: datetime, period: int, zone: str) -> datetime:
    """Return the first digest time strictly after `moment` (UTC).

    Periods of up to a day fall at local wall-clock times counted from local midnight ("12h":
    noon and midnight) and restart at the next one; longer periods count from the Unix epoch.
    """
    if period > DAY:
        stamp = moment.timestamp()
        return datetime.fromtimestamp((math.floor(stamp / period) + 1) * period, UTC)
    return _around(moment, period, zone)[1]


def _around(moment: datetime, period: int, zone: str) -> tuple[datetime, datetime]:
    """Return the digest times (UTC) of a period of up to a day either side of `moment`: the last
    at or before it and the first after it."""
    tz = ZoneInfo(zone)
    local = moment.astimezone(tz)
    wall = datetime.combine(local.date(), time(0))
    midnight = wall.replace(tzinfo=tz).astimezone(UTC)
    next_midnight = (wall + timedelta(days=1)).replace(tzinfo=tz).astimezone(UTC)
    # Wall-clock times, not elapsed seconds: a day that clocks change is 23 or 25 hours long,
    # and a daily digest still goes at midnight, not at 23:00 and again at 00:00. A repeated
    # hour's times are boundaries both times (fold 0 and 1); a skipped one's fall after the gap.
    count = math.floor((local.replace(tzinfo=None) - wall).total_seconds() / period)
    times = {midnight, next_midnight} | {
        (wall + timedelta(seconds=n * period)).replace(tzinfo=tz, fold=fold).astimezone(UTC)
        for n in range(count - 1, count + 2)
        for fold in (0, 1)
    }
    times = {t for t in times if midnight <= t <= next_midnight}
    after = min(t for t in times if t > moment)
    return max((t for t in times if t <= moment), default=midnight), after


def hold_until(
    *,
    created: datetime,
    now: datetime,
    digest_seconds: int | None,
    quiet: tuple[str, str] | None,
    zone: str,
) -> datetime | None:
    """Return when a row created at `created` may be sent, or None if it may go now."""
    release = next_digest_at(created, digest_seconds, zone) if digest_seconds else now
    release = max(release, now)
    release = quiet_until(release, quiet, zone) or release
    return release if release > now else None


def digest_entry(
    article: Article,
    *,
    source_name: str,
    zone: str,
    lang: str | None = None,
    source_zone: str | None = None,
) -> DigestEntry:
    """Render one article for a digest: its linked title and its time in `zone` (the channel's,
    as the heading's: one zone in one digest; its name for readers of `lang`, the digest's
    language, by default the article's), under its source. A source that gives only the day
    (midnight in `source_zone`, by default `zone`) shows that day alone."""
    url = without_trackers(article.url)
    label = link_label(url)  # the same short address as a post shows, for an untitled article
    title = shorten(article.title, 300) if article.title.strip() else label
    words = article.lang if lang is None else lang
    moment, own = article.published, source_zone or zone
    when = ""
    if moment is not None:
        when = shown_time(moment, own) if day_only(moment, own) else local_time(moment, zone, words)
    href = html.escape(url, quote=True)
    tail = f" · {when}" if when else ""
    return DigestEntry(
        html=f'• <a href="{href}">{escape_html(title)}</a>{escape_html(tail)}',
        plain=f"• {title}{tail}",
        group=source_name,
        url=url,
    )


def digest_head(
    count: int, *, sources: int, period: tuple[datetime, datetime] | None, zone: str, lang: str
) -> DigestHead:
    """Return a digest's heading: "Digest · 28.11.2026 09:00–10:00 MSK", then "5 articles from
    2 sources" (in Russian for a Russian digest)."""
    russian = lang.split("-")[0].casefold() == "ru"
    title = "Дайджест" if russian else "Digest"
    if period:
        title += f" · {_period(*period, zone=zone, lang=lang)}"
    if russian:
        of = ru_form(sources, "источника", "источников", "источников")  # из 1, 2, 5, 21 (genitive)
        many = f"{count} {ru_form(count, 'статья', 'статьи', 'статей')} из {sources} {of}"
    else:
        many = f"{counted(count, 'article')} from {counted(sources, 'source')}"
    return DigestHead(f"<b>{escape_html(title)}</b>\n{escape_html(many)}", f"{title}\n{many}")


def digest_period(
    created: list[datetime], period: int, zone: str
) -> tuple[datetime, datetime] | None:
    """Return the span (start, end) of the digest periods rows created at `created` waited in."""
    if not created:
        return None
    end = next_digest_at(max(created), period, zone)
    if period <= DAY:
        return _around(min(created), period, zone)[0], end
    # A long period's boundary before the first row's release (they count from the epoch).
    first = next_digest_at(min(created), period, zone)
    return next_digest_at(first - timedelta(seconds=period, microseconds=1), period, zone), end


def pack_digest(
    entries: list[DigestEntry],
    *,
    head: DigestHead | None = None,
    budget: int = DIGEST_BUDGET,
    max_entries: int = MAX_ENTRIES,
) -> list[DigestPart]:
    """Pack entries, grouped by source in order of first appearance, into messages under
    `budget` units, splitting only between entries; a split digest's heading says "(1/2)".

    As few parts as the limits allow, as even as they allow: 45 articles go 23 + 22, not 40 + 5."""
    first_seen = {e.group: i for i, e in reversed(list(enumerate(entries)))}
    order = sorted(range(len(entries)), key=lambda i: (first_seen[entries[i].group], i))
    # What numbering the parts may add to the heading: " (2/3)".
    room = budget - (len(" (99/99)") if head else 0)
    parts = _split(entries, order, head, room, max_entries)
    return [
        _text(entries, indexes, head, number=(n, len(parts)) if len(parts) > 1 else None)
        for n, indexes in enumerate(parts, start=1)
    ]


def _split(
    entries: list[DigestEntry],
    order: list[int],
    head: DigestHead | None,
    room: int,
    max_entries: int,
) -> list[list[int]]:
    """Split entries (in `order`) into the fewest parts that fit `room` and `max_entries`, as
    even as those limits allow."""
    lengths = _Lengths.of(entries, head)
    parts = _fill(entries, order, lengths, room, max_entries)
    # Filling each part in turn gives the fewest parts; with that many, the smallest cap on a
    # part's entries that still needs no more parts spreads the articles evenly.
    # (Fewer parts never come of a smaller cap: search it by halves.)
    low, high = math.ceil(len(order) / max(len(parts), 1)), max_entries
    while low < high:
        middle = (low + high) // 2
        even = _fill(entries, order, lengths, room, middle)
        if len(even) == len(parts):
            parts, high = even, middle
        else:
            low = middle + 1
    # Then each part's share of what is left (1,000 at 30 a part: 30s and 29s, not 33 × 30 + 10).
    shared = _fill(entries, order, lengths, room, high, parts=len(parts))
    return shared if len(shared) == len(parts) else parts


@dataclass(frozen=True, slots=True)
class _Lengths:
    """What a part's text (without its number) adds up to, in UTF-16 units: the heading and its
    blank line (0 without a heading), each source's name line, and each entry's line."""

    head: int
    names: dict[str, int]
    entries: tuple[int, ...]

    @classmethod
    def of(cls, entries: list[DigestEntry], head: DigestHead | None) -> _Lengths:
        """Measure the pieces `_text` joins, once for every part tried."""
        return cls(
            utf16_len(_text(entries, [], head).plain) + 2 if head else 0,
            {e.group: utf16_len(e.group) + 1 if e.group else 0 for e in entries},
            tuple(utf16_len(e.plain) for e in entries),
        )


def _fill(
    entries: list[DigestEntry],
    order: list[int],
    lengths: _Lengths,
    room: int,
    cap: int,
    *,
    parts: int | None = None,
) -> list[list[int]]:
    """Fill each part in turn with entries (in `order`) while it holds under `cap` of them and
    its text fits `room`; aiming at `parts` parts, each holds at most its share of the rest."""
    filled: list[list[int]] = []
    limit, length, groups = cap, 0, set()
    for done, index in enumerate(order):
        group, size = entries[index].group, lengths.entries[index]
        # A running sum of the text `_text` would write: an entry of a source the part lists
        # already is one more line; another source's opens a block after a blank line.
        more = 1 + size if group in groups else 2 + lengths.names[group] + size
        if filled and len(filled[-1]) < limit and length + more <= room:
            filled[-1].append(index)
            length += more
            groups.add(group)
            continue
        filled.append([index])
        length, groups = lengths.head + lengths.names[group] + size, {group}
        if parts is not None:
            share = math.ceil((len(order) - done) / max(parts - len(filled) + 1, 1))
            limit = min(cap, share)
    return filled


def digest_part(
    entries: list[DigestEntry],
    *,
    head: DigestHead,
    number: tuple[int, int],
    lang: str,
    continued: bool = False,
    budget: int = DIGEST_BUDGET,
    max_entries: int = MAX_ENTRIES,
) -> list[DigestPart]:
    """Write one part of a split digest again as it was packed: its heading, its number and its
    entries in their order (grouped by source as they come); `continued`: the rest of a part
    that went out already, "(2/2, continued)" in the digest's language (`lang`).

    One message, unless its entries now read longer than when they were packed (the channel's
    zone renamed, a title edited): then as many as the packer's limits need, each after the
    first "continued", so none goes over Telegram's limit and no entry is cut."""
    room = budget - len(" (99/99)")  # as pack_digest measured it, before the part's number
    # A continued message's mark is longer: " (25/25, продолжение)" in the digest's language.
    later = budget - utf16_len(f" (99/99, {_continued(lang)})")
    split = _split(
        entries, list(range(len(entries))), head, later if continued else room, max_entries
    )
    if len(split) > 1 and not continued:  # only the first message goes without the longer mark
        rest = [i for indexes in split[1:] for i in indexes]
        split = [split[0], *_split(entries, rest, head, later, max_entries)]
    return [
        _text(entries, indexes, head, number=number, continued=lang if continued or n else None)
        for n, indexes in enumerate(split)
    ]


def _text(
    entries: list[DigestEntry],
    indexes: list[int],
    head: DigestHead | None,
    *,
    number: tuple[int, int] | None = None,
    continued: str | None = None,
) -> DigestPart:
    """Join the chosen entries under their sources' names, after the heading."""
    html_blocks, plain_blocks, console_blocks = [], [], []
    if head:
        mark = ""
        if number:
            # digest_part measured a "continued" message with the longest mark in its language.
            more = "" if continued is None else f", {_continued(continued)}"
            mark = f" ({number[0]}/{number[1]}{more})"
        first, _, rest = head.html.partition("\n")
        html_blocks.append(first.replace("</b>", f"{mark}</b>", 1) + ("\n" + rest if rest else ""))
        first, _, rest = head.plain.partition("\n")
        plain_blocks.append(first + mark + ("\n" + rest if rest else ""))
        console_blocks.append(plain_blocks[-1])
    groups: dict[str, list[DigestEntry]] = {}
    for i in indexes:
        groups.setdefault(entries[i].group, []).append(entries[i])
    for group, members in groups.items():
        named = [f"<b>{escape_html(group)}</b>"] if group else []
        html_blocks.append("\n".join([*named, *(e.html for e in members)]))
        named_plain = [group] if group else []
        plain_blocks.append("\n".join([*named_plain, *(e.plain for e in members)]))
        linked = (f"{e.plain}\n  {e.url}" if e.url else e.plain for e in members)
        console_blocks.append("\n".join([*named_plain, *linked]))
    return DigestPart(
        tuple(indexes),
        "\n\n".join(html_blocks),
        "\n\n".join(plain_blocks),
        "\n\n".join(console_blocks),
    )


def _continued(lang: str) -> str:
    """Return the word that marks the rest of a part sent before, in the digest's language."""
    return word("continued", lang.split("-")[0].casefold())


def _period(start: datetime, end: datetime, *, zone: str, lang: str) -> str:
    """Return a period in local time: "28.11.2026" for a whole day, "28.11.2026 09:00–10:00 MSK"."""
    tz = ZoneInfo(zone)
    first, last = start.astimezone(tz), end.astimezone(tz)
    if first.time() == last.time() == time(0):  # whole days
        final = last - timedelta(days=1)
        return f"{first:%d.%m.%Y}" + (f"–{final:%d.%m.%Y}" if final.date() > first.date() else "")
    name = zone_name(last, lang)
    if zone_name(first, lang) != name:  # clocks changed within: each end with its own zone
        day = "" if last.date() == first.date() else f"{last:%d.%m.%Y} "
        return f"{first:%d.%m.%Y %H:%M} {zone_name(first, lang)} – {day}{last:%H:%M} {name}"
    if last.date() == first.date() or (
        last.time() == time(0) and last.date() == first.date() + timedelta(days=1)
    ):
        until = "24:00" if last.date() > first.date() else f"{last:%H:%M}"
        return f"{first:%d.%m.%Y %H:%M}–{until} {name}".rstrip()
    return f"{first:%d.%m.%Y %H:%M} – {last:%d.%m.%Y %H:%M} {name}".rstrip()


def _hhmm(text: str) -> time:
    """Parse 'HH:MM'."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
