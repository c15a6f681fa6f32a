"""The relay on a real SQLite file with a scripted sender and a clock the test moves: states,
pacing, fairness, alerts and channel health (the rendering of posts: test_publish_rendering.py)."""

from __future__ import annotations

import io
import itertools
import logging
from datetime import timedelta

import pytest

from bot.delivery.console import ConsoleSender
from bot.delivery.pacing import Lanes, Pacer
from bot.delivery.telegram import (
    BadMarkup,
    ChatMoved,
    Rejected,
    RetryLater,
    TooLong,
    Uncertain,
)
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

A, B, C = ("main", "-1001"), ("second", "-1002"), ("third", "-1003")
TWO = [channel(*A), channel(*B)]


# -- the state machine ---------------------------------------------------------------------------


def test_a_row_is_sending_during_the_call_and_sent_with_the_message_id(tmp_path, store) -> None:
    time = FakeTime()
    sender = ScriptedSender(time)
    seen = []
    sender.on_send = lambda m: seen.append(store.db["outbox"].get(1)["state"])
    add(store, 1, A)
    report = deliver(relay_for(store, make_config(tmp_path, channels=TWO), sender, time))
    row = store.db["outbox"].get(1)
    assert seen == [OutboxState.SENDING]
    assert (row["state"], row["message_id"], row["attempts"], report.sent) == (
        OutboxState.SENT,
        1,
        1,
        1,
    )


@pytest.mark.parametrize(
    ("outcome", "state"),
    [
        (RetryLater(30, "flood wait: retry after 30"), OutboxState.PENDING),
        (Uncertain("TimedOut: timed out"), OutboxState.UNCERTAIN),
        (Rejected("Bad Request: message to edit not found"), OutboxState.FAILED),
        (
            Rejected("Forbidden: bot was kicked from the channel chat", chat_problem=True),
            OutboxState.FAILED,
        ),
    ],
)
def test_each_outcome_has_its_state_and_reason(tmp_path, store, outcome, state) -> None:
    time = FakeTime()
    add(store, 1, A)
    sender = ScriptedSender(time, script={A[1]: [outcome]})
    deliver(relay_for(store, make_config(tmp_path, channels=TWO), sender, time))
    row = store.db["outbox"].get(1)
    assert row["state"] == state and row["last_error"] == outcome.reason


def test_a_flood_wait_holds_the_whole_chat_until_its_time_and_others_go_on(tmp_path, store) -> None:
    time = FakeTime()
    for n in range(3):
        add(store, n, A, B)
    sender = ScriptedSender(time, script={A[1]: [RetryLater(40, "flood wait")]})
    relay = relay_for(store, make_config(tmp_path, channels=TWO), sender, time)
    deliver(relay)
    assert len(sender.to(B[1])) == 3 and len(sender.to(A[1])) == 1
    waiting = list(store.db.query("select next_attempt_at from outbox where chat_id = ?", [A[1]]))
    assert {r["next_attempt_at"] for r in waiting} == {(START + timedelta(seconds=40)).isoformat()}
    deliver(relay)
    assert len(sender.to(A[1])) == 1  # not yet
    time.advance(41)
    deliver(relay)
    assert len(sender.to(A[1])) == 4 and set(states(store).values()) == {OutboxState.SENT}


@pytest.mark.parametrize(("policy", "resent"), [("hold", False), ("resend", True)])
def test_uncertain_rows_follow_the_policy(tmp_path, store, policy, resent) -> None:
    time = FakeTime()
    add(store, 1, A)
    sender = ScriptedSender(time, script={A[1]: [Uncertain("NetworkError: server disconnected")]})
    relay = relay_for(store, make_config(tmp_path, channels=TWO, uncertain=policy), sender, time)
    deliver(relay)
    time.advance(3600)
    deliver(relay)
    assert len(sender.to(A[1])) == (2 if resent else 1)
    assert store.db["outbox"].get(1)["state"] == (
        OutboxState.SENT if resent else OutboxState.UNCERTAIN
    )


def test_a_crash_mid_send_is_uncertain_after_restart_and_held(tmp_path, store) -> None:
    time = FakeTime()
    add(store, 1, A)
    store.outbox.claim([1], chat=A[1], now=START)  # the process died during the call
    assert store.outbox.recover_interrupted(now=START) == 1
    sender = ScriptedSender(time)
    deliver(relay_for(store, make_config(tmp_path, channels=TWO), sender, time))
    assert sender.sent == [] and store.db["outbox"].get(1)["state"] == OutboxState.UNCERTAIN


