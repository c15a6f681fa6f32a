"""A split digest's later part goes out as the reader was promised it, whatever held it back."""

from __future__ import annotations

import pytest

from bot.delivery.telegram import Delivered, Rejected, RetryLater
from storage import OutboxState
from tests.support.relay import (
    START,
    FakeTime,
    ScriptedSender,
    add,
    channel,
    deliver,
    make_config,
    relay_for,
    states,
)

DIGEST = ("digest", "-1001")
HEAD = "Digest · 28.11.2026 09:00–10:00 UTC"


def _split_digest(tmp_path, store, time: FakeTime):
    """Queue 45 articles of three sources for an hourly digest (40 fit a message) and reach 10:00.

    Two parts, as even as can be: grouped by source, TASS's first 23 make part 1; TASS's last 15,
    BelTA's 4 (its last 3 queued after Kremlin's 3) and Kremlin's make part 2, BelTA before
    Kremlin, as its source appeared first.
    """
    config = make_config(tmp_path, channels=[channel(*DIGEST, digest="1h")])
    for n in range(45):
        source = "belta" if n == 1 or n >= 42 else "kremlin" if n in (2, 3, 4) else "tass-com"
        add(store, n, DIGEST, source=source, now=START)
    time.advance(3600)
    return config


@pytest.mark.parametrize(
    "failure",
    [RetryLater(40, "flood wait"), Rejected("Bad Request: something odd")],
    ids=["flood-wait", "failed-then-retried"],
)
def test_the_second_part_of_a_split_digest_is_sent_again_as_part_2_of_the_same_digest(
    tmp_path, store, failure
) -> None:
    time = FakeTime()
    config = _split_digest(tmp_path, store, time)
    sender = ScriptedSender(time, script={DIGEST[1]: [Delivered(1), failure]})
    relay = relay_for(store, config, sender, time)
    deliver(relay)
    first, refused = sender.to(DIGEST[1])
    assert first.plain.splitlines()[:2] == [f"{HEAD} (1/2)", "45 articles from 3 sources"]
    left = [i for i, state in states(store).items() if state != OutboxState.SENT]
    assert len(left) == 22
    if isinstance(failure, Rejected):
        assert store.outbox.retry(left, now=time.now()) == 22  # the operator's `outbox retry`
    time.advance(3600)  # past the flood wait, and into the next digest period
    deliver(relay)
    again = sender.to(DIGEST[1])[-1]
    assert len(sender.to(DIGEST[1])) == 3
    assert again.plain.splitlines()[:2] == [f"{HEAD} (2/2)", "45 articles from 3 sources"]
    assert (again.text, again.plain) == (refused.text, refused.plain)
    assert set(states(store).values()) == {OutboxState.SENT}


def test_a_split_digest_stopped_after_its_first_part_sends_its_second_at_the_next_start(
    tmp_path, store
) -> None:
    time = FakeTime()
    config = _split_digest(tmp_path, store, time)
    sender = ScriptedSender(time)
    relay = relay_for(store, config, sender, time)
    sender.on_send = lambda message: relay.stop()  # the service is stopped as part 1 goes out
    deliver(relay)
    assert len(sender.to(DIGEST[1])) == 1
    sender.on_send = None
    time.advance(300)
    deliver(relay_for(store, config, sender, time))  # the next start
    first, second = sender.to(DIGEST[1])
    assert first.plain.splitlines()[:2] == [f"{HEAD} (1/2)", "45 articles from 3 sources"]
    assert second.plain.splitlines()[:2] == [f"{HEAD} (2/2)", "45 articles from 3 sources"]
    assert set(states(store).values()) == {OutboxState.SENT}


def test_a_period_of_more_rows_than_a_look_takes_goes_out_as_one_digest(tmp_path, store) -> None:
    # The relay takes 50 due rows per chat per look; a digest of 120 was three digests of the
    # same hour ("50 articles" twice, then "20 articles"), each numbered on its own.
    time = FakeTime()
    config = make_config(tmp_path, channels=[channel(*DIGEST, digest="1h")])
    for n in range(120):
        add(store, n, DIGEST, now=START)
    time.advance(3600)
    sender = ScriptedSender(time)
    deliver(relay_for(store, config, sender, time))
    heads = [m.plain.splitlines()[:2] for m in sender.to(DIGEST[1])]
    assert heads == [[f"{HEAD} ({n}/3)", "120 articles from 1 source"] for n in (1, 2, 3)]
    assert sum(m.plain.count("\n• ") for m in sender.to(DIGEST[1])) == 120
    assert set(states(store).values()) == {OutboxState.SENT}


def test_a_period_cut_by_the_looks_overall_limit_goes_out_as_one_digest(tmp_path, store) -> None:
    # The look takes 200 due rows in all: five digest chats of 45 rows each got 40 apiece, under
    # the per-chat 50, so none was taken whole: each had "40 articles", then "5 articles".
    time = FakeTime()
    chats = [(f"digest{k}", f"-100{k}") for k in range(5)]
    config = make_config(tmp_path, channels=[channel(*c, digest="1h") for c in chats])
    for n in range(45):
        add(store, n, *chats, now=START)
    time.advance(3600)
    sender = ScriptedSender(time)
    deliver(relay_for(store, config, sender, time))
    for _, chat in chats:
        heads = [m.plain.splitlines()[:2] for m in sender.to(chat)]
        assert heads == [[f"{HEAD} ({n}/2)", "45 articles from 1 source"] for n in (1, 2)]
    assert set(states(store).values()) == {OutboxState.SENT}
