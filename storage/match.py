"""Turn any user text into a safe FTS5 MATCH expression of quoted terms: ANDed, A OR B either.

User words never reach FTS5's query syntax unquoted. A "quoted phrase" stays a phrase; every
other chunk is a term on its words whose last word takes its inflected forms (`wordforms`); an
upper-case OR joins the terms on either side into one (either may match), and a -word leaves out
the articles that hold it (`excluded`, which `storage.search` applies with NOT):
`build_match` writes that as a prefix of the start the forms share, `storage.search` spells the
forms out. The index's unicode61 tokenizer folds case and Latin diacritics but keeps ё apart
from е, so a term also tries the other spelling.

    ValueError("empty query")     the text holds no word to search for
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .wordforms import word_base

MAX_TERMS = 12  # More terms ANDed add nothing but cost; the rest of a pasted text is ignored.

_PHRASE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"[^\W_]+")  # unicode61's token characters: letters and digits
# A -word ("sanctions -russia"); a hyphen inside a word ("военно-технический") joins its parts.
_EXCLUDED = re.compile(r"-[^\W_]")
_POSSESSIVE = re.compile(r"(?<=[^\W_])['’]s\b", re.IGNORECASE)

# A term's alternatives (ORed): (words joined by spaces, whether the last word takes its forms).
Term = tuple[tuple[str, bool], ...]


def build_match(query: str) -> str:
    """Return a safe FTS5 MATCH expression: every term quoted, phrases kept, terms ANDed."""
    return render(terms(query))


def terms(query: str) -> list[Term]:
    """Return the query's terms (ANDed), each a tuple of alternatives (ORed): an upper-case OR
    between two terms makes them one term ("санкции OR sanctions"), as in a web search."""
    return parse(query)[0]


def excluded(query: str) -> Term:
    """Return the alternatives the query's -words exclude (an article with any is left out)."""
    return parse(query)[1]


def parse(query: str) -> tuple[list[Term], Term]:
    """Return the query's terms and the alternatives it excludes; refuse a query with no term."""
    found: list[Term] = []
    unwanted: list[Term] = []
    either = False  # an OR came after the last term
    for kind, term in _chunks(query.replace("\x00", " ")):
        if kind == "not":
            unwanted.append(term)
        elif kind == "or":
            either = bool(found)  # an OR without two sides (first or last) is left out
            continue
        elif either:
            # Capped as terms are: a pasted list joined by OR must not cost more than one ANDed.
            found[-1] = tuple(dict.fromkeys((*found[-1], *term)))[:MAX_TERMS]
        else:
            found.append(term)
        either = False
    unique = list(dict.fromkeys(found))[:MAX_TERMS]
    if not unique:
        raise ValueError("empty query")
    # Capped by word, as ANDed terms are: a word's ё/е spellings count once, none is cut off.
    words = list(dict.fromkeys(unwanted))[:MAX_TERMS]
    return unique, tuple(dict.fromkeys(alt for word in words for alt in word))


def render(found: list[Term]) -> str:
    """Return terms as an FTS5 expression: alternatives ORed in parentheses, terms ANDed.

    An alternative whose last word takes its forms becomes a prefix query on the start they share.
    """
    groups = []
    for term in found:
        alternatives = list(
            dict.fromkeys(
                _quote(_shared_start(text)) + "*" if forms else _quote(text) for text, forms in term
            )
        )
        groups.append(
            alternatives[0] if len(alternatives) == 1 else f"({' OR '.join(alternatives)})"
        )
    return " AND ".join(groups)


def _chunks(text: str) -> Iterator[tuple[str, Term]]:
    """Yield the text's terms in order as ("term", term), a -word or -"phrase" as ("not", term),
    and a lone OR outside quotes as ("or", ())."""
    left_out = False  # a lone "-" right before a "quoted phrase" leaves the phrase out
    for phrase, loose in _pieces(text):
        if phrase is not None:
            if words := _words(phrase):
                yield "not" if left_out else "term", tuple((v, False) for v in _yo_variants(words))
            left_out = False
            continue
        # `sanctions -"collective security"`: taken as a phrase to find, it found the opposite.
        left_out = loose.split()[-1:] == ["-"] and loose.endswith("-")
        for chunk in loose.split():
            if chunk == "OR":
                yield "or", ()
            elif _EXCLUDED.match(chunk) and (term := _loose_term(chunk)):
                yield "not", term
            elif term := _loose_term(chunk):
                yield "term", term


def _pieces(text: str) -> list[tuple[str | None, str]]:
    """Split text into (phrase, None) for "quoted" parts and (None, loose) for the rest."""
    pieces: list[tuple[str | None, str]] = []
    last = 0
    for found in _PHRASE.finditer(text):
        pieces.append((None, text[last : found.start()]))
        pieces.append((found.group(1), ""))
        last = found.end()
    # An unbalanced quote is just punctuation: the rest is loose words.
    pieces.append((None, text[last:]))
    return pieces


def _words(text: str) -> list[str]:
    """Return the words of text as the index sees them (letters and digits, lower case)."""
    # lower(), as unicode61 does: casefold() would turn "ß" into "ss", which the index never holds.
    return [w.lower() for w in _WORD.findall(_POSSESSIVE.sub("", text))]


def _loose_term(chunk: str) -> Term | None:
    """Return one unquoted chunk as a term whose last word takes its forms (a long word only)."""
    words = _words(chunk)
    if not words:
        return None
    # "военно-технический", "COVID-19": the index holds the parts as adjacent tokens.
    last = words[-1]
    forms = len(last) > 3 and not last.isdigit()  # "UN", "war", "2021" stay whole words
    return tuple((v, forms) for v in _yo_variants(words))


def _shared_start(text: str) -> str:
    """Return words with the last one cut to the start its forms share."""
    head, space, last = text.rpartition(" ")
    return head + space + (word_base(last) or last)


def _yo_variants(words: list[str]) -> list[str]:
    """Return the words (joined) with ё and е swapped where a text may spell them either way.

    unicode61 does not fold ё into е (remove_diacritics covers Latin letters only), and Russian
    texts write "ещё" or "еще" as they please: a term with ё also looks for е, and a term with
    one or two е also looks for ё in each of those places.
    """
    text = " ".join(words)
    variants = [text]
    if "ё" in text:
        variants.append(text.replace("ё", "е"))
    elif 0 < text.count("е") <= 2:
        variants += [text[:i] + "ё" + text[i + 1 :] for i, c in enumerate(text) if c == "е"]
    return variants


def _quote(text: str) -> str:
    """Return text as an FTS5 string (double quotes doubled)."""
    return '"' + text.replace('"', '""') + '"' if text else ""
