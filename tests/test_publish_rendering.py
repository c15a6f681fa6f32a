"""The relay on a real SQLite file with a scripted sender and a clock the test moves: the rendering
of posts, edits and replies, and which sent posts an update is queued for."""

from __future__ import annotations

from tests.support.relay import (
    START,
    FakeTime,
    ScriptedSender,
    add,
    article,
    channel,
    deliver,
    make_config,
    relay_for,
)

A, B, C = ("main", "-1001"), ("second", "-1002"), ("third", "-1003")
TWO = [channel(*A), channel(*B)]


# -- rendering ------------------------------------------------------------------------------------


def test_posts_carry_hashtags_from_the_taxonomy_and_skip_unknown_keys(tmp_path, store) -> None:
    time = FakeTime()
    add(store, 1, A, topics=("peacekeeping", "gone-topic"), entities=("csto",))
    sender = ScriptedSender(time)
    deliver(relay_for(store, make_config(tmp_path, channels=TWO), sender, time))
    [post] = sender.to(A[1])
    assert post.text.endswith("#Peacekeeping #CSTO")


def test_channel_settings_apply_but_a_personal_alert_is_plain(tmp_path, store) -> None:
    time = FakeTime()
    add(store, 1, ("forum", "-1005"), ("user:7", "7"))
    config = make_config(
        tmp_path,
        channels=[channel("forum", "-1005", message_thread_id=12, disable_notification=True)],
    )
    sender = ScriptedSender(time)
    deliver(relay_for(store, config, sender, time))
    [forum], [user] = sender.to("-1005"), sender.to("7")
    assert (forum.thread_id, forum.silent) == (12, True)
    assert (user.thread_id, user.silent, user.text) == (None, False, forum.text)


def test_a_story_edit_names_the_other_sources_bounded(tmp_path, store) -> None:
    time = FakeTime()
    original = add(store, 1, A)
    store.outbox.mark_sent(1, message_id=5, now=START)
    keys = ["belta", "kremlin", "belta", "tass-com", *[f"site{i}" for i in range(6)]]
    for i, key in enumerate(keys):
        store.add_article(article(100 + i), source_key=key, now=START, duplicate_of=original)
    assert store.posts.enqueue_update(original, kind="edit", now=START) == 1
    sender = ScriptedSender(time)
    deliver(relay_for(store, make_config(tmp_path, channels=TWO), sender, time))
    [edit] = sender.to(A[1])
    assert edit.edit_message_id == 5
    assert "Also: BelTA, Kremlin, site0, site1, site2, +3 more" in edit.text
    assert store.db["outbox"].get(2)["message_id"] == 5


def test_a_correction_reply_answers_the_post(tmp_path, store) -> None:
    time = FakeTime()
    article_id = add(store, 1, A)
    store.outbox.mark_sent(1, message_id=9, now=START)
    store.posts.enqueue_update(article_id, kind="reply", now=START)
    sender = ScriptedSender(time)
    deliver(
        relay_for(store, make_config(tmp_path, channels=TWO, corrections="reply"), sender, time)
    )
    [reply] = sender.to(A[1])
    assert reply.reply_to == 9 and reply.plain == "Updated: Title 1\nhttps://tass.com/politics/1"


def test_enqueue_update_only_for_sent_posts_and_never_twice(store) -> None:
    article_id = add(store, 1, A, B, C)
    store.outbox.mark_sent(1, message_id=3, now=START)
    store.outbox.mark_sent(2, message_id=4, now=START)
    other = add(store, 2, B)
    store.outbox.mark_sent(4, message_id=4, now=START)  # a digest: B's message 4 holds two posts
    assert store.posts.enqueue_update(article_id, kind="edit", now=START) == 1
    assert store.posts.enqueue_update(article_id, kind="edit", now=START) == 0
    assert store.posts.enqueue_update(article_id, kind="reply", now=START) == 1
    assert store.posts.enqueue_update(other, kind="edit", now=START) == 0
    rows = list(
        store.db.query("select channel, kind, target_message_id from outbox where kind != 'post'")
    )
    assert rows == [
        {"channel": "main", "kind": "edit", "target_message_id": 3},
        {"channel": "main", "kind": "reply", "target_message_id": 3},
    ]
