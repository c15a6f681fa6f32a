"""Uncertain posts settled by asking Telegram: the real relay and python-telegram-bot against the
loopback fake Bot API, which forwards, deletes and numbers messages like Telegram.

Only time is virtual (see FakeTime): the relay, its pacer and the fake's flood limits share it.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from bot.delivery.publish import RelayReport
from storage import OutboxState, Store
from tests.fakes.telegram import FakeTelegram
from tests.support.posting import relay_rounds
from tests.support.relay import PACED, FakeTime, add, article, channel, make_config

pytestmark = pytest.mark.telegram(rate_limit=PACED, virtual_time=True)

A, B = ("a", "-1001000000001"), ("b", "-1001000000002")
PROBE, ADMIN = "-1001000000099", "555"
_ARTICLE = re.compile(r"https://tass\.com/politics/(\d+)")


class Harness:
    """A store and a config pointed at the fake with a probe chat; relay rounds with real PTB."""

    def __init__(
        self, tmp_path: Path, fake: FakeTelegram, time: FakeTime, store: Store, **telegram
    ) -> None:
        self.fake, self.time = fake, time
        channels = telegram.pop("channels", [channel(*A), channel(*B)])
        telegram = {"probe_chat_id": PROBE, "api_base_url": fake.base_url} | telegram
        telegram = {key: value for key, value in telegram.items() if value is not None}
        self.config = make_config(tmp_path, channels=channels, **telegram)
        self.store = store  # an SQLite file or a PostgreSQL database: the probe works on both

    def run(self, rounds: int = 3, *, advance: float = 60.0) -> list[RelayReport]:
        """Run relay rounds in one process lifetime, the clock moving `advance` s after each."""
        return relay_rounds(self, rounds, advance=advance, probe=True)

    def row(self, n: int, chat: str = A[1]) -> dict:
        return next(
            self.store.db.query(
                "select o.* from outbox o join articles a on a.id = o.article_id "
                "where o.chat_id = ? and a.url = ? and o.kind = 'post'",
                [chat, f"https://tass.com/politics/{n}"],
            )
        )

    def states(self) -> Counter:
        return Counter(r["state"] for r in self.store.db.query("select state from outbox"))

    def copies_kept(self) -> int:
        return next(self.store.db.query("select count(*) as n from probe_copies"))["n"]


def copies(fake: FakeTelegram, chat: str) -> Counter:
    """Count the messages the bot sent to a chat per article number."""
    return Counter(n for m in fake.messages_for(int(chat)) for n in set(_ARTICLE.findall(m.text)))


def forwarded(fake: FakeTelegram) -> list[int]:
    """Return the message ids the bot asked to forward, in order."""
    return [int(c.params["message_id"]) for c in fake.requests if c.method == "forwardMessage"]


ONCE = Counter({"0": 1, "1": 1, "2": 1})


@pytest.fixture
def harness(tmp_path, telegram, time, store):
    def build(**options) -> Harness:
        return Harness(tmp_path, telegram, time, store, **options)

    return build


def _post(h: Harness, count: int = 3, *targets) -> None:
    for n in range(count):
        add(h.store, n, *(targets or (A,)))


# -- the two faults a send can end in ----------------------------------------------------------


def test_an_accepted_then_dropped_send_is_found_and_never_doubled(harness, telegram) -> None:
    telegram.drop_after_accept_next(1, chat=int(A[1]))
    h = harness()
    _post(h)
    h.run()
    assert copies(telegram, A[1]) == ONCE and h.states() == {OutboxState.SENT: 3}
    row = h.row(0)
    assert (row["settlement"], row["settle_note"]) == ("found", "found as message 1")
    assert row["message_id"] == telegram.messages_for(int(A[1]))[0].message_id
    assert telegram.live_ids(PROBE) == [] and h.copies_kept() == 0  # the copy was deleted


def test_a_500_before_acceptance_is_proved_absent_and_sent_once(harness, telegram) -> None:
    telegram.fail_next(1, status=500, chat=int(A[1]))
    h = harness()
    _post(h)
    h.run()
    assert copies(telegram, A[1]) == ONCE and h.states() == {OutboxState.SENT: 3}
    row = h.row(0)
    assert row["settlement"] == "absent" and "not found): sent again" in row["settle_note"]
    # Posts 1 and 2 took ids 1 and 2 meanwhile: the probe skipped them and looked past the end.
    assert forwarded(telegram) == [3, 4, 5]
    assert telegram.live_ids(PROBE) == []


def test_someone_else_posting_between_our_sends_is_looked_past(harness, telegram) -> None:
    telegram.chaos(others=1.0, seed=3)  # before every send Telegram takes, somebody else posts
    telegram.fail_next(1, status=500, chat=int(A[1]))  # post 0: refused before anything happened
    telegram.drop_after_accept_next(
        1, chat=int(A[1])
    )  # post 1: id 2 after another's 1, answer lost
    h = harness(channels=[channel(*A)])
    _post(h)
    h.run()
    assert copies(telegram, A[1]) == ONCE and h.states() == {OutboxState.SENT: 3}
    # Post 0: 1 and 2 (post 1, not yet known to be ours) and 3 are not it, 4 is post 2's.
    assert h.row(0)["settlement"] == "absent" and forwarded(telegram)[:6] == [1, 2, 3, 5, 6, 7]
    assert h.row(1)["settlement"] == "found" and h.row(1)["message_id"] == 2
    assert telegram.live_ids(PROBE) == []


def test_two_uncertain_rows_in_one_chat_are_settled_in_order(harness, telegram) -> None:
    telegram.drop_after_accept_next(2, chat=int(A[1]))
    h = harness(channels=[channel(*A)])
    _post(h)
    h.run()
    assert copies(telegram, A[1]) == ONCE
    assert [h.row(n)["message_id"] for n in range(3)] == [1, 2, 3]
    assert [h.row(n)["settlement"] for n in range(3)] == ["found", "found", None]


def test_ids_taken_by_others_beyond_the_bound_fall_back_to_hold(harness, telegram) -> None:
    telegram.fail_next(1, status=500, chat=int(A[1]))
    h = harness(channels=[channel(*A)])
    add(h.store, 0, A)
    h.run(rounds=1, advance=0)
    for n in range(25):  # a busy chat: somebody else's posts fill every id the probe looks at
        telegram.post_as_other(A[1], f"Chatter {n}")
    h.run()
    row = h.row(0)
    assert (row["state"], row["settlement"]) == ("uncertain", "held")
    assert row["settle_note"] == "messages 1–20 are somebody else's"
    assert copies(telegram, A[1]) == Counter() and telegram.live_ids(PROBE) == []


# -- when the probe cannot tell -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fallback", "state", "times"), [("hold", "uncertain", 1), ("resend", "sent", 2)]
)
def test_a_protected_channel_falls_back_and_says_why(
    harness, telegram, fallback, state, times
) -> None:
    telegram.protect_content(A[1])
    telegram.drop_after_accept_next(1, chat=int(A[1]))
    h = harness(probe_fallback=fallback)
    _post(h, 3, A, B)
    h.run()
    row = h.row(0)
    assert row["state"] == state and row["settle_note"] == (
        "the chat protects its content: its messages can't be forwarded"
    )
    assert copies(telegram, A[1])["0"] == times
    assert copies(telegram, B[1]) == ONCE  # B was served while A was probed


def test_a_service_message_that_cannot_be_forwarded_is_not_ours(harness, telegram) -> None:
    telegram.post_service_message(A[1])  # id 1: a new title
    telegram.drop_after_accept_next(1, chat=int(A[1]))
    h = harness()
    _post(h, 1)
    h.run()
    assert h.row(0)["settlement"] == "found" and h.row(0)["message_id"] == 2
    assert any(c.method == "getChat" for c in telegram.requests)


@pytest.mark.parametrize(
    ("break_it", "reason"),
    [
        (
            lambda f: f.forbid_chat(PROBE, "Forbidden: bot is not a member of the channel chat"),
            "not a member",
        ),
        (lambda f: f.missing_chat(PROBE), "Chat not found"),
    ],
)
def test_an_unusable_probe_chat_falls_back_and_alerts_once(
    harness, telegram, break_it, reason
) -> None:
    break_it(telegram)
    telegram.drop_after_accept_next(2, chat=int(A[1]))
    h = harness(admin_chat_id=ADMIN)
    _post(h)
    h.run()
    for n in (0, 1):
        row = h.row(n)
        assert row["state"] == "uncertain" and row["settlement"] == "held"
        assert "into the probe chat failed" in row["settle_note"] and reason in row["settle_note"]
    assert copies(telegram, A[1]) == ONCE  # held, never doubled
    [alert] = telegram.messages_for(int(ADMIN))
    assert "probing through" in alert.text


@pytest.mark.parametrize(("policy", "times"), [("hold", 1), ("resend", 2)])
def test_without_a_probe_chat_nothing_changes(harness, telegram, policy, times) -> None:
    telegram.drop_after_accept_next(1, chat=int(A[1]))
    h = harness(probe_chat_id=None, uncertain=policy)
    _post(h)
    h.run(advance=3600)
    assert copies(telegram, A[1])["0"] == times and telegram.forwards == []
    assert h.row(0)["settlement"] is None


# -- copies are always deleted ------------------------------------------------------------------


def test_a_copy_whose_deletion_failed_is_deleted_by_the_next_probe(harness, telegram) -> None:
    telegram.fail_next(1, status=500, method="deleteMessage")
    telegram.drop_after_accept_next(2, chat=int(A[1]))
    h = harness(channels=[channel(*A)])
    _post(h)
    h.run()
    assert [h.row(n)["settlement"] for n in (0, 1)] == ["found", "found"]
    assert telegram.live_ids(PROBE) == [] and h.copies_kept() == 0


def test_a_forward_whose_answer_was_lost_has_its_copy_deleted(harness, telegram) -> None:
    telegram.drop_after_accept_next(
        1, method="forwardMessage"
    )  # the copy lands, its id never comes
    telegram.drop_after_accept_next(2, chat=int(A[1]))
    h = harness(channels=[channel(*A)])
    _post(h)
    h.run(rounds=4)
    assert [h.row(n)["settlement"] for n in (0, 1)] == ["found", "found"]
    assert copies(telegram, A[1]) == ONCE
    assert len(telegram.forwards) >= 3 and telegram.live_ids(PROBE) == [] and h.copies_kept() == 0


def test_a_crash_mid_probe_leaves_no_copy_behind(harness, telegram) -> None:
    telegram.drop_after_accept_next(1, chat=int(A[1]))
    h = harness(channels=[channel(*A)])
    _post(h, 2)
    h.run(rounds=1, advance=60)
    # As if killed between the forward's answer and the deletion: the copy is recorded, not deleted.
    copy = telegram.post_as_other(PROBE, "a probe copy")
    h.store.outbox.probes.copy_landed(
        h.store.outbox.probes.begin_copy(PROBE, after_id=None, source="x", now=h.time.now()),
        copy,
        now=h.time.now(),
    )
    telegram.drop_after_accept_next(1, chat=int(A[1]))
    add(h.store, 5, A)
    h.run()
    assert copy not in telegram.live_ids(PROBE) and h.copies_kept() == 0


def test_a_copy_from_a_forward_cut_off_by_a_kill_is_found_and_deleted(harness, telegram) -> None:
    h = harness(channels=[channel(*A)])
    add(h.store, 0, A)
    h.run(rounds=1, advance=60)
    # As if killed during a forward into the probe chat: the copy landed, its id was never heard.
    probes = h.store.outbox.probes
    probes.begin_copy(PROBE, after_id=probes.last_id(PROBE), source="x", now=h.time.now())
    lost = telegram.post_as_other(PROBE, "a probe copy")
    telegram.fail_next(1, status=500, chat=int(A[1]))  # the next probe only meets "not found"
    add(h.store, 1, A)
    h.run()
    assert h.row(1)["settlement"] == "absent"
    assert telegram.live_ids(PROBE) == [] and lost in [d[1] for d in telegram.deleted]
    assert h.copies_kept() == 0


# -- edits, digests and personal alerts ---------------------------------------------------------


def test_an_uncertain_edit_is_made_again_and_not_modified_counts_as_done(harness, telegram) -> None:
    h = harness(channels=[channel(*A)])
    original = add(h.store, 0, A)
    h.run(rounds=1)
    add(h.store, 1, A)
    h.store.add_article(_reprint(), source_key="belta", now=h.time.now(), duplicate_of=original)
    assert h.store.posts.enqueue_update(original, kind="edit", now=h.time.now()) == 1
    telegram.drop_after_accept_next(1, method="editMessageText")  # edited, the answer lost
    h.run()
    edit = next(h.store.db.query("select * from outbox where kind = 'edit'"))
    assert (edit["state"], edit["settlement"]) == ("sent", "repeated")
    [made] = telegram.edits  # the second edit found the text in place: "message is not modified"
    assert "Also: BelTA" in made.plain
    assert sum(c.method == "editMessageText" for c in telegram.requests) == 2
    assert telegram.forwards == [] and copies(telegram, A[1]) == Counter({"0": 1, "1": 1})


def test_an_uncertain_digest_is_found_for_all_its_rows(harness, telegram, time) -> None:
    h = harness(channels=[channel("d", A[1], digest="1h")])
    for n in range(3):
        add(h.store, n, ("d", A[1]))
    telegram.drop_after_accept_next(1, chat=int(A[1]))
    h.run(rounds=1, advance=3600)  # held for the digest at 10:00
    h.run()
    [digest] = telegram.messages_for(int(A[1]))
    rows = list(h.store.db.query("select state, message_id, settlement from outbox"))
    assert rows == [{"state": "sent", "message_id": digest.message_id, "settlement": "found"}] * 3
    assert telegram.live_ids(PROBE) == []


def test_a_personal_alert_is_found_but_never_proved_absent(harness, telegram) -> None:
    reader = ("user:42", "42")
    h = harness(channels=[channel(*A)])
    add(h.store, 0, reader)
    h.run(rounds=1)  # message 1: the bot's private chats now have a confirmed id
    telegram.push_message(chat_id=43, user_id=43, text="/latest")  # another chat takes id 2
    telegram.fail_next(1, status=500, chat=42)  # post 1: never accepted
    telegram.drop_after_accept_next(1, chat=42)  # post 2: accepted as id 3, answer lost
    for n in (1, 2):
        add(h.store, n, reader)
    h.run()
    # Private chats take ids from one counter per bot: the probe can find, never disprove.
    assert (h.row(2, "42")["settlement"], h.row(2, "42")["message_id"]) == ("found", 3)
    row = h.row(1, "42")
    assert (row["state"], row["settlement"]) == ("uncertain", "held")
    assert row["settle_note"].endswith("so a missing id proves nothing")
    assert copies(telegram, "42") == Counter({"0": 1, "2": 1}) and telegram.live_ids(PROBE) == []


def _reprint():
    return article(100, body="A reprint of the same story.")
