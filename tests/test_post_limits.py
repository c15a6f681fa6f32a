"""Every rendered post stays within Telegram's 4,096 UTF-16 units, HTML and plain, for any URL.

Property-style: URLs from empty to 10,000 characters (densely around the ~3,000 where the plain
fallback used to overflow), in ASCII, Cyrillic and astral characters, with the longest title,
source name, summary, "Also:" list and hashtags a post can have. The HTML is measured as the fake
Bot API parses it (the href never counts, the label does).
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest

from bot.config import config_from_dict
from bot.delivery.compose import Composer
from bot.delivery.render import MAX_MESSAGE_UNITS, render_post, shown_url, utf16_len
from scrapers.models import Article
from storage import OutboxItem, OutboxKind, OutboxState, Store
from tests.fakes.telegram.entities import parse_html

LENGTHS = sorted(
    {*range(0, 10_001, 331), *range(2_800, 3_400, 17), 3_940, 3_988, 4_000, 4_096, 4_097}
)
PUBLISHED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _url(char: str, n: int) -> str:
    return "https://example.org/news/" + char * n


def _fits(text_html: str, plain: str) -> None:
    assert utf16_len(parse_html(text_html).text) <= MAX_MESSAGE_UNITS
    assert utf16_len(plain) <= MAX_MESSAGE_UNITS


@pytest.mark.parametrize("char", ["a", "я", "😀"])
def test_posts_fit_for_every_url_length(char: str) -> None:
    for n in LENGTHS:
        url = _url(char, n)
        article = Article(
            url=url, canonical_url=url, title=f"{char * 9} " * 100, published=PUBLISHED
        )
        post = render_post(
            article,
            source_name="Source " * 60,
            zone="Europe/Moscow",
            summary=f"{char * 7} " * 1200,
            hashtags=tuple(f"#tag{i}" for i in range(300)),
            also=tuple(f"Other source {i}" for i in range(60)),
        )
        _fits(post.html, post.plain)
        assert f'href="{html.escape(url, quote=True)}"' in post.html, n  # the link survives
        # The plain fallback keeps the address whenever it leaves room for the title and meta.
        if utf16_len(url) <= 2_000:
            assert url in post.plain, n


@pytest.mark.parametrize("n", [0, 3_000, 3_500, 20_000])
def test_a_bare_post_with_a_huge_url_keeps_title_and_link(n: int) -> None:
    url = _url("a", n)
    post = render_post(Article(url=url, canonical_url=url, title="Title"), source_name="S")
    _fits(post.html, post.plain)
    assert post.plain.startswith("Title\nS\n\n") and f'href="{url}"' in post.html
    assert (url in post.plain) == (utf16_len(url) <= 3_980)


def test_shown_url_falls_back_to_the_label() -> None:
    assert shown_url("https://example.org/a", room=100) == "https://example.org/a"
    assert shown_url(_url("b", 5_000), room=3_000).startswith("example.org/news/bbb")
    assert utf16_len(shown_url(_url("b", 5_000), room=3_000)) <= 60


@pytest.mark.parametrize("n", [10, 3_700, 9_000])
def test_a_correction_reply_fits_for_any_url_length(tmp_path, n: int) -> None:
    url = _url("a", n)
    config = config_from_dict(
        {"channels": [{"name": "main", "chat_id": "-1001"}]}, path=tmp_path / "p.toml"
    )
    composer = Composer(config.delivery, Store.in_memory())
    item = OutboxItem(
        id=1,
        article_id=1,
        source_key="s",
        channel="main",
        chat_id="-1001",
        state=OutboxState.PENDING,
        attempts=0,
        article=Article(url=url, canonical_url=url, title="T " * 400),
        kind=OutboxKind.REPLY,
        target_message_id=7,
    )
    message = composer.message(item)
    _fits(message.text, message.plain)
    assert f'href="{url}"' in message.text and message.reply_to == 7
