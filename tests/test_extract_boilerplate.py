"""What is not the story leaves the body: headlines printed again, notices, captions, boxes.

Pages here are small synthetic pages written for the test, each reproducing one shape seen on
real news pages (kicker and headline run together, a label before a related link, a newsletter
box with a button, an author's bio closing the article).
"""

from __future__ import annotations

from datetime import UTC, datetime

from scrapers import extract_article
from scrapers.boilerplate import (
    drop_author_lines,
    drop_headline_repeats,
    drop_notices,
    is_caption,
    without_credit,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
STORY = [
    "The ministry said on Monday that the talks with its neighbours would continue next week "
    "in the capital, where the delegations are expected to sign a protocol on border crossings.",
    "According to the statement, the protocol covers freight traffic, the opening hours of the "
    "crossings and the exchange of information between the customs services of both countries.",
    "Officials from both sides said the remaining questions were technical and could be settled "
    "by the experts before the ministers meet again at the end of the month in the border town.",
]


def _page(inside: str, *, after: str = "", title: str = "Talks on border crossings go on") -> str:
    story = "".join(f"<p>{p}</p>" for p in STORY)
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title></head><body><article>"
        f"<h1>{title}</h1>{inside}{story}{after}</article></body></html>"
    )


def _body(html: str) -> str:
    return extract_article(html, url="https://ministry.example/news/talks", now=NOW).body


def test_a_headline_again_with_its_kicker_run_in_is_no_body_line() -> None:
    text = "\n\n".join(["Grenzgespräche in der HauptstadtTalks on border crossings go on", *STORY])
    assert drop_headline_repeats(text, ["Talks on border crossings go on"]) == "\n\n".join(STORY)


def test_a_wire_dateline_before_the_headline_is_the_story_and_stays() -> None:
    text = "BEIJING, April 24 (Xinhua) -- Talks on border crossings go on\n\n" + STORY[0]
    assert drop_headline_repeats(text, ["Talks on border crossings go on"]) == text


def test_a_short_headline_does_not_eat_a_sentence_that_ends_like_it() -> None:
    text = "He called it simply Talks go on"
    assert drop_headline_repeats(text, ["Talks go on"]) == text


def test_a_sentence_ending_with_the_headlines_words_is_the_story() -> None:
    text = "Vladimir Putin took part in a session of the Council."
    assert drop_headline_repeats(text, ["Session of the Council"]) == text


def test_a_page_printing_its_headline_twice_keeps_the_story_only() -> None:
    html = _page('<div class="sticky"><p><b>Border</b> Talks on border crossings go on</p></div>')
    assert _body(html).split("\n\n") == STORY


def test_notices_to_the_reader_go_and_prose_that_names_them_stays() -> None:
    prose = (
        "The newsletter, which the ministry sends to every border office each week, announced "
        "the talks; officials said a liveblog of the negotiations would not be kept this time, "
        "because the delegations had agreed to say nothing before a protocol is signed."
    )
    notices = [
        "Got a story? Get in touch with our news team by emailing us.",
        "An dieser Stelle finden Sie einen externen Inhalt, der den Artikel ergänzt.",
        "Il vous reste 57.09% de cet article à lire. La suite est réservée aux abonnés.",
        "Mehr zur Lage an der Grenze lesen Sie in unserem Liveblog:",
        "— Associated Press writer Jane Doe in Paris contributed to this report.",
    ]
    text = "\n\n".join([STORY[0], *notices, prose])
    assert drop_notices(text) == f"{STORY[0]}\n\n{prose}"


def test_a_caption_ending_with_its_credit_goes_a_credit_alone_stays() -> None:
    caption = "Delegations meet at the border post on Monday • Foto: Jane Doe/REUTERS"
    assert is_caption(caption)
    assert is_caption("Pictured right, the two ministers at the border post.")
    assert not is_caption("Photo: AFP")
    assert not is_caption(STORY[0])
    assert drop_notices(f"{caption}\n\n{STORY[0]}") == STORY[0]


