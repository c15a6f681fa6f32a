"""Pure, linear clean-ups of hostile markup before a parser sees it.

Each repairs what made a library slow or crash on a few bytes, and leaves a real page as it was:

- a start tag with thousands of attributes: libxml2's HTML tree building and feedparser's
  strict parser both spend time quadratic in one element's attributes (100k attributes in
  1 MB took minutes); only the first 256 are kept.
- a character reference to a surrogate or past U+10FFFF (`&#xD800;`, `&#x110000;`), which
  feedparser turns into an exception; it becomes U+FFFD.
- an XML declaration with a non-ASCII byte, which feedparser decodes as UTF-8 and fails on,
  and the rest of its first line, which feedparser searches for `encoding=` from the end (a
  one-line feed repeating it was quadratic): the declaration ends its line.

Every pattern here is possessive or bounded: each byte is looked at a fixed number of times.
"""

from __future__ import annotations

import re
from itertools import islice

MAX_ATTRIBUTES = 256
# A start tag long enough to hold more attributes than that (two characters at least each).
# A tag left open before the next one counts too: libxml2 reads its attributes all the same.
_LONG = 2 * MAX_ATTRIBUTES
_LONG_TAG = rf"<([A-Za-z][^\s<>/]{{0,64}}+)([^<>]{{{_LONG},}}+)(>|(?=<))"
_ATTRIBUTE = r"""[^\s"'<>/=]++(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s"'<>]++))?+"""
_ATTRIBUTE_TEXT = re.compile(_ATTRIBUTE)
# A tag's name as _LONG_TAG reads it: its first letter, then at most 64 more characters.
_NAME_TEXT = re.compile(r"[^\s<>/]{0,64}+")
_LONG_TAG_BYTES = re.compile(_LONG_TAG.encode())
_ATTRIBUTE_BYTES = re.compile(_ATTRIBUTE.encode())
# A numeric character reference, maybe escaped once more (a feed's HTML title carries
# "&amp;#xD800;"), maybe without its semicolon (feedparser's HTML reader takes those too).
_CHARREF = re.compile(rb"&(amp;)?+#(?:[xX]([0-9A-Fa-f]++)|([0-9]++));?+")
_DECLARATION = re.compile(rb"(\xef\xbb\xbf)?+(\s{0,64}+<\?[^<>]{0,512}+>?+)")


def cap_attributes(html: str) -> str:
    """Return the markup with no start tag holding more than MAX_ATTRIBUTES attributes.

    The same as substituting _LONG_TAG, found faster: the page is cut at each "<" in C, and
    only a piece that opens with a letter and runs 512 characters without a ">" is read
    further (regular expressions walked every tag character by character, 1.4 ms a page).
    """
    if len(html) <= _LONG:
        return html
    parts: list[str] = []
    done = position = 0  # copied up to `done`; `position` is where the next piece starts
    for piece in html.split("<"):
        start, position = position, position + len(piece) + 1
        if start == 0 or len(piece) <= _LONG or not _is_letter(piece[:1]):
            continue  # the text before the first tag, or a tag too short to hold so many
        tag = _long_tag(piece, last=position > len(html))
        if tag is None:
            continue
        name, rest, end = tag
        capped = _capped(name, rest, end)
        if capped is not None:
            parts += (html[done : start - 1], capped)
            done = start + len(name) + len(rest) + len(end)
    if not parts:
        return html
    parts.append(html[done:])
    return "".join(parts)


def _is_letter(char: str) -> bool:
    """Tell whether a character is an ASCII letter, as a tag's name opens."""
    return char.isascii() and char.isalpha()


def _long_tag(piece: str, *, last: bool) -> tuple[str, str, str] | None:
    """Return (name, attributes, ">" or "") of a start tag with 512 characters of attributes.

    `piece` is the text after a "<" up to the next "<" (`last`: up to the page's end, where a
    tag left open is no tag). As _LONG_TAG reads it: the name is at most 65 characters, the
    attributes run to the first ">" or to the next tag.
    """
    close = piece.find(">")
    if close == -1 and last:
        return None
    stop = len(piece) if close == -1 else close
    named = _NAME_TEXT.match(piece, 1)
    rest = piece[named.end() : stop] if named else ""
    if len(rest) < _LONG:
        return None
    return piece[: named.end()], rest, "" if close == -1 else ">"


def cap_attributes_bytes(content: bytes) -> bytes:
    """Return the encoded markup with no start tag holding more than MAX_ATTRIBUTES attributes."""
    if len(content) <= _LONG:
        return content
    return _LONG_TAG_BYTES.sub(_capped_bytes, content)


def _capped(name: str, rest: str, end: str) -> str | None:
    """Return a long start tag with its first MAX_ATTRIBUTES attributes (None: it has no more)."""
    kept = [a.group(0) for a in islice(_ATTRIBUTE_TEXT.finditer(rest), MAX_ATTRIBUTES + 1)]
    if len(kept) <= MAX_ATTRIBUTES:
        return None
    close = "/" if rest.rstrip().endswith("/") else ""
    return f"<{name} {' '.join(kept[:MAX_ATTRIBUTES])}{close}{end}"


def _capped_bytes(match: re.Match[bytes]) -> bytes:
    """Return one long encoded start tag with its first MAX_ATTRIBUTES attributes."""
    name, rest, end = match.groups()
    kept = [a.group(0) for a in islice(_ATTRIBUTE_BYTES.finditer(rest), MAX_ATTRIBUTES + 1)]
    if len(kept) <= MAX_ATTRIBUTES:
        return match.group(0)
    close = b"/" if rest.rstrip().endswith(b"/") else b""
    return b"<" + name + b" " + b" ".join(kept[:MAX_ATTRIBUTES]) + close + end


def fix_charrefs(content: bytes) -> bytes:
    """Return the document with references to no character (surrogates, past U+10FFFF) as U+FFFD."""
    if b"&" not in content:
        return content
    return _CHARREF.sub(_charref, content)


def _charref(match: re.Match[bytes]) -> bytes:
    """Return a character reference unchanged when it names a character, else U+FFFD's."""
    escaped, hexadecimal, decimal = match.groups()
    digits = (hexadecimal or decimal).lstrip(b"0") or b"0"
    # Past eight digits no reference names a character (and int() of 5,000 digits refuses).
    code = int(digits, 16 if hexadecimal else 10) if len(digits) <= 8 else -1
    if 0 < code < 0xD800 or 0xDFFF < code <= 0x10FFFF:
        return match.group(0)
    return b"&" + (escaped or b"") + b"#xFFFD;"


def fix_declaration(content: bytes) -> bytes:
    """Return the document with its leading declaration (any processing instruction) ASCII
    only and alone on its line."""
    match = _DECLARATION.match(content)
    if match is None:
        return content
    declaration = match.group(2)
    if not declaration.isascii():
        declaration = bytes(b for b in declaration if b < 0x80)
    rest = content[match.end() :]
    newline = b"" if rest.startswith((b"\n", b"\r\n")) else b"\n"
    return (match.group(1) or b"") + declaration + newline + rest