def test_an_uncertain_edit_is_always_tried_again(tmp_path, store) -> None:
    time = FakeTime()
    article_id = add(store, 1, A)
    store.outbox.mark_sent(1, message_id=7, now=START)
    store.posts.enqueue_update(article_id, kind="edit", now=START)
    sender = ScriptedSender(time, script={A[1]: [Uncertain("TimedOut")]})
    relay = relay_for(store, make_config(tmp_path, channels=TWO, uncertain="hold"), sender, time)
    deliver(relay)
    time.advance(60)
    deliver(relay)
    assert [m.edit_message_id for m in sender.to(A[1])] == [7, 7]
    assert store.db["outbox"].get(2)["state"] == OutboxState.SENT


def test_a_row_the_operator_dropped_meanwhile_is_not_sent(tmp_path, store) -> None:
    time = FakeTime()
    add(store, 1, A)
    add(store, 2, A)
    sender = ScriptedSender(time)
    sender.on_send = lambda m: store.outbox.drop([2], now=START)
    deliver(relay_for(store, make_config(tmp_path, channels=TWO), sender, time))
    assert len(sender.sent) == 1 and states(store) == {1: OutboxState.SENT, 2: OutboxState.DROPPED}


# -- channel health and alerts ------------------------------------------------------------------


def test_a_refusing_chat_fails_its_rows_alerts_once_and_recovers(tmp_path, store) -> None:
    time = FakeTime()
    for n in range(3):
        add(store, n, A, B)
    kicked = Rejected("Forbidden: bot was kicked from the channel chat", chat_problem=True)
    sender = ScriptedSender(time, script={A[1]: [kicked]})
    config = make_config(tmp_path, channels=TWO, admin_chat_id="42")
    relay = relay_for(store, config, sender, time)
    report = deliver(relay)
    assert len(sender.to(A[1])) == 1 and len(sender.to(B[1])) == 3  # one call, the rest failed
    assert report.failed == 3 and report.failed_chats == {"main"}
    [health] = [c for c in store.outbox.channels.all() if c["name"] == "main"]
    assert health["state"] == "failing" and "kicked" in health["reason"]
    [alert] = sender.to("42")
    assert "main" in alert.text and "kicked" in alert.text and not alert.html
    store.outbox.retry(store.outbox.ids_in(OutboxState.FAILED), now=time.now())
    deliver(relay)
    assert len(sender.to(A[1])) == 4 and set(states(store).values()) == {OutboxState.SENT}
    assert [c["state"] for c in store.outbox.channels.all() if c["name"] == "main"] == ["ok"]
    assert "takes posts again" in sender.to("42")[-1].text


def test_a_reader_who_blocked_the_bot_is_not_news_for_the_operator(tmp_path, store) -> None:
    time = FakeTime()
    add(store, 1, ("user:7", "7"))
    sender = ScriptedSender(
        time, script={"7": [Rejected("Forbidden: bot was blocked by the user", True)]}
    )
    deliver(relay_for(store, make_config(tmp_path, channels=TWO, admin_chat_id="42"), sender, time))
    assert store.db["outbox"].get(1)["state"] == OutboxState.FAILED and sender.to("42") == []


def test_a_migrated_chat_is_followed_with_its_queued_rows(tmp_path, store) -> None:
    time = FakeTime()
    for n in range(2):
        add(store, n, ("group", "-4001"))
    sender = ScriptedSender(time, script={"-4001": [ChatMoved(-1009)]})
    deliver(
        relay_for(store, make_config(tmp_path, channels=[channel("group", "-4001")]), sender, time)
    )
    assert len(sender.to("-1009")) == 2
    assert {r["chat_id"] for r in store.db.query("select chat_id from outbox")} == {"-1009"}
    assert set(states(store).values()) == {OutboxState.SENT}


# -- content errors ---------------------------------------------------------------------------


def test_bad_markup_is_sent_again_as_plain_text(tmp_path, store) -> None:
    time = FakeTime()
    add(store, 1, A)
    sender = ScriptedSender(time, script={A[1]: [BadMarkup("Can't parse entities")]})
    deliver(relay_for(store, make_config(tmp_path, channels=TWO), sender, time))
    first, second = sender.to(A[1])
    assert first.html and not second.html and second.text == first.plain
    assert store.db["outbox"].get(1)["state"] == OutboxState.SENT


def test_too_long_is_shortened_then_bare(tmp_path, store) -> None:
    time = FakeTime()
    add(store, 1, A, summary="word " * 500)
    sender = ScriptedSender(time, script={A[1]: [TooLong("Message is too long")] * 2})
    deliver(relay_for(store, make_config(tmp_path, channels=TWO), sender, time))
    full, short, bare = (len(m.text) for m in sender.to(A[1]))
    assert full > short > bare and "Title 1" in sender.to(A[1])[-1].text
    assert store.db["outbox"].get(1)["state"] == OutboxState.SENT


# -- pacing and fairness ---------------------------------------------------------------------------


