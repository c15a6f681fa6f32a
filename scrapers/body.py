"""Pure main-content extraction: the article body of an HTML page as plain paragraphs.

trafilatura does the extraction: one fast precision-first run, and only when that comes out
suspiciously short, its slower runs to choose from. This module then removes the boilerplate it
still lets through. Every heuristic is generic (no site rules) and was checked on
the Zyte article-extraction benchmark (`python -m bench.extraction`, results in BENCHMARKS.md).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from itertools import islice

import trafilatura
from lxml.etree import XPath, _Element
from lxml.html import HtmlElement
from trafilatura import load_html
from trafilatura.xml import xmltotxt

log = logging.getLogger(__name__)

_WORD = re.compile(r"\w+")
# A fast precision run shorter than this may have failed (pruned the article to a reprint notice,
# or found nothing): only then are the slower runs made (see extract_body). Every such failure on
# the Zyte set kept at most 51 words; articles are mostly far longer, so the extra runs are rare.
_SUSPECT_WORDS = 100
# A precision run this far below or above the recall run means one of them failed (see _choose).
_SIZE_RATIO = 2.0
# Below this many words the recall run is itself a failure and cannot veto the precision run.
_MIN_RECALL_WORDS = 50
# A block is navigation when most of its text is link text and it is short (related stories,
# "Read more: …", tag lists); a long paragraph with many links is still prose.
_LINK_SHARE, _LINK_MAX_WORDS = 0.8, 30
# A label before a link: a few characters ending in a colon or a bar (whitespace removed).
_LINK_LABEL = re.compile(r".{1,24}[:|]")
# Closing lines that invite to subscribe, follow, share or comment, or state the copyright.
_TRAILER = re.compile(
    r"copyright|©|all rights reserved|subscri(be|ption)|newsletter|sign up|click here"
    r"|follow (us|him|her|them)\b|share (this|it)\b|tell us what you think|^\d*\s*comments?$"
    r"|все права защищены|подпис(ывайтесь|аться|ка)",
    re.IGNORECASE,
)
_TRAILER_MAX_WORDS = 40
# Link shares are measured on elements of at most this many characters (whitespace excluded).
_MAX_LINKED = 400
# A container may continue the story when it holds two paragraphs longer than this (no spaces).
_MIN_PARAGRAPH = 40
# Bounds of the search for link blocks (see _link_shares), far above what real pages hold.
_MAX_ANCHORS, _MAX_WANTED, _MAX_STRINGS = 5000, 500, 1000
_PEEK = 8 * _MAX_LINKED  # characters of one string read before knowing it is too long
# What an XPath string may not hold (lxml refuses control characters, surrogates, U+FFFE/F).
# What trafilatura reads as a hidden element in an id, class or style.
_HIDDEN_MARK = re.compile(r"hidden|(?:^|[\s_-])hide|display:\s*none", re.IGNORECASE)
# contains() where a regular expression is not needed: each re:test is a call back into Python.
_HIDDEN_CONTAINERS = XPath(
    "//*[self::div or self::section][p[2]][contains(@id, 'hid') or contains(@class, 'hid')"
    " or (contains(@style, 'display:') and re:test(@style, 'display:\\s*none'))]",
    namespaces={"re": "http://exslt.org/regular-expressions"},
)
# Containers with a class and at least two paragraphs, found without a Python call per element.
_PARAGRAPH_CONTAINERS = XPath(
    "//p[2]/parent::*[@class != ''][self::div or self::section or self::article]"
)


def reveal_hidden_story(tree: _Element) -> None:
    """Unmark story paragraphs that a page hides until a reader logs in or clicks "read more".

    The text is served in the page, in a container marked hidden by its id, class or style
    right after the visible opening paragraphs; trafilatura's discard rules drop anything marked
    so, and the article came out as its teaser. Only a container with two long paragraphs,
    whose parent shows a long paragraph of its own, is unmarked: hidden menus and dialogs stay.
    """
    shown: dict[_Element, int] = {}  # per parent: counted once, not once per hidden child
    for el in _HIDDEN_CONTAINERS(tree):
        parent = el.getparent()
        if parent is None or _long_paragraphs(el) < 2:
            continue
        if parent not in shown:
            shown[parent] = _long_paragraphs(parent)
        if not shown[parent]:
            continue
        for attr in ("id", "class", "style"):
            if _HIDDEN_MARK.search(el.get(attr) or ""):
                del el.attrib[attr]


def _long_paragraphs(el: _Element) -> int:
    """Count an element's own <p> children long enough to be story paragraphs."""
    return sum(p.tag == "p" and len(_text_key(p)) > _MIN_PARAGRAPH for p in el)


