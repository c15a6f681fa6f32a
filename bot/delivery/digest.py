"""Pure scheduling of digests and quiet hours, and packing of digest messages.

A digest channel collects its posts for a period (boundaries counted from local midnight in the
channel's time zone: "1h" sends at every full hour) and sends them as one message, split on
article boundaries. Quiet hours ("23:00"-"07:00" local) hold posts until they end.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.delivery.render import escape_html, link_label, shorten, shown_time, utf16_len
from scrapers.models import Article
from scrapers.normalize import without_trackers

DAY = 86400
DIGEST_BUDGET = 4000  # UTF-16 units of parsed text; Telegram's limit is 4096
MAX_ENTRIES = 40  # each entry is two entities (bold, link); Telegram allows about 100 a message


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """One article of a digest, as HTML and as the text Telegram will count."""

    html: str
    plain: str


@dataclass(frozen=True, slots=True)
class DigestPart:
    """One digest message: which entries (by index) it holds, its HTML and its plain text."""

    indexes: tuple[int, ...]
    html: str
    plain: str


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

    Periods of up to a day count from local midnight and restart at the next one; longer
    periods count from the Unix epoch.
    """
    if period > DAY:
        stamp = moment.timestamp()
        return datetime.fromtimestamp((math.floor(stamp / period) + 1) * period, UTC)
    tz = ZoneInfo(zone)
    local = moment.astimezone(tz)
    # Arithmetic in UTC: aware datetimes of one zone add and subtract wall-clock time, which is
    # an hour off on the days clocks change.
    midnight = datetime.combine(local.date(), time(0), tzinfo=tz).astimezone(UTC)
    next_midnight = datetime.combine(
        local.date() + timedelta(days=1), time(0), tzinfo=tz
    ).astimezone(UTC)
    elapsed = (moment.astimezone(UTC) - midnight).total_seconds()
    boundary = midnight + timedelta(seconds=(math.floor(elapsed / period) + 1) * period)
    return min(boundary, next_midnight)


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


def digest_entry(article: Article, *, source_name: str, zone: str) -> DigestEntry:
    """Render one article for a digest: bold title, source and local time, link."""
    url = without_trackers(article.url)
    title = shorten(article.title or url, 300)
    when = shown_time(article.published, zone, article.lang) if article.published else ""
    meta = source_name + (f" · {when}" if when else "")
    href = html.escape(url, quote=True)
    label = link_label(url)  # the same short address as a post shows
    return DigestEntry(
        html=f'<b>{escape_html(title)}</b>\n{escape_html(meta)}\n<a href="{href}">{escape_html(label)}</a>',
        plain=f"{title}\n{meta}\n{label}",
    )


def pack_digest(
    entries: list[DigestEntry], *, budget: int = DIGEST_BUDGET, max_entries: int = MAX_ENTRIES
) -> list[DigestPart]:
    """Pack entries in order into messages under `budget` units, splitting only between entries."""
    parts: list[DigestPart] = []
    current: list[int] = []
    used = 0
    for index, entry in enumerate(entries):
        size = utf16_len(entry.plain) + (2 if current else 0)  # the blank line between entries
        if current and (used + size > budget or len(current) >= max_entries):
            parts.append(_part(entries, current))
            current, used = [], 0
            size = utf16_len(entry.plain)
        current.append(index)
        used += size
    if current:
        parts.append(_part(entries, current))
    return parts


def _part(entries: list[DigestEntry], indexes: list[int]) -> DigestPart:
    """Join the chosen entries into one message."""
    chosen = [entries[i] for i in indexes]
    return DigestPart(
        tuple(indexes), "\n\n".join(e.html for e in chosen), "\n\n".join(e.plain for e in chosen)
    )


def _hhmm(text: str) -> time:
    """Parse 'HH:MM'."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
