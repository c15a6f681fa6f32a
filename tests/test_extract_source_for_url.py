"""The configured source for a page's URL: by host, then link pattern, then shared path."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from scrapers import Source
from scrapers.selection import source_for_url

ROOT = Path(__file__).resolve().parent.parent
# The shipped sources as config.example.toml writes them (what matching reads of each).
SHIPPED = [
    Source(key=s["key"], url=s["url"], link_pattern=s.get("link_pattern"))
    for s in tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))["sources"]
]


@pytest.mark.parametrize(
    ("url", "key"),
    [
        # The seed page of issue 11: an html source whose URL is the site's front page.
        (
            "https://en.interaffairs.ru/article/briefing-by-csto-secretary-general-stanislav-zas/",
            "interaffairs-en",
        ),
        # Scheme and a leading "www." do not matter; a subdomain does.
        ("http://www.en.interaffairs.ru/article/x/", "interaffairs-en"),
        ("https://interaffairs.ru/news/show/36162", "interaffairs-ru"),
        # A feed source's pages live outside the feed's folder.
        ("https://tass.com/politics/1451077", "tass-com"),
        ("https://odkb-csto.org/news/news_odkb/peredovaya-gruppa/", "odkb-csto-ru"),
        ("https://en.odkb-csto.org/news/news_odkb/on-line-brifing/", "odkb-csto-en"),
        ("https://www.belta.by/president/view/x-741203-2026/", "belta-ru"),
        ("https://eng.belta.by/politics/view/x-141354-2021/", "belta-en"),
        # No configured host.
        ("https://example.org/news/1", None),
        ("not a url", None),
        ("https://[bad/", None),
    ],
)
def test_shipped_sources_by_url(url: str, key: str | None) -> None:
    found = source_for_url(SHIPPED, url)
    assert (found.key if found else None) == key


def _source(key: str, url: str, pattern: str | None = None) -> Source:
    return Source(key=key, url=url, link_pattern=pattern)


def test_sources_sharing_a_host_are_told_apart_by_path() -> None:
    en = _source("en", "https://mid.example/en/rss.php")
    ru = _source("ru", "https://mid.example/ru/rss.php")
    root = _source("root", "https://mid.example/")
    sources = [root, en, ru]
    assert source_for_url(sources, "https://mid.example/en/foreign_policy/news/1").key == "en"
    assert source_for_url(sources, "https://www.mid.example/ru/foreign_policy/news/1").key == "ru"
    # Nothing shared beyond the host: the first configured source of the host.
    assert source_for_url(sources, "https://mid.example/de/news/1").key == "root"


def test_the_longest_shared_path_wins_whatever_the_order() -> None:
    news = _source("news", "https://gov.example/news/")
    press = _source("press", "https://gov.example/news/press/")
    url = "https://gov.example/news/press/2024/statement"
    assert source_for_url([news, press], url).key == "press"
    assert source_for_url([press, news], url).key == "press"


def test_a_matching_link_pattern_beats_a_shared_path() -> None:
    listing = _source("listing", "https://gov.example/news/", r"^https://gov\.example/news/\d+$")
    feed = _source("feed", "https://gov.example/rss/", r"^https://gov\.example/press/\d+$")
    assert source_for_url([listing, feed], "https://gov.example/press/12").key == "feed"
    # A bad pattern matches nothing rather than failing.
    broken = _source("broken", "https://gov.example/press/", "([")
    assert source_for_url([broken, feed], "https://gov.example/press/12").key == "feed"


def test_no_sources_means_none() -> None:
    assert source_for_url([], "https://gov.example/press/12") is None
