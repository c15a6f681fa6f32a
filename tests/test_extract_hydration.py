"""Pages rendered in the browser: the story a Next.js page ships only in its flight payload.

Every page here is a small synthetic page written for the test, shaped like a real client-rendered
news page (the served markup holds the headline and chrome; the story is a text row of the
payload its scripts push).
"""

from __future__ import annotations

import json

from scrapers import extract_article
from scrapers.hydration import payload_html

URL = "https://news.example/politics/2026/01/29/story"
PARAGRAPHS = (
    "The party leader expelled his predecessor on Thursday, a decision that settles the feud "
    "over the leadership but leaves him with a harder task before the local elections.",
    "Losing those elections would make it hard for him to keep his post, several members of the "
    "leadership said, and the hard-line wing that demanded the expulsion is now louder than ever.",
    "Reaching out to centrist voters while keeping that wing on side is the equation his future "
    "depends on, according to observers in the capital — «un équilibre délicat».",
    "A first test comes next month, when the party names its candidates for the mayoral races.",
)
STORY = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
FIRST_ROW = '0:["$","html",null,{}]\n'  # the page's tree comes first; the story is a later row


def _push(text: str) -> str:
    """Return a script that pushes `text` into the flight payload, as Next.js writes it."""
    return f"<script>self.__next_f.push([1,{json.dumps(text)}])</script>"


def _text_row(row_id: str, html: str) -> str:
    """Return a flight text row: its id, T, its length in UTF-8 bytes (hex), a comma, the text."""
    return f"{row_id}:T{len(html.encode('utf-8')):x},{html}"


def _client_rendered_page(story_rows: list[str], markup: str = "") -> str:
    """Return a synthetic page whose markup has a headline and chrome; rows pushed in scripts."""
    scripts = "".join(_push(row) for row in [FIRST_ROW, *story_rows])
    return (
        "<html><head><title>Leader expels predecessor</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/politics'>Politics</a></nav>"
        f"<main><h1>Leader expels predecessor</h1><div id='story'>{markup}</div></main>"
        f"{scripts}</body></html>"
    )


def test_the_story_of_a_client_rendered_page_is_read_from_its_payload() -> None:
    row = _text_row("24", STORY)
    # Next.js cuts the payload into pushes at any point, a text row included.
    page = _client_rendered_page([row[:70], row[70:] + '\n25:["$","div",null,{}]\n'])
    body = extract_article(page, url=URL).body
    assert body.split("\n\n") == list(PARAGRAPHS)


def test_a_page_whose_markup_holds_the_story_keeps_it() -> None:
    shown = "".join(f"<p>{p} (as shown)</p>" for p in PARAGRAPHS)
    page = _client_rendered_page([_text_row("24", STORY)], markup=f"<article>{shown}</article>")
    assert "(as shown)" in extract_article(page, url=URL).body


def test_payload_rows_are_cut_by_their_byte_length_and_need_three_paragraphs() -> None:
    caption = "<div class='caption'><p>A photo, «captioned»</p></div>"
    scripts = [
        _push(_text_row("7", caption) + _text_row("8", STORY) + "9:null\n"),
        'self.__next_f.push([1,"\\x-not-json"])',  # a malformed piece is skipped, not fatal
    ]
    assert payload_html(scripts) == STORY
    assert payload_html([_push(_text_row("7", caption))]) == ""
    assert payload_html(["var x = 1;"]) == ""
