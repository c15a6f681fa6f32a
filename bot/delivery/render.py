"""Pure rendering of an article into a Telegram post (HTML parse mode, within Telegram's limits)."""

from __future__ import annotations

import html
import unicodedata
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from bot.text.summarize import sentences
from scrapers.models import Article
from scrapers.normalize import without_trackers

# Telegram's sendMessage limit, counted in UTF-16 code units after entity parsing (PTB:
# MessageLimit.MAX_TEXT_LENGTH); we stay a little under it. A photo's caption has 1,024 (PTB:
# MessageLimit.CAPTION_LENGTH), counted the same way.
MAX_MESSAGE_UNITS = 4096
MAX_CAPTION_UNITS = 1024
_MAX_LINK_LABEL = 60
_SEPARATORS = 12  # the newlines between the parts
# The few words a post adds of its own, in the article's language; English for any other.
_WORDS = {
    "ru": {
        "Also": "Также",
        "Updated": "Обновлено",
        "more": "ещё",
        "Your alert": "Ваша подписка",
        "Your alerts": "Ваши подписки",
        "topic": "тема",
        "tag": "тег",
        "source": "источник",
        "phrase": "фраза",
        "continued": "продолжение",  # a digest's "(2/2, continued)": the rest of a part sent before
    }
}


@dataclass(frozen=True, slots=True)
class Limits:
    """How many UTF-16 units a post may use in all, and each bounded part of it."""

    budget: int  # the whole visible text, under Telegram's limit with a margin
    title: int
    meta: int  # source name and time
    tail: int  # each of "Also: …" and the hashtags


TEXT = Limits(budget=4000, title=400, meta=200, tail=600)
# A caption leaves the link and a summary room even with every part at its bound.
CAPTION = Limits(budget=1000, title=250, meta=120, tail=150)


@dataclass(frozen=True, slots=True)
class Post:
    """A rendered message: HTML for Telegram and the same words as plain text."""

    html: str
    plain: str
    url: str


def utf16_len(text: str) -> int:
    """Return the length of text in UTF-16 code units, as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def render_post(
    article: Article,
    *,
    source_name: str,
    zone: str = "UTC",
    summary: str = "",
    hashtags: tuple[str, ...] = (),
    also: tuple[str, ...] = (),
    alert: str = "",
    limits: Limits = TEXT,
) -> Post:
    """Render title in bold, source and local time, summary, link, the alert's match, "Also:" and
    hashtags, within `limits`.

    The HTML links a short label to the address; the plain-text fallback shows the address itself
    (Telegram links it), or the label when the address alone would not leave room for the rest.
    Each version fits its own summary into what is left, so both stay under Telegram's limit.
    """
    url = without_trackers(article.url)  # a feed's utm_* and the like are no reader's business
    titled = bool(article.title.strip())
    title = _fit(article.title, limits.title) if titled else ""
    meta_line = _fit(
        source_name
        + (f" · {shown_time(article.published, zone, article.lang)}" if article.published else ""),
        limits.meta,
    )
    label = link_label(url)
    tail = [_fit(alert, limits.tail)] if alert else []  # a personal alert: what it matched
    tail += [_fit(f"{word('Also', article.lang)}: " + ", ".join(also), limits.tail)] if also else []
    tail += [_fit(" ".join(hashtags), limits.tail)] if hashtags else []
    fixed = utf16_len(title + meta_line + "".join(tail)) + _SEPARATORS
    room = limits.budget - fixed
    plain_link = shown_url(url, room=room)
    html_summary = shorten_summary(summary, room - utf16_len(label), article.lang)
    plain_summary = shorten_summary(summary, room - utf16_len(plain_link), article.lang)
    link = f'<a href="{html.escape(url, quote=True)}">{escape_html(label)}</a>'
    # An article without a title is headed by its link, so its address shows once, not twice.
    head, plain_head = (
        (f"<b>{escape_html(title)}</b>", title) if titled else (f"<b>{link}</b>", plain_link)
    )
    segments = [
        head,
        escape_html(meta_line),
        *([escape_html(html_summary)] if html_summary else []),
        *([link] if titled else []),
        *[escape_html(text) for text in tail],
    ]
    plain_parts = [
        plain_head,
        meta_line,
        *([plain_summary] if plain_summary else []),
        *([plain_link] if titled else []),
        *tail,
    ]
    return Post(
        html="\n\n".join(_join_head(segments)),
        plain="\n\n".join(_join_head(plain_parts)),
        url=url,
    )


def word(english: str, lang: str) -> str:
    """Return one of the post's own words ("Also", "Updated", "topic"…) in the article's language."""
    return _WORDS.get(lang, {}).get(english, english)


def local_time(moment: datetime, zone: str, lang: str = "") -> str:
    """Return 'DD.MM.YYYY HH:MM ZONE' in the source's time zone, ZONE as readers of `lang` read
    it: "MSK", "CET", "UTC+3" in English; "МСК", else "UTC+1", in Russian."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%d.%m.%Y %H:%M} {zone_name(local, lang)}".rstrip()


