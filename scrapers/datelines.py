"""Pure reading of the publication date a page prints next to its headline.

Machine-readable dates disagree with the page often enough (a wrong UTC offset, an SEO date, the
update time, a placeholder year 1) that the printed dateline is the better judge: the metadata
stamp it confirms wins, and where none does, the printed date and time are the answer. Formats
are the common English, Russian and numeric ones, with US and a few other zone abbreviations.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from lxml.etree import _Element, iterwalk

from .dates import month_number

# Text strings after the headline read for a dateline, and before it (nearest first).
_AFTER, _BEFORE = 20, 8
_UNREAD = {"script", "style", "noscript", "template"}
# How far before a date its time may start ("11:11 PM EST Nov 19", "10:48, Tue, Nov 19").
_CLOCK_REACH = 30
# An update's date and a publication date this many characters apart are one dateline.
_BESIDE = 120
_MONTH = r"(?P<month>[^\W\d_]{3,9})\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_DATE = re.compile(
    rf"\b(?:{_MONTH}\s+{_DAY},?\s+{_YEAR}"  # Nov. 19, 2019 / Nov 20 2019
    # 19 Nov 2019 / 25. September 2018
    rf"|(?P<day2>\d{{1,2}})\.?\s+(?P<month2>[^\W\d_]{{3,9}})\.?,?\s+(?P<year2>(?:19|20)\d\d)"
    r"|(?P<iy>(?:19|20)\d\d)-(?P<im>\d\d)-(?P<id>\d\d)"  # 2019-11-19
    # 19.11.2019, 11/19/19
    r"|(?P<n1>\d{1,2})(?P<sep>[./])(?P<n2>\d{1,2})(?P=sep)(?P<ny>(?:19|20)?\d\d))(?!\d)"
)
# Every date form has a year: four digits, or two at the end of a numeric date.
_YEARISH = re.compile(r"(?:19|20)\d\d(?!\d)|\d[./]\d{1,2}[./]\d\d(?!\d)")
_TIME = (
    r"(?P<hour>\d{1,2})[:.h](?P<minute>[0-5]\d)(?::[0-5]\d(?:\.\d+)?)?"
    r"\s*(?P<ampm>[ap]\.?\s?m\.?)?"
)
_ZONE = r"(?:\s*\(?(?:(?P<zone>[A-Z]{1,5})\b|(?P<offset>[+-]\d\d:?\d\d)))?"
_TIME_AFTER = re.compile(rf"(?:\s|[,|/@T-]|at\b|um\b|в\b|à\b){{0,6}}{_TIME}{_ZONE}", re.IGNORECASE)
# A time before the date may have the weekday between them ("10:48, Tue, Nov 19, 2019").
_TIME_BEFORE = re.compile(
    rf"{_TIME}{_ZONE}(?:\s|[,|/-])*(?:[^\W\d_]{{3,9}}\.?,?\s*)?$", re.IGNORECASE
)
# A date the words just before it call an update, not the publication.
_UPDATED = re.compile(r"updated|modified|edited|обновлено|aktualisiert", re.IGNORECASE)
_US = {
    "E": "America/New_York",
    "C": "America/Chicago",
    "M": "America/Denver",
    "P": "America/Los_Angeles",
}
_OFFSETS = {
    "Z": 0,
    "GMT": 0,
    "UTC": 0,
    "WET": 0,
    "BST": 60,
    "CET": 60,
    "WAT": 60,
    "CEST": 120,
    "EET": 120,
    "CAT": 120,
    "SAST": 120,
    "EEST": 180,
    "MSK": 180,
    "EAT": 180,
    "IST": 330,
    "PKT": 300,
    "ICT": 420,
    "WIB": 420,
    "HKT": 480,
    "SGT": 480,
    "PHT": 480,
    "AWST": 480,
    "JST": 540,
    "KST": 540,
    "AEST": 600,
    "AEDT": 660,
    "NZST": 720,
    "NZDT": 780,
}


@dataclass(frozen=True, slots=True)
class Dateline:
    """A printed publication date: its day (or the days it may mean), its time and zone if shown."""

    days: tuple[date, ...]
    at: time | None = None
    zone: tzinfo | None = None
    update: bool = False  # the page calls it an update

    def moment(self, zone: tzinfo) -> datetime | None:
        """Return the printed instant in UTC, reading a time without zone in `zone`."""
        if len(self.days) != 1:
            return None
        wall = datetime.combine(self.days[0], self.at or time())
        return wall.replace(tzinfo=self.zone or zone).astimezone(UTC)


def read_dateline(headline: _Element) -> Dateline | None:
    """Return the date printed nearest the headline, below or above it, or None.

    Only the first date below and the last above count: further ones belong to the story or to
    other stories. An update's date gives way to a publication date printed right beside it.
    Distances are in characters of text between the headline and the date.
    """
    after = [(start, line) for start, _, line in _datelines(_joined(_following(headline, _AFTER)))]
    text = _joined(reversed(_preceding(headline, _BEFORE)))
    before = [(len(text) - end, line) for _, end, line in reversed(_datelines(text))]
    below, above = _first(after), _first(before)
    # Datelines sit below the headline more often: one above must be twice as close to win
    # (politifact.com prints the quoted claim's date just above its headline).
    if above is not None and (below is None or 2 * above[0] < below[0]):
        return above[1]
    return below[1] if below is not None else None


def following_lines(el: _Element, limit: int) -> list[str]:
    """Return the first `limit` text strings after an element, each on one line."""
    return [" ".join(s.split()) for s in _following(el, limit)]


def _following(el: _Element, limit: int) -> list[str]:
    """Return the first `limit` non-blank text strings after an element, in page order.

    A walk from the element, not an XPath following:: axis, which reads the rest of the page.
    """
    found: list[str] = []
    node = el
    while node is not None:
        _add(found, node.tail)
        for sibling in node.itersiblings():
            walker = iterwalk(sibling, events=("start", "end"))
            for event, item in walker:
                if event == "end":
                    _add(found, item.tail)
                elif not _read(item):
                    walker.skip_subtree()
                else:
                    _add(found, item.text)
                if len(found) >= limit:
                    return found
        node = node.getparent()
    return found


def _preceding(el: _Element, limit: int) -> list[str]:
    """Return the last `limit` non-blank text strings before an element, nearest first."""
    found: list[str] = []
    node = el
    while node is not None:
        for sibling in node.itersiblings(preceding=True):
            # The sibling's strings backwards: its tail, its children last to first, its text.
            _add(found, sibling.tail)
            stack = [(sibling, sibling.iterchildren(reversed=True))] if _read(sibling) else []
            while stack and len(found) < limit:
                item, children = stack[-1]
                child = next(children, None)
                if child is None:
                    stack.pop()
                    _add(found, item.text)
                    continue
                _add(found, child.tail)
                if _read(child):
                    stack.append((child, child.iterchildren(reversed=True)))
            if len(found) >= limit:
                return found[:limit]
        node = node.getparent()
        if node is not None:
            _add(found, node.text)
    return found


def _read(el: _Element) -> bool:
    """Tell whether an element's own text is page text (not a script, style or comment)."""
    return isinstance(el.tag, str) and el.tag not in _UNREAD


