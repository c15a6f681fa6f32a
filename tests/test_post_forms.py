"""A channel's image mode end to end: the real relay and python-telegram-bot against the loopback
fake Bot API, a real SQLite file; posts as photos with captions, large previews above or below,
a caption cut to Telegram's 1,024, a refused photo healed into one text post, a photo sent in
doubt settled by a probe, and a photo post's correction as a caption edit.
"""

from __future__ import annotations

import pytest

from bot.delivery.probing import Seen, compare, expectation
from bot.delivery.telegram import Message
from storage import OutboxState
from storage.records import OutboxKind
from tests.fakes.telegram.entities import utf16_len
from tests.support.posting import CHAT, IMAGE, PROBE, Harness
from tests.support.relay import add

ARTICLE_URL = "https://tass.com/politics/1"


def test_a_photo_channel_posts_the_image_with_the_post_as_its_caption(tmp_path, telegram) -> None:
    h = Harness(tmp_path, telegram, image="photo")
    add(h.store, 1, ("main", CHAT), image=IMAGE, summary="The talks resumed in Geneva.")
    h.run()
    (sent,) = telegram.messages_for(CHAT)
    assert sent.photo == IMAGE and sent.parse_mode == "HTML"
    assert sent.plain.startswith("Title 1\nTASS") and "The talks resumed in Geneva." in sent.plain
    assert f'<a href="{ARTICLE_URL}">' in sent.text  # the link is kept in the caption
    assert (h.row()["state"], h.row()["media"]) == (OutboxState.SENT, "photo")


def test_a_photo_channel_posts_text_for_an_article_without_an_image(tmp_path, telegram) -> None:
    h = Harness(tmp_path, telegram, image="photo")
    add(h.store, 1, ("main", CHAT))
    h.run()
    (sent,) = telegram.messages_for(CHAT)
    assert sent.photo is None and sent.link_preview_options["url"] == ARTICLE_URL
    assert h.row()["media"] == "text"


@pytest.mark.parametrize(("mode", "above"), [("preview_above", True), ("preview_below", False)])
def test_a_large_preview_of_the_image_above_or_below_the_text(
    tmp_path, telegram, mode, above
) -> None:
    h = Harness(tmp_path, telegram, image=mode)
    add(h.store, 1, ("main", CHAT), image=IMAGE)
    add(h.store, 2, ("main", CHAT))  # no image: the article's own page is previewed large
    h.run()
    first, second = telegram.messages_for(CHAT)
    assert first.photo is None and "Title 1" in first.plain
    assert first.link_preview_options == {
        "url": IMAGE,
        "prefer_large_media": True,
        "show_above_text": above,
    }
    assert second.link_preview_options["url"] == "https://tass.com/politics/2"


@pytest.mark.parametrize(
    ("mode", "options"),
    [
        ("none", {"is_disabled": True}),
        ("link", {"url": ARTICLE_URL, "prefer_small_media": True}),
    ],
)
def test_no_preview_and_the_default_small_preview(tmp_path, telegram, mode, options) -> None:
    h = Harness(tmp_path, telegram, image=mode)
    add(h.store, 1, ("main", CHAT), image=IMAGE)
    h.run()
    (sent,) = telegram.messages_for(CHAT)
    assert sent.photo is None and sent.link_preview_options == options


def test_a_long_summary_is_cut_to_the_caption_limit_and_the_link_stays(tmp_path, telegram) -> None:
    h = Harness(tmp_path, telegram, image="photo")
    summary = "Ministers met again. " * 200 + "ЁЖ🙂 " * 50  # astral and Cyrillic characters too
    add(h.store, 1, ("main", CHAT), image=IMAGE, summary=summary, title="Заголовок " * 40)
    h.run()
    (sent,) = telegram.messages_for(CHAT)
    assert sent.photo == IMAGE
    assert 900 < utf16_len(sent.plain) <= 1024  # the fake parsed it as Telegram counts
    assert "…" in sent.plain and f'<a href="{ARTICLE_URL}">tass.com/politics/1</a>' in sent.text


def test_a_refused_photo_becomes_one_text_post_never_lost_never_doubled(tmp_path, telegram) -> None:
    h = Harness(tmp_path, telegram, image="photo")
    telegram.refuse_photo(IMAGE, "Bad Request: failed to get HTTP URL content")
    add(h.store, 1, ("main", CHAT), image=IMAGE, summary="The talks resumed in Geneva.")
    h.run(rounds=2)
    (sent,) = telegram.messages_for(CHAT)
    assert sent.photo is None and "The talks resumed in Geneva." in sent.plain
    calls = [
        (c.method, c.status) for c in telegram.requests if c.method in ("sendPhoto", "sendMessage")
    ]
    assert calls == [("sendPhoto", 400), ("sendMessage", 200)]
    row = h.row()
    assert (row["state"], row["media"], row["message_id"]) == ("sent", "text", sent.message_id)


def test_a_photo_sent_in_doubt_is_found_by_the_probe_and_not_sent_again(tmp_path, telegram) -> None:
    h = Harness(tmp_path, telegram, image="photo", probe=True)
    add(h.store, 1, ("main", CHAT), image=IMAGE)
    telegram.drop_after_accept_next(method="sendPhoto")
    h.run(rounds=3)
    assert len(telegram.messages_for(CHAT)) == 1  # delivered once, its answer lost
    row = h.row()
    assert (row["state"], row["settlement"], row["media"]) == ("sent", "found", "photo")
    assert row["message_id"] == telegram.messages_for(CHAT)[0].message_id
    assert telegram.live_ids(PROBE) == []  # the probe's copy is deleted again


def test_the_same_words_in_another_form_are_not_our_post() -> None:
    photo = Message(chat_id=CHAT, text='<b>T</b>\n<a href="https://a.example/1">a.example/1</a>',
                    media="photo", photo=IMAGE)  # fmt: skip
    expected = expectation(photo, after=5)
    words, links = "T\na.example/1", ("https://a.example/1",)
    assert expected.media == "photo"
    assert compare(expected, text=words, links=links, media="photo") == Seen.OURS
    assert compare(expected, text=words, links=links, media="text") == Seen.NEAR


def test_a_correction_of_a_photo_post_edits_its_caption(tmp_path, telegram) -> None:
    h = Harness(tmp_path, telegram, image="photo")
    article_id = add(h.store, 1, ("main", CHAT), image=IMAGE, summary="First version.")
    h.run()
    h.store.db["articles"].update(article_id, {"summary": "Corrected version."})
    h.store.posts.enqueue_update(
        article_id, kind=OutboxKind.EDIT, now=h.time.now(), channels=("main",)
    )
    h.run()
    (edit,) = telegram.edits
    assert "Corrected version." in edit.plain and "First version." in edit.previous
    assert [c.method for c in telegram.requests if c.method.startswith("edit")] == [
        "editMessageCaption"
    ]
    assert h.store.db["outbox"].get(2)["state"] == OutboxState.SENT
