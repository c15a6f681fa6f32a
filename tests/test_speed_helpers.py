"""The small helpers that made extraction faster with the same output (synthetic markup and text)."""

from __future__ import annotations

from lxml.html import document_fromstring, fragment_fromstring

from scrapers.body import _has_words, _key, _short_key, _text, _text_key
from scrapers.boilerplate import drop_headline_repeats, drop_notices
from scrapers.images import lead_image


def test_a_text_key_is_the_key_of_the_collapsed_text() -> None:
    p = fragment_fromstring("<p> Eins\u00a0zwei <b>drei\n vier</b>  fünf<br/>sechs </p>")
    assert _text_key(p) == _key(_text(p)) == "Einszweidreivierfünfsechs"


def test_has_words_stops_at_the_count_and_tells_a_short_text() -> None:
    p = fragment_fromstring("<p>one two <i>three</i> four</p>")
    assert _has_words(p, 4) and _has_words(p, 1)
    assert not _has_words(p, 5)
    assert not _has_words(None, 1)


def test_a_link_key_is_the_same_with_and_without_children_and_none_past_400_characters() -> None:
    plain = fragment_fromstring("<a> Read  more\u00a0here </a>")
    nested = fragment_fromstring("<a> Read <span>more</span>\u00a0here </a>")
    assert _short_key(plain) == _short_key(nested) == "Readmorehere"
    assert _short_key(fragment_fromstring("<a></a>")) == ""
    assert _short_key(fragment_fromstring(f"<a>{'x ' * 401}</a>")) is None
    assert _short_key(fragment_fromstring(f"<a>{'x ' * 400}</a>")) == "x" * 400


def test_headline_repeats_go_and_sentences_ending_with_the_headline_stay() -> None:
    headline = "Council approves the new city budget"
    text = (
        f"Politik{headline}\n\nThe vote came late: a session of the council approves the new "
        "city budget.\n\nThe mayor spoke after it."
    )
    assert drop_headline_repeats(text, [headline]) == (
        "The vote came late: a session of the council approves the new city budget.\n\n"
        "The mayor spoke after it."
    )


def test_short_notices_and_captions_go_and_long_paragraphs_that_mention_them_stay() -> None:
    long = "Readers who got a story? wrote to us " + "again and again " * 25 + "in the end."
    text = (
        "Got a story? Get in touch.\n\nThe mayor at the session • Foto: Jane Doe/REUTERS\n\n"
        f"{long}\n\nThe story goes on."
    )
    assert drop_notices(text) == f"{long}\n\nThe story goes on."


def test_a_body_picture_is_the_lead_image_only_when_no_declared_image_passes() -> None:
    body = '<article><figure><img src="/photo-of-the-mayor.jpg"></figure><p>Text</p></article>'
    declared = '<meta property="og:image" content="https://example.org/share-picture.jpg">'
    logo = '<meta property="og:image" content="https://example.org/logo.png">'
    page = "<html><head>{}</head><body>{}</body></html>"
    url = "https://example.org/news/1"
    assert lead_image(document_fromstring(page.format(declared, body)), url=url) == (
        "https://example.org/share-picture.jpg"
    )
    assert lead_image(document_fromstring(page.format(logo, body)), url=url) == (
        "https://example.org/photo-of-the-mayor.jpg"
    )
