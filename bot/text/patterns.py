"""Compile taxonomy phrases and operators' regexes so that no pattern can stall a poll.

Phrases are escaped words, compiled with ``re``. An operator's regex is compiled with the
``regex`` module, whose matching takes a timeout, after a small scanner of the pattern's text
refuses nested quantifiers (the shape that backtracks catastrophically) and patterns that can
match an empty string. Errors are ValueError with a message for the key path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import regex

_WIDE = 10  # a repeat allowing more than this many rounds counts as unbounded
_SEPARATORS = re.compile(r"[\s\-]+")
_GAP = r"[\s-]+"  # what a space or hyphen inside a phrase matches in the text
_QUANTIFIER = re.compile(r"(?:[*+?]|\{(\d*)(?:(,)(\d*))?\})[?+]?")
_ZERO_WIDTH_ESCAPES = set("bBAZzGKmM")
# Case pairs that lower() keeps apart but re.IGNORECASE treats as one letter (s/ſ, i/ı, σ/ς,
# Cyrillic and Greek variants...), from Unicode's case data; tests check the table against re
# over the whole Basic Multilingual Plane. The dot lower() leaves on İ is dropped too.
_FOLD_MAP = str.maketrans(
    {
        0x0131: 0x0069, 0x017F: 0x0073, 0x03B9: 0x0345, 0x03BC: 0x00B5, 0x03C3: 0x03C2,
        0x03D0: 0x03B2, 0x03D1: 0x03B8, 0x03D5: 0x03C6, 0x03D6: 0x03C0, 0x03F0: 0x03BA,
        0x03F1: 0x03C1, 0x03F5: 0x03B5, 0x1C80: 0x0432, 0x1C81: 0x0434, 0x1C82: 0x043E,
        0x1C83: 0x0441, 0x1C84: 0x0442, 0x1C85: 0x0442, 0x1C86: 0x044A, 0x1C87: 0x0463,
        0x1E9B: 0x1E61, 0x1FBE: 0x0345, 0x1FD3: 0x0390, 0x1FE3: 0x03B0, 0xA64B: 0x1C88,
        0xFB06: 0xFB05, 0x0307: None,
    }
)  # fmt: skip
# Most texts hold none of these; str.translate with a table is slow on non-ASCII text (a dict
# look-up per character), so the folds run only when one of their characters is there.
_FOLD_CHARS = re.compile("[" + "".join(map(chr, _FOLD_MAP)) + "]")
_REPLACEMENTS = (
    ("ё", "е"),
    ("Ё", "Е"),
    ("\u00ad", ""),
    *((dash, "-") for dash in "\u2010\u2011\u2012\u2013\u2014"),
)


def normalize(text: str) -> str:
    """Fold ё into е, unify dashes and collapse whitespace; case is kept for acronyms."""
    for old, new in _REPLACEMENTS:
        if old in text:
            text = text.replace(old, new)
    return " ".join(text.split())


def fold(text: str) -> str:
    """Lower-case text the way re.IGNORECASE compares it, so a substring test agrees with re."""
    text = text.lower()
    return text.translate(_FOLD_MAP) if _FOLD_CHARS.search(text) else text


def phrase_words(phrase: str) -> list[str]:
    """Split a phrase into its words, refusing an empty one."""
    words = [w for w in _SEPARATORS.split(normalize(phrase)) if w]
    if not words:
        raise ValueError("empty phrase")
    return words


def phrase_regex(phrase: str) -> tuple[str, int]:
    """Return the regex (and its flags) of a phrase whose every word matches a word's start."""
    words = phrase_words(phrase)
    # An all-capitals phrase is an acronym: exact case, whole word, so "UN" never
    # matches "un-" or "UNESCO", and "ЕС" never matches the syllable "ес".
    if phrase.upper() == phrase and phrase.lower() != phrase:
        return rf"(?<!\w){_GAP.join(map(re.escape, words))}(?!\w)", 0
    # Otherwise each word is a stem: "государственн границ" finds "государственной границы".
    body = (r"\w*" + _GAP).join(map(re.escape, words))
    return rf"(?<!\w){body}", re.IGNORECASE


