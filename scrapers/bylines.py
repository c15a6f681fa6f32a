"""Pure reading of an article's authors: a cascade over what the page says, person names first.

Candidates, in order: the source's own rules, JSON-LD `author`, the byline printed under the
headline ("By …", "11:12 08.02.2021 • Yuri Menshikov , editor"), meta `author`/`article:author`,
`rel=author` links, then trafilatura's byline reader. Each is split into names and cleaned of
prefixes ("By", "Von"), roles (", editor") and e-mail addresses. A name that is only the site's own
(the publisher as author, "mdr.de") gives way to any person found later, and is kept when none is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml.etree import _Element
from trafilatura.metadata import extract_author

from .datelines import following_lines
from .normalize import clean_inline

# Byline prefixes in the languages of the sites we read: "By", "Von", "Por", "Par", "Door",
# "Av", "Di", "Af", "Od", "Text:", "Автор:".
_PREFIX = re.compile(
    r"^(?:written by|posted by|by|von|por|par|door|av|di|af|od|autor(?:in|es|a)?|author|"
    r"text|texto|texte|автор|авторы|текст)\b\s*:?\s*",
    re.IGNORECASE,
)
# Separators between names (and between a dateline and its author): ";", "|", "/", "&", "•" and
# the words "and"/"und"/"og"/"och"/"et"/"и" between two names.
_SPLIT = re.compile(r"\s*(?:[;|/&•·]|\s(?:and|und|og|och|et|и)\s)\s*", re.IGNORECASE)
# A piece after a comma that names a role, not a person ("Jane Doe, Staff Writer").
_ROLE = re.compile(
    r"\b(?:editor|writer|correspondent|reporter|staff|contributor|columnist|photographer|"
    r"journalist|korrespondent(?:in)?|редактор|корреспондент|обозреватель)\b|redakteur(?:in)?\b",
    re.IGNORECASE,
)
# Pieces of a byline that say when or where from, not who: "Posted Aug 8", "Quelle: dpa",
# "来源：" (source).
_NOT_A_NAME = re.compile(
    r"(?:posted|updated|published|last updated|quelle|source|fuente|foto|photo)\b|来源",
    re.IGNORECASE,
)
# A dot and a word character after an e-mail address's "@" (found by str.find, not a regex:
# "\S+@\S+\.\w+" searched a long word from each of its characters, quadratic in its length).
_DOT_WORD = re.compile(r"\.\w")
_WORD_RUN = re.compile(r"\w+")
_DATE_THEN_NAME = re.compile(
    r"\d{1,2}[./:]\d{1,2}(?:[./]\d{2,4})?[^•|·\n]{0,40}?\s[•|·]\s*(?P<names>\S.*)$"
)
# Lowercase words allowed inside a name ("Ludwig van Beethoven", "José da Silva").
_PARTICLES = {"van", "von", "der", "den", "de", "da", "di", "du", "la", "le", "del", "dos", "bin"}
_MAX_WORDS, _MAX_CHARS = 5, 60
_BYLINE_LINES = 12
_STORY_WORDS = 25


def names_of(raw: str, *, printed: bool = False) -> list[str]:
    """Return the person or agency names in a byline, cleaned of prefixes, roles and e-mails.

    A `printed` line may be the story's own words ("By Monday, …"): its names need capitals.
    """
    if raw.strip().lower().startswith(("http:", "https:", "www.")):
        return []
    text = _without_emails(clean_inline(raw)).strip(" •|-–—/:")
    text = _PREFIX.sub("", text)
    names: list[str] = []
    for part in _SPLIT.split(text):
        # "Yuri Menshikov , editor", "Jane Doe, Staff Writer": a comma starts a role unless what
        # follows is another capitalised name.
        for piece in part.split(","):
            name = _undoubled(_PREFIX.sub("", clean_inline(piece)).strip(" .-–—:"))
            if _NOT_A_NAME.match(name):
                continue
            if _plausible(name, printed=printed) and not _ROLE.search(name) and name not in names:
                names.append(name)
    return names


def choose_authors(
    tree: _Element,
    *,
    ruled: str = "",
    declared: Iterable[str] = (),
    metas: Iterable[str] = (),
    headline: _Element | None = None,
    site_names: Iterable[str] = (),
) -> str:
    """Return the article's authors joined by ", " ('' when no candidate is plausible).

    `ruled` is what the source's own rules read, `declared` the JSON-LD authors, `metas` the
    meta tags' authors; the byline under `headline`, rel=author links and trafilatura follow.
    """
    own = {_fold(n) for n in site_names if n}
    fallback: list[str] = []
    for candidate in _candidates(tree, ruled, declared, metas, headline):
        names = list(dict.fromkeys(n for raw in candidate for n in names_of(raw)))
        # Names that are all the site's own (the publisher as author) wait for a person; named
        # beside a person, the publisher stays (sites credit "Jane Doe, t-online" on purpose).
        if any(not _site_like(n, own) for n in names):
            return ", ".join(names)
        fallback = fallback or names
    return ", ".join(fallback)


def _candidates(tree, ruled, declared, metas, headline):
    """Yield each source of author names in trust order, lazily (the last ones cost more)."""
    yield [ruled]
    yield list(declared)
    if headline is not None:
        yield [printed_byline(following_lines(headline, _BYLINE_LINES))]
    yield list(metas)
    yield [clean_inline(" ".join(a.itertext())) for a in tree.iterfind(".//a[@rel='author']")]
    yield (extract_author(tree) or "").split("; ")


def printed_byline(lines: list[str]) -> str:
    """Return the byline among the lines printed under a headline, or ''.

    Only lines before the story starts count (its first long paragraph): after it come other
    stories' datelines and bylines.
    """
    for n, line in enumerate(lines):
        if len(line.split()) > _STORY_WORDS:
            break
        if _PREFIX.fullmatch(line + " ") and n + 1 < len(lines):
            line = f"{line} {lines[n + 1]}"  # "By" in one element, the name in a link
        if _PREFIX.match(line) and len(line.split()) <= 3 * _MAX_WORDS:
            names = [n for n in names_of(line, printed=True) if len(n.split()) >= 2]
            if names:
                return ", ".join(names)
        dated = _DATE_THEN_NAME.search(line)
        if dated and names_of(dated["names"], printed=True):
            return dated["names"]
    return ""


def _without_emails(text: str) -> str:
    """Return one-line text with its e-mail addresses (a word with "@" and a dot after it) out."""
    if "@" not in text:
        return text
    return " ".join(_email_out(word) for word in text.split(" "))


def _email_out(word: str) -> str:
    """Return what follows the e-mail address in a word ("jane@x.org>," gives ">,")."""
    at = word.find("@", 1)
    dots = [dot.start() for dot in _DOT_WORD.finditer(word, at + 2)] if at > 0 else []
    if not dots:
        return word
    return word[_WORD_RUN.match(word, dots[-1] + 1).end() :]


def _undoubled(name: str) -> str:
    """Return a name printed twice in a row once ("Sidney Wiltgen Sidney Wiltgen")."""
    words = name.split()
    half = len(words) // 2
    return " ".join(words[:half]) if half and words[:half] == words[half:] else name


def _plausible(name: str, *, printed: bool) -> bool:
    """Tell whether a cleaned string can be a name: short, capitalised words, some letters."""
    words = name.split()
    if not words or len(words) > _MAX_WORDS or len(name) > _MAX_CHARS:
        return False
    if name.lower().startswith("http") or any(c.isdigit() for c in name):
        return False
    if not any(c.isalpha() for c in name):
        return False
    # A declared name may be an agency's lower-case short name ("dpa"); otherwise, in scripts
    # with case, every word but a particle is capitalised.
    if not printed and len(words) == 1:
        return True
    return all(w[0].isupper() or not w[0].islower() or w in _PARTICLES for w in words)


def _site_like(name: str, own: set[str]) -> bool:
    """Tell whether a name is the site's own name or address ("mdr.de", "TIMESOFINDIA COM")."""
    if re.search(r"\.\w{2,}$", name) and " " not in name:
        return True
    folded = _fold(name)
    return any(
        folded == site or (folded.startswith(site) and len(folded) - len(site) <= 3) for site in own
    )


def _fold(text: str) -> str:
    """Return text casefolded without spaces or punctuation, to compare names with site names."""
    return re.sub(r"\W", "", text.casefold())
