"""Telegram's HTML parse mode as the fake Bot API applies it: text, entities and errors."""

import pytest

from tests.fakes.telegram import HtmlParseError, parse_html


@pytest.mark.parametrize(("markup", "text", "entities"), [
    ("😀 <b>x</b>", "😀 x", [{"type": "bold", "offset": 3, "length": 1}]),
    ('<pre><code class="language-python">a=1</code></pre>', "a=1",
     [{"type": "pre", "offset": 0, "length": 3, "language": "python"}]),
    ('<span class="tg-spoiler">s</span><blockquote expandable>q</blockquote>', "sq",
     [{"type": "spoiler", "offset": 0, "length": 1}, {"type": "expandable_blockquote", "offset": 1, "length": 1}]),
    ("&lt;&#60;&#x3C;&quot;&gt;", '<<<">', []),
    ("<b>a<i>b</i></b>", "ab", [{"type": "bold", "offset": 0, "length": 2}, {"type": "italic", "offset": 1, "length": 1}]),
])  # fmt: skip
def test_html_parser_text_and_entities(markup, text, entities):
    parsed = parse_html(markup)
    assert (parsed.text, list(parsed.entities)) == (text, entities)


@pytest.mark.parametrize(("markup", "error"), [
    ("é<p>", 'Unsupported start tag "p" at byte offset 2'),
    ("&nbsp;", 'Unescaped "&" (write "&amp;") at byte offset 0'),
    ("</b>", "Unexpected end tag at byte offset 0"),
    ("<b", "Unclosed start tag at byte offset 0"),
    ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ('<tg-emoji emoji-id="x">👍</tg-emoji>', "Invalid custom emoji identifier specified"),
])  # fmt: skip
def test_html_parser_errors(markup, error):
    with pytest.raises(HtmlParseError) as info:
        parse_html(markup)
    assert str(info.value) == error


def test_html_parser_can_be_as_lenient_as_telegram_with_ampersands():
    assert parse_html("AT&T &nbsp;", strict=False).text == "AT&T &nbsp;"
