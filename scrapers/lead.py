"""Pure choice of an article's lead: the publisher's standfirst, never boilerplate or a caption.

The lead is what a source's lead selector picked, else the page's first description (JSON-LD,
OpenGraph, meta), when it is a real standfirst: not the title, not the site's name or slogan,
not a copy of the body's opening, not the lead picture's caption.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from .body import remove_keeping_tail
from .boilerplate import without_credit
from .metadata import Metadata, shown_in_chrome
from .models import Source
from .normalize import clean_text, same_text, strip_lines

_MIN_LEAD = 25
# A lead whose first 12 words open the body repeats the body's opening.
_WORDS = re.compile(r"\w+")
_LEAD_WORDS, _OPENING_CHARS = 12, 400


def drop_captions(tree: HtmlElement) -> str:
    """Remove figure captions, which describe a picture, not the story; return their texts.

    trafilatura keeps a <figcaption> as a paragraph of the body, between the story's own.
    """
    texts = []
    for el in list(tree.iter("figcaption")):
        texts.append(folded(el.text_content()))
        remove_keeping_tail(el)
    return "\n".join(texts)


def choose_lead(
    tree: HtmlElement,
    meta: Metadata,
    picked: str | None,
    source: Source,
    *,
    title: str,
    body: str,
    captions: str = "",
) -> str:
    """Return the publisher's standfirst when it is a real lead, not the title or boilerplate.

    `picked` is what the source's lead selector found (None: the source names no lead element);
    `captions` the page's figure captions, one per line, folded.
    """
    # A source that names its standfirst element has no lead where that element is missing; its
    # description is then the site's self-description (interaffairs.ru).
    lead = picked if picked is not None else next(iter(meta.descriptions), "")
    lead = strip_lines(clean_text(lead), trailers=source.trailers, drop=source.drop_lines)
    # A standfirst under the lead picture may carry the picture's credit; the words are the lead.
    lead = without_credit(lead)
    if (
        len(lead) < _MIN_LEAD
        or same_text(lead, title)
        or title.casefold().startswith(lead.rstrip(".… ").casefold())
    ):
        return ""
    if meta.site_name and same_text(lead, meta.site_name):
        return ""
    if _opens(body, lead) or _repeats(body, lead):
        return ""  # An excerpt of the body, not a standfirst of its own.
    if captions and folded(lead).rstrip(".…") in captions:
        return ""  # The lead picture's caption, not a standfirst.
    # A description that the page also shows in its header or footer is the site's slogan
    # ("TASS is Russia's leading news agency"), not this article's lead.
    if shown_in_chrome(tree, lead):
        return ""
    return lead


def _opens(body: str, lead: str) -> bool:
    """Tell whether the body opens with the lead's first words.

    Words, not characters: a description copies the opening paragraph with other quotes, dashes
    or spacing ("’" for "'"), or cut short ("…").
    """
    words = _WORDS.findall(lead.casefold())[:_LEAD_WORDS]
    return bool(words) and _WORDS.findall(body[:_OPENING_CHARS].casefold())[: len(words)] == words


def _repeats(body: str, lead: str) -> bool:
    """Tell whether the body shows the lead's words, all in a row, after its opening paragraph.

    The opening paragraph itself is left out: a wire story's body opens with its dateline, then
    the standfirst's words ("MOSCOW, May 16. /TASS/. Temperatures …"), and the standfirst is
    the lead there. So is the lead's first word: a drop cap set apart ("E" + "nvironmentalists")
    splits it.
    """
    words = _WORDS.findall(lead.casefold())[1 : _LEAD_WORDS + 1]
    rest = body.partition("\n\n")[2].casefold()
    if len(words) < _LEAD_WORDS or not rest:
        return False
    # Each word is in the text as written first: most leads fail here, before the body's every
    # word is listed.
    if any(word not in rest for word in words):
        return False
    return f" {' '.join(words)} " in f" {' '.join(_WORDS.findall(rest))} "


def folded(text: str) -> str:
    """Return text casefolded with whitespace collapsed, for prefix comparisons."""
    return " ".join(text.casefold().split())
