"""`once`'s "posted N" and `run`'s heartbeat count messages: a digest is one post (the articles it
carried said beside it), an edit is no post (said apart). The real relay and PTB against the
loopback fake Bot API, a real SQLite archive, `once` as a child process; articles synthetic."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import partial

import pytest

from bot.delivery.outcomes import RelayReport
from bot.delivery.telegram import Delivered, Message
from bot.service.counters import Counters, MeteredSender
from bot.service.journal import posted, totals
from bot.service.reachability import delivery_line
from scrapers.models import Article
from storage import Delivery, Store
from tests.fakes.telegram import DEFAULT_TOKEN
from tests.support.cli import presswatch as run_presswatch
from tests.support.cron import NOW, cron_config, feed_site
from tests.support.posting import CHAT, RelayKit, relay_rounds
from tests.support.relay import PACED, START, add, channel, make_config, states

presswatch = partial(run_presswatch, token=DEFAULT_TOKEN)
HOUR = START + timedelta(hours=1)


@pytest.fixture
def feed():
    """A loopback site serving one small synthetic feed."""
    with feed_site() as address:
        yield address


@pytest.mark.telegram(rate_limit=PACED, virtual_time=True)
def test_a_round_counts_a_digest_as_one_post_and_an_edit_apart(tmp_path, telegram, time) -> None:
    config = make_config(
        tmp_path,
        channels=[channel("digest", CHAT, digest="1h"), channel("live", CHAT)],
        api_base_url=telegram.base_url,
    )
    store = Store.open(config.storage_path)
    kit = RelayKit(telegram, time, store, config)
    live = add(store, 9, ("live", CHAT))
    relay_rounds(kit, 1, advance=0, probe=False)  # the live post goes; nothing else is due
    for n in range(3):
        add(store, n, ("digest", CHAT))
    store.posts.enqueue_update(live, kind="edit", now=START)
    time.advance((HOUR - time.now()).total_seconds())
    add(store, 10, ("live", CHAT), now=HOUR)
    [report] = relay_rounds(kit, 1, advance=0, probe=False)
    assert set(states(store).values()) == {"sent"}
    store.close()
    # Five rows went this round: three in one digest message, one live post, one edit.
    assert (report.sent, report.posts, report.digests, report.digest_articles, report.edits) == (
        5,
        2,
        1,
        3,
        1,
    )
    assert delivery_line(report) == (
        "posted 2 (3 articles in 1 digest), edited 1, retrying 0, uncertain 0, failed 0"
    )


def test_once_says_an_edit_apart_from_posts(tmp_path, feed, telegram) -> None:
    config = cron_config(tmp_path, feed=feed, telegram=telegram.base_url)
    assert presswatch("once", "--config", str(config)).returncode == 0  # the baseline
    store = Store.open(tmp_path / "archive.db")
    url = "https://tass.com/edited"
    article_id = store.add_article(
        Article(url=url, canonical_url=url, title="First wording"),
        source_key="wire-a",
        now=NOW,
        deliveries=[Delivery("main", "@presswatch_test")],
    )
    store.close()
    first = presswatch("once", "--all", "--config", str(config))
    store = Store.open(tmp_path / "archive.db")
    assert store.posts.enqueue_update(article_id, kind="edit", now=NOW) == 1
    store.close()
    second = presswatch("once", "--all", "--config", str(config))
    assert "; posted 1, retrying 0," in first.stderr.strip().splitlines()[-1], first.stderr
    assert "; posted 0, edited 1, retrying 0," in second.stderr.strip().splitlines()[-1]
    assert second.returncode == 0, second.stderr


class _Takes:
    """A sender Telegram takes every message from (message id 1)."""

    async def send(self, message: Message) -> Delivered:
        return Delivered(1)


def test_the_heartbeat_counts_an_edit_apart_from_posts() -> None:
    counters = Counters()
    metered = MeteredSender(_Takes(), counters, channels={CHAT: "live"})
    asyncio.run(metered.send(Message(chat_id=CHAT, text="post")))
    asyncio.run(metered.send(Message(chat_id=CHAT, text="post, corrected", edit_message_id=1)))
    assert posted(totals(counters)) == "1 post, 1 edit"
    assert counters.value("posts_sent", channel="live") == 2  # /metrics counts messages, as before


def test_posts_a_probe_found_delivered_are_said_apart_from_posts_sent() -> None:
    # A probe that finds an uncertain post in its chat marks it sent with no message this round.
    report = RelayReport()
    report.delivered(1, edit=False)
    report.sent += 2  # as bot/delivery/probe.py's _found counts the two rows it found
    assert delivery_line(report) == (
        "posted 1, 2 found already delivered, retrying 0, uncertain 0, failed 0"
    )
