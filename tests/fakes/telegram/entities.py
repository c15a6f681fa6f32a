"""Telegram's HTML parse mode, as the fake Bot API applies it.

A port of tdlib's ``parse_html`` (td/telegram/MessageEntity.cpp): the same tag whitelist, the same
attribute rules and the same error texts, byte offsets counted in UTF-8 like tdlib. The Bot API
wraps every error as ``Bad Request: can't parse entities: <text>``.

One deliberate difference: with ``strict=True`` (the default) a bare ``&`` that starts no entity is
an error. Telegram keeps it literally; our renderer promises to escape every scraped string, and
the fake is where a missed escape should show up.

    HtmlParseError(ValueError)
"""

from __future__ import annotations

import dataclasses

_TAGS = frozenset(
    "a b strong i em s strike del u ins tg-spoiler tg-emoji span pre code blockquote".split()
)
_SIMPLE = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic",
    "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "span": "spoiler",
}  # fmt: skip
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACE = " \t\r\n\v"  # tdlib's is_space; "" (end of text) counts as space too, like its NUL
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_DEC = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")


class HtmlParseError(ValueError):
    """Markup Telegram would refuse; the message is tdlib's wording."""


@dataclasses.dataclass(frozen=True, slots=True)
class ParsedText:
    """Text as Telegram shows it plus Bot API entity dicts (offsets in UTF-16 units)."""

    text: str
    entities: tuple[dict, ...] = ()


def utf16_len(text: str) -> int:
    """Count UTF-16 code units, the unit of Telegram's length limits and offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def parse_html(markup: str, *, strict: bool = True) -> ParsedText:
    """Parse ``markup`` like Telegram's HTML parse mode or raise HtmlParseError."""
    return _Parser(markup, strict=strict).run()


def _decode_entity(src: str, pos: int) -> tuple[str | None, int]:
    """Decode the character reference at ``src[pos] == '&'`` the way tdlib does."""
    end = pos + 1
    if src[end : end + 1] == "#":
        end += 1
        base, digits = (16, _HEX) if src[end : end + 1] == "x" else (10, _DEC)
        if base == 16:
            end += 1
        start = end
        while src[end : end + 1] and src[end] in digits:
            end += 1
        code = int(src[start:end], base) if end > start else 0
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None, pos
        char = chr(code)
    else:
        while src[end : end + 1].isascii() and src[end : end + 1].isalpha():
            end += 1
        char = _NAMED.get(src[pos + 1 : end])
        if char is None:
            return None, pos
    return char, end + (src[end : end + 1] == ";")


