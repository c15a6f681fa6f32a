"""Every shipped source, on its fixture pages: links, title, time (UTC), author, lead and body.

The fixture pages are reconstructions: synthetic pages reproducing each site's documented traps,
written by hand because the sites cannot be reached from here, never saved copies. They test the
rules, not accuracy on real pages (that is `python -m bench.extraction`, BENCHMARKS.md).
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_config
from scrapers import (
    Link,
    NotHTML,
    Selectors,
    Source,
    article_from_link,
    extract_article,
    links_from_feed,
    links_from_listing,
)
from scrapers.dates import iter_datelines
from scrapers.encoding import decode_html

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CONFIG = load_config(ROOT / "config.example.toml", environ={})
SHIPPED = [s.key for s in CONFIG.sources]


def _expected(key: str) -> dict:
    return tomllib.loads((FIXTURES / key / "expected.toml").read_text(encoding="utf-8"))


def _cases() -> list[tuple[str, dict]]:
    return [(key, case) for key in SHIPPED for case in _expected(key).get("articles", [])]


def test_every_shipped_source_has_fixtures() -> None:
    missing = [key for key in SHIPPED if not (FIXTURES / key / "expected.toml").is_file()]
    assert missing == []


@pytest.mark.parametrize("key", SHIPPED)
def test_discovery_finds_exactly_the_article_links(key: str) -> None:
    """Discover the article links of a synthetic feed or listing reproducing the source's."""
    source, expected = CONFIG.source(key), _expected(key)
    if "feed" in expected:
        content = (FIXTURES / key / expected["feed"]["file"]).read_bytes()
        links = links_from_feed(content, source=source)
        want = expected["feed"]["links"]
    else:
        html = decode_html((FIXTURES / key / expected["listing"]["file"]).read_bytes())
        links = links_from_listing(html, base_url=expected["listing"]["url"], source=source)
        want = expected["listing"]["links"]
    assert [link.canonical_url for link in links] == want


@pytest.mark.parametrize(
    ("key", "case"), _cases(), ids=lambda v: v if isinstance(v, str) else f"synthetic-{v['file']}"
)
def test_article_fields(key: str, case: dict) -> None:
    """Read a synthetic page reproducing one of the source's pages with the source's rules."""
    source = CONFIG.source(key)
    raw = (FIXTURES / key / case["file"]).read_bytes()
    if case.get("from_feed"):
        item = next(link for link in links_from_feed(raw, source=source) if link.url == case["url"])
        article = article_from_link(item, source=source, now=NOW)
    else:
        article = extract_article(decode_html(raw), url=case["url"], source=source, now=NOW)
    assert article.title == case["title"]
    assert article.published == datetime.fromisoformat(case["published"])
    assert article.published.utcoffset().total_seconds() == 0
    assert article.author == case["author"]
    assert article.lang == case["lang"]
    assert article.lead == case["lead"]
    assert article.body.startswith(case["body_starts"]), article.body[:200]
    for text in case.get("body_contains", []):
        assert text in article.body
    for text in case.get("body_lacks", []):
        assert text not in article.body


# -- The shipped date-line patterns, on the lines their sites print ------------------------------


@pytest.mark.parametrize(
    ("key", "text", "utc", "author"),
    [
        ("interaffairs-ru", "90 лет\n14:15 04.04.2012 •\nЖурнал", "2012-04-04T10:15:00+00:00", ""),
        (
            "interaffairs-ru",
            "16:40 14.03.2023 • Армен Оганесян, главный редактор",
            "2023-03-14T13:40:00+00:00",
            "Армен Оганесян, главный редактор",
        ),
        (
            "odkb-csto-en",
            "Online briefing of the CSTO Secretary General\n02.02.2021",
            "2021-02-01T21:00:00+00:00",
            "",
        ),
        ("tass-ru", "МОСКВА, 27 декабря. /ТАСС/. Текст", "2025-12-26T21:00:00+00:00", ""),
        (
            "tass-ru",
            "ЕРЕВАН, 29 ноября. / Корр.ТАСС Михаил Тимофеев /. Текст",
            "2026-11-28T21:00:00+00:00",
            "Михаил Тимофеев",
        ),
        (
            "tass-ru",
            "ИГОРА /Ленинградская область/, 26 декабря. /Корр. ТАСС Анна Петрова/. Текст",
            "2025-12-25T21:00:00+00:00",
            "Анна Петрова",
        ),
        ("belta-en", "Politics\n01 July 2021, 18:22\nZas: CSTO", "2021-07-01T15:22:00+00:00", ""),
        ("belta-en", "Flag Thursday, 21 November 2024\nMinsk Overcast sky +10°C", None, ""),
        (
            "belta-ru",
            "08 января 2026, 19:51\nМИНСК, 8 января (БЕЛТА) - Текст",
            "2026-01-08T16:51:00+00:00",
            "",
        ),
        (
            "belta-ru",
            "02.02.2021 | 13:51\n2 февраля, Москва /Эдуард Пивовар - БЕЛТА/. Текст",
            "2021-02-02T10:51:00+00:00",
            "Эдуард Пивовар",
        ),
        ("belta-ru", "Четверг, 21 ноября 2024", None, ""),
        ("mid-en", "11 September 202103:43", "2021-09-11T00:43:00+00:00", ""),
        ("mid-en", "21.06.2024 17:40", None, ""),
    ],
)
def test_shipped_dateline(key: str, text: str, utc: str | None, author: str) -> None:
    source = CONFIG.source(key)
    found = next(
        iter_datelines(text, source.dateline, zone=ZoneInfo(source.timezone), now=NOW), None
    )
    assert (found and (found[0].isoformat(), found[1])) == ((utc, author) if utc else None)


