"""Every page a browser shows is read: synthetic pages reproducing the shapes of real ones.

Each page below is written by hand to reproduce a shape seen on real sites (PHP warnings printed
before `<html>`, XHTML with an XML declaration, a legacy encoding declared only there, no `<html>`
at all, frames, a story hidden behind "read more"); none is a saved copy of a real page.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scrapers import NotHTML, extract_article
from scrapers.encoding import decode_html

NOW = datetime(2026, 1, 1, tzinfo=UTC)
STORY = (
    "The ministry said on Monday that the talks with its neighbours would continue next week in "
    "the capital, where the delegations are expected to sign a protocol on border crossings."
)
MORE = (
    "According to the statement, the protocol covers freight traffic, the opening hours of the "
    "crossings and the exchange of information between the customs services of both countries."
)
RU = "Министерство сообщило, что переговоры с соседями продолжатся на следующей неделе в столице."
PHP_WARNING = (
    "<br />\n<b>Deprecated</b>:  Function create_function() is deprecated in "
    "<b>/var/www/html/wp-content/plugins/old-widget/widget.php</b> on line <b>42</b><br />\n"
)


def _document(body: str = f"<p>{STORY}</p><p>{MORE}</p>", *, title: str = "Talks go on") -> str:
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><article><h1>{title}</h1>{body}</article></body></html>"
    )


def _read(html: str):
    return extract_article(html, url="https://ministry.example/news/1", now=NOW)


@pytest.mark.parametrize(
    "html",
    [
        # A WordPress blog on a newer PHP: warnings before the doctype, sometimes dozens.
        pytest.param(PHP_WARNING + _document(), id="synthetic-php-warning-before-doctype"),
        pytest.param(PHP_WARNING * 40 + _document(), id="synthetic-many-php-warnings"),
        pytest.param(
            "Warning: session_start(): headers already sent\n" + _document(),
            id="synthetic-plain-text-before-html",
        ),
        pytest.param(
            '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 '
            'Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n'
            + _document()
            .replace("<!DOCTYPE html>", "")
            .replace("<html>", '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en">'),
            id="synthetic-xhtml-with-xml-declaration",
        ),
        # Old CMS templates: no <html>, <head> or <body>, a long run of tags before any text.
        pytest.param(
            "<title>Talks go on</title>"
            + '<meta name="keywords" content="ministry, talks">' * 40
            + f"<h1>Talks go on</h1><table><tr><td><p>{STORY}</p><p>{MORE}</p></td></tr></table>",
            id="synthetic-no-html-tag",
        ),
        pytest.param("<!-- cached page -->\n" * 50 + _document(), id="synthetic-comments-first"),
        pytest.param("\ufeff  \n" + _document(), id="synthetic-bom-and-blank-lines"),
    ],
)
def test_a_page_with_anything_before_its_document_is_read(html: str) -> None:
    article = _read(html)
    assert article.title == "Talks go on"
    assert STORY in article.body and MORE in article.body
    assert "Deprecated" not in article.body


def test_an_xhtml_page_in_windows_1251_declared_only_in_its_xml_declaration() -> None:
    page = (
        '<?xml version="1.0" encoding="windows-1251"?>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Переговоры</title></head>'
        f"<body><h1>Переговоры</h1><p>{RU}</p><p>{RU} {RU}</p></body></html>"
    ).encode("cp1251")
    article = _read(decode_html(page))
    assert article.title == "Переговоры"
    assert RU in article.body


def test_a_decoded_page_that_still_declares_a_legacy_encoding_is_not_read_twice() -> None:
    # The text is already Unicode: re-reading it as windows-1251 would garble every letter.
    html = (
        '<?xml version="1.0" encoding="windows-1251"?>\n<head><title>Переговоры</title>'
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251"></head>'
        f"<body><h1>Переговоры</h1><p>{RU}</p><p>{RU} {RU}</p></body>"
    )
    assert RU in _read(html).body


def test_a_frameset_page_is_read_not_refused() -> None:
    html = (
        "<html><head><title>Ministry of Foreign Affairs</title></head>"
        '<frameset cols="20%,80%"><frame src="menu.html"><frame src="news.html"></frameset></html>'
    )
    assert _read(html).title == "Ministry of Foreign Affairs"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ('<?xml version="1.0"?>\n<!-- feed -->\n<rss version="2.0"><channel/></rss>', "feed"),
        ("<!-- a -->\n" * 50 + '<feed xmlns="http://www.w3.org/2005/Atom"></feed>', "feed"),
        ("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "binary"),
        ("Just a line of text with no markup at all.", "no markup"),
        ("", "no markup"),
    ],
)
def test_what_is_no_page_is_still_refused(content: str, why: str) -> None:
    with pytest.raises(NotHTML, match=why if why != "feed" else "RSS or Atom feed"):
        _read(content)


def test_a_story_hidden_behind_read_more_is_read() -> None:
    # Paywall scripts reveal the rest for logged-in readers; the HTML holds it all along.
    hidden = (
        f'<div class="story"><p>{STORY}</p><p>{STORY.upper()}</p><p>{STORY[::-1]}</p>'
        f'<div id="story-text-hidden" class="hideable"><p>{MORE}</p><p>{MORE[::-1]}</p></div></div>'
        '<div class="menu hidden"><p>Home</p><p>Sport</p></div>'
    )
    body = _read(_document(hidden)).body
    assert STORY in body and MORE in body
    assert "Sport" not in body
