"""Pure reading of page metadata: JSON-LD, OpenGraph, meta tags, <time> and the page title."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from bs4 import BeautifulSoup, Tag

from .normalize import clean_inline

_ARTICLE_TYPES = {
    "article", "newsarticle", "reportage", "blogposting", "report", "webpage", "pressrelease",
    "analysisnewsarticle", "opinionnewsarticle", "backgroundnewsarticle",
}
# Page chrome where a <time> is the crawl date or another story's date, never the article's
# (the BelTA header, the CSTO sidebar of latest news).
_CHROME = ("nav", "aside", "footer")
_CHROME_CLASS = re.compile(
    r"(^|[\s_-])(sidebar|side-bar|aside|widget|related|latest|popular|footer|site-header|menu)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Metadata:
    """Everything the page says about itself, as raw strings in order of trust."""

    titles: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    descriptions: tuple[str, ...] = ()
    canonical: str = ""
    lang: str = ""
    site_name: str = ""


def read_metadata(soup: BeautifulSoup) -> Metadata:
    """Collect title, date, author and description candidates from the page head and body."""
    meta = _meta_index(soup)
    ld = _json_ld_articles(soup)
    titles = [_ld_text(i.get("headline")) for i in ld]
    titles += [meta("og:title"), meta("twitter:title")]
    h1 = soup.find("h1")
    titles.append(clean_inline(h1.get_text(" ")) if h1 else "")
    dates = [_ld_text(i.get("datePublished")) for i in ld]
    dates += [meta(n) for n in (
        "article:published_time", "og:article:published_time", "datePublished",
        "date", "pubdate", "publishdate", "dc.date", "dc.date.issued", "sailthru.date")]
    dates += _time_tags(soup)
    authors = [_ld_author(i.get("author")) for i in ld]
    authors += [meta("author"), meta("article:author"), meta("dc.creator")]
    descriptions = [_ld_text(i.get("description")) for i in ld]
    descriptions += [meta("og:description"), meta("description"),
                     meta("twitter:description")]
    link = soup.find("link", rel="canonical")
    canonical = str(link.get("href") or "") if isinstance(link, Tag) else ""
    html_tag = soup.find("html")
    lang = str(html_tag.get("lang") or "") if isinstance(html_tag, Tag) else ""
    return Metadata(
        titles=_present(titles),
        dates=_present(dates),
        authors=_present(a for a in authors if not a.startswith("http")),
        descriptions=_present(descriptions),
        canonical=canonical or meta("og:url"),
        lang=lang or meta("og:locale"),
        site_name=meta("og:site_name"),
    )


def content_text(soup: BeautifulSoup) -> str:
    """Return the page's visible text outside navigation, sidebars and footers, one block per line."""
    # <title> is not on the page: counting it would put the headline before a sidebar that
    # precedes the article (odkb-csto.org), where "from the headline on" starts too early.
    strings = [
        str(s) for s in soup.find_all(string=True)
        if s.parent is not None
        and s.parent.name not in ("script", "style", "noscript", "template", "title")
        and not in_chrome(s.parent) and str(s).strip()
    ]
    return "\n".join(clean_inline(s) for s in strings)


def chrome_text(soup: BeautifulSoup) -> str:
    """Return the text of the site's header, navigation, sidebars and footer."""
    return "\n".join(
        clean_inline(str(s)) for s in soup.find_all(string=True)
        if s.parent is not None and s.parent.name not in ("script", "style", "noscript")
        and str(s).strip() and in_chrome(s.parent)
    )


def page_title(soup: BeautifulSoup) -> str:
    """Return the text of <title>, whitespace collapsed."""
    return clean_inline(soup.title.get_text()) if soup.title else ""


def _present(values) -> tuple[str, ...]:
    """Return the non-empty values once each, in order."""
    return tuple(dict.fromkeys(v for v in values if v))


def _meta_index(soup: BeautifulSoup):
    """Return a lookup of <meta property|name|itemprop> contents, built in one pass over the page.

    Searching the tree once per key made metadata cost more than the body extraction.
    """
    found: dict[tuple[str, str], str] = {}
    for tag in soup.find_all("meta", content=True):
        for attr in ("property", "name", "itemprop"):
            key = str(tag.get(attr) or "").strip().lower()
            if key and str(tag["content"]).strip():
                found.setdefault((attr, key), clean_inline(str(tag["content"])))

    def meta(name: str) -> str:
        """Return the first non-empty content for `name`, by property, then name, then itemprop."""
        for attr in ("property", "name", "itemprop"):
            if (attr, name.lower()) in found:
                return found[(attr, name.lower())]
        return ""

    return meta


def _json_ld_articles(soup: BeautifulSoup) -> list[dict]:
    """Return the JSON-LD objects that describe an article, best first."""
    found: list[dict] = []
    for script in soup.find_all("script", type=re.compile("ld\\+json", re.IGNORECASE)):
        try:
            data = json.loads(script.string or "")
        except (json.JSONDecodeError, TypeError):
            continue  # Broken JSON-LD is common; the other metadata still counts.
        found.extend(_walk_ld(data))
    return sorted(found, key=lambda item: "article" not in str(item.get("@type", "")).lower())


def _walk_ld(data) -> list[dict]:
    """Flatten lists and @graph containers, keeping objects of an article-like @type."""
    if isinstance(data, list):
        return [item for element in data for item in _walk_ld(element)]
    if not isinstance(data, dict):
        return []
    if "@graph" in data:
        return _walk_ld(data["@graph"])
    types = data.get("@type", "")
    types = types if isinstance(types, list) else [types]
    return [data] if any(str(t).lower() in _ARTICLE_TYPES for t in types) else []


def _ld_text(value) -> str:
    """Return a JSON-LD value as one clean line of text."""
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or ""
    return clean_inline(str(value or ""))


def _ld_author(value) -> str:
    """Return the names of JSON-LD authors joined by commas."""
    items = value if isinstance(value, list) else [value]
    return ", ".join(n for n in (_ld_text(i) for i in items) if n)


def _time_tags(soup: BeautifulSoup) -> list[str]:
    """Return datetime attributes of <time> tags outside page chrome, article ones first."""
    inside, outside = [], []
    for tag in soup.find_all("time"):
        stamp = str(tag.get("datetime") or "")
        if not stamp or in_chrome(tag):
            continue
        (inside if tag.find_parent("article") else outside).append(stamp)
    return inside + outside


def in_chrome(tag: Tag) -> bool:
    """Return True when a tag sits in the site's header, navigation, a sidebar or the footer."""
    for parent in (tag, *tag.parents):
        if parent.name in _CHROME:
            return True
        # A <header> inside <article> is the article's own; elsewhere it is the site's.
        if parent.name == "header" and not parent.find_parent("article"):
            return True
        classes = " ".join(parent.get("class") or []) + " " + str(parent.get("id") or "")
        if _CHROME_CLASS.search(classes):
            return True
    return False
