"""The operator's retry and the relay's claim never record a message under a chat it was not
sent to (review14b's findings), on both archives."""

from __future__ import annotations

from datetime import timedelta

from storage import OutboxState, Store
from tests.support.relay import START, add

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