def zone_name(local: datetime, lang: str = "") -> str:
    """Return the abbreviation of a local time's zone, or its offset from UTC ("UTC+3"), as
    readers of `lang` read it."""
    name = local.tzname() or ""
    russian = lang.split("-")[0].casefold() == "ru"
    if russian and name == "MSK":
        return "МСК"  # how Russian papers and TV name Moscow time
    # zoneinfo names some zones only by offset ("+03" for Minsk), and a Russian reader knows
    # no Latin "CET" or "EEST": spell those as UTC+3.
    if name[:1] not in "+-" and not (russian and name not in ("UTC", "")):
        return name
    minutes = round((local.utcoffset() or timedelta(0)).total_seconds() / 60)
    if not minutes:
        return "UTC"  # London's winter "GMT" as well: "UTC+0" says the same at more length
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'-' if minutes < 0 else '+'}{hours}" + (f":{rest:02d}" if rest else "")


def shown_time(moment: datetime, zone: str, lang: str = "") -> str:
    """Return local_time for readers: the day alone when the time is exactly local midnight."""
    # A page that prints only its date (odkb-csto.org) is dated midnight where it is published;
    # "00:00 MSK" would state a time nobody gave.
    if day_only(moment, zone):
        return f"{moment.astimezone(ZoneInfo(zone)):%d.%m.%Y}"
    return local_time(moment, zone, lang)


def day_only(moment: datetime, zone: str) -> bool:
    """Tell whether a publication time is a date alone: exactly midnight in the source's zone."""
    return moment.astimezone(ZoneInfo(zone)).time() == time(0)


def shorten(text: str, limit: int) -> str:
    """Return text within `limit` UTF-16 units, cut at a word boundary with an ellipsis."""
    return _fit(text, limit)


def shorten_summary(text: str, limit: int, lang: str = "") -> str:
    """Return a summary within `limit` UTF-16 units: its leading whole sentences when they fill
    at least half of it, else cut at a word with an ellipsis."""
    if utf16_len(text) <= limit:
        return text
    kept, used = [], 0
    for sentence in sentences(text, lang):
        used += utf16_len(sentence) + (1 if kept else 0)
        if used > limit:
            break
        kept.append(sentence)
    whole = " ".join(kept)
    # A reader would rather stop at a full stop than at "…"; but not at the cost of most of it.
    return whole if utf16_len(whole) * 2 >= limit else _fit(text, limit)


def shown_url(url: str, *, room: int) -> str:
    """Return the URL to show as text: itself if it fits in `room` units, else its short label."""
    return url if utf16_len(url) <= room else link_label(url)


def _join_head(parts: list[str]) -> list[str]:
    """Keep the title and its meta line together on consecutive lines."""
    return [parts[0] + "\n" + parts[1], *parts[2:]]


def _fit(text: str, limit: int) -> str:
    """Cut text to `limit` UTF-16 units at the last word boundary, adding an ellipsis."""
    if utf16_len(text) <= limit:
        return text
    if limit <= 1:
        return ""
    units, end = 0, 0
    for end, char in enumerate(text):  # noqa: B007 (end is read after the loop)
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit - 1:
            break
    cut = text[:end]
    space = cut.rfind(" ")
    if not text[end].isspace() and space > len(cut) // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


def link_label(url: str) -> str:
    """Return the short label a post or digest links to the article: host and the path's start,
    and the query when the path's last part has no digit (index.php?ID=7: the query names it)."""
    parts = urlsplit(without_trackers(url))
    # Readers read "кремль.рф/события", not "xn--h1alffa9f.xn--p1ai/%D1%81%D0%BE…".
    host = _unicode_host((parts.hostname or "").removeprefix("www."))
    path = _readable(parts.path.rstrip("/"))
    # A path ending in a number or a dated slug names the article already, and its query
    # (mid.ru's ?lang=ru) would be noise; "/news/show.php?id=7" and "?id=8" need theirs.
    if not parts.query or any(c.isdigit() for c in path.rpartition("/")[2]):
        return _cut(host + path, _MAX_LINK_LABEL)
    query = _cut("?" + _readable(parts.query), _MAX_LINK_LABEL // 2)
    return _cut(host + (path or "/"), _MAX_LINK_LABEL - len(query)) + query


def _cut(text: str, limit: int) -> str:
    """Return text within `limit` characters, its end replaced by "…" when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _unicode_host(host: str) -> str:
    """Return an internationalised host name in its own letters (punycode decoded), else as is."""
    try:
        return host.encode("ascii").decode("idna")
    except UnicodeError:
        return host


def _readable(path: str) -> str:
    """Return a URL path with its %-escapes decoded (kept as written when they are not UTF-8),
    without control and format characters (a decoded %E2%80%AE must not reverse the label)."""
    try:
        path = unquote(path, errors="strict")
    except UnicodeDecodeError:
        pass
    return "".join(c for c in path if unicodedata.category(c)[0] != "C")


def escape_html(text: str) -> str:
    """Escape scraped text for Telegram HTML (only &, < and > need it outside attributes)."""
    return html.escape(str(text), quote=False)
