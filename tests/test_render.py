"""Rendering posts: escaping, local time, Telegram's UTF-16 limit, the link always kept."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from telegram.constants import MessageLimit

from bot.delivery.digest import digest_entry
from bot.delivery.render import CAPTION, MAX_MESSAGE_UNITS, local_time, render_post, utf16_len
from scrapers.models import Article

PUBLISHED = datetime(2021, 2, 8, 8, 12, tzinfo=UTC)


def _article(**fields) -> Article:
    base = dict(
        url="https://en.interaffairs.ru/article/briefing-by-csto-secretary-general-stanislav-zas/",
        canonical_url="https://en.interaffairs.ru/article/briefing-by-csto-secretary-general-stanislav-zas/",
        title="Briefing by CSTO Secretary General Stanislav Zas",
        published=PUBLISHED,
    )
    return Article(**{**base, **fields})


def visible(post_html: str) -> str:
    """Return what Telegram shows: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", post_html))


def test_our_limit_is_telegrams() -> None:
    assert MAX_MESSAGE_UNITS == MessageLimit.MAX_TEXT_LENGTH


def test_post_layout() -> None:
    post = render_post(
        _article(),
        source_name="International Affairs",
        zone="Europe/Moscow",
        summary="The Secretary General spoke about the pandemic.",
    )
    assert post.html.startswith(
        "<b>Briefing by CSTO Secretary General Stanislav Zas</b>\n"
        "International Affairs · 08.02.2021 11:12 MSK\n\n"
        "The Secretary General spoke about the pandemic.\n\n"
        '<a href="https://en.interaffairs.ru/article/'
    )


def test_scraped_text_is_escaped() -> None:
    post = render_post(
        _article(title="<script>alert(1)</script> & Co", url='https://x.example/a?b=1&c="2"'),
        source_name="A <b>site</b>",
        summary="1 < 2 && 3 > 2",
    )
    tags = re.findall(r"</?([a-z]+)", post.html)
    assert set(tags) <= {"b", "a"}
    assert "&lt;script&gt;" in post.html and "1 &lt; 2 &amp;&amp; 3 &gt; 2" in post.html
    assert 'href="https://x.example/a?b=1&amp;c=&quot;2&quot;"' in post.html


@pytest.mark.parametrize("char", ["a", "я", "😀"])
def test_long_summaries_fit_and_keep_the_link(char: str) -> None:
    summary = " ".join([char * 7] * 2000)
    post = render_post(_article(), source_name="S", summary=summary, hashtags=("#csto",))
    assert utf16_len(visible(post.html)) <= MAX_MESSAGE_UNITS
    assert post.html.rstrip().endswith("#csto")
    assert 'href="https://en.interaffairs.ru/article/' in post.html
    cut = visible(post.html).split("\n\n")[1]
    assert cut.count("…") == 1 and cut.endswith(char * 7 + "…"), "cut inside a word"


def test_a_huge_title_is_shortened_too() -> None:
    post = render_post(_article(title="Заголовок " * 2000), source_name="S", summary="x")
    assert utf16_len(visible(post.html)) <= MAX_MESSAGE_UNITS
    assert "href=" in post.html


@pytest.mark.parametrize(
    ("zone", "text"),
    [
        ("Europe/Moscow", "08.02.2021 11:12 MSK"),
        ("Europe/Minsk", "08.02.2021 11:12 UTC+3"),
        ("UTC", "08.02.2021 08:12 UTC"),
        ("Asia/Kolkata", "08.02.2021 13:42 IST"),
    ],
)
def test_local_time(zone: str, text: str) -> None:
    assert local_time(PUBLISHED, zone) == text


def test_plain_version_has_the_same_words_without_markup() -> None:
    post = render_post(_article(title="A & B"), source_name="S", summary="Text.")
    assert "<" not in post.plain and "A & B" in post.plain and post.url in post.plain


@pytest.mark.parametrize(
    ("published", "line"),
    [
        # odkb-csto.org prints "02.02.2021" alone: midnight in Moscow is a time nobody gave.
        (datetime(2021, 2, 1, 21, 0, tzinfo=UTC), "CSTO · 02.02.2021"),
        (datetime(2021, 2, 1, 21, 1, tzinfo=UTC), "CSTO · 02.02.2021 00:01 MSK"),
        (datetime(2021, 2, 1, 21, 0, 30, tzinfo=UTC), "CSTO · 02.02.2021 00:00 MSK"),
    ],
)
def test_a_day_printed_without_a_time_is_shown_without_one(published, line) -> None:
    post = render_post(_article(published=published), source_name="CSTO", zone="Europe/Moscow")
    entry = digest_entry(_article(published=published), source_name="CSTO", zone="Europe/Moscow")
    assert post.plain.splitlines()[1] == line
    assert entry.plain.endswith(line.removeprefix("CSTO"))  # "• Title · 02.02.2021"


def test_a_cut_summary_stops_at_a_full_stop_when_whole_sentences_fill_the_room() -> None:
    sentence = "The U.S. delegation met the CSTO Secretary General in Geneva on Monday morning. "
    summary = (sentence * 30).strip()
    caption = render_post(_article(lang="en"), source_name="TASS", summary=summary, limits=CAPTION)
    shown = visible(caption.html).split("\n\n")[1]
    assert utf16_len(visible(caption.html)) <= MessageLimit.CAPTION_LENGTH
    assert shown.endswith("Monday morning.") and summary.startswith(shown)
    assert len(shown) > 500  # most of the room is used, not just the first sentence
    assert caption.plain.split("\n\n")[1].endswith("Monday morning.")


def test_a_summary_of_one_long_sentence_is_still_cut_at_a_word() -> None:
    summary = "Участники встречи обсудили " + "вопросы сотрудничества, " * 80 + "и планы."
    caption = render_post(_article(lang="ru"), source_name="ТАСС", summary=summary, limits=CAPTION)
    shown = visible(caption.html).split("\n\n")[1]
    assert shown.endswith("…") and shown[:-1] + " " in summary  # a whole word before "…"
    assert utf16_len(visible(caption.html)) <= MessageLimit.CAPTION_LENGTH
