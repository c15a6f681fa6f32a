"""Adding a source: link-pattern inference on saved listing pages, then `add` and `check-source`
as a user runs them against loopback copies of the sites."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import pytest

from bot.config import config_from_dict
from bot.ingest.discovery import NoArticleLinks, group_links, infer_link_pattern, link_groups
from bot.ingest.proposal import guess_timezone, is_feed, page_facts, source_key, toml_block
from scrapers import Source, links_from_listing, url_key
from tests.support.cli import presswatch
from tests.support.world import config_without, write_config

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
PAGES = FIXTURES / "discovery"

# A saved listing page, the address it was saved from, the pattern `add` must propose and how
# many article links it must find there.
LISTINGS = [
    (
        "interaffairs-en/listing.html",
        "https://en.interaffairs.ru/",
        r"^https?://en\.interaffairs\.ru/article/[^/?#]+/?$",
        3,
    ),
    (
        "discovery/odkb-csto-ru-news.html",
        "https://odkb-csto.org/news/news_odkb/",
        r"^https?://(?:www\.)?odkb-csto\.org/news/news_odkb/[^/?#]+/?$",
        4,
    ),
    (
        "discovery/belta-eng-president.html",
        "https://eng.belta.by/president/",
        r"^https?://eng\.belta\.by/[^/?#]+/view/[^/?#]+-\d+-\d{4}/?$",
        8,
    ),
    (
        "discovery/tass-com-politics.html",
        "https://tass.com/politics",
        r"^https?://(?:www\.)?tass\.com/[^/?#]+/\d+/?$",
        6,
    ),
    (
        "discovery/interaffairs-ru-news.html",
        "https://interaffairs.ru/news/",
        r"^https?://(?:www\.)?interaffairs\.ru/news/show/\d+/?$",
        8,
    ),
    (
        "discovery/mid-ru-en-news.html",
        "https://mid.ru/en/foreign_policy/news/",
        r"^https?://(?:www\.)?mid\.ru/en/foreign_policy/news/\d+/?$",
        6,
    ),
    (
        "discovery/wordpress-ministry.html",
        "https://mfa.example.org/category/press-releases/",
        r"^https?://mfa\.example\.org/\d+/\d+/\d+/[^/?#]+/?$",
        4,
    ),
]


@pytest.mark.parametrize(
    ("name", "base_url", "pattern", "count"), LISTINGS, ids=[n for n, *_ in LISTINGS]
)
def test_the_inferred_pattern_finds_exactly_the_articles(
    name: str, base_url: str, pattern: str, count: int
) -> None:
    html = (FIXTURES / name).read_text(encoding="utf-8")
    group = infer_link_pattern(html, base_url=base_url)
    assert group.pattern == pattern
    # What the poll will find with this pattern is what inference saw, and nothing else on the page.
    source = Source(key="x", url=base_url, link_pattern=pattern)
    found = links_from_listing(html, base_url=base_url, source=source)
    assert {url_key(link.canonical_url) for link in found} == {url_key(u) for u in group.urls}
    assert len(found) == count


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def grouped_urls(name: str, base_url: str) -> set[str]:
    return {url for group in link_groups(page(name), base_url=base_url) for url in group.urls}


def test_sidebar_sections_join_when_no_section_dominates_and_drop_when_one_does() -> None:
    belta = infer_link_pattern(
        page("belta-eng-president.html"), base_url="https://eng.belta.by/president/"
    )
    assert belta.shape == "/<section>/view/<slug>-<id>-<year>/"
    ia_ru = infer_link_pattern(
        page("interaffairs-ru-news.html"), base_url="https://interaffairs.ru/news/"
    )
    assert not any("jauthor" in url for url in ia_ru.urls)  # 2 journal links beside 8 news ones


def test_navigation_tags_authors_pages_and_files_are_never_articles() -> None:
    urls = grouped_urls(
        "wordpress-ministry.html", "https://mfa.example.org/category/press-releases/"
    )
    assert not any(
        part in u for u in urls for part in ("/tag/", "/author/", "/category/", "/page/")
    )
    # Long, headline-like links that would pass for articles but for a file type or a tag path.
    files = [
        (
            f"https://mfa.example.org/docs/joint-statement-of-the-ministers-{n}.pdf",
            f"Joint statement of the ministers number {n}",
        )
        for n in range(5)
    ]
    tags = [
        (
            f"https://mfa.example.org/tag/collective-security-treaty-{n}/",
            f"All news about collective security, part {n}",
        )
        for n in range(5)
    ]
    assert group_links(files + tags, base_url="https://mfa.example.org/") == []
    pages = [(url.replace(".pdf", ".html"), text) for url, text in files]
    assert len(group_links(pages, base_url="https://mfa.example.org/")[0].urls) == 5


def test_a_javascript_only_listing_has_no_article_links() -> None:
    with pytest.raises(NoArticleLinks, match="filled in by JavaScript"):
        infer_link_pattern(page("javascript-only.html"), base_url="https://tass.ru/politika")


def test_page_facts_name_language_and_feeds_news_feed_first() -> None:
    facts = page_facts(
        page("wordpress-ministry.html"), base_url="https://mfa.example.org/category/press-releases/"
    )
    assert facts.name == "MFA of the Republic of Example" and facts.lang == "en"
    assert facts.feeds == (
        "https://mfa.example.org/feed/",
        "https://mfa.example.org/comments/feed/",
    )
    mid = page_facts(page("mid-ru-en-news.html"), base_url="https://mid.ru/en/foreign_policy/news/")
    assert mid.name == "The Ministry of Foreign Affairs of the Russian Federation"
    assert mid.feeds == ("https://mid.ru/en/rss.php",)
    ia_ru = page_facts(page("interaffairs-ru-news.html"), base_url="https://interaffairs.ru/news/")
    assert (ia_ru.name, ia_ru.lang, ia_ru.feeds) == ("Международная жизнь", "ru", ())


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ((FIXTURES / "tass-com" / "feed.xml").read_bytes(), True),
        (
            b'\n<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Kremlin</title></feed>',
            True,
        ),
        (
            b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
            True,
        ),
        ((FIXTURES / "interaffairs-en" / "listing.html").read_bytes(), False),
        (
            b'<?xml version="1.0"?><!DOCTYPE html><html><body><a href="/rss">rss</a></body></html>',
            False,
        ),
        (b"not markup at all", False),
    ],
)
def test_is_feed(content: bytes, expected: bool) -> None:
    assert is_feed(content) is expected


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://en.interaffairs.ru/", "interaffairs-en"),
        ("https://tass.com/rss/v2.xml", "tass-com"),
        ("https://www.belta.by/rss", "belta-by"),
        ("https://eng.belta.by/president/", "belta-eng"),
        ("https://en.odkb-csto.org/news/news_odkb/", "odkb-csto-en"),
        ("https://www.gov.uk/search/news-and-communications", "gov-uk"),
        ("https://news.bbc.co.uk/", "bbc-news"),
        ("http://127.0.0.1:8080/", "127-0-0-1-8080"),
    ],
)
def test_source_key_comes_from_the_host(url: str, key: str) -> None:
    assert source_key(url) == key


def test_source_key_avoids_keys_in_use() -> None:
    assert source_key("https://tass.com/politics", taken=("tass-com", "tass-com-2")) == "tass-com-3"


@pytest.mark.parametrize(
    ("url", "lang", "zone"),
    [
        ("https://tass.com/", "en", "UTC"),
        ("https://en.interaffairs.ru/", "en", "Europe/Moscow"),
        ("https://eng.belta.by/", "en", "Europe/Minsk"),
        ("https://www.inform.kz/", "ru", "Asia/Almaty"),
        ("https://example.org/", "ru", "Europe/Moscow"),
        ("http://127.0.0.1:8080/", "en", "UTC"),
    ],
)
def test_timezone_guess(url: str, lang: str, zone: str) -> None:
    assert guess_timezone(url, lang=lang)[0] == zone


def test_the_toml_block_reads_back_as_a_valid_source() -> None:
    block = toml_block(
        [
            ("key", "mfa-example", ""),
            ("name", 'People\'s "Daily" \\ News\n', "tricky"),
            ("kind", "html", ""),
            ("url", "https://mfa.example.org/", ""),
            ("link_pattern", r"^https?://mfa\.example\.org/\d+/[^/?#]+/?$", "a regex"),
            ("lang", None, "skipped"),
            ("timezone", "Europe/Moscow", ""),
            ("every", "10m", ""),
            ("backfill", 0, ""),
        ]
    )
    [source] = config_from_dict(tomllib.loads(block), path=Path("x.toml")).sources
    assert source.name == 'People\'s "Daily" \\ News\n'
    assert source.link_pattern == r"^https?://mfa\.example\.org/\d+/[^/?#]+/?$"
    assert "link_pattern = '^https?://mfa" in block and "lang" not in block


# -- the commands, as a user runs them ------------------------------------------------------------

TASS_HOME = """<!DOCTYPE html><html lang="en"><head><title>TASS</title>
<link rel="alternate" type="application/rss+xml" title="TASS" href="/rss/v2.xml"></head>
<body><a href="/politics/1451189">CSTO summit participants adopt statement</a></body></html>"""


NEW_ARTICLE = """<html lang="en"><head><title>CSTO foreign ministers meet in Almaty</title></head>
<body><article><h1>CSTO foreign ministers meet in Almaty</h1><p>ALMATY, June 21. /TASS/. The Council of
Foreign Ministers of the Collective Security Treaty Organization opened its meeting in Almaty on Friday
to discuss the situation on the Tajik-Afghan border.</p></article></body></html>"""


def test_add_proposes_an_html_source_with_a_preview(world, tmp_path) -> None:
    config = config_without(tmp_path, world, "interaffairs-en")
    result = presswatch("add", world.url("interaffairs-en", "/"), "--config", str(config))
    assert result.returncode == 0, result.stderr
    [source] = tomllib.loads(result.stdout)["sources"]  # The whole output is valid TOML.
    base = world.url("interaffairs-en", "")
    port = base.rsplit(":", 1)[1]
    assert source == {
        "key": "international-affairs",  # from the site's name, not its host
        "name": "International Affairs",
        "kind": "html",
        "url": base + "/",
        "link_pattern": rf"^https?://127\.0\.0\.1:{port}/article/[^/?#]+/?$",
        "lang": "en",
        "timezone": "UTC",
        "every": "10m",
        "backfill": 0,
    }
    assert "# Preview: 3 links; the first 3 as presswatch reads them:" in result.stdout
    assert "# 3. Briefing by CSTO Secretary General Stanislav Zas" in result.stdout
    assert "#    On February 2, 2021, the press center of the TASS news agency" in result.stdout
    assert not (tmp_path / "archive.db").exists()


def test_add_prefers_the_feed_a_page_advertises(world, tmp_path) -> None:
    world.site("tass-com").add("/", TASS_HOME)
    config = config_without(tmp_path, world, "tass-com")
    result = presswatch(
        "add",
        world.url("tass-com", "/"),
        "--config",
        str(config),
        "--key",
        "tass-en",
        "--preview",
        "1",
    )
    assert result.returncode == 0, result.stderr
    [source] = tomllib.loads(result.stdout)["sources"]
    assert (source["key"], source["kind"], source["url"], source["name"]) == (
        "tass-en",
        "feed",
        world.url("tass-com", "/rss/v2.xml"),
        "TASS",
    )
    assert "link_pattern" not in source
    assert "advertises this feed (4 items)" in result.stdout
    # tass.com's feed also carries a special-project page; `add` says how to leave it out.
    assert (
        r"3 of the 4 items are shaped /<section>/<id>/; to skip the others (e.g. "
        + world.url("tass-com", "/spec/csto30")
        + r") add: link_pattern = '^https?://127\.0\.0\.1:"
    ) in result.stdout
    assert (
        "# 1. CSTO summit participants adopt statement on 30th anniversary of Collective Security "
        "Treaty\n#    2022-05-16 12:40 UTC"
    ) in result.stdout


def test_add_explains_a_page_without_article_links(world, tmp_path) -> None:
    world.site("tass-com").add("/politika", page("javascript-only.html"))
    config = write_config(tmp_path, world)
    result = presswatch("add", world.url("tass-com", "/politika"), "--config", str(config))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().endswith("look for a feed, a sitemap or another listing page)")


def test_add_without_a_config_uses_the_default_fetch_policy(world, tmp_path) -> None:
    result = presswatch(
        "add", world.url("interaffairs-en", "/"), "--config", str(tmp_path / "none.toml")
    )
    # The defaults refuse loopback and private addresses: a real site is fine, this copy is not.
    assert result.returncode == 1 and "resolves to non-public address 127.0.0.1" in result.stderr


def test_check_source_without_an_archive_shows_everything_as_new_and_creates_nothing(
    world, tmp_path
) -> None:
    world.site("tass-com").remove("/politics/1451110")
    config = write_config(tmp_path, world)
    result = presswatch("check-source", "tass-com", "--config", str(config))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "does not exist yet: every link is new" in out
    assert "links: 3 found, 3 new, 0 already archived" in out
    assert "\nfirst run: recorded silently\n" in out  # as the poll's line says it (backfill 0)
    assert "  published: 2022-05-16 12:40 UTC (16.05.2022 15:40 MSK)" in out
    assert out.count("would be:  stored; recorded silently, not posted (a first run's older") == 2
    assert (
        "    | <b>CSTO summit participants adopt statement on 30th anniversary of Collective Security "
        "Treaty</b>\n    | TASS · 16.05.2022 15:40 MSK\n"
    ) in out
    assert f'    | <a href="{world.url("tass-com", "/politics/1451189")}">' in out
    assert (
        "HTTP 404 Not Found\n  would be stored from what the listing or feed says, and not tried again"
        in out
    )
    assert not (tmp_path / "archive.db").exists()


def test_check_source_reads_the_archive_without_writing_it(world, tmp_path) -> None:
    config = write_config(tmp_path, world)
    assert presswatch("once", "--config", str(config)).returncode == 0
    site = world.site("tass-com")
    feed = site.routes["/rss/v2.xml"].body.decode()
    item = (
        f"<item><title>CSTO foreign ministers meet in Almaty</title><link>{site.base_url}/politics/1806309"
        "</link><pubDate>Fri, 21 Jun 2024 10:00:00 +0300</pubDate></item>"
    )
    site.add("/rss/v2.xml", feed.replace("<item>", item + "<item>", 1))
    site.add("/politics/1806309", NEW_ARTICLE)
    archive = tmp_path / "archive.db"
    before = hashlib.sha256(archive.read_bytes()).hexdigest()
    result = presswatch("check-source", "tass-com", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert f"archive: {archive}, opened read-only" in result.stdout
    assert "links: 4 found, 1 new, 3 already archived" in result.stdout
    assert "first run" not in result.stdout
    assert "would be:  stored; posted to main (@presswatch_test)" in result.stdout
    assert f"already archived:\n  {site.base_url}/politics/1451189\n" in result.stdout
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == before


def test_check_source_of_a_broken_source_exits_1_with_the_reason(world, tmp_path) -> None:
    world.site("tass-com").add("/rss/v2.xml", "<html>maintenance</html>", content_type="text/html")
    result = presswatch("check-source", "tass-com", "--config", str(write_config(tmp_path, world)))
    assert result.returncode == 1
    assert "FAILED: " in result.stdout and "not an RSS or Atom feed" in result.stdout


def test_check_source_of_an_unknown_key_is_a_usage_error(world, tmp_path) -> None:
    result = presswatch("check-source", "nope", "--config", str(write_config(tmp_path, world)))
    assert result.returncode == 2
    assert result.stderr.startswith("presswatch: check-source: unknown source 'nope' (configured: ")
    assert "config error" not in result.stderr and "did you mean" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_mistyped_source_key_gets_the_closest_one_suggested(world, tmp_path) -> None:
    config = str(write_config(tmp_path, world))
    result = presswatch("check-source", "tass-cmo", "--config", config)
    assert result.returncode == 2
    line = "presswatch: check-source: unknown source 'tass-cmo' (did you mean 'tass-com'?)"
    assert result.stderr.strip() == line


def test_is_feed_looks_past_a_byte_order_mark() -> None:
    atom = '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>K</title></feed>'
    assert is_feed(b"\xef\xbb\xbf" + atom.encode())
    assert is_feed(atom.encode("utf-16"))
