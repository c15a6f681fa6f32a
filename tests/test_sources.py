"""Every shipped source, on its saved pages: links, title, time (UTC), author, lead and body."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import load_config
from scrapers import article_from_link, extract_article, links_from_feed, links_from_listing
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


@pytest.mark.parametrize(("key", "case"), _cases(), ids=lambda v: v if isinstance(v, str) else v["file"])
def test_article_fields(key: str, case: dict) -> None:
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
