"""/latest fits as many stories as Telegram shows: lengths measured on the visible text, not the HTML.

Chats are synthetic, through the loopback fake Bot API (which refuses over 4,096 visible units).
"""

from __future__ import annotations

from datetime import timedelta

from bot.chat.answers import MAX_UNITS, fit
from bot.delivery.render import utf16_len as units
from bot.delivery.templates import visible_text
from scrapers.models import Article
from tests.support.chat import T0, talk


def test_latest_100_shows_the_newest_10_when_long_links_would_fill_the_raw_html(
    telegram, store, tmp_path
) -> None:
    # Synthetic: ten stories whose addresses are long (a CMS's slug and query), so the answer's
    # HTML is over 4,000 units while what the reader sees is about half that.
    for n in range(10):
        url = f"https://alpha.example/news/{n}/" + "a-long-slug-" * 30 + "?id=" + "7" * 40
        summary = f"Summary of story {n}, one sentence long enough to be a snippet."
        article = Article(
            url, url, f"Story number {n} about the summit", published=T0 + timedelta(hours=n),
            body=summary, lead=summary, summary=summary,
        )  # fmt: skip
        store.add_article(article, source_key="alpha", now=T0)

    async def script(s):
        return await s.ask("/latest 100")

    answer, _ = talk(telegram, store, tmp_path, script)
    assert units(answer) > MAX_UNITS  # the raw HTML: the old measure would have cut the list
    assert "(the newest 10: 10 at most at a time)" in answer
    assert answer.count("<a href=") == 10 and "more" not in answer
    assert units(visible_text(answer)) <= MAX_UNITS


def test_fit_counts_visible_text_so_markup_costs_nothing() -> None:
    link = '<a href="https://example.org/' + "x" * 500 + '">Title</a>'
    assert fit("<b>Head</b>", [link] * 20) == "<b>Head</b>" + f"\n\n{link}" * 20
    long_text = "<b>" + "word " * 200 + "</b>"
    trimmed = fit("Head", [long_text] * 10)
    assert trimmed.endswith("…and 7 more")
    assert units(visible_text(trimmed)) <= MAX_UNITS
