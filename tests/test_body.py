"""Offline tests of the article-body extractor on small hand-written pages."""

from __future__ import annotations

import pytest

from scrapers.body import extract_body

P1 = ("The city council approved the new budget on Tuesday after a debate that lasted more than "
      "six hours, with eleven members voting in favour and four against the proposal.")
P2 = ("Under the plan, spending on public transport rises by twelve percent next year, while the "
      "road maintenance fund is cut back to the level it had before the pandemic began.")
P3 = ("The mayor said the decision would let the city hire forty more bus drivers and extend night "
      "services to the northern districts, which residents have long asked for.")
P4 = ("Opposition members argued that the transport plan relies on fare revenue that has not yet "
      "recovered, and asked the finance office for a new forecast before the spring session.")

ARTICLE = f"""<!DOCTYPE html>
<html lang="en"><head><title>Council approves budget | City News</title></head>
<body>
<header><nav><ul>
  <li><a href="/">Home</a></li><li><a href="/politics">Politics</a></li>
  <li><a href="/sport">Sport</a></li><li><a href="/about">About us</a></li>
</ul></nav></header>
<main>
<article>
  <h1>Council approves budget</h1>
  <p>{P1}</p>
  <p>{P2}</p>
  <p>{P3}</p>
  <ul class="related">
    <li><a href="/a">Mayor opens new library in the harbour district</a></li>
    <li><a href="/b">Bus fares to stay frozen until the end of next year</a></li>
  </ul>
  <p>Follow us on Twitter and subscribe to our daily newsletter.</p>
</article>
<section id="comments" class="comments"><h3>Comments</h3>
  <div class="comment"><p>Great news, finally some investment in the buses for the people who need them.</p></div>
  <div class="comment"><p>What a waste of money, the roads are falling apart already and nobody cares.</p></div>
</section>
</main>
<footer><p>Copyright 2024 City News. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
</body></html>"""

LISTING = """<html><head><title>Politics | City News</title></head><body>
<nav><a href="/">Home</a> <a href="/politics">Politics</a> <a href="/sport">Sport</a></nav>
<ul>
  <li><a href="/1">Council approves budget</a></li>
  <li><a href="/2">Mayor opens new library</a></li>
  <li><a href="/3">Bus fares frozen</a></li>
</ul>
<footer>Copyright 2024 City News</footer>
</body></html>"""

# One story split into two containers of the same class, each beside an ad rail (seen on
# wired.com); trafilatura alone keeps only the first container.
SPLIT = f"""<html><head><title>Council approves budget</title></head><body>
<main><article>
  <h1>Council approves budget</h1>
  <div class="chunk"><div class="grid">
    <div class="article__body"><p>{P1}</p><p>{P2}</p></div><aside class="rail">Advertisement</aside>
  </div></div>
  <div class="chunk"><div class="grid">
    <div class="article__body"><p>{P3}</p><p>{P4}</p></div><aside class="rail">Advertisement</aside>
  </div></div>
</article></main>
</body></html>"""


def test_keeps_article_paragraphs_separated_by_blank_lines() -> None:
    assert extract_body(ARTICLE, url="https://news.example/budget").split("\n\n") == [P1, P2, P3]


@pytest.mark.parametrize(
    "chrome",
    ["Home", "About us", "Council approves budget", "Mayor opens new library", "newsletter",
     "Comments", "Great news", "waste of money", "Copyright", "Privacy policy"],
)
def test_drops_navigation_headline_related_links_comments_and_footer(chrome: str) -> None:
    assert chrome not in extract_body(ARTICLE, url="https://news.example/budget")


@pytest.mark.parametrize("html", ["", "   \n", "<html><head></head><body></body></html>"])
def test_empty_page_gives_empty_text(html: str) -> None:
    assert extract_body(html) == ""


def test_page_of_links_only_gives_empty_text() -> None:
    assert extract_body(LISTING, url="https://news.example/politics") == ""


def test_reads_a_story_split_into_same_class_containers() -> None:
    assert extract_body(SPLIT).split("\n\n") == [P1, P2, P3, P4]


@pytest.mark.parametrize(
    "html",
    [
        "<<<>>>",
        "\x00\x01\x02",
        "<?xml version='1.0'?><rss><channel/></rss>",
        "<html><body><script>var x = '<p>';</script></body></html>",
        "<div>" * 5000 + "deep" + "</div>" * 5000,
        "<p>" + "word " * 50_000,
        "<html><body><p>unclosed <b><i>tags <table><tr><td>cell</p></body>",
    ],
)
def test_odd_html_never_raises(html: str) -> None:
    assert isinstance(extract_body(html), str)



def test_does_not_append_the_next_story_of_an_endless_page() -> None:
    paragraphs = (
        "The harbour bridge reopened to traffic on Friday morning after eight months of repairs "
        "to its deck and cables, two weeks earlier than the engineers had planned.",
        "Ferry operators, who carried the extra commuters while the bridge was closed, said they "
        "would return to their winter timetable from the first of next month.",
        "The repairs cost less than the original estimate because the steel supports were in "
        "better condition than the inspection had suggested, the transport office said.",
        "Cyclists will get a separate lane on the eastern side of the bridge from the spring, once "
        "the new barriers have been delivered and installed by the contractor.",
    )
    story = SPLIT.replace("Council approves budget", "Harbour bridge reopens")
    for old, new in zip((P1, P2, P3, P4), paragraphs):
        story = story.replace(old, new)
    page = SPLIT.replace("</main>", story[story.index("<article>"):story.index("</main>")] + "</main>")
    assert extract_body(page).split("\n\n") == [P1, P2, P3, P4]
