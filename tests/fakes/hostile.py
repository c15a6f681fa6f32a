"""Hostile documents, as an attacker or a broken site would serve them: crafted and mutated.

`crafted_pages` and `crafted_feeds` build the constructs that once stalled or crashed parsing
(issue 16) at any size; `issue_pages` and `issue_feeds` are the cases the issue names, at its
sizes; `Mutator` turns real pages and feeds into seeded variants. Nothing here knows presswatch.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable

HEAD = '<html lang="en"><head><meta charset="utf-8"><title>Statement by the Ministry</title>'
STORY = (
    "<h1>Statement by the Ministry</h1><p class=byline>By Jane Doe, 12.05.2026 10:00</p>"
    + "<p>The ministry said on Monday that the talks would continue next week in Geneva, with "
    "delegations of all member states expected to attend the consultations.</p>" * 3
)
PAGE = HEAD + "</head><body><article>" + STORY + "</article></body></html>"


def _page(head: str = "", body: str = "", before: str = "") -> bytes:
    """Return a small real-looking article page with extra markup in its head and body."""
    return (before + HEAD + head + "</head><body><article>" + STORY + body).encode() + (
        b"</article></body></html>"
    )


def _rss(items: str, *, declaration: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    """Return an RSS 2.0 feed around some items."""
    return (
        f'{declaration}<rss version="2.0"><channel><title>Ministry</title>'
        f"<link>https://ministry.example/</link>{items}</channel></rss>"
    ).encode()


def _item(n: int, *, link: str = "", date: str = "Mon, 11 May 2026 10:00:00 +0300", title=""):
    """Return one RSS item (its link on ministry.example unless given)."""
    link = link or f"https://ministry.example/news/{n}"
    return (
        f"<item><title>{title or f'Release {n} on the talks'}</title><link>{link}</link>"
        f"<pubDate>{date}</pubDate><description>The talks continue.</description></item>"
    )


def _attributes(n: int) -> str:
    """Return n distinct attributes."""
    return " ".join(f'data-a{i}="v"' for i in range(n))


# Each builds a page whose size grows with n, around one construct that a parser or a pattern
# may treat in time more than linear in n.
crafted_pages: dict[str, Callable[[int], bytes]] = {
    "empty-comments": lambda n: _page(before="<!---->" * n),
    "ie-conditional-comments": lambda n: _page(
        before='<!--[if lt IE 9]><script src="/html5shiv.js"></script><![endif]-->\n' * n
    ),
    "unclosed-comment": lambda n: _page(before="<!--" + "-" * n),
    "attributes": lambda n: _page(body=f"<div {_attributes(n)}>x</div>"),
    "attributes-unclosed": lambda n: _page(body=f"<div {_attributes(n)}<p>x</p>"),
    "paragraphs": lambda n: _page(body="<p>" * n),
    "nested-divs": lambda n: _page(body="<div>" * n + "text" + "</div>" * n),
    "json-ld-nesting": lambda n: _page(
        head='<script type="application/ld+json">' + "[" * n + "]" * n + "</script>"
    ),
    "json-ld-objects": lambda n: _page(
        head='<script type="application/ld+json">'
        + json.dumps([{"@type": "NewsArticle", "headline": f"h{i}"} for i in range(n)])
        + "</script>"
    ),
    "links-in-paragraphs": lambda n: _page(
        body="".join(f'<p><a href="/news/{i}">Story {i}</a> and more</p>' for i in range(n))
    ),
    "nested-links": lambda n: _page(
        body="".join(f'<div><p><a href="/news/{i}">Story {i}</a></p>' for i in range(n))
    ),
    "time-tags-deep": lambda n: _page(
        body="<div>" * n + '<time datetime="2026-05-12T10:00:00+03:00">x</time>' * n
    ),
    "headings": lambda n: _page(body="".join(f"<h1>Heading {i}</h1>" for i in range(n))),
    "headings-and-links": lambda n: _page(body="<h2>x</h2><a href='/y'>y</a>" * n),
    "meta-tags": lambda n: _page(
        head="".join(f'<meta name="m{i}" content="2026-05-12T10:00:00Z">' for i in range(n))
    ),
    "long-word-author": lambda n: _page(head=f'<meta name="author" content="{"a" * n}@">'),
    "long-word-byline": lambda n: _page(body=f"<p>By {'a' * n}</p>"),
    "long-word-text": lambda n: _page(body=f"<p>{'a' * n}</p>"),
    "dotted-numbers": lambda n: _page(body="<p>" + "1." * n + "</p>"),
    "date-like-text": lambda n: _page(body="<p>" + "2026-05-12 12.05.2026 " * n + "</p>"),
    "unclosed-tags": lambda n: _page(body="<a " * n),
    "hidden-containers": lambda n: _page(
        body=f"<div class=hidden><p>{'word ' * 12}</p><p>{'word ' * 12}</p></div>" * n
    ),
    "same-class-containers": lambda n: _page(
        body="".join(
            f"<div class=part><p>{f'para{i} ' * 8}</p><p>{f'more{i} ' * 8}</p></div>"
            for i in range(n)
        )
    ),
    "scripts": lambda n: _page(body="<script>var a = 1;</script>" * n),
    "whitespace-in-title": lambda n: _page(head="<title>A" + " " * n + "B</title>"),
    "title-separators": lambda n: _page(head="<title>" + "a | " * n + "Site</title>"),
    "canonical-links": lambda n: _page(head='<link rel="canonical" href="/a">' * n),
    "charrefs": lambda n: _page(body="<p>" + "&#xD800;&#x110000;" * n + "</p>"),
    "figcaptions": lambda n: _page(body="<figure><figcaption>Photo</figcaption></figure>" * n),
}

crafted_feeds: dict[str, Callable[[int], bytes]] = {
    "item-attributes": lambda n: _rss(
        _item(1).replace("<item>", f"<item {_attributes(n)}>") + _item(2)
    ),
    "items": lambda n: _rss("".join(_item(i) for i in range(n))),
    "open-link-tags": lambda n: _rss(_item(1) + "<link " * n),
    "open-link-href": lambda n: _rss(_item(1) + '<link href="http://x/' * n),
    "xml-declarations": lambda n: _rss(_item(1), declaration="<?xml " * n),
    "charrefs": lambda n: _rss(_item(1, title="a &#xD800; &amp;#x110000; b" * n) + _item(2)),
    "nested-elements": lambda n: _rss(
        _item(1).replace("</item>", "<x>" * n + "</x>" * n + "</item>")
    ),
    "cdata": lambda n: _rss(_item(1).replace("The talks", "<![CDATA[" + "<p>" * n + "]]>")),
    "encodings-on-one-line": lambda n: _rss(_item(1) + '<x encoding="a"/>' * n),
    "broken-declaration": lambda n: _rss(
        _item(1), declaration='<?xm\xa3 encoding="\xff"?>' + " " * n
    ),
    "utf16-declarations": lambda n: (
        '<?xml version="1.0" encoding="utf-16"?>' + "<?xml " * n + "<rss/>"
    ).encode("utf-16"),
}

# 5 MB of empty paragraphs: linear work, but close to a minute of it (trafilatura reads each).
SLOW_PAGE = b"<html><body>" + b"<p>" * 1_666_000

# The cases issue 16 names, at the sizes it names.
issue_pages: dict[str, bytes] = {
    "24 empty comments before the page": crafted_pages["empty-comments"](24),
    "nine IE conditional comments": crafted_pages["ie-conditional-comments"](9),
    "100k attributes in 1 MB": crafted_pages["attributes"](100_000),
    "190k paragraphs in 5 MB": _page(body="<p>" * 190_000 + "<p>x" * 300_000)[:5_000_000],
    "JSON-LD nested 1,000 deep": crafted_pages["json-ld-nesting"](1000),
    "a canonical link to http://[::1": _page(head='<link rel="canonical" href="http://[::1">'),
    "a canonical link with port 99999": _page(
        head='<link rel="canonical" href="https://ministry.example:99999/a">'
    ),
    "a year-1 date with a positive offset": _page(
        head='<meta property="article:published_time" content="0001-01-01T00:00:00+01:00">'
    ),
    "a 9999-12-31 date with a negative offset": _page(
        body='<time datetime="9999-12-31T23:59:59-01:00">later</time>'
    ),
    "a dateline offset out of range": _page(body="<p>May 12, 2026 10:00 +99:99</p>"),
    "surrogates in the title": _page(head="<title>A &#xD800; B &#x110000;</title>"),
    "a surrogate in JSON-LD": _page(
        head='<script type="application/ld+json">{"@type": "NewsArticle", '
        '"headline": "A \\ud800 B", "author": {"name": "\\udfff"}}</script>'
    ),
}

issue_feeds: dict[str, bytes] = {
    "a date 0001-01-01T00:00:00+01:00": _rss(_item(1, date="0001-01-01T00:00:00+01:00") + _item(2)),
    "a date 9999-12-31T23:59:59-01:00": _rss(_item(1, date="9999-12-31T23:59:59-01:00") + _item(2)),
    "a link http://[::1]/x": _rss(_item(1, link="http://[::1]/x") + _item(2)),
    "a link http://[zz/": _rss(_item(1, link="http://[zz/") + _item(2)),
    "a link with port 99999": _rss(_item(1, link="https://ministry.example:99999/n") + _item(2)),
    "a link with a bad IDNA label": _rss(_item(1, link="https://xn--/n") + _item(2)),
    "&#xD800; in a title": _rss(_item(1, title="A &#xD800; B") + _item(2)),
    "&#x110000; in a title": _rss(_item(1, title="A &#x110000; B") + _item(2)),
    "a non-ASCII byte in the XML declaration": _rss(
        _item(1) + _item(2), declaration='<?xml version="1.0" encoding="\xff"?>'
    ).replace(b"\xc3\xbf", b"\xff"),
    "50k attributes on an item": crafted_feeds["item-attributes"](50_000),
}

# Bytes that broke a parser once, or look like they might: spliced into real documents.
TOKENS = (
    b"<!---->",
    b"<!--",
    b"-->",
    b"<![CDATA[",
    b"]]>",
    b'<!--[if lt IE 9]><script src="x.js"></script><![endif]-->',
    b"&#xD800;",
    b"&#x110000;",
    b"&amp;#xD800;",
    b"&#99999999999999999999;",
    b"\xed\xa0\x80",
    b"\xff\xfe",
    b"\x00",
    b"http://[::1",
    b"http://[zz/",
    b"https://ministry.example:99999/",
    b"https://xn--/",
    b"0001-01-01T00:00:00+01:00",
    b"9999-12-31T23:59:59-01:00",
    b"May 12, 2026 10:00 +99:99",
    b"12.05.0001",
    b'<link rel="canonical" href="http://[::1">',
    b'<a href="https://ministry.example:99999/news/1">x</a>',
    b'<time datetime="0001-01-01T00:00:00+01:00">',
    b'<meta property="article:published_time" content="9999-12-31T23:59:59-01:00">',
    b'<script type="application/ld+json">' + b"[" * 1000 + b"</script>",
    b'<?xml version="1.0" encoding="\xff"?>',
    b"<link>http://[::1]/x</link>",
    b"<pubDate>0001-01-01T00:00:00+01:00</pubDate>",
    b"<h1>",
    b"</div>",
    b"<p>",
    b"<",
    b">",
    b'"',
    b"&",
)


class Mutator:
    """Seeded mutations of real documents: bytes flipped, cut, repeated, spliced and poisoned."""

    def __init__(self, seed: int, *, seeds: list[bytes], max_bytes: int = 5_000_000) -> None:
        self._random, self._seeds, self._max = random.Random(seed), seeds, max_bytes

    def mutate(self, document: bytes) -> bytes:
        """Return a variant of `document` after one to four random mutations."""
        doc = document
        for _ in range(self._random.randint(1, 4)):
            doc = self._random.choice(self._operations)(self, doc)
        return doc[: self._max]

    def case(self) -> bytes:
        """Return a mutation of a random seed document."""
        return self.mutate(self._random.choice(self._seeds))

    def _span(self, doc: bytes) -> tuple[int, int]:
        """Return a random slice of a document, usually short."""
        start = self._random.randrange(len(doc) + 1)
        length = int(self._random.expovariate(1 / 40))
        return start, min(len(doc), start + length)

    def _flip(self, doc: bytes) -> bytes:
        """Set a few random bytes to random values."""
        data = bytearray(doc)
        for _ in range(self._random.randint(1, 16)):
            if data:
                data[self._random.randrange(len(data))] = self._random.randrange(256)
        return bytes(data)

    def _insert(self, doc: bytes) -> bytes:
        """Splice a hostile token in at a random place, sometimes repeated many times."""
        at = self._random.randrange(len(doc) + 1)
        token = self._random.choice(TOKENS) * self._repeats()
        return doc[:at] + token + doc[at:]

    def _delete(self, doc: bytes) -> bytes:
        """Cut a random slice out."""
        start, end = self._span(doc)
        return doc[:start] + doc[end:]

    def _repeat(self, doc: bytes) -> bytes:
        """Repeat a random slice in place, up to thousands of times."""
        start, end = self._span(doc)
        return doc[:start] + doc[start:end] * self._repeats() + doc[end:]

    def _truncate(self, doc: bytes) -> bytes:
        """End the document at a random place."""
        return doc[: self._random.randrange(len(doc) + 1)]

    def _splice(self, doc: bytes) -> bytes:
        """Replace a random slice with a random slice of another seed."""
        other = self._random.choice(self._seeds)
        start, end = self._span(doc)
        o_start, o_end = self._span(other)
        return doc[:start] + other[o_start:o_end] + doc[end:]

    def _repeats(self) -> int:
        """Return how many times to repeat something: mostly once, now and then thousands."""
        return self._random.choice((1, 1, 1, 2, 24, 100, self._random.randint(1, 5000)))

    _operations = (_flip, _insert, _insert, _delete, _repeat, _truncate, _splice)
