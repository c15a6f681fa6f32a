"""Telegram's other spellings of a refusal are healed like the usual ones: a too long edit or
caption is shortened, a group that takes text but no photos gets the text post.

The real relay and python-telegram-bot against the loopback fake Bot API (synthetic articles).
"""

from __future__ import annotations

import pytest

from storage import OutboxState
from storage.status import TOKEN_REFUSED
from tests.support.posting import CHAT, Harness
from tests.support.relay import add, article

IMAGE = "https://tass.com/media/2026/11/lead.jpg"
LONG = "A long summary sentence. " * 40


@pytest.mark.parametrize(
    ("image", "method"), [("link", "editMessageText"), ("photo", "editMessageCaption")]
)
def test_an_edit_refused_as_message_too_long_is_sent_shorter(
    tmp_path, telegram, image, method
) -> None:
    h = Harness(tmp_path, telegram, image=image)
    original = add(h.store, 0, ("main", CHAT), image=IMAGE, summary=LONG)
    h.run()
    h.store.add_article(
        article(100, body="Other."), source_key="belta", now=h.time.now(), duplicate_of=original
    )
    assert h.store.posts.enqueue_update(original, kind="edit", now=h.time.now()) == 1
    spelling = "MESSAGE_TOO_LONG" if method == "editMessageText" else "MEDIA_CAPTION_TOO_LONG"
    telegram.fail_next(1, status=400, description=f"Bad Request: {spelling}", method=method)
    h.run()
    assert len(telegram.edits) == 1 and h.row(2)["state"] == OutboxState.SENT


def test_a_caption_refused_as_media_caption_too_long_is_sent_shorter(tmp_path, telegram) -> None:
    h = Harness(tmp_path, telegram, image="photo")
    add(h.store, 0, ("main", CHAT), image=IMAGE, summary=LONG)
    telegram.fail_next(
        1, status=400, description="Bad Request: MEDIA_CAPTION_TOO_LONG", method="sendPhoto"
    )
    h.run()
    [message] = telegram.messages_for(CHAT)
    assert message.photo and h.row(1)["state"] == OutboxState.SENT


def test_no_right_to_send_photos_gets_the_text_post_and_the_channel_goes_on(
    tmp_path, telegram
) -> None:
    h = Harness(tmp_path, telegram, image="photo")
    add(h.store, 0, ("main", CHAT), image=IMAGE)
    add(h.store, 1, ("main", CHAT))
    telegram.fail_next(
        1,
        status=400,
        description="Bad Request: not enough rights to send photos to the chat",
        method="sendPhoto",
    )
    h.run()
    assert [bool(m.photo) for m in telegram.messages_for(CHAT)] == [False, False]
    assert {h.row(1)["state"], h.row(2)["state"]} == {OutboxState.SENT}


def test_no_right_to_send_messages_is_still_the_chat_s_problem(tmp_path, telegram) -> None:
    h = Harness(tmp_path, telegram, image="photo")
    add(h.store, 0, ("main", CHAT), image=IMAGE)
    telegram.fail_next(
        1,
        status=400,
        description="Bad Request: not enough rights to send text messages to the chat",
        method="sendPhoto",
    )
    h.run()
    assert telegram.messages_for(CHAT) == [] and h.row(1)["state"] == OutboxState.FAILED


@pytest.mark.parametrize(
    ("description", "wait"),
    [("Too Many Requests", "30s"), ("Too Many Requests: retry after 7", "7s")],
)
def test_a_429_without_retry_after_is_a_flood_wait_not_uncertain(
    tmp_path, telegram, description, wait
) -> None:
    h = Harness(tmp_path, telegram)
    add(h.store, 0, ("main", CHAT))
    telegram.fail_next(1, status=429, description=description)
    h.run(advance=0)
    row = h.row(1)
    assert row["state"] == OutboxState.PENDING
    assert row["last_error"] == f"flood wait of {wait} (429 Too Many Requests)"


def test_a_404_names_the_address_not_the_token(tmp_path, telegram) -> None:
    h = Harness(tmp_path, telegram)
    add(h.store, 0, ("main", CHAT))
    telegram.fail_next(1, status=404, description="Not Found")
    h.run(advance=0)
    row = h.row(1)
    assert row["state"] == OutboxState.PENDING and not row["last_error"].startswith(TOKEN_REFUSED)
    assert "check telegram.api_base_url" in row["last_error"]
