"""Pure main-content extraction: the article body of an HTML page as plain paragraphs.

trafilatura does the extraction; this module picks between two of its runs and removes the
boilerplate it still lets through. Every heuristic is generic (no site rules) and was checked on
the Zyte article-extraction benchmark (`python -m bench.extraction`, results in BENCHMARKS.md).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict

import trafilatura
from lxml.etree import _Element
from trafilatura.utils import load_html
from trafilatura.xml import xmltotxt

log = logging.getLogger(__name__)

_WORD = re.compile(r"\w+")
# A precision run this far below or above the recall run means one of them failed (see _choose).
_SIZE_RATIO = 2.0
# Below this many words the recall run is itself a failure and cannot veto the precision run.
_MIN_RECALL_WORDS = 50
# A block is navigation when most of its text is link text and it is short (related stories,
# "Read more: …", tag lists); a long paragraph with many links is still prose.
_LINK_SHARE, _LINK_MAX_WORDS = 0.8, 30
# Closing lines that invite to subscribe, follow, share or comment, or state the copyright.
_TRAILER = re.compile(
    r"copyright|©|all rights reserved|subscri(be|ption)|newsletter|sign up|click here"
    r"|follow (us|him|her|them)\b|share (this|it)\b|tell us what you think|^\d*\s*comments?$"
    r"|все права защищены|подпис(ывайтесь|аться|ка)",
    re.IGNORECASE,
)
_TRAILER_MAX_WORDS = 40


def extract_body(html: str, *, url: str = "") -> str:
    """Return the main text of a page, paragraphs separated by blank lines ('' when none)."""
    try:
        tree = load_html(html) if html and html.strip() else None
        if tree is None:
            return ""
        precise = _run(tree, url, favor_precision=True)
        body = _choose(precise, _run(tree, url, favor_recall=True, fast=True))
        if body is None:
            return ""
        links = _link_shares(tree)
        _drop_headline(body)
        _drop_link_blocks(body, links)
        _drop_trailer(body)
        kept = {_key(_text(p)) for p in body.iter("p")}
        lines = xmltotxt(body, False).splitlines() + _continuations(tree, kept, links)
    except Exception as exc:  # noqa: BLE001 - odd HTML must never break a source's run
        log.warning("body extraction failed for %s: %r", url or "<no url>", exc)
        return ""
    return "\n\n".join(line.strip() for line in lines if line.strip())


def _run(tree: _Element, url: str, **options: bool) -> _Element | None:
    """Return trafilatura's extracted body tree (it copies the input tree), or None."""
    document = trafilatura.bare_extraction(tree, url=url or None, include_comments=False, **options)
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
                    _remove(b)
            return


def _drop_link_blocks(body: _Element, links: dict[str, float]) -> None:
    """Remove short blocks that are mostly link text in the page, and lists left empty."""
    for block in list(body.iter("p", "item", "head")):
        text = _text(block)
        if len(text.split()) <= _LINK_MAX_WORDS and _link_share(block, links) >= _LINK_SHARE:
            _remove(block)
    for lst in list(body.iter("list")):
        if not _text(lst):
            _remove(lst)


def _link_share(block: _Element, links: dict[str, float]) -> float:
    """Return the link share of the page element with the block's text, else of its lines."""
    whole = _key(_text(block))
    if not whole or whole in links:
        return links.get(whole, 0.0)
    # trafilatura's baseline fallback joins a whole menu into one block, one link per line.
    lines = [_key(line) for line in "\n".join(block.itertext()).splitlines()]
    return sum(len(line) * links.get(line, 0.0) for line in lines) / len(whole)


def _drop_trailer(body: _Element) -> None:
    """Remove closing paragraphs that are subscription, social, comment or copyright notices."""
    blocks = list(body)
    while blocks and blocks[-1].tag in ("p", "head") and (
        not _text(blocks[-1])
        or (_TRAILER.search(_text(blocks[-1])) and _words(blocks[-1]) <= _TRAILER_MAX_WORDS)
    ):
        _remove(blocks.pop())


def _continuations(tree: _Element, kept: set[str], links: dict[str, float]) -> list[str]:
    """Return paragraphs of later same-class containers of the story the extraction covered.

    Some sites split one article into several sibling containers (around ads or paywall
    prompts); trafilatura keeps only the first.
    """
    groups: dict[tuple[str, str], list[tuple[_Element, list[str]]]] = defaultdict(list)
    for el in tree.iter("div", "section", "article"):
        paras = [_text(p) for p in el if p.tag == "p" and len(_key(_text(p))) > 40]
        if len(paras) >= 2 and el.get("class"):
            groups[(el.tag, el.get("class", ""))].append((el, paras))
    extra: list[str] = []
    for members in groups.values():
        covered = [sum(_key(p) in kept for p in paras) * 2 >= len(paras) for _, paras in members]
        if len(members) < 2 or not any(covered):
            continue
        first = members[covered.index(True)][0]
        for el, paras in members[covered.index(True) + 1:]:
            if not any(_key(p) in kept for p in paras) and _same_story(tree, first, el):
                extra += [p for p in paras if links.get(_key(p), 0.0) < _LINK_SHARE]
    return extra


def _same_story(tree: _Element, first: _Element, later: _Element) -> bool:
    """Tell whether two containers share their <article> with no headline between them."""
    if next(first.iterancestors("article"), None) is not next(later.iterancestors("article"), None):
        return False
    order = {el: n for n, el in enumerate(tree.iter())}
    return not any(order[first] < order[h] < order[later] for h in tree.iter("h1"))


def _link_shares(tree: _Element) -> dict[str, float]:
    """Map the text of each short element around a link to the share of it that is link text."""
    shares: dict[str, float] = {}
    seen: set[_Element] = set()
    for anchor in tree.iter("a"):
        # The link itself and its nearest ancestors: its paragraph or list item, however wrapped.
        for el in [anchor, *list(anchor.iterancestors())[:4]]:
            if el in seen:
                break
            seen.add(el)
            key = _key(el.text_content())
            if len(key) > 400:
                break
            if key and key not in shares:
                linked = sum(len(_key(a.text_content())) for a in el.iter("a"))
                shares[key] = linked / len(key)
    return shares


def _remove(el: _Element) -> None:
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


def _words(el: _Element | None) -> int:
    """Count the words of an element's text (0 for None)."""
    return 0 if el is None else len(_WORD.findall(" ".join(el.itertext())))
