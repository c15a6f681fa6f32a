"""The lead image: declared images, the body's first large picture, and what is never one.

The pages here are synthetic (written for the test, each named so) except the real Der Standard
page from the Fundus set (tests/fixtures/images/README.md), whose og:image must be found.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from trafilatura.metadata import extract_metadata

from scrapers import Link, Source, extract_article, links_from_feed, links_from_listing, merge_link
from scrapers.images import Candidate, absolute, refusal

REAL_PAGE = Path(__file__).parent / "fixtures" / "images" / "at_DerStandard_2024_05_03.html.gz"
REAL_URL = (
    "https://www.derstandard.at/story/3000000218734/"
    "nach-kalifat-rufen-in-hamburg-sind-wir-zu-sanft-zu-islamisten?ref=rss"
)
URL = "https://news.example/2026/11/story.html"


def synthetic_page(head: str = "", body: str = "") -> str:
    """Return a synthetic article page with the given head tags and article body."""
    return (
        f"<html><head><title>Talks resume - Example News</title>{head}</head><body>"
        "<header class='site-header'><img src='/assets/site-logo-big.png' width='800' "
        "height='400'></header><article><h1>Talks resume</h1>"
        f"<p>The talks resumed on Monday in Geneva after a pause of two weeks.</p>{body}"
        "<p>Delegations from both sides met for six hours and agreed to meet again.</p>"
        "</article><footer><img src='/img/partner.jpg' width='600' height='400'></footer>"
        "</body></html>"
    )


def image_of(page: str, **kwargs) -> str:
    return extract_article(page, url=URL, **kwargs).image


def test_og_image_with_its_declared_size_is_the_lead_image() -> None:
    head = (
        '<meta property="og:image" content="/media/2026/talks.jpg">'
        '<meta property="og:image:width" content="1200">'
        '<meta property="og:image:height" content="630">'
    )
    assert image_of(synthetic_page(head)) == "https://news.example/media/2026/talks.jpg"


def test_a_tracking_pixel_and_a_logo_are_passed_over_for_the_body_photo() -> None:
    head = (
        '<meta property="og:image" content="https://news.example/static/logo.png">'
        '<meta name="twitter:image" content="https://mc.yandex.ru/watch/123?ut=noindex">'
    )
    body = (
        '<img src="https://news.example/px.gif" width="1" height="1">'
        '<img src="https://news.example/ad-strip.jpg" width="970" height="90">'
        '<figure><img src="data:image/gif;base64,R0lGOD" data-src="/photos/geneva.jpg">'
        "<figcaption>Geneva</figcaption></figure>"
    )
    assert image_of(synthetic_page(head, body)) == "https://news.example/photos/geneva.jpg"


def test_a_page_with_only_a_pixel_a_logo_and_chrome_pictures_has_no_image() -> None:
    head = '<meta property="og:image" content="/images/og-default.png">'
    body = '<img src="/counter/1x1.gif" width="1" height="1"><img src="/icons/share.svg">'
    assert image_of(synthetic_page(head, body)) == ""


def test_the_site_s_own_share_image_is_not_an_article_s_image() -> None:
    head = '<meta property="og:image" content="https://news.example/share/brand.jpg">'
    page = synthetic_page(head, '<figure><img src="/photos/geneva.jpg"></figure>')
    assert image_of(page) == "https://news.example/share/brand.jpg"
    shared = "http://www.news.example/share/brand.jpg?v=2"  # the listing's spelling of it
    assert image_of(page, site_image=shared) == "https://news.example/photos/geneva.jpg"


@pytest.mark.parametrize(
    "raw",
    [
        "data:image/png;base64,iVBORw0K",
        "javascript:alert(1)",
        "ftp://news.example/a.jpg",
        " ",
        "//",
    ],
)
def test_only_http_addresses_are_images(raw: str) -> None:
    assert absolute(raw, base=URL) == ""


@pytest.mark.parametrize(
    ("candidate", "reason"),
    [
        (Candidate("https://a.example/p.jpg", 150, 150), "smaller than"),
        (Candidate("https://a.example/p.jpg", 1200, 200), "banner"),
        (Candidate("https://a.example/avatars/u1.jpg", 400, 400), "named as"),
        (Candidate("https://a.example/sprite.png"), "named as"),
        (Candidate("https://a.example/i/brand.svg"), "icon format"),
        (Candidate("https://www.facebook.com/tr?id=1&ev=PageView"), "counter"),
        (Candidate("https://a.example/p.jpg", where="body"), "unknown size"),
    ],
)
def test_what_is_refused_and_why(candidate: Candidate, reason: str) -> None:
    assert reason in (refusal(candidate, candidate.url) or "")


def test_drupal_s_default_folder_and_a_size_variant_named_default_are_photos() -> None:
    for url in (
        "https://gov.example/sites/default/files/2026-11/minister.jpg",
        "https://static.example/clip/f95_facebook-aspect-ratio_default_0.jpg",
        "https://static.example/uploads/home-depot-customer-loading-truck.jpg",
    ):
        assert refusal(Candidate(url), url) is None
    for stock in ("https://a.example/img/loading.gif", "https://a.example/og-default.png"):
        assert "named as" in (refusal(Candidate(stock), stock) or "")


def test_json_ld_image_object_is_read_when_nothing_else_is_declared() -> None:
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": "Talks resume",
        "image": {"@type": "ImageObject", "url": "https://cdn.example/talks.webp", "width": 1600},
    }
    head = f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    assert image_of(synthetic_page(head)) == "https://cdn.example/talks.webp"


def test_a_real_page_s_og_image_is_found_as_trafilatura_reads_it() -> None:
    html = gzip.decompress(REAL_PAGE.read_bytes()).decode("utf-8")
    image = extract_article(html, url=REAL_URL).image
    assert image.startswith("https://i.ds.at/") and image.endswith(".jpeg")
    assert image == extract_metadata(html, default_url=REAL_URL).image


SYNTHETIC_FEED = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>Synthetic agency feed</title><link>https://agency.example/</link>
<image><url>https://agency.example/logo-feed.jpg</url><title>x</title><link>https://agency.example/</link></image>
<item><title>With media</title><link>https://agency.example/news/1</link>
<media:content url="https://agency.example/photos/1.jpg" medium="image" width="1024" height="683"/></item>
<item><title>With an enclosure</title><link>https://agency.example/news/2</link>
<enclosure url="https://agency.example/photos/2.jpg" type="image/jpeg" length="1000"/></item>
<item><title>Showing the feed's logo</title><link>https://agency.example/news/3</link>
<media:thumbnail url="https://agency.example/logo-feed.jpg"/></item>
<item><title>With audio</title><link>https://agency.example/news/4</link>
<enclosure url="https://agency.example/a.mp3" type="audio/mpeg" length="1000"/></item>
</channel></rss>"""


def test_a_feed_item_s_media_content_or_image_enclosure_is_its_image() -> None:
    source = Source(key="agency", url="https://agency.example/rss", kind="feed")
    links = {link.title: link for link in links_from_feed(SYNTHETIC_FEED, source=source)}
    assert links["With media"].image == "https://agency.example/photos/1.jpg"
    assert links["With an enclosure"].image == "https://agency.example/photos/2.jpg"
    assert links["Showing the feed's logo"].image == ""
    assert links["With audio"].image == ""


def test_a_listing_s_own_og_image_goes_with_its_links_and_beats_the_page_s() -> None:
    listing = (
        '<html><head><meta property="og:image" content="/share/brand.jpg"></head><body>'
        '<a href="/2026/11/story.html">Talks resume</a></body></html>'
    )
    source = Source(key="news", url="https://news.example/", link_pattern=r"/2026/")
    (link,) = links_from_listing(listing, base_url="https://news.example/", source=source)
    assert link.site_image == "https://news.example/share/brand.jpg"
    page = synthetic_page('<meta property="og:image" content="/share/brand.jpg">')
    article = extract_article(page, url=URL)
    assert merge_link(article, link).image == ""
    assert merge_link(article, Link(url=URL, canonical_url=URL)).image == article.image
