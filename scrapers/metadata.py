"""Pure reading of page metadata: JSON-LD, OpenGraph, meta tags, <time> and the page title.

Everything here reads an lxml tree (the one the body extraction gets too, so a page is parsed
once); nothing changes it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html import unescape

from lxml.etree import XPath, _Element, iterwalk
from lxml.html import fragment_fromstring

from .normalize import clean_inline

# JSON-LD types that describe the page's text: schema.org's Article and its subtypes
# (NewsArticle, ReportageNewsArticle, TechArticle, ...), postings, and these.
# Markup that only HTML writes (a "<The Palace>" in a title is words): the common text tags.
_MARKUP = re.compile(r"</?(?:p|br|div|span|a|b|i|em|strong|u|ul|ol|li|h[1-6])(?:\s[^<>]*)?/?>")
_BREAK = re.compile(r"(?=<br\b|</(?:p|div|li|h[1-6])>)")
_ARTICLE_TYPES = {"reportage", "report", "webpage", "pressrelease"}
# Meta tags that carry the publication time, in order of trust.
_DATE_METAS = (
    "article:published_time",
    "og:article:published_time",
    "article:published",
    "article.published",
    "datePublished",
    "date",
    "pubdate",
    "publishdate",
    "publish-date",
    "pub_date",
    "published_at",
    "parsely-pub-date",
    "dc.date",
    "dc.date.issued",
    "dcterms.date",
    "dcterms.created",
    "sailthru.date",
)
# Page chrome where a <time> is the crawl date or another story's date, never the article's
# (the BelTA header, the CSTO sidebar of latest news).
_CHROME = ("nav", "aside", "footer")
_CHROME_CLASS = re.compile(
    r"(^|[\s_-])(sidebar|side-bar|aside|widget|related|latest|popular|footer|site-header|menu)",
    re.IGNORECASE,
)
_PAGE = {"html", "body"}
_INVISIBLE = {"script", "style", "noscript", "template"}
_VISIBLE = "not(parent::script or parent::style or parent::noscript or parent::template)"
_VISIBLE_STRINGS = XPath(f".//text()[{_VISIBLE}]", smart_strings=False)
# What a string opens with when it belongs to the words before it.
_FOLLOWS = {":", ",", ";", ".", "!", "?", ")"}
_STRINGS_WITH = XPath("//text()[contains(., $word)]")
_STRINGS_WITH_EITHER = XPath("//text()[contains(., $word) or contains(., $lower)]")
# What an XPath string may not hold (lxml refuses control characters, surrogates, U+FFFE/F).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Real JSON-LD nests an article in a list in a @graph at most; deeper lists are not read.
_LD_DEPTH = 8


@dataclass(frozen=True, slots=True)
class Metadata:
    """Everything the page says about itself, as raw strings in order of trust.

    `titles` are the headlines declared for machines (JSON-LD, OpenGraph, Twitter), not the
    page's own headings (see `headings`).
    """

    titles: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()  # JSON-LD's, each object's names joined by ", "
    meta_authors: tuple[str, ...] = ()  # <meta> author, article:author, dc.creator
    descriptions: tuple[str, ...] = ()
    canonical: str = ""
    lang: str = ""
    site_name: str = ""
    page_title: str = ""  # <title>


def read_metadata(tree: _Element) -> Metadata:
    """Collect title, date, author and description candidates from the page head and body."""
    root = tree.getroottree().getroot()
    # One walk over the page collects every tag read below.
    tags: dict[str, list[_Element]] = {
        "meta": [],
        "script": [],
        "link": [],
        "time": [],
        "title": [],
    }
    for el in root.iter(*tags):
        tags[el.tag].append(el)
    meta = _meta_index(tags["meta"])
    ld = json_ld_articles(tags["script"])
    titles = [_ld_text(i.get("headline")) for i in ld]
    titles += [meta("og:title"), meta("twitter:title")]
    dates = [_ld_text(i.get("datePublished")) for i in ld]
    dates += [meta(name) for name in _DATE_METAS]
    dates += _time_tags(tags["time"])
    authors = [_ld_author(i.get("author")) for i in ld]
    meta_authors = [meta("author"), meta("article:author"), meta("dc.creator")]
    descriptions = [_ld_text(i.get("description")) for i in ld]
    descriptions += [meta("og:description"), meta("description"), meta("twitter:description")]
    canonical = next(
        (
            str(link.get("href") or "")
            for link in tags["link"]
            if "canonical" in str(link.get("rel") or "").lower().split()
        ),
        "",
    )
    lang = str(root.get("lang") or "") if root.tag == "html" else ""
    return Metadata(
        titles=_present(titles),
        dates=_present(dates),
        authors=_present(a for a in authors if not a.startswith("http")),
        meta_authors=_present(a for a in meta_authors if not a.startswith("http")),
        descriptions=_present(descriptions),
        canonical=canonical or meta("og:url"),
        lang=lang or meta("og:locale"),
        site_name=meta("og:site_name"),
        page_title=clean_inline("".join(tags["title"][0].itertext())) if tags["title"] else "",
    )


def content_text(tree: _Element) -> str:
    """Return the page's visible text outside navigation, sidebars and footers, one block per line."""
    # <title> is not on the page: counting it would put the headline before a sidebar that
    # precedes the article (odkb-csto.org), where "from the headline on" starts too early.
    hidden = _INVISIBLE | {"title"}
    strings: list[str] = []
    articles = 0  # open <article> elements: a <header> inside one is the article's own
    walker = iterwalk(tree.getroottree().getroot(), events=("start", "end"))
    for event, el in walker:
        if not isinstance(el.tag, str):  # a comment or processing instruction
            if event == "end" and el.tail:
                strings.append(el.tail)
        elif event == "start":
            articles += el.tag == "article"
            if el.tag in _CHROME or (el.tag == "header" and not articles) or _chrome_class(el):
                walker.skip_subtree()  # its tail is still read, at its end
            elif el.text and el.tag not in hidden:
                strings.append(el.text)
        else:
            articles -= el.tag == "article"
            if el.tail and (parent := el.getparent()) is not None and parent.tag not in hidden:
                strings.append(el.tail)
    return "\n".join(clean_inline(s) for s in strings if s.strip())