def test_a_standfirst_keeps_its_words_without_the_picture_credit() -> None:
    lead = "Both delegations expect a protocol on border crossings by the end of the month"
    assert without_credit(f"{lead} • Foto: Jane Doe/REUTERS") == lead
    assert without_credit("(Image credit: All About Space)") == "(Image credit: All About Space)"


def test_related_links_with_a_short_label_are_navigation() -> None:
    # The links alone are less than 80% of each item's text: the label makes the difference.
    related = (
        "<ul><li><strong>Queues at the border:</strong> <a href='/a'>Longer waits</a></li>"
        "<li><strong>Freight and customs:</strong> <a href='/b'>New rules soon</a></li></ul>"
    )
    body = _body(_page(related))
    assert "Longer waits" not in body and "New rules soon" not in body
    assert body.split("\n\n") == STORY


def test_a_newsletter_box_with_a_button_goes_and_the_story_around_it_stays() -> None:
    box = (
        "<section><h3>Border inside: the week at the crossings</h3>"
        "<p>Every Monday the top stories from our border desk.</p>"
        "<form><input type='email'><button>Subscribe now</button></form></section>"
    )
    body = _body(_page(box))
    assert "Every Monday" not in body and "Border inside" not in body
    assert body.split("\n\n") == STORY


def test_an_article_with_a_share_button_is_not_a_box() -> None:
    html = _page("<h2>What was agreed</h2><button>Share</button>")
    assert all(p in _body(html) for p in STORY)


def test_a_closing_bio_of_the_author_goes_a_quote_of_another_person_stays() -> None:
    bio = "Jane Doe is our correspondent for the border regions and the neighbouring countries."
    quote = "John Roe, the customs chief, said the queues would shrink."
    text = "\n\n".join([*STORY, quote, bio])
    assert drop_author_lines(text, "Jane Doe") == "\n\n".join([*STORY, quote])
    # Only full names: a one-word byline ("Reuters") could open a story's sentence.
    assert drop_author_lines(text, "Jane") == text


def test_a_short_story_that_opens_with_its_authors_name_keeps_its_opening() -> None:
    text = "Jane Doe took part in the talks on Monday.\n\nThe talks go on next week."
    assert drop_author_lines(text, "Jane Doe") == text


def test_an_article_header_with_a_share_button_is_not_a_signup_box() -> None:
    # Synthetic pages reproducing two news sites' headers: the headline or a standfirst set as a
    # heading, the lead picture and a share button, under 200 characters all told.
    standfirst = (
        "Both delegations expect to sign the protocol on border crossings next week, after a "
        "month of talks in the capital."
    )
    header = (
        "<div class='header'>{}<h2>" + standfirst + "</h2><figure><img src='/a.jpg'>"
        "<button>Share</button></figure></div>"
    )
    story = "".join(f"<p>{p}</p>" for p in STORY)
    for headline in ("<h1>Talks go on</h1>", ""):
        html = (
            "<!DOCTYPE html><html><head><title>Talks go on</title></head><body><article>"
            f"{'' if headline else '<h1>Talks go on</h1>'}{header.format(headline)}{story}"
            "</article></body></html>"
        )
        assert standfirst in _body(html).split("\n\n")


def test_teaser_cards_of_other_stories_are_no_body_text() -> None:
    # Synthetic page reproducing a "You might also like" list: each card one link around a
    # picture, another story's headline, its date and its opening lines.
    teaser = (
        "An official said that with the elections so close, it is unclear whether the ministers "
        "would hold new talks or keep their reaction to angry words. The ministry said that a "
        "delegation led by the deputy minister had entered talks near the border."
    )
    cards = "".join(
        f"<li><a href='/other{n}'><div><div class='img'><img src='/o{n}.jpg'></div>"
        f"<h3>Ministers on alert {n}</h3><div class='date'>2024-10-14</div>"
        f"<p><font class='red'>RISK {n}: </font> {teaser}</p></div></a></li>"
        for n in range(3)
    )
    body = _body(_page("", after=f"<div><h2>You might also like</h2><ul>{cards}</ul></div>"))
    assert "Ministers on alert" not in body and "angry words" not in body
    assert body.split("\n\n")[:3] == STORY
