"""Pure clean-up of an extracted body's lines: headlines shown again, and reader notices.

trafilatura keeps what sits inside the article's container; some of it is not the story: the
headline printed a second time with its kicker (a sticky header, a share box), and notices to
the reader (consent placeholders for embedded content, paywall and affiliate notes, calls to
subscribe or write in). Every rule is generic: checked on the dev pages of the real sets
(`python -m bench.extraction --dev-only`), never naming a site.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from itertools import islice

from lxml.etree import XPath, _Element

from .normalize import clean_text

# Controls that make a box a sign-up or promotion box ("Newsletter: Sport inside … Jetzt
# abonnieren"), found first: asking every <div> for its descendants cost more than the body.
_BOX_CONTROLS = XPath("//form | //button | //input[@type='email']")
# A box's outermost controls (a control's words inside another's are counted with it).
_CONTROLS = XPath(
    ".//*[self::form or self::button or self::select or self::label]"
    "[not(ancestor::form or ancestor::button or ancestor::select or ancestor::label)]"
)
_CARDS = XPath("//a[(.//h1 or .//h2 or .//h3 or .//h4 or .//h5 or .//h6) and .//p]")
_HEADINGS = XPath(".//h1 | .//h2 | .//h3 | .//h4 | .//h5")
# The most words of a sign-up box's heading ("Sign up for our morning newsletter").
_BOX_HEADING_WORDS = 12
_BOXES = ("div", "section", "aside")
# The box is looked for this many levels above its control at most.
_BOX_DEPTH = 6
# A box with more characters than this (spaces aside) outside its controls holds prose, the
# article itself; characters, not words, as Japanese or Chinese text has no spaces.
_BOX_MAX_CHARS = 200
# What a box's controls may hold (a consent text under a sign-up field); beyond, it is prose.
_MAX_CONTROL_CHARS = 1500
# The characters of an element's text, spaces aside, counted in C (the pages are large).
_CHARS = XPath("string-length(translate(normalize-space(.), ' ', ''))")
_NOT_WORD = re.compile(r"[\W_]+")
_DIGIT = re.compile(r"\d")
_SENTENCE_END = re.compile(r"[.!?…。！？]\W*$")
# Below this many letters a headline ("Nairobi von unten") could end a story's sentence.
_MIN_HEADLINE_KEY = 15
# Notices to the reader, in any language seen on real pages; a story's own sentence says none
# of these. Words like "newsletter" or "subscribe" alone are not here: stories quote them.
_NOTICE = re.compile(
    r"externe[nr]? Inhalt|einverstanden, dass|third[- ]party content"  # consent placeholders
    r"|\d+(?:[.,]\d+)?\s?% (?:de cet article|of (?:this|the) article)|réservée aux abonnés"
    r"|log in or create an account|limited support for CSS"  # paywalls, old-browser notes
    r"|got a story\?|get in touch with (?:our|the) (?:news )?team|for more stories like this"
    r"|in your inbox|whatsapp[- ](?:kanal|channel)|hat ihnen dieser artikel gefallen"
    r"|(?:lesen|finden) sie .*:$|\b(?:in unserem|im|in our) live-?blog\b"  # "more in our live blog"
    r"|^>>?\s"  # ">> Hier finden Sie …": a pointer to another page
    # Wire credits: "X contributed to this report", "With files from …", "Reporting by …".
    r"|contributed to this (?:report|story)|^\W*with (?:files|reporting) (?:from|by)"
    r"|^(?:additional )?reporting by",
    re.IGNORECASE,
)
# A picture's caption: some words, then its credit ("… • Foto: Fabrizio Bensch/REUTERS",
# "… Bild: Maximilian von Lachner"). A credit alone stays: some publishers print it as text.
_CREDIT = re.compile(
    r"\s*[•|·]?\s*\b(?:Foto|Fotos|Bild|Bilder|Photo|Photos|Image|Picture|Credit)s?"
    r"(?:\s*\[M\])?\s*:\s*[^.:]{2,60}$",
    re.IGNORECASE,
)
_SOME_WORDS = re.compile(r"\w+(?:\W+\w+){2,}")
# An English caption's usual opening: "Pictured right, is reader …", "(Pictured) …".
_PICTURED = re.compile(r"\(?pictured\b", re.IGNORECASE)
# An author's bio or byline closes the article: it is looked for among the last lines only.
_CLOSING_LINES, _BIO_MAX_WORDS = 3, 50
# A line longer than this is prose, whatever it mentions.
_NOTICE_MAX_WORDS = 45
# What may stand before a repeated headline: its kicker ("SVP-Sonderparteitag zur Migration").
_MAX_KICKER = 60


def drop_headline_repeats(text: str, headlines: Iterable[str]) -> str:
    """Remove lines that are only a headline of the page, maybe after a short kicker.

    The headline is the article's title or one of its declared variants (JSON-LD, OpenGraph):
    pages print the kicker and headline again inside the article's container, often with the
    two run together ("SVP-Sonderparteitag zur MigrationChiesa ruft …"), so they are compared
    by their letters and digits alone.
    """
    # Each headline's key, and whether it ends as a sentence: worked out once, not once a line.
    keyed = [
        (key, bool(_SENTENCE_END.search(h)))
        for h in headlines
        if len(key := _key(h)) >= _MIN_HEADLINE_KEY
    ]
    if not keyed:
        return text
    lines = [line for line in text.split("\n") if not _repeats(line, keyed)]
    return clean_text("\n".join(lines))


def _repeats(text: str, headlines: list[tuple[str, bool]]) -> bool:
    """Tell whether a line is a headline (given as its key and its sentence end), maybe after a kicker."""
    # A sentence that ends with the headline's words ("… in a session of the Council.") ends
    # as a sentence; the headline printed again ends as the headline does.
    sentence = bool(_SENTENCE_END.search(text))
    line = None  # the line's key, worked out only for a headline that may match (most don't)
    for headline, ends_sentence in headlines:
        if sentence and not ends_sentence:
            continue
        line = _key(text) if line is None else line
        kicker = line[: len(line) - len(headline)]
        # A prefix with digits is a dateline ("新华社北京4月24日电 题：…", "BERLIN, 24. April"):
        # the wire story's opening line, which is article text.
        if line.endswith(headline) and len(kicker) <= _MAX_KICKER and not _DIGIT.search(kicker):
            return True
    return False


def _key(text: str) -> str:
    """Return text's letters and digits, NFKC and casefolded, for comparing headlines."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def drop_notices(text: str) -> str:
    """Remove short lines that are not the story: notes to the reader, wire credits, captions."""
    lines = [line for line in text.split("\n") if not _is_notice(line)]
    return clean_text("\n".join(lines))