def _add(found: list[str], text: str | None) -> None:
    """Append a text string unless it is blank."""
    if text and not text.isspace():
        found.append(text)


def _joined(strings) -> str:
    """Return text strings one per line, their whitespace collapsed."""
    return "\n".join(" ".join(s.split()) for s in strings)


def _dates(text: str) -> Iterator[re.Match]:
    """Yield the date matches in `text`, looking only around its years (a full scan is slow)."""
    start = 0
    for year in _YEARISH.finditer(text):
        if year.start() < start:
            continue
        for match in _DATE.finditer(text, max(start, year.start() - 24), year.end() + 6):
            start = max(start, match.end())
            yield match


def _datelines(text: str) -> list[tuple[int, int, Dateline]]:
    """Return the datelines in `text` with the offsets where their dates start and end."""
    found, end = [], 0
    for match in _dates(text):
        dateline = _dateline(match, text)
        if dateline is not None:
            update = bool(_UPDATED.search(text, max(end, match.start() - 40), match.start()))
            found.append((match.start(), match.end(), replace(dateline, update=update)))
        end = match.end()
    return found


def _first(found: list[tuple[int, Dateline]]) -> tuple[int, Dateline] | None:
    """Return the nearest dateline, or the publication one printed right beside an update."""
    if not found:
        return None
    first = found[0]
    if first[1].update:
        beside = [f for f in found[1:2] if not f[1].update and abs(f[0] - first[0]) < _BESIDE]
        return (first[0], beside[0][1]) if beside else first
    return first


def pick_time(
    dateline: Dateline | None, stamps: list[tuple[datetime, datetime]], *, zone: tzinfo
) -> datetime | None:
    """Return the publication time: the stamp the dateline confirms best, else the dateline's.

    `stamps` are the metadata's (UTC time, time as written) in order of trust. A printed time
    with its zone beats every stamp but the same instant; a printed update only picks a stamp
    when there is none to pick.
    """
    printed = dateline.moment(zone) if dateline is not None else None
    if dateline is None or not stamps or dateline.update:
        return stamps[0][0] if stamps else printed
    score, best = max(((_confirms(dateline, *s), -n) for n, s in enumerate(stamps)))
    explicit = dateline.at is not None and dateline.zone is not None and len(dateline.days) == 1
    if score == 3 or (score and not explicit):
        return stamps[-best][0]
    # No stamp agrees: a printed time with its zone is the page's word; a bare date may be a
    # caption's or another story's.
    return printed if explicit else stamps[0][0]


