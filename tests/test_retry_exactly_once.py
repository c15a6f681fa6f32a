"""The operator's retry and the relay's claim never record a message under a chat it was not
sent to (review14b's findings), on both archives."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import DigestMark, OutboxState, Store
from tests.support.relay import (
    START,
    FakeTime,
    ScriptedSender,
    add,
    channel,
    deliver,
    make_config,
    relay_for,
)

A, B = "-1001001", "-1001002"
NOW = START + timedelta(minutes=1)


def _outbox(store: Store) -> list[tuple]:
    rows = store.db.query("select id, state, chat_id, message_id from outbox order by id")
    return [(r["id"], r["state"], r["chat_id"], r["message_id"]) for r in rows]


def test_a_row_the_operator_repointed_after_the_relay_read_it_is_not_claimed(store) -> None:
    """The relay read a failed-then-retried row for chat A; a second retry points it at B before
    the relay's claim (after its pacing wait): the claim is refused, nothing is sent to A."""
    add(store, 1, ("a", A))
    [rid] = [r["id"] for r in store.db.query("select id from outbox")]
    store.outbox.claim([rid], chat=A, now=NOW)
    store.outbox.mark_failed([rid], error="Bad Request: chat not found", now=NOW)
    assert store.outbox.retry([rid], now=NOW) == 1  # the config still said A
    [item] = store.outbox.due(NOW)  # the relay's look: a lane holds it, for chat A
    store.outbox.claim([rid], chat=A, now=NOW)  # … and failed again meanwhile
    store.outbox.mark_failed([rid], error="Bad Request: chat not found", now=NOW)
    assert store.outbox.retry([rid], now=NOW, chats={"a": B}) == 1  # the typo fixed
    assert not store.outbox.claim([item.id], chat=item.chat_id, now=NOW)
    assert _outbox(store) == [(rid, OutboxState.PENDING, B, None)]
    [again] = store.outbox.due(NOW)  # the next look reads it with its new chat
    assert again.chat_id == B and store.outbox.claim([again.id], chat=again.chat_id, now=NOW)


def _failed(store: Store, rid: int) -> None:
    store.outbox.claim([rid], chat=A, now=NOW)
    store.outbox.mark_failed([rid], error="Bad Request: chat not found", now=NOW)


def test_a_retry_repoints_failed_posts_but_leaves_uncertain_ones_in_their_chat(store) -> None:
    """An uncertain post may be in chat A already: sent to B too, it would arrive twice."""
    add(store, 1, ("a", A))
    add(store, 2, ("a", A))
    failed, uncertain = [r["id"] for r in store.db.query("select id from outbox order by id")]
    _failed(store, failed)
    store.outbox.claim([uncertain], chat=A, now=NOW)
    store.outbox.mark_uncertain([uncertain], error="read timeout", now=NOW)
    assert store.outbox.retry([failed, uncertain], now=NOW, chats={"a": B}) == 2
    assert _outbox(store) == [
        (failed, OutboxState.PENDING, B, None),
        (uncertain, OutboxState.PENDING, A, None),
    ]


def test_a_retry_repoints_the_channel_s_posts_never_tried_and_nothing_else(store) -> None:
    """A post queued for the typo after the failure (held for quiet hours) follows the retried
    one; a post tried before, a digest's packed part and another channel's post stay."""
    add(store, 1, ("a", A), ("other", A))
    add(store, 2, ("a", A))  # queued after the failure, never tried
    add(store, 3, ("a", A))  # tried: a 429 put it back
    add(store, 4, ("a", A))  # packed into a digest part
    failed, other, fresh, tried, packed = [
        r["id"] for r in store.db.query("select id from outbox order by id")
    ]
    _failed(store, failed)
    store.outbox.claim([tried], chat=A, now=NOW)
    store.outbox.mark_retry([tried], error="429", at=NOW, now=NOW)
    part = DigestMark("<b>Digest</b>", "Digest", "en", 2, 2, (packed,))
    store.outbox.mark_digest(part, now=NOW)
    assert store.outbox.retry([failed], now=NOW, chats={"a": B, "other": B}) == 1
    chats = {r[0]: r[2] for r in _outbox(store)}
    assert chats == {failed: B, other: A, fresh: B, tried: A, packed: A}


def test_a_hold_names_its_chat_and_a_held_chat_s_wait_over_is_forgotten(store) -> None:
    """A hold without a chat is refused (`not in` over a null would hold every chat); the next
    flood wait deletes holds whose wait is over, so the table keeps only chats still held."""
    with pytest.raises(Exception, match="(?i)null"):
        store.db.execute("insert into chat_holds (chat_id, held_until) values (null, ?)", ["x"])
    add(store, 1, ("a", A), ("b", B))
    store.outbox.defer_chat(A, until=NOW + timedelta(seconds=20), now=NOW)
    assert [item.chat_id for item in store.outbox.due(NOW)] == [B]
    later = NOW + timedelta(seconds=30)
    store.outbox.defer_chat(B, until=later + timedelta(seconds=20), now=later)
    holds = [r["chat_id"] for r in store.db.query("select chat_id from chat_holds")]
    assert holds == [B] and [item.chat_id for item in store.outbox.due(later)] == [A]


