"""Digests as a reader and an operator see them: on the console, in one time zone, in even parts."""

from __future__ import annotations

import io
from datetime import timedelta

from bot.delivery.telegram import ConsoleSender
from tests.support.relay import START, FakeTime, add, channel, deliver, make_config, relay_for


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