def test_one_chat_is_paced_per_minute_and_per_interval(tmp_path, store) -> None:
    time = FakeTime()
    for n in range(45):
        add(store, n, A)
    sender = ScriptedSender(time)
    deliver(relay_for(store, make_config(tmp_path, channels=TWO), sender, time))
    times = [t for t, _ in sender.sent]
    assert len(times) == 45
    assert min(b - a for a, b in itertools.pairwise(times)) >= 3.0
    assert max(sum(1 for t in times if start <= t < start + 60) for start in times) <= 20


def test_chats_take_turns_so_a_busy_one_cannot_starve_the_others(tmp_path, store) -> None:
    time = FakeTime()
    for n in range(10):
        add(store, n, A)
    add(store, 10, B)
    add(store, 11, C)
    sender = ScriptedSender(time)
    channels = [channel(*A), channel(*B), channel(*C)]
    deliver(
        relay_for(
            store,
            make_config(tmp_path, channels=channels, per_second=1, per_chat_interval=0),
            sender,
            time,
        )
    )
    assert [m.chat_id for _, m in sender.sent][:4] == ["-1001", "-1002", "-1003", "-1001"]


def test_alerts_go_through_the_same_relay_as_plain_text(tmp_path, store) -> None:
    time = FakeTime()
    store.alerts.enqueue(
        chat_id="42",
        subject="source:tass",
        kind="source_failing",
        text="tass-com: HTTP 503 <for 3 polls>",
        now=START,
    )
    sender = ScriptedSender(time)
    report = deliver(
        relay_for(store, make_config(tmp_path, channels=TWO, admin_chat_id="42"), sender, time)
    )
    [alert] = sender.to("42")
    assert (alert.text, alert.html, report.alerts) == ("tass-com: HTTP 503 <for 3 polls>", False, 1)
    assert store.db["alerts"].get(1)["state"] == OutboxState.SENT


def test_pacer_counts_a_send_from_its_answer() -> None:
    pacer = Pacer(per_minute=2, interval=1.0, per_second=10)
    pacer.record("a", 0.0)
    assert pacer.ready_at("a", 0.0) == 1.0
    pacer.settle("a", 0.0, 0.5)
    assert pacer.ready_at("a", 0.6) == 1.5
    pacer.record("a", 1.5)
    assert pacer.ready_at("a", 1.6) == 60.5  # two in the last minute: wait for the first to age
    pacer.block("b", 30.0)
    assert pacer.ready_at("b", 0.0) == 30.0


def test_lanes_serve_one_job_per_chat_at_a_time_round_robin() -> None:
    pacer, lanes = Pacer(per_minute=100, interval=0, per_second=100), Lanes()
    for job in ("a1", "a2", "b1"):
        lanes.add(job[0], job)
    assert lanes.take(pacer, 0.0) == ("a", "a1")
    assert lanes.take(pacer, 0.0) == ("b", "b1")
    assert lanes.take(pacer, 0.0) is None  # a is busy, b is empty
    lanes.done("a")
    assert lanes.take(pacer, 0.0) == ("a", "a2")
    assert lanes.clear("a") == [] and not lanes.idle
    lanes.done("a"), lanes.done("b")
    assert lanes.idle


def test_a_console_post_is_logged_as_printed_not_as_message_none(tmp_path, store, caplog) -> None:
    time, printed = FakeTime(), io.StringIO()
    add(store, 1, A)
    relay = relay_for(store, make_config(tmp_path, channels=TWO), ConsoleSender(printed), time)
    with caplog.at_level(logging.INFO, logger="bot.delivery.outcomes"):
        deliver(relay)
    [line] = [r.getMessage() for r in caplog.records if "main <- post 1" in r.getMessage()]
    assert "message None" not in line
    assert line == (
        "printed main <- post 1 tass-com https://tass.com/politics/1 on the console "
        "(no Telegram token: no message id; "
        "marked sent, not retried)"
    )
    assert "Title 1" in printed.getvalue()


@pytest.mark.parametrize(("timeout", "state"), [(15, OutboxState.UNCERTAIN), (300, "sending")])
def test_a_send_still_within_its_calls_deadlines_is_not_taken_for_stuck(
    tmp_path, store, timeout, state
) -> None:
    # A send may take five calls of three request_timeouts each: at 300 s, one in flight on
    # another worker for 11 minutes was swept to uncertain by the fixed 10-minute rule.
    time = FakeTime()
    add(store, 1, A)
    store.outbox.claim([1], chat=A[1], now=START)
    time.advance(660)
    config = make_config(tmp_path, channels=TWO, request_timeout=timeout)
    deliver(relay_for(store, config, ScriptedSender(time), time))
    assert store.db["outbox"].get(1)["state"] == state