def shown_in_chrome(tree: _Element, text: str) -> bool:
    """Tell whether `text` is shown in the site's header, navigation, a sidebar or the footer.

    Only the chrome around the page's strings with the text's longest word (as written, or in
    lower case) is read: finding all the page's chrome costs more than extracting the article.
    """
    folded = _fold(text)
    if not folded:
        return False
    word = max(xml_safe(clean_inline(text)).split(), key=len)
    seen: set[_Element] = set()
    found = (
        _STRINGS_WITH(tree, word=word)
        if word == word.lower()
        else _STRINGS_WITH_EITHER(tree, word=word, lower=word.lower())
    )
    for string in found:
        parent = string.getparent()
        if string.is_tail:
            parent = parent.getparent()
        root = None if parent is None or parent.tag in _INVISIBLE else _outermost_chrome(parent)
        if root is None or root in seen:
            continue
        seen.add(root)
        if folded in _fold("\n".join(clean_inline(s) for s in _VISIBLE_STRINGS(root))):
            return True
    return False


def headings(tree: _Element) -> list[_Element]:
    """Return the page's <h1> elements, then its <h2> elements, each in page order."""
    found = list(tree.getroottree().getroot().iter("h1", "h2"))
    return [h for h in found if h.tag == "h1"] + [h for h in found if h.tag == "h2"]


def xml_safe(text: str) -> str:
    """Return text without the characters an XPath variable may not hold."""
    return _NOT_XML.sub("", text)


def text_of(el: _Element) -> str:
    """Return an element's visible text on one line, its strings separated by spaces.

    Spans laid out as blocks ("<span>Kicker</span><span>Headline</span>") need the space; a
    string that opens with a colon or comma follows the one before it, as a hidden separator for
    screen readers does ("<span>Kicker</span><span hidden>: </span>…" is "Kicker: …").
    """
    parts: list[str] = []
    for string in _VISIBLE_STRINGS(el):
        if string[:1] in _FOLLOWS:
            while parts and not parts[-1].strip():
                parts.pop()
            if parts:
                parts[-1] = parts[-1].rstrip()
        else:
            parts.append(" ")
        parts.append(string)
    return clean_inline("".join(parts))


def _modified(time_tag: _Element) -> bool:
    """Tell whether a <time> is marked as the update time only (WordPress's "entry-updated")."""
    marks = f"{time_tag.get('class') or ''} {time_tag.get('itemprop') or ''}".lower()
    return ("updated" in marks or "modified" in marks) and "publish" not in marks


def in_chrome(el: _Element) -> bool:
    """Return True when an element sits in the site's header, navigation, a sidebar or the footer."""
    return any(_is_chrome(node) for node in (el, *el.iterancestors()))


def _is_chrome(el: _Element) -> bool:
    """Tell whether an element is itself the site's header, navigation, a sidebar or the footer."""
    # A <header> inside <article> is the article's own; elsewhere it is the site's.
    if el.tag == "header":
        return next(el.iterancestors("article"), None) is None or _chrome_class(el)
    return el.tag in _CHROME or _chrome_class(el)