class _RetryDuringWait(FakeTime):
    """The relay's clock; the operator's retry lands during the relay's first pacing wait."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store, self.done = store, False

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds)
        if not self.done:
            self.done = True
            [failed] = self.store.outbox.ids_in(OutboxState.FAILED)
            assert self.store.outbox.retry([failed], now=self.now(), chats={"a": B}) == 1


def test_a_relay_pacing_between_sends_never_sends_a_repointed_post_to_its_old_chat(
    store, tmp_path
) -> None:
    """The relay read posts 1 and 2 for chat A and sent 1; while it waited before 2, the
    operator fixed the chat_id and retried the failed post 0, which took 2 (never tried) along:
    2 goes to B only, and every row names the chat its message is in."""
    add(store, 0, ("a", A))
    _failed(store, 1)  # row 1, post 0: refused by chat A
    add(store, 1, ("a", A))
    add(store, 2, ("a", A))
    time = _RetryDuringWait(store)
    sender = ScriptedSender(time)
    relay = relay_for(store, make_config(tmp_path, channels=[channel("a", B)]), sender, time)
    deliver(relay)
    time.advance(60)
    deliver(relay)
    sent = [(m.chat_id, m.text.splitlines()[0]) for _, m in sender.sent]
    assert sent == [(A, "<b>Title 1</b>"), (B, "<b>Title 0</b>"), (B, "<b>Title 2</b>")]
    assert [(r[1], r[2]) for r in _outbox(store)] == [
        (OutboxState.SENT, B),
        (OutboxState.SENT, A),
        (OutboxState.SENT, B),
    ]


def test_a_post_refused_for_rights_stays_in_its_chat_on_retry(store) -> None:
    """review14d: uncertain in A, retried, then failed when A kicked the bot: it may be in A
    already, so a retry with the config naming B leaves it in A (only 'chat not found' moves)."""
    add(store, 1, ("a", A))
    add(store, 2, ("a", A))
    maybe_sent, refused = [r["id"] for r in store.db.query("select id from outbox order by id")]
    store.outbox.claim([maybe_sent], chat=A, now=NOW)
    store.outbox.mark_uncertain([maybe_sent], error="read timeout", now=NOW)
    store.outbox.retry([maybe_sent], now=NOW)  # the operator: send again (A still configured)
    store.outbox.claim([refused], chat=A, now=NOW)
    store.outbox.mark_failed([refused], error="Forbidden: bot was kicked", now=NOW)
    store.outbox.fail_chat(A, error="Forbidden: bot was kicked", now=NOW)
    store.outbox.retry([maybe_sent, refused], now=NOW, chats={"a": B})
    assert {chat for _, _, chat, _ in _outbox(store)} == {A}


def test_a_digest_part_with_a_message_sent_stays_in_its_chat_on_retry(store) -> None:
    """review14d: message 1 of a part went out in A, message 2 failed: the rest stays in A."""
    add(store, 1, ("a", A))
    add(store, 2, ("a", A))
    first, rest = [r["id"] for r in store.db.query("select id from outbox order by id")]
    store.outbox.mark_digest(DigestMark("<b>D</b>", "D", "en", 1, 1, (first, rest)), now=NOW)
    store.outbox.claim([first], chat=A, now=NOW)
    store.outbox.mark_sent([first], message_id=10, now=NOW)
    _failed(store, rest)
    store.outbox.retry([rest], now=NOW, chats={"a": B})
    assert [chat for _, _, chat, _ in _outbox(store)] == [A, A]


def test_retrying_an_uncertain_post_alone_moves_no_never_tried_post(store) -> None:
    add(store, 1, ("a", A))
    add(store, 2, ("a", A))
    uncertain, waiting = [r["id"] for r in store.db.query("select id from outbox order by id")]
    store.outbox.claim([uncertain], chat=A, now=NOW)
    store.outbox.mark_uncertain([uncertain], error="timeout", now=NOW)
    store.outbox.retry([uncertain], now=NOW, chats={"a": B})
    assert [chat for _, _, chat, _ in _outbox(store)] == [A, A]


def test_a_digest_channel_with_rows_in_two_chats_sends_each_chat_its_own(store, tmp_path) -> None:
    """review14d: a retry left a digest channel's rows in A (uncertain, retried) and B (failed
    for 'chat not found', moved); one message per chat goes out and the relay's look ends
    (it used to claim the whole group for one chat, fail, and read it again for ever)."""
    time = FakeTime()
    sender = ScriptedSender(time)
    add(store, 1, ("a", A))
    add(store, 2, ("a", A))
    kept, moved = [r["id"] for r in store.db.query("select id from outbox order by id")]
    store.outbox.claim([kept], chat=A, now=NOW)
    store.outbox.mark_uncertain([kept], error="read timeout", now=NOW)
    _failed(store, moved)
    store.outbox.retry([kept, moved], now=NOW, chats={"a": B})
    assert [chat for _, _, chat, _ in _outbox(store)] == [A, B]
    config = make_config(tmp_path, channels=[channel("a", B, digest="1h")])
    time.advance(3600)
    deliver(relay_for(store, config, sender, time))
    assert sorted(m.chat_id for _, m in sender.sent) == [A, B]
    assert [state for _, state, _, _ in _outbox(store)] == [OutboxState.SENT] * 2
