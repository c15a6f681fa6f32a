"""Offline tests of the headline chosen among the page's headings and its declared titles, on
synthetic pages reproducing the layouts of real news sites (breadcrumb titles, kickers)."""

from __future__ import annotations

from datetime import UTC, datetime

from scrapers.extract import extract_article

STORY = (
    "<p>The city council approved the new budget on Tuesday after a debate that lasted more than "
    "six hours, with eleven members voting in favour and four against the proposal.</p>"
    "<p>Under the plan, spending on public transport rises by twelve percent next year, while "
    "the road maintenance fund is cut back to the level it had before the pandemic began.</p>"
)
CRUMBS = (
    '<nav class="breadcrumb"><ol><li><a href="/">Home</a></li><li><a href="/city">City</a></li>'
    "<li><h1>{}</h1></li></ol></nav>"
)


def _synthetic_page(*, ld: str = "", og: str = "", body: str) -> str:
    """Return a synthetic news page with the given JSON-LD headline, og:title and body."""
    head = f'<meta property="og:title" content="{og}">' if og else ""
    if ld:
        head += (
            '<script type="application/ld+json">'
            f'{{"@type": "NewsArticle", "headline": "{ld}"}}</script>'
        )
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


def _title(html: str) -> str:
    return extract_article(
        html, url="https://news.example/city/budget", now=datetime(2026, 1, 1, tzinfo=UTC)
    ).title


def test_a_breadcrumbs_seo_title_gives_way_to_the_headline_the_article_shows() -> None:
    # Synthetic page reproducing German publishers' layout: the SEO title is the last step of
    # the breadcrumb trail, in an <h1>; the headline the reader sees is the article's <h2>.
    html = _synthetic_page(
        ld="Council passes the budget after six hours",
        og="Budget: council says yes to more buses",
        body=CRUMBS.format("Budget: council says yes to more buses")
        + f"<article><header><h2>Council passes the budget after six hours</h2></header>{STORY}"
        "</article>",
    )
    assert _title(html) == "Council passes the budget after six hours"


def test_a_breadcrumb_title_stays_the_headline_when_no_other_heading_shows_a_title() -> None:
    # Synthetic page: the article's <h2> is a teaser line that no declared title holds.
    html = _synthetic_page(
        ld="Council passes the budget after six hours",
        og="Six hours of debate, then a yes",
        body=CRUMBS.format("Council passes the budget after six hours")
        + f"<article><h2>More buses, fewer roads: what changes</h2>{STORY}</article>",
    )
    assert _title(html) == "Council passes the budget after six hours"


def test_a_kicker_run_into_the_heading_is_no_part_of_the_headline() -> None:
    # Synthetic page: kicker and headline in one <h2>; og:title is the headline alone.
    html = _synthetic_page(
        ld="City budget 2026: all the numbers",
        og="Council passes the budget after six hours",
        body="<article><h2><span>Night buses</span><span>Council passes the budget after six"
        f" hours</span></h2>{STORY}</article>",
    )
    assert _title(html) == "Council passes the budget after six hours"


def test_a_declared_title_with_the_headings_words_gives_its_punctuation() -> None:
    # Synthetic page: the heading's kicker and headline are set apart by layout alone.
    html = _synthetic_page(
        ld="City budget 2026: all the numbers",
        og="Night buses: Council passes the budget",
        body="<article><h1><span>Night buses</span> <span>Council passes the budget</span></h1>"
        f"{STORY}</article>",
    )
    assert _title(html) == "Night buses: Council passes the budget"


def test_a_declared_kicker_before_the_shown_headline_is_kept() -> None:
    # Synthetic page: the page shows the headline; every declared title puts its kicker first.
    html = _synthetic_page(
        ld="After the strike: Council passes the budget",
        og="After the strike: Council passes the budget",
        body=f"<article><h1>Council passes the budget</h1>{STORY}</article>",
    )
    assert _title(html) == "After the strike: Council passes the budget"


def test_a_separator_hidden_for_screen_readers_joins_kicker_and_headline() -> None:
    # Synthetic page without metadata: "Kicker<span hidden>: </span>Headline" reads "Kicker: …".
    html = _synthetic_page(
        body='<article><h1><span>Night buses</span><span class="visually-hidden">: </span>'
        f"<span>Council passes the budget</span></h1>{STORY}</article>",
    )
    assert _title(html) == "Night buses: Council passes the budget"
