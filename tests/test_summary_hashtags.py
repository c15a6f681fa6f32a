"""An entity named in the post's own summary is salient: its hashtag shows (synthetic fixtures).

Most sources give no lead, so the summary is the body's opening; a mention there is as good as
one in a lead (the fixture pages under tests/fixtures reproduce real pages and are synthetic).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import load_config
from bot.delivery.compose import Composer
from bot.ingest.prepare import enrich
from scrapers import extract_article
from scrapers.encoding import decode_html
from storage import OutboxItem, OutboxState, Store

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("key", "page", "url", "tag"),
    [
        # "…opens with the Statement of the Collective Security Council of the CSTO…"
        ("interaffairs-ru", "news-36162.html", "https://interaffairs.ru/news/show/36162", "#CSTO"),
        ("mid-en", "news-1776300.html", "https://mid.ru/en/foreign_policy/news/1776300/", "#CSTO"),
        ("tass-com", "article-1451110.html", "https://tass.com/politics/1451110", "#Russia"),
    ],
)
def test_an_entity_named_once_in_the_summary_keeps_its_hashtag(
    key: str, page: str, url: str, tag: str
) -> None:
    config = load_config(ROOT / "config.example.toml", environ={})
    raw = (ROOT / "tests" / "fixtures" / key / page).read_bytes()
    article = extract_article(decode_html(raw), url=url, source=config.source(key), now=NOW)
    stored = enrich(article, taxonomy=config.taxonomy, summary_chars=600).article
    item = OutboxItem(
        id=1, article_id=1, source_key=key, channel="main", chat_id="-1001",
        state=OutboxState.PENDING, attempts=0, article=stored,
    )  # fmt: skip
    assert tag in Composer(config.delivery, Store.in_memory()).hashtags(item)
