"""The fake Bot API's photos and link previews, driven by the real python-telegram-bot."""

from __future__ import annotations

import re

import pytest
from telegram import LinkPreviewOptions
from telegram.error import BadRequest

from tests.support.telegram import CHANNEL, with_bot

PHOTO = "https://img.example/lead.jpg"


def _said(text: str) -> str:
    """Match Telegram's error text as PTB shows it (its first letter capitalised)."""
    return "(?i)" + re.escape(text)


def test_send_photo_returns_a_photo_message_with_its_caption_parsed(telegram) -> None:
    message = with_bot(
        telegram,
        lambda bot: bot.send_photo(
            CHANNEL, PHOTO, caption='<b>Hi</b> <a href="https://a.example/">there</a>',
            parse_mode="HTML",
        ),
    )  # fmt: skip
    assert message.photo and message.caption == "Hi there"
    assert [e.type for e in message.caption_entities] == ["bold", "text_link"]
    (sent,) = telegram.messages
    assert (sent.photo, sent.plain) == (PHOTO, "Hi there")


@pytest.mark.parametrize(
    ("photo", "caption", "error"),
    [
        ("", "x", "there is no photo in the request"),
        ("AgACAgIAAxkBAAE", "x", "wrong file identifier/HTTP URL specified"),
        (PHOTO, "x" * 1025, "message caption is too long"),
        (PHOTO, "<b>open", "can't parse entities"),
        (PHOTO, "<div>x</div>", "can't parse entities"),
    ],
)
def test_send_photo_refuses_what_telegram_refuses(telegram, photo, caption, error) -> None:
    with pytest.raises(BadRequest, match=_said(error)):
        with_bot(
            telegram, lambda bot: bot.send_photo(CHANNEL, photo, caption=caption, parse_mode="HTML")
        )
    assert telegram.messages == []


def test_a_caption_of_1024_units_after_parsing_is_accepted(telegram) -> None:
    caption = "<b>" + "🙂" * 512 + "</b>"  # 512 astral characters: 1,024 UTF-16 units
    with_bot(
        telegram, lambda bot: bot.send_photo(CHANNEL, PHOTO, caption=caption, parse_mode="HTML")
    )
    assert len(telegram.messages) == 1


def test_a_refused_photo_url_gets_telegram_s_error_and_nothing_is_posted(telegram) -> None:
    telegram.refuse_photo(PHOTO)
    with pytest.raises(BadRequest, match=_said("wrong type of the web page content")):
        with_bot(telegram, lambda bot: bot.send_photo(CHANNEL, PHOTO, caption="x"))
    assert telegram.messages == [] and telegram.live_ids(CHANNEL) == []


def test_a_photo_has_a_caption_to_edit_and_no_text(telegram) -> None:
    async def action(bot):
        sent = await bot.send_photo(CHANNEL, PHOTO, caption="old")
        with pytest.raises(BadRequest, match=_said("there is no text in the message to edit")):
            await bot.edit_message_text("new", chat_id=CHANNEL, message_id=sent.message_id)
        text = await bot.send_message(CHANNEL, "a text")
        with pytest.raises(BadRequest, match=_said("there is no caption in the message to edit")):
            await bot.edit_message_caption(CHANNEL, text.message_id, caption="new")
        return await bot.edit_message_caption(CHANNEL, sent.message_id, caption="new")

    edited = with_bot(telegram, action)
    assert edited.caption == "new" and [e.plain for e in telegram.edits] == ["new"]


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (LinkPreviewOptions(url="ftp://a.example/x"), "link preview URL is invalid"),
        (
            LinkPreviewOptions(url=PHOTO, prefer_small_media=True, prefer_large_media=True),
            "can't prefer both small and large media",
        ),
    ],
)
def test_link_preview_options_are_checked(telegram, options, error) -> None:
    with pytest.raises(BadRequest, match=_said(error)):
        with_bot(telegram, lambda bot: bot.send_message(CHANNEL, "x", link_preview_options=options))


def test_good_link_preview_options_are_kept_on_the_message(telegram) -> None:
    options = LinkPreviewOptions(url=PHOTO, prefer_large_media=True, show_above_text=True)
    with_bot(telegram, lambda bot: bot.send_message(CHANNEL, "x", link_preview_options=options))
    assert telegram.messages[0].link_preview_options == {
        "url": PHOTO,
        "prefer_large_media": True,
        "show_above_text": True,
    }


def test_a_forwarded_photo_keeps_its_caption_and_picture(telegram) -> None:
    async def action(bot):
        sent = await bot.send_photo(CHANNEL, PHOTO, caption="<i>c</i>", parse_mode="HTML")
        return await bot.forward_message(-1009, CHANNEL, sent.message_id)

    copy = with_bot(telegram, action)
    assert copy.photo and copy.caption == "c" and copy.caption_entities[0].type == "italic"