def compile_regex(pattern: str, *, allow_empty: bool = False) -> regex.Pattern[str]:
    """Compile an operator's regex, refusing ones that could hang the matcher.

    The config's own regexes (link patterns, datelines, drop_lines, url_rewrites) go through the
    same check; a line filter or a URL rewrite may `allow_empty`, a topic rule may not.
    """
    try:
        compiled = regex.compile(pattern, regex.IGNORECASE | regex.VERSION0)
    except regex.error as exc:
        raise ValueError(f"not a valid regular expression ({exc})") from exc
    if compiled.flags & regex.VERBOSE:
        raise ValueError("verbose (?x) patterns are not supported; write the regex on one line")
    shape = _Scanner(pattern).sequence()
    if shape.nested:
        raise ValueError(
            "nested quantifiers such as (a+)+ can backtrack catastrophically;"
            " use one quantifier or a bounded inner repeat"
        )
    if shape.min_width == 0 and not allow_empty:
        raise ValueError("the regular expression can match an empty string")
    return compiled


@dataclass(frozen=True, slots=True)
class _Shape:
    """What the vetting needs to know of a piece of pattern."""

    min_width: int  # the fewest characters a match of it consumes
    repeats: bool  # it holds a quantifier with a variable count
    nested: bool  # a variable repeat sits inside a wide variable repeat


class _Scanner:
    """Read a valid pattern's text left to right into the shape of its pieces."""

    def __init__(self, pattern: str) -> None:
        self.text, self.at = pattern, 0

    def sequence(self) -> _Shape:
        """Scan alternatives up to a closing parenthesis or the end."""
        branches, width, repeats, nested = [], 0, False, False
        while self.at < len(self.text) and self.text[self.at] != ")":
            if self.text[self.at] == "|":
                self.at += 1
                branches.append(width)
                width = 0
                continue
            atom = self._quantified(self._atom())
            width += atom.min_width
            repeats, nested = repeats or atom.repeats, nested or atom.nested
        return _Shape(min(branches + [width]), repeats, nested)

    def _quantified(self, atom: _Shape) -> _Shape:
        """Apply a quantifier that follows an atom, if there is one."""
        found = _QUANTIFIER.match(self.text, self.at)
        if not found:
            return atom
        self.at = found.end()
        low, high = _bounds(found)
        variable = high is None or high > low
        wide = variable and (high is None or high > _WIDE)
        nested = atom.nested or (wide and atom.repeats)
        return _Shape(atom.min_width * low, atom.repeats or variable, nested)

    def _atom(self) -> _Shape:
        """Scan one atom: a group, a class, an escape or a character."""
        char = self.text[self.at]
        self.at += 1
        if char == "(":
            return self._group()
        if char == "[":
            self._skip_class()
            return _Shape(1, False, False)
        if char == "\\":
            return self._escape()
        return _Shape(0 if char in "^$" else 1, False, False)

    def _group(self) -> _Shape:
        """Scan a group after its "("; lookarounds, flags and comments consume nothing."""
        head = self.text[self.at : self.at + 4]
        if head.startswith("?#"):
            self.at = self.text.index(")", self.at) + 1
            return _Shape(0, False, False)
        zero = head.startswith(("?=", "?!", "?<=", "?<!", "?P=", "?(")) or _is_flag_group(head)
        if head.startswith("?"):
            self.at = _group_body_start(self.text, self.at)
        inner = self.sequence()
        self.at += 1  # the closing parenthesis
        return _Shape(0 if zero else inner.min_width, inner.repeats, inner.nested)

    def _skip_class(self) -> None:
        """Move past a character class, whose "]" may come first or be escaped."""
        at = self.at + (self.text[self.at] == "^")
        at += self.text[at] == "]"
        while self.text[at] != "]":
            at += 2 if self.text[at] == "\\" else 1
        self.at = at + 1

    def _escape(self) -> _Shape:
        """Scan an escape: anchors and back-references may consume nothing."""
        char = self.text[self.at]
        self.at += 1
        if char.isdigit() or char == "g":
            while self.at < len(self.text) and (
                self.text[self.at].isalnum() or self.text[self.at] in "<>"
            ):
                self.at += 1
            return _Shape(0, False, False)
        if char in "pPN" and self.text.startswith("{", self.at):
            self.at = self.text.index("}", self.at) + 1
        return _Shape(0 if char in _ZERO_WIDTH_ESCAPES else 1, False, False)


