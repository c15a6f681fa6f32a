"""How long digest rows held by a Telegram flood wait have waited, as the heartbeat, `status`,
/status and /metrics tell it (the real relay and PTB against the loopback fake Bot API)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.service.journal import outbox_line
from storage import OutboxState, Store
from storage.status import read_snapshot
from tests.support.posting import CHAT, RelayKit, relay_rounds
from tests.support.relay import PACED, START, add, channel, make_config, states

pytestmark = pytest.mark.telegram(rate_limit=PACED, virtual_time=True)
HOUR = START + timedelta(hours=1)  # the digest's hour: its rows are due from then


@pytest.fixture
def kit(tmp_path, telegram, time):
    """Three articles queued at 09:00 for an hourly digest, held by the relay until 10:00;
    a live channel posts to the same chat."""
    config = make_config(
        tmp_path,
        channels=[channel("digest", CHAT, digest="1h"), channel("live", CHAT)],
        api_base_url=telegram.base_url,
    )
    store = Store.open(config.storage_path)
    made = RelayKit(telegram, time, store, config)
    for n in range(3):
        add(store, n, ("digest", CHAT))
    time.advance(300)
    relay_rounds(made, 1, advance=0, probe=False)  # held for the hour: nothing sent
    assert telegram.messages_for(CHAT) == [] and set(states(store).values()) == {"pending"}
    time.advance((HOUR - time.now()).total_seconds())
    yield made
    store.close()


def _five_minutes_on(kit: RelayKit):
    """Read the snapshot five minutes into the flood wait; return it and the heartbeat's line."""
    now = kit.time.now() + timedelta(minutes=5)
    snapshot = read_snapshot(kit.config.storage_path, now=now)
    return snapshot, outbox_line(snapshot, now=now)


def test_digest_rows_waiting_out_their_chat_s_flood_wait_have_waited_since_their_hour(kit) -> None:
    # The live post meets the 429 and the digest, due at its hour, waits with its chat: it has
    # waited since 10:00, not since "now" (an age of 0 that never grows while the wait lasts).
    add(kit.store, 9, ("live", CHAT), now=HOUR)
    kit.fake.flood_next(1, retry_after=600, chat=CHAT)
    relay_rounds(kit, 1, advance=0, probe=False)
    assert kit.fake.messages_for(CHAT) == [] and OutboxState.SENT not in states(kit.store).values()
    snapshot, line = _five_minutes_on(kit)
    # The digest's rows wait out the chat's flood wait too: FLOOD WAITING, not HELD.
    assert snapshot.held == {} and snapshot.flood_waiting == {"live": 1, "digest": 3}
    assert snapshot.oldest_due["digest"] == HOUR
    assert line == "outbox: 4 due (oldest 5 min)"


def test_a_digest_that_met_a_flood_wait_has_waited_since_its_hour_not_since_it_was_queued(
    kit,
) -> None:
    kit.fake.flood_next(1, retry_after=600, chat=CHAT)
    relay_rounds(kit, 1, advance=0, probe=False)
    assert kit.fake.messages_for(CHAT) == []
    snapshot, line = _five_minutes_on(kit)
    assert snapshot.flood_waiting == {"digest": 3}
    assert snapshot.oldest_due == {"digest": HOUR}  # not 09:00, when its articles were queued
    assert line == "outbox: 3 due (oldest 5 min)"


def test_digest_rows_held_for_an_hour_after_the_flood_wait_are_held_not_flood_waiting(
    tmp_path, telegram, time
) -> None:
    # The live post meets a 429 of 10 minutes at 09:05; the digest's rows wait for 10:00, after
    # the wait: they are counted once, under HELD, as PENDING counts them once.
    config = make_config(
        tmp_path,
        channels=[channel("digest", CHAT, digest="1h"), channel("live", CHAT)],
        api_base_url=telegram.base_url,
    )
    store = Store.open(config.storage_path)
    try:
        for n in range(3):
            add(store, n, ("digest", CHAT))
        time.advance(300)
        add(store, 9, ("live", CHAT), now=time.now())
        telegram.flood_next(1, retry_after=600, chat=CHAT)
        relay_rounds(RelayKit(telegram, time, store, config), 1, advance=0, probe=False)
        snapshot = read_snapshot(config.storage_path, now=time.now() + timedelta(minutes=5))
        assert snapshot.flood_waiting == {"live": 1} and snapshot.held == {"digest": 3}
    finally:
        store.close()


def test_a_chat_held_after_a_refused_token_is_not_flood_waiting(tmp_path, telegram, time) -> None:
    # Every retry-later outcome holds its chat (a refused token for 10 minutes); FLOOD WAITING
    # counted the whole held chat as waiting out a 429 Telegram never sent.
    config = make_config(tmp_path, channels=[channel("live", CHAT)], api_base_url=telegram.base_url)
    store = Store.open(config.storage_path)
    try:
        add(store, 1, ("live", CHAT))
        telegram.fail_next(1, status=401, description="Unauthorized", chat=CHAT)
        relay_rounds(RelayKit(telegram, time, store, config), 1, advance=0, probe=False)
        add(store, 2, ("live", CHAT), now=time.now())  # queued behind the hold
        snapshot = read_snapshot(config.storage_path, now=time.now() + timedelta(minutes=5))
        assert snapshot.token_refused == 1 and snapshot.flood_waiting == {}
    finally:
        store.close()
