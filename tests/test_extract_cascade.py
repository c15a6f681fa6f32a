"""The per-field cascade of generic extraction: each field from the first plausible candidate.

Pages here are small synthetic pages written for the test, except the seed's interaffairs page,
itself a synthetic page reproducing en.interaffairs.ru (tests/fixtures/interaffairs-en).
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scrapers import Source, extract_article
from scrapers.bylines import names_of, printed_byline
from scrapers.selection import source_for_url

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SEED = ROOT / "tests/fixtures/interaffairs-en/article-zas-briefing.html"
SEED_URL = "https://en.interaffairs.ru/article/briefing-by-csto-secretary-general-stanislav-zas/"
STORY = (
    "<p>The ministry said on Monday that the talks with its neighbours would continue next week "
    "in the capital, where the delegations are expected to sign a protocol on border crossings.</p>"
    "<p>According to the statement, the protocol covers freight traffic, the opening hours of the "
    "crossings and the exchange of information between the customs services of both countries.</p>"
)


def _read(html: str, url: str = "https://ministry.example/news/talks", *, now: datetime = NOW):
    return extract_article(html, url=url, now=now)


def _page(head: str = "", under_headline: str = "", *, site: str = "") -> str:
    return (
        f"<!DOCTYPE html><html><head><title>Talks go on{site}</title>{head}</head><body>"
        f"<article><h1>Talks go on</h1>{under_headline}{STORY}</article></body></html>"
    )


def test_the_seed_page_without_its_source_reads_the_line_under_the_headline() -> None:
    article = _read(SEED.read_text(encoding="utf-8"), SEED_URL)
    assert article.title == "Briefing by CSTO Secretary General Stanislav Zas"
    assert article.author == "Yuri Menshikov"
    # No zone is known without the source: the printed wall time, read as UTC.
    assert article.published == datetime(2021, 2, 8, 11, 12, tzinfo=UTC)


def test_the_seed_page_with_the_source_its_url_picks_reads_moscow_time() -> None:
    config = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    sources = [
        Source(
            key=s["key"],
            url=s["url"],
            link_pattern=s.get("link_pattern"),
            timezone=s.get("timezone", "UTC"),
            dateline=s.get("dateline"),
            trailers=tuple(s.get("trailers", ())),
        )
        for s in config["sources"]
    ]
    source = source_for_url(sources, SEED_URL)
    assert source.key == "interaffairs-en"
    article = extract_article(
        SEED.read_text(encoding="utf-8"), url=SEED_URL, source=source, now=NOW
    )
    assert (article.published, article.author) == (
        datetime(2021, 2, 8, 8, 12, tzinfo=UTC),
        "Yuri Menshikov",
    )
    assert "read more in our Telegram-channel" not in article.body


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ("Yuri Menshikov , editor", ["Yuri Menshikov"]),
        ("By Jane Doe and John Roe", ["Jane Doe", "John Roe"]),
        ("Von Anna Martel und Lea Wagner", ["Anna Martel", "Lea Wagner"]),
        ("Jane Doe, Staff Writer", ["Jane Doe"]),
        (
            "Mamokete Modiba, Claire Benit-Gbaffou, Sarah Charlton and Tanya Zack",
            ["Mamokete Modiba", "Claire Benit-Gbaffou", "Sarah Charlton", "Tanya Zack"],
        ),
        ("Ludwig van Beethoven", ["Ludwig van Beethoven"]),
        ("a.sleegers@paper.example", []),
        ("105092", []),
        ("https://paper.example/authors/jane", []),
        ("the ministry said on Monday", []),
        ("Автор: Армен Оганесян, главный редактор", ["Армен Оганесян"]),
        ("松岡大地", ["松岡大地"]),
        ("Sidney Wiltgen Sidney Wiltgen", ["Sidney Wiltgen"]),
        ("Yasmine Hassan · CBC News · Posted Aug", ["Yasmine Hassan", "CBC News"]),
        ("Holger Zschäpitz, Wirtschaftsredakteur", ["Holger Zschäpitz"]),
        ("来源：人民网", []),
    ],
)
def test_names_of_a_byline(raw: str, names: list[str]) -> None:
    assert names_of(raw) == names


@pytest.mark.parametrize(
    ("lines", "byline"),
    [
        (["11:12 08.02.2021 • Yuri Menshikov , editor", "Story"], "Yuri Menshikov , editor"),
        (["By", "Jane Doe", "May 3, 2024"], "Jane Doe"),
        (["Politics", "By Jane Doe and John Roe | May 3, 2024"], "Jane Doe, John Roe"),
        # "By Monday …" opens the story: one capitalised word is no name.
        (["By Monday, the talks had ended."], ""),
        # After the story's first long paragraph come other stories' bylines.
        ([" ".join(["word"] * 30), "10:00 27.11.2026 • Armen Oganesyan"], ""),
    ],
)
def test_the_byline_printed_under_the_headline(lines: list[str], byline: str) -> None:
    assert printed_byline(lines) == byline


def test_json_ld_authors_are_joined_and_a_site_name_gives_way_to_a_person() -> None:
    ld = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "author": '
        '[{"@type": "Person", "name": "Jane Doe"}, {"@type": "Person", "name": "John Roe"}]}</script>'
    )
    assert _read(_page(ld)).author == "Jane Doe, John Roe"
    # The publisher as author (meta author = the site's name) yields to the printed byline.
    org = '<meta name="author" content="Ministry"><meta property="og:site_name" content="Ministry">'
    assert _read(_page(org, "<p>By Anna Petrova</p>")).author == "Anna Petrova"
    # ... and stays when no person is named anywhere.
    assert _read(_page(org)).author == "Ministry"


def test_a_site_address_as_author_gives_way_to_a_person() -> None:
    meta = '<meta name="author" content="TIMESOFINDIA.COM">'
    url = "https://timesofindia.example/news/talks"
    assert _read(_page(meta, "<p>By Aashish Saxena</p>"), url).author == "Aashish Saxena"


def test_rel_author_and_byline_classes_are_read_without_metadata() -> None:
    link = '<div class="meta"><a rel="author" href="/team/jane">Jane Doe</a></div>'
    assert _read(_page(under_headline=link)).author == "Jane Doe"
    byline = '<div class="article-author"><span class="author-name">Ivan Petrov</span></div>'
    assert _read(_page(under_headline=byline)).author == "Ivan Petrov"


def test_an_e_mail_meta_author_is_no_name() -> None:
    assert _read(_page('<meta name="author" content="j.doe@paper.example">')).author == ""


@pytest.mark.parametrize(
    ("html", "url", "published"),
    [
        # The metadata stamp keeps its offset: 15:47 at +02:00 is 13:47 UTC.
        (
            _page('<meta property="article:published_time" content="2024-05-03T15:47:42+02:00">'),
            "https://ministry.example/news/talks",
            datetime(2024, 5, 3, 13, 47, 42, tzinfo=UTC),
        ),
        # No metadata, no dateline: the date in the URL (htmldate); no zone is known, so the day
        # is noon UTC, the same calendar day from UTC-11 to UTC+11.
        (
            _page(),
            "https://ministry.example/2024/05/03/talks",
            datetime(2024, 5, 3, 12, tzinfo=UTC),
        ),
        # A date after the fetch is implausible, and so is one before 1990: no date at all.
        (_page(), "https://ministry.example/2027/05/03/talks", None),
        (
            _page('<meta property="article:published_time" content="1989-05-03T15:47:42Z">'),
            "https://ministry.example/news/talks",
            None,
        ),
        # A dateline printed under the headline, without metadata.
        (
            _page(under_headline="<p>May 3, 2024, 15:47</p>"),
            "https://ministry.example/news/talks",
            datetime(2024, 5, 3, 15, 47, tzinfo=UTC),
        ),
    ],
)
def test_publication_time_cascade(html: str, url: str, published: datetime | None) -> None:
    assert _read(html, url).published == published


def test_a_day_alone_is_midnight_in_the_sources_zone() -> None:
    source = Source(key="t", url="https://ministry.example/", timezone="Europe/Moscow")
    html = _page()
    article = extract_article(
        html, url="https://ministry.example/2024/05/03/t", source=source, now=NOW
    )
    assert article.published == datetime(2024, 5, 2, 21, tzinfo=UTC)


def test_a_date_after_the_fetch_time_is_refused_even_in_metadata() -> None:
    html = _page('<meta property="article:published_time" content="2026-11-30T12:00:00Z">')
    published = _read(html).published
    # htmldate, the last resort, may still guess a day from the stamp's month: never a later one.
    assert published is None or published <= NOW


def test_a_description_copying_the_opening_with_other_quotes_is_no_lead() -> None:
    # The description repeats the first paragraph with straight quotes and cut short.
    description = (
        "The ministry said on Monday that the talks with its neighbours would continue next week…"
    )
    html = _page(f'<meta name="description" content="{description}">').replace(
        "ministry", "ministry’s", 0
    )
    assert _read(html).lead == ""
    opening = _page('<meta name="description" content="The ministry’s “talks” will continue">')
    html = opening.replace(
        "<p>The ministry said", '<p>The ministry\'s "talks" will continue. It said'
    )
    assert _read(html).lead == ""


def test_a_caption_is_no_lead_and_no_body() -> None:
    caption = "Delegations at the border crossing, where the protocol will be signed next week."
    figure = f"<figure><img src='a.jpg'><figcaption>{caption}</figcaption></figure>"
    article = _read(_page(f'<meta name="description" content="{caption}">', figure))
    assert (article.lead, caption in article.body) == ("", False)


def test_a_description_the_body_repeats_further_down_is_no_lead() -> None:
    # Synthetic page: the description is the second paragraph's sentence, its first letter a
    # drop cap set apart ("A" + "ccording"), so the standfirst would print it twice.
    description = (
        "According to the statement, the protocol covers freight traffic, the opening hours of "
        "the crossings and the exchange of information"
    )
    html = _page(f'<meta name="description" content="{description}">').replace(
        "<p>According", "<p><span class='drop'>A</span>ccording"
    )
    assert _read(html).lead == ""


def test_a_standfirst_under_the_headline_is_the_lead_whatever_the_pages_classes() -> None:
    # Synthetic page: the class of <html> names a menu's state ("header-menu-nav--closed"),
    # which once put the whole page in the site's chrome, the standfirst taken for a slogan.
    standfirst = "Both delegations expect a protocol on border crossings to be signed next week."
    html = (
        '<!DOCTYPE html><html class="page-story header-menu-nav--closed"><head>'
        f'<meta name="description" content="{standfirst}"></head><body><article><header>'
        f"<h1>Talks go on</h1><p class='sub'>{standfirst}</p></header>{STORY}</article>"
        "</body></html>"
    )
    assert _read(html).lead == standfirst