# -- Generic extraction rules the shipped sources rely on -----------------------------------------


def _page(body: str, *, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


SIDEBAR_FIRST = _page(
    '<div class="col-news"><div>27.11.2026</div><a href="/n/1">Newer story with a long enough title</a></div>'
    "<h1>The headline</h1><div>The headline <span>02.02.2021</span></div>"
    "<p>First paragraph of the story, long enough to be a paragraph of an article body.</p>",
    head="<title>The headline</title>",
)
DATE_ABOVE = _page(
    "<div>Thursday, 21 November 2024</div><div>Politics</div><div>01 July 2021, 18:22</div>"
    "<h1>The headline</h1><p>MOSCOW, 1 July (BelTA) - The story, long enough to be a body paragraph.</p>"
)


@pytest.mark.parametrize(
    ("html", "pattern", "utc"),
    [
        # The date after the headline wins over a sidebar above it; <title> is not the headline.
        (
            SIDEBAR_FIRST,
            r"(?P<day>\d{2})\.(?P<month>\d{2})\.(?P<year>\d{4})",
            "2021-02-01T21:00:00+00:00",
        ),
        # Nothing after the headline: the nearest date line above it.
        (
            DATE_ABOVE,
            r"(?P<day>\d{1,2}) (?P<month>[a-z]+) (?P<year>\d{4}), (?P<hour>\d\d):(?P<minute>\d\d)",
            "2021-07-01T15:22:00+00:00",
        ),
    ],
)
def test_dateline_search_around_the_headline(html: str, pattern: str, utc: str) -> None:
    source = Source(key="t", url="https://example.org/", dateline=pattern, timezone="Europe/Moscow")
    article = extract_article(html, url="https://example.org/a", source=source, now=NOW)
    assert article.published == datetime.fromisoformat(utc)


def test_a_line_that_is_only_a_date_line_is_dropped_but_a_short_story_after_one_is_kept() -> None:
    source = Source(
        key="t",
        url="https://example.org/",
        timezone="Europe/Moscow",
        dateline=r"(?:[А-Я]+, )?(?P<day>\d{1,2}) (?P<month>[а-я]+)\. /ТАСС/\.",
        selectors=Selectors(body="article"),
    )
    html = _page(
        "<h1>Совещание</h1><article><p>27 декабря. /ТАСС/.</p>"
        "<p>МОСКВА, 27 декабря. /ТАСС/. Путин провел совещание.</p></article>"
    )
    article = extract_article(html, url="https://example.org/a", source=source, now=NOW)
    assert article.body == "МОСКВА, 27 декабря. /ТАСС/. Путин провел совещание."


def test_a_body_selector_that_finds_nothing_falls_back_to_generic_extraction() -> None:
    source = Source(
        key="t", url="https://example.org/", selectors=Selectors(body='div[itemprop="articleBody"]')
    )
    story = (
        "Пандемия коронавируса не способствовала снижению напряженности в мире, заявил генсек. " * 3
    )
    html = _page(f"<h1>Зась</h1><div class='text'><p>{story}</p><p>{story}</p></div>")
    article = extract_article(html, url="https://example.org/a", source=source, now=NOW)
    assert article.body.startswith("Пандемия коронавируса")


def test_a_lead_selector_that_finds_nothing_means_no_lead() -> None:
    slogan = "International Affairs is a journal on foreign policy, diplomacy and national security"
    source = Source(key="t", url="https://example.org/", selectors=Selectors(lead=".subtitle"))
    html = _page(
        "<h1>Annotation</h1><p>" + "The May issue opens with the Statement. " * 5 + "</p>",
        head=f'<meta name="description" content="{slogan}">',
    )
    assert extract_article(html, url="https://example.org/a", source=source, now=NOW).lead == ""


def _item(summary: str, content: str) -> Link:
    """Return a full-text feed item of the Council's session with this summary and content."""
    return Link(
        url="https://example.org/a/1",
        canonical_url="https://example.org/a/1",
        title="Session of the Council",
        summary=summary,
        content_html=content,
    )


@pytest.mark.parametrize(
    ("summary", "lead", "body_starts"),
    [
        # en.kremlin.ru: an empty summary makes the first paragraph the lead.
        ("", "Vladimir Putin took part in a session of the Council.", "The session discussed"),
        # tass.ru: the standfirst repeated as the first paragraph.
        (
            "Vladimir Putin took part in a session of the Council.",
            "Vladimir Putin took part in a session of the Council.",
            "The session discussed",
        ),
        # An excerpt of the opening paragraph is no lead.
        ("Vladimir Putin took part…", "", "Vladimir Putin took part in a session of the Council."),
        # A summary that only repeats the title.
        ("Session of the Council", "", "Vladimir Putin took part in a session of the Council."),
    ],
)
def test_lead_of_a_full_text_feed_item(summary: str, lead: str, body_starts: str) -> None:
    source = Source(key="t", url="https://example.org/feed", kind="feed", fetch_pages=False)
    content = (
        "<p>Vladimir Putin took part in a session of the Council.</p>"
        "<p>The session discussed the state of collective security in the region and more.</p>"
    )
    article = article_from_link(_item(summary, content), source=source, now=NOW)
    assert (article.lead, article.body[: len(body_starts)]) == (lead, body_starts)


def test_a_sources_drop_lines_and_trailers_clean_a_feed_items_lead() -> None:
    # Site strings are the source's data, not generic code: BelTA's captions, CSTO's "Go back".
    source = Source(
        key="t",
        url="https://example.org/feed",
        kind="feed",
        fetch_pages=False,
        drop_lines=(r"(?:[^\n]{0,80}\. )?An archive photo\.?", "Go back"),
        trailers=("Follow us on",),
    )
    content = "<p>The session discussed the state of collective security in the region.</p>"
    leads = []
    for summary in ["Stanislav Zas. An archive photo", "Go back", "Follow us on: X"]:
        leads.append(article_from_link(_item(summary, content), source=source, now=NOW).lead)
    assert leads == ["", "", ""]


def test_listing_merges_spellings_of_one_link_and_keeps_the_headline() -> None:
    source = Source(
        key="t",
        url="https://odkb-csto.org/news/",
        link_pattern=r"^https://odkb-csto\.org/n/[a-z]+/$",
        url_rewrites=((r"^https?://(?:www\.)?odkb-csto\.org/", "https://odkb-csto.org/"),),
    )
    html = _page(
        '<a href="http://www.odkb-csto.org/n/story/"><img src="x.jpg"></a>'
        '<a href="https://odkb-csto.org/n/story/?bxajaxid=abc">The headline</a>'
    )
    [link] = links_from_listing(html, base_url=source.url, source=source)
    assert (link.canonical_url, link.title) == ("https://odkb-csto.org/n/story/", "The headline")


def test_a_feed_is_not_extracted_as_a_page() -> None:
    feed = (FIXTURES / "tass-ru" / "yandex.xml").read_text(encoding="utf-8")
    with pytest.raises(NotHTML, match="RSS or Atom feed"):
        extract_article(feed, url="https://tass.ru/rss/yandex.xml")


def test_a_dated_full_text_feed_item_skips_htmldate_and_an_undated_one_uses_it(
    monkeypatch,
) -> None:
    # htmldate's search is the date cascade's costly last resort: a feed item's own time wins
    # anyway, so it runs only for an item without one.
    import scrapers.extract

    looked: list[str] = []

    def guess_date(html, *, url, zone, now):
        looked.append(url)
        return datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

    monkeypatch.setattr(scrapers.extract, "guess_date", guess_date)
    source = Source(key="t", url="https://example.org/feed", kind="feed", fetch_pages=False)
    stamp = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    dated, undated = (
        Link(
            url=f"https://example.org/a/{n}",
            canonical_url=f"https://example.org/a/{n}",
            title="Session of the Council",
            published=published,
            content_html="<p>The session discussed the state of collective security.</p>",
        )
        for n, published in ((1, stamp), (2, None))
    )
    assert article_from_link(dated, source=source, now=NOW).published == stamp
    assert looked == []
    assert article_from_link(undated, source=source, now=NOW).published == datetime(
        2026, 11, 1, 12, 0, tzinfo=UTC
    )
    assert looked == ["https://example.org/a/2"]