def _confirms(dateline: Dateline, moment: datetime, local: datetime) -> int:
    """Score how well a machine stamp (UTC `moment`, as written `local`) matches the dateline.

    3: the same instant; 2: the same wall time as written, or the same time in some UTC offset
    when the page prints none; 1: the same day as written, or in some offset; 0: no match.
    """
    if dateline.at is not None:
        if dateline.zone is not None and len(dateline.days) == 1:
            if abs(dateline.moment(UTC) - moment) < timedelta(minutes=1):
                return 3
        elif any(_same_wall(day, dateline.at, local, moment) for day in dateline.days):
            return 2
    if local.date() in dateline.days:
        return 1
    # Some offset from UTC-12 to UTC+14 puts the stamp on the printed day.
    naive = moment.replace(tzinfo=None)
    return int(
        any(
            timedelta(hours=-14) <= naive - datetime.combine(day, time()) < timedelta(hours=36)
            for day in dateline.days
        )
    )


def _same_wall(day: date, at: time, local: datetime, moment: datetime) -> bool:
    """Tell whether a stamp is the printed wall time as written, or in a whole-quarter offset."""
    wall = datetime.combine(day, at)
    if local.replace(tzinfo=None, second=0, microsecond=0) == wall:
        return True
    delta = wall - moment.replace(tzinfo=None, second=0, microsecond=0)
    in_range = timedelta(hours=-12) <= delta <= timedelta(hours=14)
    return in_range and delta % timedelta(minutes=15) == timedelta()


def _dateline(match: re.Match, text: str) -> Dateline | None:
    """Build a dateline from a date match and the time printed right after or before it."""
    days = _days(match)
    if not days:
        return None
    clock = _TIME_AFTER.match(text, match.end()) or _TIME_BEFORE.search(
        text[max(0, match.start() - _CLOCK_REACH) : match.start()]
    )
    if clock is None:
        return Dateline(days)
    at = _clock(clock)
    if at is None:
        return Dateline(days)
    zone = fixed_zone(clock["offset"]) if clock["offset"] else _zone(clock["zone"], days[0])
    return Dateline(days, at, zone)


def _days(m: re.Match) -> tuple[date, ...]:
    """Return the day a date match means, or both days a numeric one may mean."""
    try:
        if m["year"] or m["year2"]:
            month = month_number(m["month"] or m["month2"])
            return (date(int(m["year"] or m["year2"]), month, int(m["day"] or m["day2"])),)
        if m["iy"]:
            return (date(int(m["iy"]), int(m["im"]), int(m["id"])),)
    except ValueError:
        return ()
    year = int(m["ny"]) + (2000 if len(m["ny"]) == 2 else 0)
    a, b = int(m["n1"]), int(m["n2"])
    days = []
    # Day first (Europe), then month first (US); dotted dates are day first everywhere they are
    # written ("08.02.2021" under an interaffairs.ru headline, German and Russian sites).
    orders = ((b, a),) if m["sep"] == "." else ((b, a), (a, b))
    for month, day in orders:
        try:
            days.append(date(year, month, day))
        except ValueError:
            continue
    return tuple(dict.fromkeys(days))


def _clock(m: re.Match) -> time | None:
    """Return the time of a clock match, with a.m./p.m. applied, or None when it is no time."""
    hour, minute = int(m["hour"]), int(m["minute"])
    ampm = (m["ampm"] or "").lower()[:1]
    if ampm and 1 <= hour <= 12:
        hour = hour % 12 + (12 if ampm == "p" else 0)
    return time(hour, minute) if hour < 24 else None


def fixed_zone(offset: str) -> tzinfo | None:
    """Return the fixed zone of an ISO offset ("Z", "+05:30", "-0800"); None past ±23:59."""
    if offset.upper() == "Z":
        return UTC
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        return None  # "+99:99" printed on a page is no offset at all
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _zone(name: str | None, day: date) -> tzinfo | None:
    """Return the zone an abbreviation names (US ones with their daylight saving), or None."""
    if not name:
        return None
    upper = name.upper()
    if len(upper) in (2, 3) and upper[0] in _US and upper[1:] in ("T", "ST", "DT"):
        if name != upper:
            return None  # "et", "pt": words, not zones
        if upper.endswith("ST"):
            return timezone(ZoneInfo(_US[upper[0]]).utcoffset(datetime(day.year, 1, 15)))
        if upper.endswith("DT"):
            return timezone(ZoneInfo(_US[upper[0]]).utcoffset(datetime(day.year, 7, 15)))
        return ZoneInfo(_US[upper[0]])
    minutes = _OFFSETS.get(upper)
    return None if minutes is None else timezone(timedelta(minutes=minutes))
