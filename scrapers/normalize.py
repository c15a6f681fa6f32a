"""Pure normalisation of URLs and article text."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from . import userregex
from .userregex import IGNORECASE

# Query parameters that never change what a page says: analytics trackers, plus
# 1C-Bitrix's AJAX marker (odkb-csto.org) and the desktop switch of interaffairs.ru. They are
# left out of a URL's identity (canonical_url, url_key); the archive stores each article's key
# as computed then, so this list stays as it is: a name added here would give an archived URL
# a new key, and its next sighting would read as a new article.
_TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|yclid|dclid|msclkid|mc_cid|mc_eid|_ga|_openstat|from|ref|"
    r"rss|bxajaxid|show_desktop_mode)$",
    re.IGNORECASE,
)
# More trackers, left out only of the links readers are shown (identity keeps them, see above):
# campaign tags of CBC's feeds ("?cmp=rss"), Metro's internal links ("?ico=…"), AT Internet's
# (at_medium, at_campaign), Comscore's (ns_mchannel, ns_source, …), Webtrends', Adobe's,
# HubSpot's, Instagram's, Marketo's and Microsoft Start's; none selects what a page says.
_SHOWN_TRACKERS = re.compile(
    r"^(cmp|cmpid|ico|icid|at_(?:medium|campaign|source|term|content|custom\d{1,2})"
    r"|ns_(?:mchannel|source|campaign|linkname|fee)|wt\.mc_id|wt_mc|s_cid|_hsenc|_hsmi"
    r"|igshid|mkt_tok|ocid|smid)$",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# A poll looks up each of a feed's ~50 links several times (discovery, archive look-ups,
# re-reads); a bounded cache makes the repeats free and stays far below a megabyte.
_URL_CACHE = 4096
_SURROGATE = re.compile("[\ud800-\udfff]")


@lru_cache(maxsize=_URL_CACHE)
def canonical_url(url: str, *, rewrites: tuple[tuple[str, str], ...] = ()) -> str:
    """Return the URL with a lower-case host, no fragment, no trackers and sorted query."""
    for pattern, replacement in rewrites:
        url = userregex.sub("url_rewrites", pattern, replacement, url)
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address keeps its brackets, or the URL reads as a port
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not _TRACKING_PARAMS.match(k)
    )
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), ""))


def without_trackers(url: str) -> str:
    """Return the URL as written, less its tracking parameters: the link shown to readers."""
    parts = urlsplit(url)
    pairs = parts.query.split("&") if parts.query else []
    # The other parameters stay byte for byte: re-encoding them could change what a site serves.
    kept = [p for p in pairs if not _is_tracker(unquote_plus(p.partition("=")[0]))]
    if len(kept) == len(pairs):
        return url
    return urlunsplit(parts._replace(query="&".join(kept)))


def _is_tracker(name: str) -> bool:
    """Tell whether a query parameter's name is a tracker's, one a reader's link goes without."""
    return bool(_TRACKING_PARAMS.match(name) or _SHOWN_TRACKERS.match(name))


def canonical_or_none(url: str, *, rewrites: tuple[tuple[str, str], ...] = ()) -> str | None:
    """Return canonical_url(url), or None for a URL that cannot be parsed (a bad port or host)."""
    try:
        return canonical_url(url, rewrites=rewrites)
    except ValueError:
        return None


@lru_cache(maxsize=_URL_CACHE)
def url_key(url: str) -> str:
    """Return the identity of a URL: canonical, with http/https, www. and a final slash unified."""
    parts = urlsplit(canonical_url(url))
    host = parts.netloc.removeprefix("www.")
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("", host, path, parts.query, "")).removeprefix("//")


def scrub(text: str) -> str:
    """Return text with lone surrogates (from "\\ud800" in JSON or "&#xD800;") as U+FFFD.

    Python strings may hold them; UTF-8 cannot, so the archive and Telegram would refuse the text.
    """
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def clean_text(text: str) -> str:
    """Return NFC text with spaces collapsed inside lines and at most one blank line between paragraphs."""
    text = unicodedata.normalize("NFC", scrub(text)).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\u200b", "")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines + [""]:
        if line:
            current.append(line)
        elif current:
            paragraphs.append("\n".join(current))
            current = []
    return "\n\n".join(paragraphs)


def clean_inline(text: str) -> str:
    """Return text on one line with whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", scrub(text)).replace("\u00a0", " ").split())


def strip_lines(text: str, *, trailers: tuple[str, ...] = (), drop: tuple[str, ...] = ()) -> str:
    """Remove trailer lines from the end and lines matching any `drop` pattern anywhere."""
    lines = [
        line
        for line in text.split("\n")
        if not any(userregex.fullmatch("drop_lines", p, line.strip(), IGNORECASE) for p in drop)
    ]
    folded_trailers = tuple(t.casefold().strip() for t in trailers if t.strip())
    while lines and (
        not lines[-1].strip()
        or any(lines[-1].strip().casefold().startswith(t) for t in folded_trailers)
    ):
        lines.pop()
    return clean_text("\n".join(lines))


def normalize_author(raw: str) -> str:
    """Return the person's name from a byline such as 'Yuri Menshikov , editor'."""
    raw = clean_inline(raw).strip(" •|-–—/")
    raw = re.sub(r"^(by|автор:?)\s+", "", raw, flags=re.IGNORECASE)
    name, _, role = (part.strip() for part in raw.partition(","))
    # A role after the comma is lower-case words ("editor", "корреспондент"); keep the name only.
    if role and role == role.lower():
        return name
    return raw if not role else f"{name}, {role}"


def same_text(a: str, b: str) -> bool:
    """Return True when two strings are equal after case and whitespace folding."""
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())