def _bounds(found: re.Match[str]) -> tuple[int, int | None]:
    """Return the least and most rounds a quantifier allows (None: no limit)."""
    symbol = found.group()[0]
    if symbol != "{":
        return {"*": (0, None), "+": (1, None), "?": (0, 1)}[symbol]
    low, comma, high = found.groups()
    least = int(low or 0)
    return least, (int(high) if high else None) if comma else least


def _is_flag_group(head: str) -> bool:
    """Tell whether a group is an inline flag setting such as (?i) or (?-i:...)."""
    return bool(re.match(r"\?[a-zA-Z-]+\)", head))


def _group_body_start(text: str, at: int) -> int:
    """Return where a group's content starts after its "(?...:" or "(?P<name>" head."""
    found = re.compile(r"\?(?:P?<[^>]*>|[a-zA-Z-]*[:)]|[=!>|]|<[=!]|P=\w+|\(\w+\))").match(text, at)
    if not found:
        return at + 1
    end = found.end()
    return end - 1 if text[end - 1] == ")" else end


def regex_needles(compiled: regex.Pattern[str]) -> tuple[str, ...]:
    """Return folded words one of which every match of an operator's regex contains, or ()."""
    # A literal prefix, or a group of literal alternatives, read conservatively: anything this
    # reader is unsure of yields (), and the regex simply runs on every text. Full case folding
    # ("ss" matches "ß") and fuzzy matching ("{e<=1}") let a match differ from its literal.
    if compiled.flags & regex.FULLCASE or _FUZZY.search(compiled.pattern):
        return ()
    found = _leading_literals(compiled.pattern)
    return tuple(dict.fromkeys(fold(word) for word in found)) if found else ()


_LETTERS = re.compile(r"[a-zA-Zа-яА-Я]+")
_FUZZY = re.compile(r"\{[^\d,}]")
_GROUP_HEAD = re.compile(r"\((?:\?(?:-?i)?:|(?!\?))")  # (  (?:  (?i:  (?-i:


def _leading_literals(piece: str) -> list[str] | None:
    """Return the literals one of which starts every match of a piece of pattern, or None."""
    branches = _branches(piece)
    if branches is None:
        return None
    words: list[str] = []
    for text in branches:
        while text.startswith("\\b"):  # a word boundary consumes nothing
            text = text[2:]
        head = _GROUP_HEAD.match(text)
        got = _group_literals(text, head.end()) if head else _run(text)
        if not got:
            return None
        words += got
    return words or None


def _group_literals(text: str, start: int) -> list[str] | None:
    """Return the leading literals of a pattern that opens with a group that must match."""
    end = _closing(text)
    if end is None or text[end + 1 : end + 2] in ("?", "*", "{"):
        return None  # a group that may match nothing says nothing of the text
    return _leading_literals(text[start:end])


def _run(text: str) -> list[str] | None:
    """Return the run of plain letters a pattern opens with, if it is at least two long."""
    found = _LETTERS.match(text)
    if not found:
        return None
    word = found.group()
    if text[found.end() : found.end() + 1] in ("?", "*", "{"):
        word = word[:-1]  # the last letter may be absent
    return [word] if len(word) >= 2 else None


def _branches(piece: str) -> list[str] | None:
    """Split a piece at its top-level "|"; None if its brackets do not balance."""
    branches, depth, start, at = [], 0, 0, 0
    while at < len(piece):
        char = piece[at]
        if char == "\\":
            at += 2
            continue
        if char == "[":
            at = _class_end(piece, at + 1)
            if at < 0:
                return None
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "|" and depth == 0:
            branches.append(piece[start:at])
            start = at + 1
        at += 1
    return None if depth else [*branches, piece[start:]]


def _closing(text: str) -> int | None:
    """Return the index of the ")" that closes the group opening text, or None."""
    depth, at = 0, 0
    while at < len(text):
        char = text[at]
        if char == "\\":
            at += 2
            continue
        if char == "[":
            at = _class_end(text, at + 1)
            if at < 0:
                return None
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return at
        at += 1
    return None


def _class_end(text: str, at: int) -> int:
    """Return the index after the "]" closing a class whose body starts at at, or -1."""
    at += text.startswith("^", at)
    at += text.startswith("]", at)
    while at < len(text) and text[at] != "]":
        at += 2 if text[at] == "\\" else 1
    return at + 1 if at < len(text) else -1
