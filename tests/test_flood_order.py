"""After a 429, a chat's posts still go out oldest first: posts queued during the wait wait too
(README: a 429 "holds only that chat until retry_after"; the ux14 walkthrough saw them overtake).

The real relay and python-telegram-bot against the loopback fake Bot API, on both archives; the
relay and the fake share a virtual clock.
"""

from __future__ import annotations

import pytest

from storage import OutboxState
from tests.support.relay import PACED, TWO_CHATS, add, relay_rounds, titles

pytestmark = pytest.mark.telegram(rate_limit=PACED, virtual_time=True)

A, B = TWO_CHATS


@pytest.mark.parametrize("restart", [False, True], ids=["one-process", "restarted"])
def test_posts_queued_during_a_flood_wait_go_after_the_older_ones(
    store, telegram, time, tmp_path, restart
) -> None:
    telegram.flood_next(1, retry_after=20, chat=int(A[1]))
    for n in range(3):
        add(store, n, A, B)

    def queue_more() -> None:
        for n in range(3, 8):
            add(store, n, A)
        time.advance(5)  # still inside the wait

    def after_the_wait() -> None:
        time.advance(20)

    if restart:  # a new process knows the wait only from the archive
        relay_rounds(store, telegram, time, tmp_path, [lambda: None])
        relay_rounds(store, telegram, time, tmp_path, [queue_more])
        assert titles(telegram, A[1]) == []  # nothing was sent into the wait
        relay_rounds(store, telegram, time, tmp_path, [after_the_wait, lambda: time.advance(60)])
    else:
        steps = [lambda: None, queue_more, after_the_wait, lambda: time.advance(60)]
        relay_rounds(store, telegram, time, tmp_path, steps)
    assert titles(telegram, A[1]) == list(range(8))
    assert titles(telegram, B[1]) == [0, 1, 2]  # the other chat did not wait
    states = {r["state"] for r in store.db.query("select state from outbox")}
    assert states == {OutboxState.SENT}


def test_three_flood_waits_then_a_poll_of_thirty_posts_keep_the_order(
    store, telegram, time, tmp_path
) -> None:
    # The walkthrough's case: flood_next(3, retry_after=20), and a poll queued about 30 posts
    # during the last wait.
    telegram.flood_next(3, retry_after=20, chat=int(A[1]))
    for n in range(3):
        add(store, n, A)

    def queue_a_poll() -> None:
        for n in range(3, 33):
            add(store, n, A)
        time.advance(5)

    wait = [lambda: time.advance(21)]
    relay_rounds(store, telegram, time, tmp_path, [lambda: None, *wait, *wait])
    assert [c.status for c in telegram.requests if c.method == "sendMessage"] == [429] * 3
    relay_rounds(store, telegram, time, tmp_path, [queue_a_poll, *wait * 12])
    assert titles(telegram, A[1]) == list(range(33))


def test_an_alert_the_last_process_sent_keeps_the_admin_chats_pace_after_a_restart(
    store, telegram, time, tmp_path
) -> None:
    admin = "555"

    def alert(kind: str) -> None:
        store.alerts.enqueue(
            chat_id=admin, subject="channel:a", kind=kind, text=kind, now=time.now()
        )

    relay_rounds(store, telegram, time, tmp_path, [lambda: alert("first")])
    time.advance(1)  # within the chat's pace (PACED: 3 s between messages to one chat)
    relay_rounds(store, telegram, time, tmp_path, [lambda: alert("second")])  # a new process
    assert [m.text for m in telegram.messages_for(admin)] == ["first", "second"]
    assert telegram.throttled == {}  # the new process knew the first alert: no 429 earned