class _Parser:
    """One pass over the markup, mirroring tdlib's state machine."""

    def __init__(self, src: str, *, strict: bool) -> None:
        self.src, self.strict = src, strict
        self.i = 0
        self.out: list[str] = []
        self.utf16 = 0
        self.stack: list[tuple[str, str, int, int]] = []  # tag, argument, utf16 offset, out index
        self.entities: list[dict] = []

    def at(self, i: int) -> str:
        return self.src[i : i + 1]

    def error(self, message: str, pos: int | None = None) -> HtmlParseError:
        if pos is not None:
            message += f" at byte offset {self.byte(pos)}"
        return HtmlParseError(message)

    def byte(self, pos: int) -> int:
        """Turn a string index into tdlib's UTF-8 byte offset."""
        return len(self.src[:pos].encode("utf-8", "surrogatepass"))

    def emit(self, char: str) -> None:
        self.out.append(char)
        self.utf16 += 2 if ord(char) > 0xFFFF else 1

    def run(self) -> ParsedText:
        while self.i < len(self.src):
            char = self.src[self.i]
            if char == "&":
                self.ampersand()
            elif char != "<":
                self.emit(char)
                self.i += 1
            elif self.at(self.i + 1) == "/":
                self.end_tag()
            else:
                self.start_tag()
        if self.stack:
            tag = self.stack[-1][0]
            raise self.error(f'Can\'t find end tag corresponding to start tag "{tag}"')
        text = "".join(self.out)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise self.error(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            ) from None
        for entity in self.entities:
            entity.pop("_language", None)
        ordered = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))  # outer first
        return ParsedText(text, tuple(ordered))

    def ampersand(self) -> None:
        char, end = _decode_entity(self.src, self.i)
        if char is None:
            if self.strict:
                raise self.error('Unescaped "&" (write "&amp;")', self.i)
            char, end = "&", self.i + 1
        self.emit(char)
        self.i = end

    def start_tag(self) -> None:
        begin = self.i
        i = begin + 1
        while self.at(i) not in _SPACE and self.at(i) != ">":
            i += 1
        if not self.at(i):
            raise self.error("Unclosed start tag", begin)
        tag = self.src[begin + 1 : i].lower()
        if tag not in _TAGS:
            raise self.error(f'Unsupported start tag "{tag}"', begin)
        argument = ""
        while self.at(i) != ">":
            i, argument = self.attribute(tag, begin, i, argument)
        if tag == "span" and argument != "spoiler":
            raise self.error('Tag "span" must have class "tg-spoiler"', begin)
        self.stack.append((tag, argument, self.utf16, len(self.out)))
        self.i = i + 1

    def attribute(self, tag: str, begin: int, i: int, argument: str) -> tuple[int, str]:
        """Read one attribute from ``i``; return the new position and the tag's argument."""
        while self.at(i) and self.at(i) in _SPACE:
            i += 1
        if self.at(i) == ">":
            return i, argument
        name_begin = i
        while self.at(i) not in _SPACE and self.at(i) not in "=>/\"'":
            i += 1
        name = self.src[name_begin:i]
        if not name:
            raise self.error(f'Empty attribute name in the tag "{tag}"', begin)
        while self.at(i) and self.at(i) in _SPACE:
            i += 1
        if self.at(i) != "=":
            if not self.at(i):
                raise self.error(f'Unclosed start tag "{tag}"', begin)
            return i, "1" if (tag, name) == ("blockquote", "expandable") else argument
        i += 1
        while self.at(i) and self.at(i) in _SPACE:
            i += 1
        if not self.at(i):
            raise self.error(f'Unclosed start tag "{tag}"', begin)
        i, value = self.attribute_value(i)
        if not self.at(i):
            raise self.error("Unclosed start tag", begin)
        return i, _tag_argument(tag, name, value, argument)

    def attribute_value(self, i: int) -> tuple[int, str]:
        """Read a quoted string or a bare name token starting at ``i``."""
        quote = self.at(i)
        if quote not in ("'", '"'):
            start = i
            while self.at(i) and (self.at(i) in _ALNUM or self.at(i) in ".-"):
                i += 1
            if self.at(i) not in _SPACE and self.at(i) != ">":
                raise self.error("Unexpected end of name token", start)
            return i, self.src[start:i].lower()
        i += 1
        chars: list[str] = []
        while self.at(i) and self.at(i) != quote:
            char, end = (None, i) if self.at(i) != "&" else _decode_entity(self.src, i)
            if char is None and self.at(i) == "&" and self.strict:
                raise self.error('Unescaped "&" (write "&amp;")', i)
            chars.append(char or self.at(i))
            i = end if char else i + 1
        return i + (self.at(i) == quote), "".join(chars)

    def end_tag(self) -> None:
        begin, i = self.i, self.i + 2
        if not self.stack:
            raise self.error("Unexpected end tag", begin)
        while self.at(i) not in _SPACE and self.at(i) != ">":
            i += 1
        name = self.src[begin + 2 : i].lower()
        while self.at(i) and self.at(i) in _SPACE:
            i += 1
        if self.at(i) != ">":
            raise self.error("Unclosed end tag", begin)
        tag, argument, offset, out_index = self.stack.pop()
        if name and name != tag:
            raise self.error(
                f"Unmatched end tag at byte offset {self.byte(begin)}, "
                f'expected "</{tag}>", found "</{name}>"'
            )
        if self.utf16 > offset:  # tdlib drops empty entities silently
            self.add_entity(tag, argument, offset, "".join(self.out[out_index:]))
        self.i = i + 1

    def add_entity(self, tag: str, argument: str, offset: int, inner: str) -> None:
        span = {"offset": offset, "length": self.utf16 - offset}
        last = self.entities[-1] if self.entities else {}
        same_span = last.get("offset") == offset and last.get("length") == span["length"]
        if tag in _SIMPLE:
            self.entities.append({"type": _SIMPLE[tag], **span})
        elif tag == "tg-emoji":
            if not argument.isdigit() or int(argument) == 0:
                raise self.error("Invalid custom emoji identifier specified")
            self.entities.append({"type": "custom_emoji", **span, "custom_emoji_id": argument})
        elif tag == "a":
            if argument or inner:
                self.entities.append({"type": "text_link", **span, "url": argument or inner})
        elif tag == "blockquote":
            kind = "expandable_blockquote" if argument else "blockquote"
            self.entities.append({"type": kind, **span})
        elif tag == "pre" and same_span and last["type"] == "code" and last.get("_language"):
            last.update(type="pre", language=last.pop("_language"))
        elif tag == "code" and same_span and last["type"] == "pre" and argument:
            last["language"] = argument  # <code class="language-x"> right inside <pre>
        else:
            self.entities.append({"type": tag, **span, "_language": argument})


def _tag_argument(tag: str, name: str, value: str, argument: str) -> str:
    """Keep the one attribute each tag uses, as tdlib does; ignore the rest."""
    if tag == "a" and name == "href":
        return value
    if tag == "code" and name == "class" and value.startswith("language-"):
        return value[len("language-") :]
    if tag == "span" and name == "class" and value.startswith("tg-"):
        return value[len("tg-") :]
    if tag == "tg-emoji" and name == "emoji-id":
        return value
    if tag == "blockquote" and name == "expandable":
        return "1"
    return argument