def extract_body(html: str | HtmlElement, *, url: str = "") -> str:
    """Return the main text of a page, paragraphs separated by blank lines ('' when none).

    `html` is the page's text or its tree from `trafilatura.load_html` (parse once, share it);
    the tree is read, never changed.
    """
    try:
        if isinstance(html, HtmlElement):
            tree = html
        else:
            tree = load_html(html) if html and html.strip() else None
            if tree is None:
                return ""
            reveal_hidden_story(tree)
        # fast=True skips trafilatura's readability/jusText fallbacks, its most expensive part.
        body = _run(tree, url, favor_precision=True, fast=True)
        if not _has_words(body, _SUSPECT_WORDS):
            # Short: redo it with the fallbacks, and judge that against a recall run.
            precise = _run(tree, url, favor_precision=True)
            body = _choose(precise, _run(tree, url, favor_recall=True, fast=True))
        if body is None:
            return ""
        _drop_headline(body)
        _drop_link_blocks(body, tree)
        _drop_trailer(body)
        kept = {_text_key(p) for p in body.iter("p")}
        lines = xmltotxt(body, False).splitlines() + _continuations(tree, kept)
    except Exception as exc:  # noqa: BLE001 - odd HTML must never break a source's run
        log.warning("body extraction failed for %s: %r", url or "<no url>", exc)
        return ""
    return "\n\n".join(line.strip() for line in lines if line.strip())


def _run(tree: _Element, url: str, **options: bool) -> _Element | None:
    """Return trafilatura's extracted body tree (it copies the input tree), or None."""
    # The "txt" format skips bare_extraction's own text rendering of the body: the body is
    # rendered here, after the clean-up.
    document = trafilatura.bare_extraction(
        tree, url=url or None, include_comments=False, output_format="txt", **options
    )
    return None if document is None else document.body


def _choose(precise: _Element | None, broad: _Element | None) -> _Element | None:
    """Prefer the precision run unless its size shows it failed, judged against the recall run."""
    p, b = _words(precise), _words(broad)
    # Far shorter: precision pruned the article itself and kept a fragment (a reprint notice).
    if p < b / _SIZE_RATIO:
        return broad
    # Far longer: precision fell back to readability/jusText, which grabbed a whole listing of
    # other texts; a recall run is never legitimately smaller than the precise one.
    if p > b * _SIZE_RATIO and b >= _MIN_RECALL_WORDS:
        return broad
    return precise


def _drop_headline(body: _Element) -> None:
    """Remove a leading <h1> and any short kicker above it: the title is metadata, not body."""
    blocks = list(body)[:3]
    for n, block in enumerate(blocks):
        if block.tag == "head" and block.get("rend") == "h1":
            if all(_words(b) <= 4 for b in blocks[:n]):
                for b in blocks[: n + 1]:
                    remove_keeping_tail(b)
            return


def _drop_link_blocks(body: _Element, tree: _Element) -> None:
    """Remove short blocks that are mostly link text in the page, and lists left empty."""
    short = [b for b in body.iter("p", "item", "head") if len(_text(b).split()) <= _LINK_MAX_WORDS]
    keys = [_keys(block) for block in short]  # each block's, worked out once
    links = _link_shares(tree, dict.fromkeys(key for block in keys for key in block))
    for block, block_keys in zip(short, keys):
        if _link_share(block_keys, links) >= _LINK_SHARE:
            remove_keeping_tail(block)
    for lst in list(body.iter("list")):
        if not _text(lst):
            remove_keeping_tail(lst)


def _link_share(keys: list[str], links: dict[str, float]) -> float:
    """Return the link share of the page element with a block's text, else of its lines.

    `keys` are the block's, from `_keys`.
    """
    whole, *lines = keys
    if not whole or whole in links:
        return links.get(whole, 0.0)
    return sum(len(line) * links.get(line, 0.0) for line in lines) / len(whole)


def _keys(block: _Element) -> list[str]:
    """Return the keys of a block's whole text and of each of its lines."""
    # trafilatura's baseline fallback joins a whole menu into one block, one link per line.
    lines = "\n".join(block.itertext()).splitlines()
    return [_text_key(block), *(_key(line) for line in lines)]


def _drop_trailer(body: _Element) -> None:
    """Remove closing paragraphs that are subscription, social, comment or copyright notices."""
    blocks = list(body)
    while (
        blocks
        and blocks[-1].tag in ("p", "head")
        and (
            not _text(blocks[-1])
            or (_TRAILER.search(_text(blocks[-1])) and _words(blocks[-1]) <= _TRAILER_MAX_WORDS)
        )
    ):
        remove_keeping_tail(blocks.pop())


def _continuations(tree: _Element, kept: set[str]) -> list[str]:
    """Return paragraphs of later same-class containers of the story the extraction covered.

    Some sites split one article into several sibling containers (around ads or paywall
    prompts); trafilatura keeps only the first.
    """
    Paragraph = tuple[_Element, str]  # a <p> and its key
    groups: dict[tuple[str, str], list[tuple[_Element, list[Paragraph]]]] = defaultdict(list)
    for el in _PARAGRAPH_CONTAINERS(tree):
        paras = [(p, key) for p in el if p.tag == "p" and len(key := _text_key(p)) > _MIN_PARAGRAPH]
        if len(paras) >= 2:
            groups[(el.tag, el.get("class", ""))].append((el, paras))
    extra: list[str] = []
    for members in groups.values():
        if len(members) < 2:
            continue
        covered = [sum(key in kept for _, key in paras) * 2 >= len(paras) for _, paras in members]
        if not any(covered):
            continue
        first = members[covered.index(True)][0]
        for el, paras in members[covered.index(True) + 1 :]:
            if not any(key in kept for _, key in paras) and _same_story(tree, first, el):
                extra += [_text(p) for p, _ in paras if _own_link_share(p) < _LINK_SHARE]
    return extra


