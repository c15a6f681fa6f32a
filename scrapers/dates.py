"""Pure parsing of publication times: machine-readable stamps and site date lines."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import htmldate.extractors
from htmldate import find_date

from . import userregex
from .userregex import IGNORECASE, MULTILINE

log = logging.getLogger(__name__)
# CIS languages beside the web's most written ones: the press our sources publish.
_CIS_LANGUAGES = ("be", "kk", "ky", "hy", "az", "uz", "ka", "mn")
_WEB_LANGUAGES = 40

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

# A dateline without a year more than this far in the future is from last year.
_FUTURE_SLACK = timedelta(days=2)
# No page can be published after it was fetched; a printed wall time read without its zone may
# still seem up to 14 hours later (UTC+14), so only a time past that is implausible.
_ZONE_SLACK = timedelta(hours=14)
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
# The longest machine stamp read ("Wednesday, 30 September 2026 17:19:53.123456 +05:30" and
# some): a longer attribute is no date, whatever it holds.
_MAX_STAMP = 80


def month_number(name: str) -> int:
    """Return 1-12 for an English or Russian month name, abbreviation or number."""
    token = name.strip().strip(".").casefold()
    if token.isdigit() and 1 <= int(token) <= 12:
        return int(token)
    if token in _MONTHS:
        return _MONTHS[token]
    raise ValueError(f"not a month: {name!r}")


def to_utc(moment: datetime, zone: ZoneInfo) -> datetime:
    """Return an aware UTC datetime, reading a naive one as wall time in `zone`.

    Raises ValueError for a time that UTC cannot hold (year 1 at +01:00, 9999-12-31 at -01:00).
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError(f"{moment.isoformat()} is out of range in UTC") from exc


def parse_machine_date(raw: str, *, zone: ZoneInfo, trust_offset: bool = True) -> datetime:
    """Parse an ISO 8601, RFC 822 or Unix-seconds stamp into aware UTC.

    With `trust_offset=False` a printed offset is dropped and the wall time read in `zone`
    (en.kremlin.ru labels Moscow time +04:00, the offset Moscow had before 2014).
    """
    text = raw.strip()
    if not text:
        raise ValueError("empty date")
    if len(text) > _MAX_STAMP:
        raise ValueError(f"not a date: {text[:_MAX_STAMP]!r}…")
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
    except (TypeError, ValueError, IndexError, OverflowError) as exc:
        raise ValueError(f"unrecognised date: {text!r}") from exc


def iter_datelines(
    text: str, pattern: str, *, zone: ZoneInfo, now: datetime
) -> Iterator[tuple[datetime, str]]:
    """Yield (UTC time, author) for every match of `pattern` in `text` that forms a valid date.

    The pattern's named groups are day, month, year, hour, minute and author; all but day and
    month are optional. A line without a year (TASS, BelTA listings) takes the latest year that
    does not put it in the future.
    """
    for match in userregex.finditer("dateline", pattern, text, MULTILINE | IGNORECASE):
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
    """Return True when a publication time is neither after the fetch (`now`) nor before 1990."""
    return _EARLIEST <= moment <= now + _ZONE_SLACK


def guess_date(html: str, *, url: str, zone: ZoneInfo | None, now: datetime) -> datetime | None:
    """Return htmldate's publication day for a page, or None.

    htmldate reads what the page's own reading did not find: dates in the URL, in free text, in
    attributes and in scripts (so it gets the page as served, not our tree without scripts). It
    is asked for the original date, between 1990 and the fetch day. The day is midnight in
    `zone`; with no zone known, noon UTC, which is the same calendar day from UTC-11 to UTC+11.
    """
    latest = (now + _ZONE_SLACK).date().isoformat()
    try:
        day = find_date(
            html,
            extensive_search=True,
            original_date=True,
            url=url or None,
            min_date=_EARLIEST.date().isoformat(),
            max_date=latest,
        )
    except Exception as exc:  # noqa: BLE001 - a date it cannot read is absent, not an error
        log.debug("htmldate failed on %s: %r", url, exc)
        return None
    if not day:
        return None
    moment = datetime.combine(datetime.fromisoformat(day).date(), time(0 if zone else 12))
    moment = to_utc(moment, zone or UTC)
    return moment if plausible(moment, now=now) else None


@lru_cache(maxsize=1)
def _date_text_parser():
    """Return htmldate's last-resort parser of dates in words, for 48 languages, not 205.

    dateparser tries every language it knows on a text no pattern reads: the first such page
    cost a parsing worker 4-5 s (compiling 400 locales' patterns) and 44 MB. The web's 40 most
    written languages (dateparser's own order) and the CIS ones read the same dates on the 444
    real pages of the extraction bench, first in 1.3 s and 23 MB.
    """
    from dateparser import DateDataParser
    from dateparser.data import language_order

    languages = list(dict.fromkeys([*language_order[:_WEB_LANGUAGES], *_CIS_LANGUAGES]))
    # htmldate's own settings (htmldate/extractors.py, get_external_parser).
    settings = {
        "NORMALIZE": True,
        "PARSERS": ["custom-formats", "absolute-time"],
        "PREFER_DATES_FROM": "past",
        "PREFER_LOCALE_DATE_ORDER": True,
        "RETURN_AS_TIMEZONE_AWARE": False,
        "STRICT_PARSING": True,
    }
    return DateDataParser(languages=languages, settings=settings)


htmldate.extractors.get_external_parser = _date_text_parser
