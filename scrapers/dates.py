"""Pure parsing of publication times: machine-readable stamps and site date lines."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

_MONTHS = {
    **{
        m: i
        for i, m in enumerate(
            (
                "january february march april may june july august september october november "
                "december"
            ).split(),
            start=1,
        )
    },
    **{
        m: i
        for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)
    },
    "sept": 9,
    # Russian: nominative, genitive ("27 декабря") and the usual abbreviations.
    **{
        m: i
        for i, m in enumerate(
            (
                "январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь декабрь"
            ).split(),
            start=1,
        )
    },
    **{
        m: i
        for i, m in enumerate(
            (
                "января февраля марта апреля мая июня июля августа сентября октября ноября декабря"
            ).split(),
            start=1,
        )
    },
    **{
        m: i
        for i, m in enumerate("янв фев мар апр май июн июл авг сен окт ноя дек".split(), start=1)
    },
    "февр": 2,
    "сент": 9,
    "нояб": 11,
}

# A stamp more than this far in the future is a site error, or a dateline whose year we guessed
# wrong; it is pulled back a year (datelines) or rejected (metadata).
_FUTURE_SLACK = timedelta(days=2)


def month_number(name: str) -> int:
    """Return 1-12 for an English or Russian month name, abbreviation or number."""
    token = name.strip().strip(".").casefold()
    if token.isdigit() and 1 <= int(token) <= 12:
        return int(token)
    if token in _MONTHS:
        return _MONTHS[token]
    raise ValueError(f"not a month: {name!r}")


def to_utc(moment: datetime, zone: ZoneInfo) -> datetime:
    """Return an aware UTC datetime, reading a naive one as wall time in `zone`."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def parse_machine_date(raw: str, *, zone: ZoneInfo, trust_offset: bool = True) -> datetime:
    """Parse an ISO 8601, RFC 822 or Unix-seconds stamp into aware UTC.

    With `trust_offset=False` a printed offset is dropped and the wall time read in `zone`
    (en.kremlin.ru labels Moscow time +04:00, the offset Moscow had before 2014).
    """
    text = raw.strip()
    if not text:
        raise ValueError("empty date")
    moment = _parse_any(text)
    if not trust_offset:
        moment = moment.replace(tzinfo=None)
    return to_utc(moment, zone)


def _parse_any(text: str) -> datetime:
    """Return a datetime (naive when the text has no offset) from one of the known formats."""
    if re.fullmatch(r"\d{9,11}", text):
        return datetime.fromtimestamp(int(text), UTC)
    iso = re.sub(r"(\d)\s+(\d{2}:\d{2})", r"\1T\2", text)
    iso = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", iso)
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"unrecognised date: {text!r}") from exc


def iter_datelines(
    text: str, pattern: str, *, zone: ZoneInfo, now: datetime
) -> Iterator[tuple[datetime, str]]:
    """Yield (UTC time, author) for every match of `pattern` in `text` that forms a valid date.

    The pattern's named groups are day, month, year, hour, minute and author; all but day and
    month are optional. A line without a year (TASS, BelTA listings) takes the latest year that
    does not put it in the future.
    """
    for match in re.finditer(pattern, text, flags=re.MULTILINE | re.IGNORECASE):
        parts = match.groupdict()
        try:
            moment = _moment_from_groups(parts, zone=zone, now=now)
        except (ValueError, KeyError):
            continue
        yield moment, (parts.get("author") or "").strip()


def _moment_from_groups(parts: dict[str, str | None], *, zone: ZoneInfo, now: datetime) -> datetime:
    """Build an aware UTC datetime from a dateline's named groups."""
    day, month = int(parts["day"] or ""), month_number(parts["month"] or "")
    hour, minute = int(parts.get("hour") or 0), int(parts.get("minute") or 0)
    year_text = parts.get("year")
    if year_text:
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        return to_utc(datetime(year, month, day, hour, minute), zone)
    local_now = now.astimezone(zone)
    moment = to_utc(datetime(local_now.year, month, day, hour, minute), zone)
    if moment > now + _FUTURE_SLACK:
        moment = to_utc(datetime(local_now.year - 1, month, day, hour, minute), zone)
    return moment


def plausible(moment: datetime, *, now: datetime) -> bool:
    """Return True when a publication time is neither in the future nor before the web."""
    return datetime(1995, 1, 1, tzinfo=UTC) <= moment <= now + _FUTURE_SLACK