def _same_story(tree: _Element, first: _Element, later: _Element) -> bool:
    """Tell whether two containers share their <article> with no headline between them."""
    if next(first.iterancestors("article"), None) is not next(later.iterancestors("article"), None):
        return False
    order = {el: n for n, el in enumerate(tree.iter())}
    return not any(order[first] < order[h] < order[later] for h in tree.iter("h1"))


def _link_shares(tree: _Element, wanted: dict[str, None]) -> dict[str, float]:
    """Map each wanted text to the link share of the page element around a link with that text.

    The elements around a link are the link and its four nearest ancestors (its paragraph or
    list item, however wrapped), up to 400 characters of text. Only links whose text is part of
    a wanted text are followed: walking every link of the page cost more than trafilatura's run.
    The search is bounded (the page's first 5,000 links against its first 500 wanted texts): a
    page of 100k links in as many short paragraphs made it quadratic.
    """
    keys = [key for key in wanted if 0 < len(key) <= _MAX_LINKED][:_MAX_WANTED]
    if not keys:
        return {}
    hay, wanted_keys = "\n".join(keys), set(keys)
    shares: dict[str, float] = {}
    seen: set[_Element] = set()
    part_of: dict[str, bool] = {}
    for anchor in islice(tree.iter("a"), _MAX_ANCHORS):
        own = _short_key(anchor)
        if not own:
            continue
        if own not in part_of:
            part_of[own] = own in hay
        if not part_of[own]:
            continue
        for el in (anchor, *islice(anchor.iterancestors(), 4)):
            if el in seen:
                break
            seen.add(el)
            key = _short_key(el)
            if key is None:
                break  # and so are its ancestors
            if key in wanted_keys and key not in shares:
                shares[key] = _own_link_share(el)
    return shares


def _short_key(el: _Element) -> str | None:
    """Return an element's text without whitespace, or None past 400 characters (read no further)."""
    if not len(el) and len(el.text or "") <= _PEEK:
        # A link with no child and a short text (most links): no walk needed.
        key = "".join((el.text or "").split())
        return None if len(key) > _MAX_LINKED else key
    parts, size = [], 0
    for n, text in enumerate(el.itertext()):
        # _key inlined: called for every link of the page and its ancestors.
        part = "".join(text[:_PEEK].split())
        if len(text) > _PEEK and len(part) <= _MAX_LINKED:
            part = "".join(text.split())  # mostly whitespace so far: the whole string decides
        size += len(part)
        if size > _MAX_LINKED or n > _MAX_STRINGS:
            return None
        parts.append(part)
    return "".join(parts)


def _own_link_share(el: _Element) -> float:
    """Return the share of an element's text that is link text (0 above 400 characters).

    A short label before the links ("Russische Drohnen: <a>…</a>", "READ ALSO | <a>…</a>")
    counts as link text: it only names what the link points to.
    """
    key = _key(el.text_content())
    if not key or len(key) > _MAX_LINKED:
        return 0.0
    linked = sum(len(_key(a.text_content())) for a in el.iter("a"))
    label = _key(el.text or "") + "".join(_key(c.text_content()) for c in _before_link(el))
    if linked and _LINK_LABEL.fullmatch(label) and len(label) + linked >= len(key):
        return 1.0
    return linked / len(key)


def _before_link(el: _Element) -> list[_Element]:
    """Return an element's children before its first link (empty when a child holds one)."""
    before = []
    for child in el:
        if child.tag == "a" or next(child.iter("a"), None) is not None:
            return before
        if (child.tail or "").strip():
            return []  # text between the label and the link: prose, not a label
        before.append(child)
    return []


def remove_keeping_tail(el: _Element) -> None:
    """Remove an element from its tree, keeping the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail and el.tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _text(el: _Element) -> str:
    """Return an element's text with whitespace collapsed."""
    return " ".join("".join(el.itertext()).split())


def _key(text: str) -> str:
    """Return text without any whitespace, to match blocks across trafilatura's respacing."""
    return "".join(text.split())


def _text_key(el: _Element) -> str:
    """Return an element's text without any whitespace (`_key` of `_text`, one step fewer)."""
    return "".join("".join(el.itertext()).split())


def _words(el: _Element | None) -> int:
    """Count the words of an element's text (0 for None)."""
    return 0 if el is None else len(_WORD.findall(" ".join(el.itertext())))


def _has_words(el: _Element | None, count: int) -> bool:
    """Tell whether an element's text has at least `count` words, counting no further."""
    if el is None:
        return False
    return sum(1 for _ in islice(_WORD.finditer(" ".join(el.itertext())), count)) >= count
