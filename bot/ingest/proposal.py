"""Pure inference for `presswatch add` beyond the links: what a page or feed says about its site,
a key and a time zone for the new source, and its [[sources]] TOML block."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from ipaddress import ip_address
from urllib.parse import urljoin, urlsplit

import feedparser
from bs4 import BeautifulSoup

from scrapers.feedscan import feed_head
from scrapers.language import detect_language
from scrapers.normalize import clean_inline

_FEED_TYPES = {"application/rss+xml", "application/atom+xml"}
# Top-level domains whose sites print local times in one zone (Moscow and Minsk are UTC+3 all
# year), then the zone a language most often implies; both only a first guess.
_ZONE_BY_TLD = {
    "ru": "Europe/Moscow",
    "su": "Europe/Moscow",
    "by": "Europe/Minsk",
    "kz": "Asia/Almaty",
    "kg": "Asia/Bishkek",
    "tj": "Asia/Dushanbe",
    "am": "Asia/Yerevan",
    "uz": "Asia/Tashkent",
    "az": "Asia/Baku",
    "ge": "Asia/Tbilisi",
    "ua": "Europe/Kyiv",
    "md": "Europe/Chisinau",
}
_ZONE_BY_LANG = {
    "ru": "Europe/Moscow",
    "be": "Europe/Minsk",
    "kk": "Asia/Almaty",
    "hy": "Asia/Yerevan",
    "uk": "Europe/Kyiv",
}
_SECOND_LEVEL = {"co", "com", "org", "net", "gov", "ac", "edu"}
_TITLE_KEY_CHARS = 30  # a key stays short enough to type in /pause and `check-source`
# Russian and Belarusian letters spelt in Latin (BGN/PCGN-like, plain ASCII) for keys.
_LATIN = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіў",
        "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch  y  e yu ya i u".split(" "),
    )
)


@dataclass(frozen=True, slots=True)
class PageFacts:
    """What a page or feed says about its site."""

    name: str = ""
    lang: str = ""
    feeds: tuple[str, ...] = ()  # advertised feed URLs, the likeliest first


def is_feed(content: bytes) -> bool:
    """Return True when a body is an RSS or Atom document rather than a web page."""
    head = feed_head(content)
    if not head.startswith(b"<") or b"<html" in head or b"<!doctype html" in head:
        return False
    return any(tag in head for tag in (b"<rss", b"<feed", b"<rdf:rdf"))


def page_facts(html: str, *, base_url: str) -> PageFacts:
    """Return a page's site name (og:site_name, else <title>), language and advertised feeds."""
    soup = BeautifulSoup(html, "lxml")
    site = soup.find("meta", attrs={"property": "og:site_name"})
    title = soup.title.get_text(" ") if soup.title else ""
    name = clean_inline(str(site.get("content") or "") if site else "") or _site_title(title)
    root = soup.find("html")
    declared = str(root.get("lang") or "") if root else ""
    lang = detect_language(soup.get_text(" "), declared=declared) or _short_lang(declared)
    feeds = []
    for tag in soup.find_all("link", href=True):
        rel = {r.lower() for r in (tag.get("rel") or [])}
        kind = str(tag.get("type") or "").split(";")[0].strip().lower()
        if "alternate" in rel and kind in _FEED_TYPES:
            label = str(tag.get("title") or "").lower()
            # WordPress and others also advertise comment feeds; the news feed goes first.
            url = urljoin(base_url, str(tag["href"]).strip())
            feeds.append((("comment" in label, len(feeds)), url))
    ordered = (url for _, url in sorted(feeds))
    return PageFacts(name=name, lang=lang, feeds=tuple(dict.fromkeys(ordered)))


def feed_facts(content: bytes) -> PageFacts:
    """Return a feed's title and declared language."""
    feed = feedparser.parse(content, sanitize_html=False, resolve_relative_uris=False).get(
        "feed", {}
    )
    return PageFacts(
        name=clean_inline(str(feed.get("title", ""))),
        lang=_short_lang(str(feed.get("language", ""))),
    )


def source_key(url: str, *, taken: tuple[str, ...] = ()) -> str:
    """Return a key made from the host: en.interaffairs.ru → interaffairs-en, tass.com → tass-com."""
    parts = urlsplit(url)
    host = (parts.hostname or "site").lower().removeprefix("www.")
    labels = host.split(".")
    if _is_ip(host) or len(labels) < 2:
        key = "-".join([*labels, *([str(parts.port)] if parts.port else [])])
    else:
        cut = 3 if len(labels) > 2 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2
        name, rest = labels[-cut], labels[:-cut]
        key = f"{name}-{rest[0] if rest else labels[-1]}"
    key = re.sub(r"[^a-z0-9_-]+", "-", key).strip("-_")[:60] or "site"
    candidate, n = key, 1
    while candidate in taken:
        n += 1
        candidate = f"{key}-{n}"
    return candidate


def title_key(title: str, url: str, *, taken: tuple[str, ...] = ()) -> str:
    """Return a key made from a feed's or site's title ("TASS" → tass, "Belarusian Telegraph
    Agency" → belarusian-telegraph-agency), Cyrillic transliterated; from the host without one."""
    words = re.findall(r"[a-z0-9]+", "".join(_LATIN.get(c, c) for c in title.lower()))
    key = ""
    for word in words:
        if len(key) + len(word) + 1 > _TITLE_KEY_CHARS and key:
            break
        key = f"{key}-{word}" if key else word
    if not key:
        return source_key(url, taken=taken)
    candidate, n = key, 1
    while candidate in taken:
        n += 1
        candidate = f"{key}-{n}"
    return candidate


def guess_timezone(url: str, *, lang: str) -> tuple[str, str]:
    """Return an IANA zone guessed from the domain or the language, and why."""
    host = (urlsplit(url).hostname or "").lower()
    tld = host.rsplit(".", 1)[-1]
    if not _is_ip(host) and tld in _ZONE_BY_TLD:
        return _ZONE_BY_TLD[tld], f"a guess from the .{tld} domain"
    if lang in _ZONE_BY_LANG:
        return _ZONE_BY_LANG[lang], f"a guess from the language ({lang})"
    return "UTC", "no clue on the page: set the zone the site prints its times in"


def toml_block(fields: list[tuple[str, object, str]]) -> str:
    """Return a [[sources]] TOML block from (key, value, comment) rows; None values are skipped."""
    lines = ["[[sources]]"]
    for key, value, comment in fields:
        if value is None:
            continue
        line = f"{key} = {_toml_value(value)}"
        lines.append(f"{line:<40} # {comment}" if comment else line)
    return "\n".join(lines) + "\n"


def _site_title(title: str) -> str:
    """Return the site's part of a <title> such as 'Latest news | TASS' (the last part)."""
    parts = [p.strip() for p in re.split(r"\s+[|–—·-]\s+", clean_inline(title)) if p.strip()]
    return parts[-1] if parts else ""


def _short_lang(code: str) -> str:
    """Return the primary subtag of a language code: 'en-US' → 'en'."""
    return code.replace("_", "-").split("-")[0].strip().lower()


def _is_ip(host: str) -> bool:
    """Return True for an IP address literal."""
    try:
        ip_address(host)
    except ValueError:
        return False
    return True


def _toml_value(value: object) -> str:
    """Return a TOML literal: strings single-quoted when possible (regexes read as written)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if re.search(r"[\x00-\x1f\x7f]", text) or ("'" in text and re.search(r'["\\]', text)):
        return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    return f'"{text}"' if not re.search(r'["\\]', text) else f"'{text}'"
