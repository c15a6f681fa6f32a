"""The real relay and python-telegram-bot against the loopback fake Bot API, under faults.

Every test uses a real SQLite file and real HTTP over the socket; only time is virtual: the relay
and the fake's flood limits share a clock that moves when the relay waits (see FakeTime).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from pathlib import Path

import pytest

from bot.delivery.publish import RelayReport
from bot.delivery.telegram import Delivered, Message, TelegramSender
from storage import OutboxState, Store
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.support.relay import PACED, FakeTime, add, article, channel, make_config, relay_for

pytestmark = pytest.mark.telegram(rate_limit=PACED, virtual_time=True)

A, B, C, D = ("a", "-1001001"), ("b", "-1001002"), ("c", "-1001003"), ("d", "-1001004")
ADMIN = "555"
_ARTICLE = re.compile(r"https://tass\.com/politics/(\d+)")


class Harness:
    """A store, a config pointed at the fake, and relay rounds that each build a real PTB Bot."""

    def __init__(
        self,
        tmp_path: Path,
        fake: FakeTelegram,
        time: FakeTime,
        *,
        channels: list[tuple],
        timeout: float = 5.0,
        **telegram,
    ) -> None:
        self.fake, self.time, self.timeout = fake, time, timeout
        self.config = make_config(
            tmp_path,
            channels=[channel(*c) for c in channels],
            api_base_url=fake.base_url,
            **telegram,
        )
        self.store = Store.open(self.config.storage_path)

    def post(self, count: int, *targets: tuple[str, str]) -> None:
        for n in range(count):
            add(self.store, n, *targets)

    def run(self, rounds: int = 1, *, advance: float = 0.0) -> list[RelayReport]:
        """Run relay rounds (one process lifetime), moving the clock `advance` s after each."""

        async def go() -> list[RelayReport]:
            sender = TelegramSender.create(
                token=DEFAULT_TOKEN, api_base_url=self.fake.base_url, timeout=self.timeout
            )
            await sender.start()
            relay = relay_for(self.store, self.config, sender, self.time)
            reports = []
            try:
                for _ in range(rounds):
                    reports.append(await relay.deliver_due())
                    self.time.advance(advance)
            finally:
                await sender.close()
            return reports

        return asyncio.run(go())

    def states(self, chat: str | None = None) -> Counter:
        sql, args = "select state from outbox", []
        if chat:
            sql, args = sql + " where chat_id = ?", [chat]
        return Counter(r["state"] for r in self.store.db.query(sql, args))

    def row(self, chat: str, n: int) -> dict:
        return next(
            self.store.db.query(
                "select o.* from outbox o join articles a on a.id = o.article_id "
                "where o.chat_id = ? and a.url = ?",
                [chat, f"https://tass.com/politics/{n}"],
            )
        )


def copies(fake: FakeTelegram, chat: str) -> Counter:
    """Count the messages a chat received per article number."""
    return Counter(n for m in fake.messages_for(int(chat)) for n in set(_ARTICLE.findall(m.text)))


@pytest.fixture
def harness(tmp_path, telegram, time):
    made: list[Harness] = []

    def build(**kwargs) -> Harness:
        made.append(Harness(tmp_path, telegram, time, **kwargs))
        return made[-1]

    yield build
    for h in made:
        h.store.close()


def test_every_post_reaches_every_channel_once(harness, telegram) -> None:
    h = harness(channels=[A, B])
    h.post(3, A, B)
    [report] = h.run()
    assert report.sent == 6 and h.states() == {OutboxState.SENT: 6}
    assert copies(telegram, A[1]) == copies(telegram, B[1]) == Counter({"0": 1, "1": 1, "2": 1})
    assert h.row(A[1], 2)["message_id"] == telegram.messages_for(int(A[1]))[-1].message_id


def test_pacing_keeps_under_telegrams_limits_and_serves_chats_in_turn(harness, telegram) -> None:
    h = harness(channels=[A, B])
    h.post(30, A)
    add(h.store, 99, B)
    h.run()
    assert telegram.throttled == {}
    assert h.states() == {OutboxState.SENT: 31}
    # B did not wait for A's 30 posts: its one post is among the first sends. (Within the first
    # three, not two: both lanes start together, but on a loaded machine A's first round trip and
    # its pacing pause can finish before B's request reaches the fake.)
    chats = [m.chat for m in telegram.messages]
    assert chats.index(int(B[1])) <= 2 and chats.count(int(A[1])) == 30


def test_a_kicked_chat_fails_with_a_reason_alerts_once_and_does_not_delay_others(
    harness, telegram
) -> None:
    telegram.forbid_chat(int(A[1]))
    h = harness(channels=[A, B], admin_chat_id=ADMIN)
    h.post(3, A, B)
    [report] = h.run()
    assert copies(telegram, B[1]) == Counter({"0": 1, "1": 1, "2": 1})
    assert (
        h.states(A[1]) == {OutboxState.FAILED: 3}
        and "bot was kicked" in h.row(A[1], 2)["last_error"]
    )
    assert sum(1 for c in telegram.requests if c.params.get("chat_id") == A[1]) == 1
    [alert] = telegram.messages_for(int(ADMIN))
    assert "refuses posts" in alert.text and alert.parse_mode is None
    assert report.failed_chats == {"a"}
    telegram.restore_chat(int(A[1]))
    h.store.outbox.retry(h.store.outbox.ids_in(OutboxState.FAILED), now=h.time.now())
    h.run()
    assert copies(telegram, A[1]) == Counter({"0": 1, "1": 1, "2": 1}) and h.states() == {
        OutboxState.SENT: 6
    }
    assert "takes posts again" in telegram.messages_for(int(ADMIN))[-1].text


def test_a_flood_wait_is_stored_and_other_chats_continue(harness, telegram, time) -> None:
    telegram.flood_next(1, retry_after=25, chat=int(A[1]))
    h = harness(channels=[A, B])
    h.post(3, A, B)
    h.run()
    assert (
        copies(telegram, B[1]) == Counter({"0": 1, "1": 1, "2": 1})
        and copies(telegram, A[1]) == Counter()
    )
    row = h.row(A[1], 0)
    assert row["state"] == OutboxState.PENDING and "flood wait of 25s" in row["last_error"]
    assert row["next_attempt_at"] is not None
    h.run(rounds=2, advance=26)
    assert copies(telegram, A[1]) == Counter({"0": 1, "1": 1, "2": 1}) and h.states() == {
        OutboxState.SENT: 6
    }


def test_a_server_error_is_uncertain_and_held(harness, telegram) -> None:
    telegram.fail_next(1, status=500, chat=int(A[1]))
    h = harness(channels=[A])
    h.post(2, A)
    h.run(rounds=2, advance=3600)
    assert (
        h.row(A[1], 0)["state"] == OutboxState.UNCERTAIN
        and "Internal Server Error" in h.row(A[1], 0)["last_error"]
    )
    assert copies(telegram, A[1]) == Counter({"1": 1})


def test_a_hung_send_is_uncertain_while_other_chats_are_served(harness, telegram) -> None:
    telegram.hang_next(1, seconds=60, chat=int(A[1]))
    h = harness(channels=[A, B], timeout=0.5)
    h.post(3, A, B)
    h.run()
    assert telegram.held == 1  # A's first request is still held by the fake ...
    assert copies(telegram, B[1]) == Counter({"0": 1, "1": 1, "2": 1})  # ... and B got everything
    assert (
        h.row(A[1], 0)["state"] == OutboxState.UNCERTAIN
        and "TimedOut" in h.row(A[1], 0)["last_error"]
    )
    assert copies(telegram, A[1]) == Counter({"1": 1, "2": 1})


def test_a_dripped_answer_ends_at_the_deadline_as_uncertain(harness, telegram) -> None:
    # Each byte comes well within the read timeout: only the bound on the whole call ends it.
    # 40 blanks take 2 s, above the 0.9 s bound (3 x 0.3 s): without it the send ends Delivered.
    telegram.drip_next(1, every=0.05, blanks=40, chat=int(A[1]))
    h = harness(channels=[A, B], timeout=0.3)
    h.post(2, A, B)
    h.run()
    assert copies(telegram, B[1]) == Counter({"0": 1, "1": 1})
    assert (
        h.row(A[1], 0)["state"] == OutboxState.UNCERTAIN
        and "no whole answer" in h.row(A[1], 0)["last_error"]
    )
    assert copies(telegram, A[1]) == Counter({"0": 1, "1": 1})  # it was carried out


@pytest.mark.parametrize(
    ("policy", "times", "state"),
    [("hold", 1, OutboxState.UNCERTAIN), ("resend", 2, OutboxState.SENT)],
)
def test_an_accepted_then_dropped_send_is_doubled_only_with_resend(
    harness, telegram, policy, times, state
) -> None:
    telegram.drop_after_accept_next(1, chat=int(A[1]))
    h = harness(channels=[A], uncertain=policy)
    h.post(2, A)
    h.run(rounds=3, advance=3600)
    assert copies(telegram, A[1]) == Counter({"0": times, "1": 1})
    assert h.row(A[1], 0)["state"] == state


def test_rejected_html_is_sent_again_as_plain_text(harness, telegram) -> None:
    telegram.reject_html()
    h = harness(channels=[A])
    h.post(2, A)
    h.run()
    assert [m.parse_mode for m in telegram.messages] == [None, None]
    assert telegram.messages[0].plain.startswith("Title 0\nTASS") and h.states() == {
        OutboxState.SENT: 2
    }


def test_a_too_long_message_is_shortened(harness, telegram) -> None:
    telegram.fail_next(
        1, status=400, description="Bad Request: message is too long", chat=int(A[1])
    )
    h = harness(channels=[A])
    add(h.store, 0, A, summary="A long summary sentence. " * 40)
    h.run()
    [message] = telegram.messages
    assert len(message.plain) < 600 and h.states() == {OutboxState.SENT: 1}


def test_a_migrated_group_is_followed_and_the_operator_told(harness, telegram, caplog) -> None:
    telegram.migrate_chat(-4001, -1004001)
    h = harness(channels=[("group", "-4001")])
    h.post(2, ("group", "-4001"))
    with caplog.at_level(logging.WARNING, logger="bot.delivery.outcomes"):
        h.run()
    assert copies(telegram, "-1004001") == Counter({"0": 1, "1": 1}) and h.states() == {
        OutboxState.SENT: 2
    }
    assert [c["chat_id"] for c in h.store.outbox.channels.all()] == ["-1004001"]
    assert 'set chat_id = "-1004001"' in caplog.text


def test_a_reader_s_moved_chat_is_followed_with_nothing_to_set_in_the_config(
    harness, telegram, caplog
) -> None:
    # Synthetic: a reader's channel ("user:7", made for their /subscribe alerts) told moved.
    reader = ("user:7", "7")
    telegram.migrate_chat(7, -1007)
    h = harness(channels=[A])
    h.post(2, reader)
    with caplog.at_level(logging.WARNING, logger="bot.delivery.outcomes"):
        h.run()
    assert copies(telegram, "-1007") == Counter({"0": 1, "1": 1})
    [told] = [r.getMessage() for r in caplog.records if "became" in r.getMessage()]
    assert told == (
        "chat 7 of channel 'user:7' became -1007: 2 queued post(s) follow it; later posts follow "
        "it; nothing to set in the config"
    )
    # What the line says: a post queued later for the old id (the alert's) follows the move too,
    # after a restart (a new relay, which finds the move in the archive), and nothing failed.
    add(h.store, 2, reader)
    h.run()
    assert copies(telegram, "-1007") == Counter({"0": 1, "1": 1, "2": 1})
    assert h.states() == {OutboxState.SENT: 3}


def test_story_edits_name_new_sources_and_not_modified_is_success(harness, telegram) -> None:
    h = harness(channels=[A])
    original = add(h.store, 0, A)
    h.run(advance=10)  # each run is a new process: the clock moves on between them
    assert h.store.posts.enqueue_update(original, kind="edit", now=h.time.now()) == 1
    h.run(advance=10)  # the same text: Telegram answers "message is not modified"
    assert telegram.edits == [] and h.states() == {OutboxState.SENT: 2}
    h.store.add_article(
        add_article_body(1), source_key="belta", now=h.time.now(), duplicate_of=original
    )
    h.store.posts.enqueue_update(original, kind="edit", now=h.time.now())
    h.run()
    [edit] = telegram.edits
    assert "Also: BelTA" in edit.plain and edit.message_id == telegram.messages[0].message_id


def test_a_correction_reply_answers_the_channels_post(harness, telegram) -> None:
    h = harness(channels=[A], corrections="reply")
    original = add(h.store, 0, A)
    h.run(advance=10)
    h.store.posts.enqueue_update(original, kind="reply", now=h.time.now())
    h.run()
    post, reply = telegram.messages
    assert reply.reply_to_message_id == post.message_id and reply.plain.startswith(
        "Updated: Title 0"
    )


def test_under_mixed_faults_every_post_ends_sent_or_failed_and_only_the_dropped_one_doubles(
    harness, telegram
) -> None:
    telegram.drop_after_accept_next(1, chat=int(A[1]))  # delivered, but we cannot know: one double
    telegram.fail_next(1, status=500, chat=int(B[1]))  # not delivered, yet uncertain: resent once
    telegram.flood_next(1, retry_after=20, chat=int(C[1]))
    telegram.forbid_chat(int(D[1]))
    h = harness(channels=[A, B, C, D], uncertain="resend", admin_chat_id=ADMIN)
    h.post(4, A, B, C, D)
    h.run(rounds=6, advance=600)
    assert h.states() == {OutboxState.SENT: 12, OutboxState.FAILED: 4}
    assert all(
        r["last_error"]
        for r in h.store.db.query("select last_error from outbox where state = 'failed'")
    )
    once = Counter({"0": 1, "1": 1, "2": 1, "3": 1})
    assert copies(telegram, A[1]) == once + Counter({"0": 1})
    assert copies(telegram, B[1]) == copies(telegram, C[1]) == once
    assert len(telegram.messages_for(int(ADMIN))) == 1


def add_article_body(n: int):
    return article(100 + n, body="A reprint of the same story.")


def test_a_dripped_get_me_at_start_ends_at_the_deadline_and_sends_go_on(telegram, caplog) -> None:
    telegram.drip_next(1, every=0.05, blanks=40, method="getMe")  # 2 s, above the 0.9 s bound

    async def go():
        sender = TelegramSender.create(
            token=DEFAULT_TOKEN, api_base_url=telegram.base_url, timeout=0.3
        )
        await sender.start()
        try:
            return await sender.send(Message(chat_id=A[1], text="after"))
        finally:
            await sender.close()

    assert isinstance(asyncio.run(go()), Delivered)
    assert "getMe gave no whole answer" in caplog.text


def test_a_flood_wait_of_a_day_is_told_to_the_operator_once(harness, telegram) -> None:
    telegram.flood_next(1, retry_after=86400, chat=int(A[1]))
    h = harness(channels=[A, B], admin_chat_id=ADMIN)
    h.post(2, A, B)
    h.run(rounds=2, advance=60)
    [alert] = telegram.messages_for(int(ADMIN))
    assert "Telegram holds channel a (-1001001) until" in alert.text
    assert "flood wait of 86400s" in alert.text and h.states(A[1]) == {OutboxState.PENDING: 2}


def test_a_short_flood_wait_is_no_news(harness, telegram) -> None:
    telegram.flood_next(1, retry_after=25, chat=int(A[1]))
    h = harness(channels=[A], admin_chat_id=ADMIN)
    h.post(1, A)
    h.run(rounds=2, advance=60)
    assert telegram.messages_for(int(ADMIN)) == [] and h.states() == {OutboxState.SENT: 1}


def test_a_channel_back_with_failed_posts_says_how_to_send_them(harness, telegram) -> None:
    telegram.forbid_chat(int(A[1]))
    h = harness(channels=[A], admin_chat_id=ADMIN)
    h.post(2, A)
    h.run()
    telegram.restore_chat(int(A[1]))
    add(h.store, 5, A)  # a new post finds the channel working again; the two failed stay so
    h.run()
    back = telegram.messages_for(int(ADMIN))[-1].text
    assert "takes posts again. 2 of its posts failed meanwhile" in back
    assert "presswatch outbox retry --all-failed" in back
