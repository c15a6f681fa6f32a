"""Offline tests of article extraction on small hand-written pages: the body, and the headline
and publication time chosen beside it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scrapers.body import extract_body
from scrapers.extract import extract_article

P1 = (
    "The city council approved the new budget on Tuesday after a debate that lasted more than "
    "six hours, with eleven members voting in favour and four against the proposal."
)
P2 = (
    "Under the plan, spending on public transport rises by twelve percent next year, while the "
    "road maintenance fund is cut back to the level it had before the pandemic began."
)
P3 = (
    "The mayor said the decision would let the city hire forty more bus drivers and extend night "
    "services to the northern districts, which residents have long asked for."
)
P4 = (
    "Opposition members argued that the transport plan relies on fare revenue that has not yet "
    "recovered, and asked the finance office for a new forecast before the spring session."
)

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
    [
        "Home",
        "About us",
        "Council approves budget",
        "Mayor opens new library",
        "newsletter",
        "Comments",
        "Great news",
        "waste of money",
        "Copyright",
        "Privacy policy",
    ],
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
    page = SPLIT.replace(
        "</main>", story[story.index("<article>") : story.index("</main>")] + "</main>"
    )
    assert extract_body(page).split("\n\n") == [P1, P2, P3, P4]


# -- The headline and dateline chosen beside the body (scrapers.headline, scrapers.datelines) ----


def _page(head: str, body: str) -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}<article><p>{P1}</p><p>{P2}</p></article></body></html>"


def _article(html: str, url: str = "https://news.example/story"):
    return extract_article(html, url=url, now=datetime(2026, 1, 1, tzinfo=UTC))


def test_the_printed_dateline_picks_the_metadata_stamp_with_the_right_offset() -> None:
    # slashgear.com: JSON-LD repeats the UTC wall time with the site's offset; the page prints CST.
    html = _page(
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Budget passed",'
        ' "datePublished": "2019-11-20T04:31:13-06:00"}</script>'
        '<meta property="article:published_time" content="2019-11-20T04:31:13+00:00">',
        "<h1>Budget passed</h1><div>Chris Davies - Nov 19, 2019, 10:31 pm CST</div>",
    )
    assert _article(html).published == datetime(2019, 11, 20, 4, 31, 13, tzinfo=UTC)


def test_a_printed_time_with_its_zone_beats_a_stamp_it_contradicts() -> None:
    # macrumors.com: datePublished is Eastern time labelled as UTC.
    html = _page(
        '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2019-11-18T10:45:00Z"}</script>',
        "<h1>Budget passed</h1><p>Monday November 18, 2019 7:45 am PST by Joe</p>",
    )
    assert _article(html).published == datetime(2019, 11, 18, 15, 45, tzinfo=UTC)


def test_a_printed_time_without_zone_confirms_the_stamp_in_some_offset() -> None:
    html = _page(
        '<meta property="article:published_time" content="2019-11-19T07:03:25+00:00">',
        "<h1>Budget passed</h1><div>Reuters</div><div>November 18, 2019 11:03 PM</div>",
    )
    assert _article(html).published == datetime(2019, 11, 19, 7, 3, 25, tzinfo=UTC)


def test_an_update_line_does_not_replace_the_publication_time() -> None:
    html = _page(
        '<meta property="article:published_time" content="2019-11-08T15:30:00-05:00">',
        '<h1>Budget passed</h1><p>Updated <time datetime="2019-11-13T15:28:18">Nov 13, 2019, 10:28am EST</time></p>',
    )
    assert _article(html).published == datetime(2019, 11, 8, 20, 30, tzinfo=UTC)


def test_a_date_printed_above_the_headline_serves_a_page_without_metadata() -> None:
    html = _page(
        "<title>Budget passed</title>",
        "<div>publiziert am 25. September 2018</div><h1>Budget passed</h1>"
        "<p>Bis zum 01.01.2019 sollen alle Ärzte angeschlossen sein.</p>",
    )
    assert _article(html).published == datetime(2018, 9, 25, tzinfo=UTC)


def test_a_bare_date_that_no_stamp_confirms_is_not_trusted() -> None:
    # A photo caption's date right under the headline (gizmodo.com, reuters.com).
    html = _page(
        '<meta property="article:published_time" content="2019-11-18T17:30:00-05:00">',
        "<h1>Budget passed</h1><p>(Photo taken 11/12/19)</p>",
    )
    assert _article(html).published == datetime(2019, 11, 18, 22, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("Published 11:11 PM EST Nov 19, 2019", datetime(2019, 11, 20, 4, 11, tzinfo=UTC)),
        ("11/18/19 11:04 PM EST", datetime(2019, 11, 19, 4, 4, tzinfo=UTC)),
        ("Mon 18 Nov 2019 18.54 GMT", datetime(2019, 11, 18, 18, 54, tzinfo=UTC)),
        ("Nov 20 2019, 11:06am ist", datetime(2019, 11, 20, 5, 36, tzinfo=UTC)),
        ("PUBLISHED: 10:48, Tue, Nov 19, 2019", datetime(2019, 11, 19, 10, 48, tzinfo=UTC)),
        ("2019-11-19T12:48:14Z", datetime(2019, 11, 19, 12, 48, tzinfo=UTC)),
        (
            "Monday, November 18, 2019, 04:05 pm PT (07:05 pm ET)",
            datetime(2019, 11, 19, 0, 5, tzinfo=UTC),
        ),
        ("24 сентября 2018", datetime(2018, 9, 24, tzinfo=UTC)),
        ("27/09/2018", datetime(2018, 9, 27, tzinfo=UTC)),
        # A dotted date is day first wherever it is written: the 6th of November.
        ("06.11.2019", datetime(2019, 11, 6, tzinfo=UTC)),
        # The 6th of November or the 11th of June: not a date to print alone, but the cascade's
        # last resort (htmldate) reads it day first too; a day in no known zone is noon UTC.
        ("06/11/2019", datetime(2019, 11, 6, 12, tzinfo=UTC)),
    ],
)
def test_printed_datelines_are_read(text: str, utc: datetime | None) -> None:
    assert _article(_page("", f"<h1>Budget passed</h1><p>{text}</p>")).published == utc


def test_the_heading_a_declared_title_contains_is_the_headline() -> None:
    html = _page(
        '<meta property="og:title" content="Opinion | Budget passed after a long debate">',
        "<h1>Budget passed after a long debate</h1>",
    )
    assert _article(html).title == "Budget passed after a long debate"


def test_an_h2_headline_wins_over_another_storys_h1() -> None:
    html = _page(
        '<meta property="og:title" content="Council approves budget - Digg">',
        "<aside><h1>Why Don't You Go Fight For The Reindeer?</h1></aside>"
        "<h2>Council approves budget</h2>",
    )
    assert _article(html, "https://digg.com/2019/budget").title == "Council approves budget"


def test_a_logo_heading_gives_way_to_the_declared_title() -> None:
    html = _page(
        '<meta property="og:title" content="Council approves budget">', "<h1>City News</h1>"
    )
    assert _article(html).title == "Council approves budget"


def test_json_ld_text_is_unescaped() -> None:
    html = _page(
        '<script type="application/ld+json">{"@type": "ReportageNewsArticle",'
        ' "headline": "Lynn: &#8220;We needed to win&#8221;", "datePublished": "2019-11-19T09:44:09+00:00"}</script>',
        "<div>No heading here</div>",
    )
    article = _article(html)
    assert (article.title, article.published) == (
        "Lynn: “We needed to win”",
        datetime(2019, 11, 19, 9, 44, 9, tzinfo=UTC),
    )
