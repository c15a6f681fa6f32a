"""Digests as a reader and an operator see them: on the console, in one time zone, in even parts."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from bot.delivery.console import ConsoleSender
from bot.delivery.digest import DigestEntry, digest_entry, digest_head, pack_digest
from bot.delivery.render import utf16_len
from tests.support.relay import (
    START,
    FakeTime,
    add,
    article,
    channel,
    deliver,
    make_config,
    relay_for,
)

MSK = "Europe/Moscow"


def test_a_digest_printed_on_the_console_gives_each_article_s_address(tmp_path, store) -> None:
    # Without a token a digest is printed: its entries keep their addresses, as single posts do.
    time = FakeTime()  # 09:00 UTC
    digest = ("digest", "-1001")
    config = make_config(tmp_path, channels=[channel(*digest, digest="1h")])
    for n in range(2):
        add(store, n, digest, now=START + timedelta(minutes=20))
    out = io.StringIO()
    relay = relay_for(store, config, ConsoleSender(out), time)
    time.advance(60 * 60)  # 10:00
    deliver(relay)
    lines = out.getvalue().splitlines()
    assert lines[0] == "--- post to -1001 (console: no Telegram token) ---"
    assert lines[-6:] == [
        "TASS",
        "• Title 0 · 28.11.2026 09:00 UTC",
        "  https://tass.com/politics/0",
        "• Title 1 · 28.11.2026 09:00 UTC",
        "  https://tass.com/politics/1",
        "",
    ]


def test_a_digest_s_entries_read_the_channel_s_zone_as_its_heading_does() -> None:
    # A source with no zone (UTC) in a Moscow channel's Russian digest: "МСК", as the heading.
    moment = datetime(2026, 12, 7, 12, 16, tzinfo=UTC)
    entry = digest_entry(
        article(1, published=moment), source_name="ТАСС", zone=MSK, lang="ru", source_zone="UTC"
    )
    assert entry.plain == "• Title 1 · 07.12.2026 15:16 МСК"


def test_a_source_s_day_alone_stays_that_day_in_another_zone_s_digest() -> None:
    # odkb-csto.org gives 02.02.2021 alone (midnight in Moscow); a UTC channel's digest says
    # that day, not "01.02.2021 21:00 UTC", a day and a time nobody gave.
    moment = datetime(2021, 2, 1, 21, 0, tzinfo=UTC)
    entry = digest_entry(
        article(1, published=moment), source_name="CSTO", zone="UTC", source_zone=MSK
    )
    assert entry.plain == "• Title 1 · 02.02.2021"


@pytest.mark.parametrize(
    ("count", "budget", "sizes"),
    [
        (45, 4000, [23, 22]),  # was 40 + 5
        (81, 4000, [27, 27, 27]),  # was 40 + 40 + 1
        (100, 4000, [34, 33, 33]),  # was 40 + 40 + 20
        (40, 4000, [40]),  # one message when one fits
        (4, 150, [2, 2]),  # the budget's limit: three entries fit under the heading; was 3 + 1
    ],
)
def test_a_split_digest_s_parts_are_as_even_as_the_limits_allow(count, budget, sizes) -> None:
    entries = [DigestEntry(html=f"• {'x' * 28}", plain=f"• {'x' * 28}", group="TASS")] * count
    head = digest_head(count, sources=1, period=None, zone="UTC", lang="en")
    parts = pack_digest(entries, head=head, budget=budget)
    assert [len(p.indexes) for p in parts] == sizes
    assert [i for p in parts for i in p.indexes] == list(range(count))
    assert all(utf16_len(p.plain) <= budget for p in parts)