def _outermost_chrome(el: _Element) -> _Element | None:
    """Return the outermost element of page chrome that holds `el`, or None."""
    chrome = [node for node in (el, *el.iterancestors()) if _is_chrome(node)]
    return chrome[-1] if chrome else None


def _chrome_class(el: _Element) -> bool:
    """Tell whether an element's class or id names page chrome.

    Never the page itself: the classes of <html> and <body> tell the state of the whole page
    ("header-menu-nav--closed"), and counting them put every string of it in chrome.
    """
    if el.tag in _PAGE:
        return False
    return bool(_CHROME_CLASS.search(f"{el.get('class') or ''} {el.get('id') or ''}"))


def _fold(text: str) -> str:
    """Return text casefolded, NFC-normalised, with whitespace collapsed."""
    return " ".join(clean_inline(text).casefold().split())


def _present(values) -> tuple[str, ...]:
    """Return the non-empty values once each, in order."""
    return tuple(dict.fromkeys(v for v in values if v))


def _meta_index(metas: list[_Element]):
    """Return a lookup of <meta property|name|itemprop> contents, built in one pass over them.

    Searching the tree once per key made metadata cost more than the body extraction.
    """
    found: dict[tuple[str, str], str] = {}
    for tag in metas:
        content = tag.get("content")
        if not content or not content.strip():
            continue
        for attr in ("property", "name", "itemprop"):
            key = str(tag.get(attr) or "").strip().lower()
            if key:
                found.setdefault((attr, key), content)

    def meta(name: str) -> str:
        """Return the first non-empty content for `name`, by property, then name, then itemprop."""
        for attr in ("property", "name", "itemprop"):
            if (attr, name.lower()) in found:
                # Cleaned once asked for: most of a page's meta tags are never read here.
                return clean_inline(found[(attr, name.lower())])
        return ""

    return meta


def json_ld_articles(scripts: list[_Element]) -> list[dict]:
    """Return the JSON-LD objects that describe an article, best first."""
    found: list[dict] = []
    for script in scripts:
        if "ld+json" not in str(script.get("type") or "").lower():
            continue
        try:
            data = json.loads(script.text or "")
        except (ValueError, TypeError, RecursionError):
            # Broken JSON-LD is common (and JSON nested 1,000 deep exhausts the decoder's
            # stack); the other metadata still counts.
            continue
        found.extend(_walk_ld(data))
    return sorted(found, key=lambda item: "article" not in str(item.get("@type", "")).lower())


def _walk_ld(data, depth: int = 0) -> list[dict]:
    """Flatten lists and @graph containers, keeping objects of an article-like @type."""
    if depth > _LD_DEPTH:
        return []
    if isinstance(data, list):
        return [item for element in data for item in _walk_ld(element, depth + 1)]
    if not isinstance(data, dict):
        return []
    if "@graph" in data:
        return _walk_ld(data["@graph"], depth + 1)
    types = data.get("@type", "")
    types = [str(t).lower() for t in (types if isinstance(types, list) else [types])]
    return (
        [data]
        if any(t.endswith(("article", "posting")) or t in _ARTICLE_TYPES for t in types)
        else []
    )


def _ld_text(value) -> str:
    """Return a JSON-LD value as one clean line of text."""
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or ""
    # Many sites put HTML-escaped text in JSON-LD ("&#8216;", "&amp;").
    text = unescape(str(value or ""))
    # Some put HTML itself, escaped once more (9news.com.au's description: "<p>Here&#x27;s a
    # look…</p>" once decoded): its text is the value, the markup no reader's business.
    if _MARKUP.search(text):
        spaced = _BREAK.sub(" ", text)  # "one<br>two" reads "one two", not "onetwo"
        text = fragment_fromstring(spaced, create_parent="div").text_content()
    return clean_inline(text)


def _ld_author(value) -> str:
    """Return the names of JSON-LD authors joined by commas."""
    items = value if isinstance(value, list) else [value]
    return ", ".join(n for n in (_ld_text(i) for i in items) if n)


def _time_tags(times: list[_Element]) -> list[str]:
    """Return datetime attributes of <time> tags outside page chrome, article ones first."""
    inside, outside = [], []
    for tag in times:
        stamp = str(tag.get("datetime") or "")
        if not stamp or _modified(tag) or in_chrome(tag):
            continue
        (inside if next(tag.iterancestors("article"), None) is not None else outside).append(stamp)
    return inside + outside