def _is_notice(line: str) -> bool:
    """Tell whether a line is short and a caption or a notice to the reader."""
    # The word count first: most lines are the story's paragraphs, too long to be either.
    return len(line.split()) <= _NOTICE_MAX_WORDS and (
        is_caption(line) or _NOTICE.search(line) is not None
    )


def is_caption(line: str) -> bool:
    """Tell whether a line is a picture's caption: "Pictured …", or words ending with a credit."""
    if len(line.split()) > _NOTICE_MAX_WORDS:
        return False
    # A credit has its colon ("Foto: …"); searching a line without one is time lost.
    credit = _CREDIT.search(line) if ":" in line else None
    if credit is None:
        return _PICTURED.match(line) is not None
    return _SOME_WORDS.search(line[: credit.start()]) is not None


def drop_author_lines(text: str, author: str) -> str:
    """Remove closing lines that open with the article's author: a bio or a byline, not story.

    "Manuela Conrad ist ZDF-Reporterin für …", "Mamokete Modiba is a senior researcher …",
    or the names alone; only among the last lines but the first, and only full names (two
    words or more).
    """
    names = [name for name in author.split(", ") if len(name.split()) >= 2]
    lines = text.split("\n")
    # Never the opening line: a short story may well open with its author's name as its subject.
    shown = [n for n, line in enumerate(lines) if line.strip()][1:][-_CLOSING_LINES:]
    for n in shown:
        line = lines[n].strip()
        if len(line.split()) <= _BIO_MAX_WORDS and any(line.startswith(name) for name in names):
            lines[n] = ""
    return clean_text("\n".join(lines))


def without_credit(text: str) -> str:
    """Return a text without a picture credit at its end ("… • Foto: Fabrizio Bensch/REUTERS")."""
    return _CREDIT.sub("", text) if is_caption(text) else text


def drop_signup_boxes(tree: _Element) -> None:
    """Remove small boxes made of a heading, a line and a control: sign-up and promotion boxes.

    trafilatura drops forms and buttons but keeps the heading and the pitch around them
    ("Hauptstadt Inside von …", "Jeden Montag die Topstorys der Woche …") as article text.
    The box is the nearest container above a control that has a heading; a container with
    prose around the control (the article itself) ends the search.
    """
    root = tree.getroottree().getroot()
    seen: set[_Element] = set()  # containers judged from another control: so were those above
    for control in _BOX_CONTROLS(tree):
        if control.getroottree().getroot() is not root:
            continue  # inside a box already removed
        for box in islice(control.iterancestors(), _BOX_DEPTH):
            if box in seen:
                break
            seen.add(box)
            if box.tag not in _BOXES:
                continue
            if _chars_outside_controls(box) > _BOX_MAX_CHARS:
                break
            if _box_heading(box) and box.getparent() is not None:
                box.getparent().remove(box)
                break


def drop_teaser_cards(tree: _Element) -> None:
    """Remove links that wrap a heading and a paragraph: teaser cards of other stories.

    "You might also like" lists set each story as one link around its picture, headline and
    opening lines; trafilatura keeps the opening lines as paragraphs of the article.
    """
    for card in _CARDS(tree):
        if card.getparent() is not None:
            card.getparent().remove(card)


def _box_heading(box: _Element) -> bool:
    """Tell whether a box has the short heading of a sign-up box and is no article's header.

    An article's header with its share button is no such box: it holds the headline (<h1>),
    or its only heading is a standfirst, a sentence longer than any call to sign up.
    """
    heads = _HEADINGS(box)
    return all(h.tag != "h1" for h in heads) and any(
        len(h.text_content().split()) <= _BOX_HEADING_WORDS for h in heads
    )


def _chars_outside_controls(box: _Element) -> int:
    """Count the characters (spaces aside) of a box's text outside its forms, buttons, labels."""
    total = _chars(box)
    if total <= _BOX_MAX_CHARS or total > _BOX_MAX_CHARS + _MAX_CONTROL_CHARS:
        return total  # short enough, or too long whatever its controls hold: no need to look
    return total - sum(_chars(c) for c in _CONTROLS(box))


def _chars(el: _Element) -> int:
    """Count the characters of an element's text, spaces aside."""
    return int(_CHARS(el))
