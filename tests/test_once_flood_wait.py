"""`once` under cron meets a flood wait shorter than an hour: its summary says how many posts wait
it out and until when, and it exits 0 (Telegram's pacing; the posts go at a later round).
A real SQLite archive, `once` as a child process, the loopback fake Bot API, a synthetic feed."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest

from scrapers.models import Article
from storage import Delivery, OutboxState, Store
from storage.records import stored_moment
from storage.status import FloodWait, read_flood_wait
from tests.fakes.telegram import DEFAULT_TOKEN
from tests.support.cli import presswatch as run_presswatch
from tests.support.cron import NOW, cron_config, feed_site

presswatch = partial(run_presswatch, token=DEFAULT_TOKEN)
CHAT = "@presswatch_test"


@pytest.fixture
def feed():
    """A loopback site serving one small synthetic feed."""
    with feed_site() as address:
        yield address


def queue(archive, n: int) -> None:
    """Archive `n` synthetic articles queued for the main channel."""
    store = Store.open(archive)
    for i in range(n):
        url = f"https://tass.com/flood/{i}"
        store.add_article(
            Article(url=url, canonical_url=url, title=f"Held {i}"),
            source_key="wire-a",
            now=NOW,
            deliveries=[Delivery("main", CHAT)],
        )
    store.close()


def test_a_short_flood_wait_is_said_with_its_end_and_fails_nothing(tmp_path, feed, telegram):
    config = cron_config(tmp_path, feed=feed, telegram=telegram.base_url)
    assert presswatch("once", "--config", str(config)).returncode == 0  # the baseline
    sent_before = len(telegram.messages_for(CHAT))
    queue(tmp_path / "archive.db", 2)
    telegram.flood_next(1, retry_after=600, chat=CHAT)
    result = presswatch("once", "--config", str(config))
    store = Store.open(tmp_path / "archive.db")
    rows = list(store.db.query("select state, next_attempt_at from outbox where state != 'sent'"))
    store.close()
    # The 429 held the whole chat: both posts wait, the one it answered and the one behind it.
    assert [r["state"] for r in rows] == [OutboxState.PENDING] * 2
    until = max(stored_moment(r["next_attempt_at"]) for r in rows)
    line = result.stderr.strip().splitlines()[-1]
    assert f"; 2 posts waiting out Telegram's flood wait until {until:%H:%M} UTC" in line, line
    assert result.returncode == 0, result.stderr
    assert len(telegram.messages_for(CHAT)) == sent_before


def test_the_flood_wait_read_counts_the_held_chat_until_its_hold_ends(store, backend) -> None:
    # Both archives: the row a 429 answered and the one its chat's hold keeps back wait; a post
    # to another chat is due, not waiting; once the hold has passed nothing waits.
    for i, chat in enumerate((CHAT, CHAT, "@other")):
        url = f"https://tass.com/read/{i}"
        store.add_article(
            Article(url=url, canonical_url=url, title=f"Post {i}"),
            source_key="wire-a",
            now=NOW,
            deliveries=[Delivery("main" if chat == CHAT else "other", chat)],
        )
    until = NOW + timedelta(minutes=10)
    store.outbox.mark_retry(1, error="flood wait: retry after 600 s", at=until, now=NOW)
    store.outbox.defer_chat(CHAT, until=until, now=NOW)
    assert read_flood_wait(backend, now=NOW + timedelta(minutes=1)) == FloodWait(2, until)
    assert read_flood_wait(backend, now=until + timedelta(seconds=1)) == FloodWait()
