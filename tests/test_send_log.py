"""The log line of each send names the article it carried (source key and address), as README's
Logs section promises: a relay on a real archive (both backends) with a scripted sender."""

from __future__ import annotations

import logging

from bot.delivery.outcomes import sent_label
from bot.delivery.telegram import Rejected, Uncertain
from scrapers.models import Article
from storage import OutboxItem, OutboxState
from tests.support.relay import (
    FakeTime,
    ScriptedSender,
    add,
    channel,
    deliver,
    make_config,
    relay_for,
)

MAIN = ("main", "-1001")


def test_sent_failed_and_uncertain_lines_name_the_source_key_and_the_url(
    tmp_path, store, caplog
) -> None:
    time = FakeTime()
    script = {"-1001": [Rejected("Bad Request: nope"), Uncertain("timeout")]}
    for n in (1, 2, 3):
        add(store, n, MAIN, source="tass-ru" if n == 3 else "tass-com")
    config = make_config(tmp_path, channels=[channel(*MAIN)], uncertain="hold")
    with caplog.at_level(logging.INFO, logger="bot.delivery.outcomes"):
        deliver(relay_for(store, config, ScriptedSender(time, script=script), time))
    assert [r.getMessage() for r in caplog.records if r.name == "bot.delivery.outcomes"] == [
        "failed main <- post 1 tass-com https://tass.com/politics/1: Bad Request: nope",
        "uncertain main <- post 2 tass-com https://tass.com/politics/2: timeout",
        "sent main <- post 3 tass-ru https://tass.com/politics/3 (message 1)",
    ]


def test_a_long_address_is_clipped_and_a_digest_says_how_many_more() -> None:
    # Synthetic rows: a Russian address, percent-encoded, runs past 300 characters.
    long = "https://tass.ru/politika/" + "%D0%BF" * 60
    rows = [_row(1, long), _row(2, "https://tass.com/politics/2")]
    label = sent_label(rows)
    assert label == f"main <- post 1, 2 tass-ru {long[:99]}… and 1 more"
    assert sent_label(rows[1:]) == "main <- post 2 tass-ru https://tass.com/politics/2"


def test_a_large_digest_keeps_one_bounded_line() -> None:
    # A digest of 1,000 rows names its first three ids and its last, and counts the rest.
    rows = [_row(n, f"https://tass.com/politics/{n}") for n in range(1, 1001)]
    label = sent_label(rows)
    assert label == "main <- post 1, 2, 3, … 1000 tass-ru https://tass.com/politics/1 and 999 more"
    assert sent_label(rows[:4]) == (
        "main <- post 1, 2, 3, 4 tass-ru https://tass.com/politics/1 and 3 more"
    )


def _row(n: int, url: str) -> OutboxItem:
    """Return a synthetic pending row of channel main."""
    article = Article(url=url, canonical_url=url, title=f"Title {n}")
    return OutboxItem(n, n, "tass-ru", "main", "-1001", OutboxState.PENDING, 0, article)
