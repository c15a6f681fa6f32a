"""A fast first look at a feed: each item's link, and the feed without the items already known.

feedparser is thorough and lenient but slow (8-16 ms for a 50-item full-text feed), and most
polls of a changed feed bring one new item among fifty known ones. lxml reads the item links
in well under a millisecond, so the known items can be cut out before feedparser runs.

`listed_links` scans the raw bytes for the links to look up; `prune_feed` then reads the items
with lxml. An item's link is read only when it is unambiguous (one plain ``<link>`` in RSS, one
``rel="alternate"`` link in Atom, absolute http(s)); any other item is always kept, so a
doubt costs speed, never an article. A document lxml cannot read gives None and the caller
parses the whole feed as before.
"""

from __future__ import annotations

import codecs
import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

_ATOM = "{http://www.w3.org/2005/Atom}"
_RSS_NAMESPACES = ("", "{http://purl.org/rss/1.0/}", "{http://my.netscape.com/rdf/simple/0.9/}")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_ITEM_TAGS = {f"{ns}item" for ns in _RSS_NAMESPACES} | {f"{_ATOM}entry"}
# No entities fetched or expanded, no network: a feed is untrusted input.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


# UTF-32 first: its little-endian mark starts like UTF-16's.
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# <link>URL</link> (RSS, maybe in CDATA) or <link … href="URL"> (Atom, any prefix). Possessive
# and bounded: a lazy [^>]*? from every "<link" of a feed that never closes one read the rest of
# the document from each, quadratic in its size.
_LINKS = re.compile(
    rb"<link>\s*+(?:<!\[CDATA\[\s*+)?+(https?://[^<\s\]]++)"
    rb"|<(?:[\w.-]{1,64}+:)?+link\b[^<>]{0,2048}?\bhref\s*+=\s*+[\"'](https?://[^\"'<>]++)[\"']"
)
_ENTITY_LIKE = re.compile(r"&[A-Za-z0-9_]+;")
# The declaration at the start only: searched in the whole text, every "<?xml" read to its end.
_DECLARED_ENCODING = re.compile(
    r"""^(\s{0,64}+<\?xml[^<>]{0,512}?)\s+encoding\s*+=\s*+["'][^"'<>]{0,64}+["']"""
)


@dataclass(frozen=True, slots=True)
class PrunedFeed:
    """A feed re-serialised without some items, and what stood where in the original."""

    document: bytes
    # One entry per original item, in order: its URL when it was cut out, None when kept.
    order: tuple[str | None, ...]

    @property
    def kept(self) -> int:
        """Count the items left in the document."""
        return sum(url is None for url in self.order)


def feed_head(content: bytes, size: int = 1024) -> bytes:
    """Return the lower-cased start of a document past any byte-order mark and leading blanks."""
    return as_utf8(content[: 4 * size]).removeprefix(codecs.BOM_UTF8).lstrip()[:size].lower()


def as_utf8(content: bytes) -> bytes:
    """Re-encode a UTF-16 or UTF-32 document (known by its byte-order mark) as UTF-8.

    feedparser reads such a feed only when its prolog names the encoding; as UTF-8, with the
    declaration dropped, it reads it either way. Other documents are returned unchanged.
    """
    for bom, codec in _WIDE_BOMS:
        if content.startswith(bom):
            text = content.decode(codec, errors="replace")
            return _DECLARED_ENCODING.sub(r"\1", text, count=1).encode("utf-8")
    return content


def listed_links(content: bytes) -> tuple[str, ...]:
    """Return the http(s) links a feed lists, by a quick scan (microseconds, no parsing).

    Only for asking the archive which items it knows: `prune_feed` reads each item properly
    and cuts an item only when its own link is among those the caller names.
    """
    found = (match.group(1) or match.group(2) for match in _LINKS.finditer(content))
    return tuple(dict.fromkeys(html.unescape(raw.decode("utf-8", "replace")) for raw in found))


def prune_feed(content: bytes, drop: Callable[[str], bool]) -> PrunedFeed | None:
    """Return the feed without the items whose link `drop` accepts, or None if unreadable."""
    root = _root(content)
    if root is None:
        return None
    order = []
    for item in _items(root):
        url = _item_url(item)
        if url is not None and drop(url):
            item.getparent().remove(item)
            order.append(url)
        else:
            order.append(None)
    document = etree.tostring(root.getroottree(), encoding="utf-8", xml_declaration=True)
    return PrunedFeed(document, tuple(order))


def _root(content: bytes) -> etree._Element | None:
    """Parse a feed strictly, or give None for one to be left whole to feedparser."""
    if b"xml:base" in content:
        return None  # feedparser resolves links against it; lxml's reading would differ
    try:
        root = etree.fromstring(content, _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None
    # A DOCTYPE may define entities (RSS 0.91's &laquo;): lxml would write the kept items back
    # otherwise than feedparser reads the original.
    return None if root.getroottree().docinfo.doctype else root


def _items(root: etree._Element) -> list[etree._Element]:
    """Return the RSS items or Atom entries in document order."""
    return list(root.iter(*_ITEM_TAGS))


def _item_url(item: etree._Element) -> str | None:
    """Return the link feedparser would give this item, when it can be told for sure."""
    if _is_tangled(item):
        return None
    if item.tag == f"{_ATOM}entry":
        # feedparser's entry link is the alternate link of an HTML type (it lower-cases both).
        links = [
            link
            for link in item.iterchildren(f"{_ATOM}link")
            if link.get("rel", "alternate").lower() == "alternate"
            and link.get("type", "text/html").lower() in _HTML_TYPES
        ]
        texts = [link.get("href", "") for link in links]
    else:
        links = list(item.iterchildren(item.tag[: -len("item")] + "link"))
        if any("href" in link.attrib or len(link) for link in links):
            return None  # an href, or a comment or entity inside the text: let feedparser decide
        texts = [link.text or "" for link in links]
    if len(texts) != 1 or not texts[0].isascii() or _ENTITY_LIKE.search(texts[0]):
        # feedparser rewrites "&name;" in link text and repairs non-ASCII mojibake; its reading
        # of such a link could differ.
        return None
    url = texts[0].strip()
    return url if url.startswith(("http://", "https://")) else None


def _is_tangled(item: etree._Element) -> bool:
    """Tell whether an item holds or sits in another item, or holds a link element of another
    namespace."""
    if any(True for _ in item.iterancestors(*_ITEM_TAGS)):
        return True  # feedparser gives the outer item's later fields to the inner entry
    own = f"{_ATOM}link" if item.tag == f"{_ATOM}entry" else item.tag[: -len("item")] + "link"
    for element in item.iterdescendants():
        tag = element.tag
        if not isinstance(tag, str):
            continue  # comments and processing instructions
        if tag in _ITEM_TAGS:
            return True
        # feedparser takes link elements of other namespaces (a differently spelled Atom URI,
        # Atom 0.3) as the item's link too.
        if tag != own and etree.QName(tag).localname.lower() == "link":
            return True
    return False
