"""The loopback fake Telegram Bot API, driven over its socket by the real python-telegram-bot."""

import asyncio
import datetime as dt
import threading

import httpx
import pytest
from telegram import (
    Bot,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    LinkPreviewOptions,
    ReplyParameters,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from tests.fakes.telegram import (
    DEFAULT_TOKEN,
    FakeTelegram,
)
from tests.support.telegram import CHANNEL, GROUP, stops_within, with_bot

NOW = 1_700_000_000.0


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch):
    # PTB 22.2+ builds RetryAfter through a deprecated int accessor; under filterwarnings=error a
    # 429 would surface as PTBDeprecationWarning instead of RetryAfter. Opt in to timedelta.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def fake():
    with FakeTelegram(now=lambda: NOW) as fake:
        yield fake


def test_get_me_returns_a_full_bot_user(fake):
    me = with_bot(fake, lambda bot: bot.get_me())
    assert (me.id, me.is_bot, me.username, me.can_join_groups) == (
        123456789,
        True,
        "presswatch_test_bot",
        True,
    )


def test_send_message_returns_a_full_message_and_is_recorded(fake):
    text = '<b>Budget</b> &amp; <a href="https://gov.example/pr/1">read</a>'
    preview = LinkPreviewOptions(url="https://gov.example/pr/1", prefer_small_media=True)
    message = with_bot(fake, lambda bot: bot.send_message(
        CHANNEL, text, parse_mode="HTML", disable_notification=True, link_preview_options=preview))  # fmt: skip

    assert (message.message_id, message.text, message.chat.type) == (1, "Budget & read", "channel")
    assert message.date == dt.datetime.fromtimestamp(NOW, dt.UTC)
    assert message.sender_chat.id == CHANNEL
    assert [(e.type, e.offset, e.length, e.url) for e in message.entities] == [
        ("bold", 0, 6, None), ("text_link", 9, 4, "https://gov.example/pr/1")]  # fmt: skip
    (sent,) = fake.messages
    assert (sent.chat_id, sent.chat, sent.text, sent.plain) == (
        str(CHANNEL),
        CHANNEL,
        text,
        "Budget & read",
    )
    assert (sent.parse_mode, sent.disable_notification, sent.date) == ("HTML", True, int(NOW))
    assert sent.link_preview_options == {
        "url": "https://gov.example/pr/1",
        "prefer_small_media": True,
    }


def test_ids_count_per_chat_usernames_resolve_and_options_are_recorded(fake):
    fake.push_message(chat_id=CHANNEL - 1, user_id=7, text="hi", chat_type="supergroup")

    async def action(bot):
        first = await bot.send_message("@gov_news", "one")
        second = await bot.send_message("@Gov_News", "two")
        private = await bot.send_message(42, "three")
        reply = await bot.send_message(
            42, "four", reply_parameters=ReplyParameters(private.message_id)
        )
        topic = await bot.send_message(CHANNEL - 1, "five", message_thread_id=7)
        return first, second, private, reply, topic

    first, second, private, reply, topic = with_bot(fake, action)
    assert first.chat.id == second.chat.id and str(first.chat.id).startswith("-100")
    assert (first.chat.type, first.chat.username) == ("channel", "gov_news")
    assert [m.message_id for m in (first, second, private, reply)] == [1, 2, 1, 2]
    assert (private.chat.type, private.from_user.is_bot) == ("private", True)
    assert (topic.chat.type, topic.message_id, topic.message_thread_id) == ("supergroup", 2, 7)
    assert [m.text for m in fake.messages_for("@GOV_NEWS")] == ["one", "two"]
    assert fake.messages_for(42)[1].reply_to_message_id == 1
    assert fake.messages_for(CHANNEL - 1)[0].message_thread_id == 7


@pytest.mark.parametrize(("text", "detail"), [
    ("<p>Press release</p>", 'unsupported start tag "p" at byte offset 0'),
    ("Prices < 5%", 'unsupported start tag "" at byte offset 7'),
    ("AT&T", 'unescaped "&" (write "&amp;") at byte offset 2'),
    ("<b>bold</i>", 'unmatched end tag at byte offset 7, expected "</b>", found "</i>"'),
    ("<b>open", 'can\'t find end tag corresponding to start tag "b"'),
])  # fmt: skip
def test_invalid_html_is_refused_like_telegram(fake, text, detail):
    with pytest.raises(BadRequest) as info:
        with_bot(fake, lambda bot: bot.send_message(CHANNEL, text, parse_mode="HTML"))
    assert info.value.message == f"Can't parse entities: {detail}"
    assert fake.messages == [] and fake.requests[-1].status == 400


def test_length_is_counted_in_utf16_units_after_parsing(fake):
    async def action(bot):
        # 2048 astral emoji are 4096 UTF-16 units: the limit exactly; markup does not count.
        fits = await bot.send_message(CHANNEL, "<b>" + "😀" * 2048 + "</b>", parse_mode="HTML")
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(CHANNEL, "😀" * 2048 + "!")  # 2049 code points, 4097 units
        with pytest.raises(BadRequest, match="Message text is empty"):
            await bot.send_message(CHANNEL, "<b> </b>", parse_mode="HTML")
        return fits

    assert len(with_bot(fake, action).text) == 2048
    assert len(fake.messages) == 1


def test_flood_next_injects_429_with_telegrams_envelope(fake):
    fake.flood_next(1, retry_after=7)
    raw = httpx.post(
        f"{fake.base_url}{DEFAULT_TOKEN}/sendMessage", data={"chat_id": CHANNEL, "text": "hi"}
    )
    assert raw.status_code == 429
    assert raw.json() == {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
                          "parameters": {"retry_after": 7}}  # fmt: skip

    fake.flood_next(1, retry_after=7, chat=CHANNEL)

    async def action(bot):
        await bot.send_message(GROUP, "other chats pass")
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(CHANNEL, "hi")
        await bot.send_message(CHANNEL, "hi again")
        return info.value.retry_after

    assert with_bot(fake, action) == dt.timedelta(seconds=7)
    assert fake.throttled == {CHANNEL: 2}


def test_forbidden_chat_answers_403_and_other_chats_still_work(fake):
    fake.forbid_chat(CHANNEL)

    async def action(bot):
        with pytest.raises(Forbidden, match="Forbidden: bot was kicked from the channel chat"):
            await bot.send_message(CHANNEL, "x")
        return await bot.send_message(GROUP, "fine")

    assert with_bot(fake, action).text == "fine"
    assert fake.requests[-2].status == 403


def test_missing_and_migrated_chats(fake):
    fake.missing_chat(GROUP)
    fake.migrate_chat(-555, -1005550000)

    async def action(bot):
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(GROUP, "x")
        with pytest.raises(ChatMigrated) as info:
            await bot.send_message(-555, "x")
        fake.restore_chat(GROUP)
        await bot.send_message(GROUP, "back")
        return info.value.new_chat_id

    assert with_bot(fake, action) == -1005550000


def test_server_error_is_a_plain_network_error(fake):
    fake.fail_next(1)

    async def action(bot):
        with pytest.raises(NetworkError) as info:
            await bot.send_message(CHANNEL, "x")
        return info.value, await bot.send_message(CHANNEL, "retried")

    error, retried = with_bot(fake, action)
    assert not isinstance(error, BadRequest) and error.message == "Internal Server Error"
    assert retried.message_id == 1


def test_hung_send_times_out_without_blocking_other_calls_and_stop_releases_it(fake):
    fake.hang_next(1, 3600)

    async def action(bot):
        with pytest.raises(TimedOut):
            await bot.send_message(CHANNEL, "slow", read_timeout=0.2)
        return await bot.send_message(CHANNEL, "next")

    assert with_bot(fake, action).message_id == 1
    assert fake.wait_for(lambda: fake.held == 1)
    assert stops_within(fake)
    assert [m.text for m in fake.messages] == ["next"]
    assert [c.status for c in fake.requests if c.params.get("text") == "slow"] == [None]


def test_hung_send_that_delivers_late_is_the_uncertain_case(fake):
    fake.hang_next(1, 2.0, deliver=True)
    with pytest.raises(TimedOut):
        with_bot(fake, lambda bot: bot.send_message(CHANNEL, "late", read_timeout=0.1))
    assert fake.wait_for(lambda: len(fake.messages) == 1)


def test_drop_after_accept_records_the_message_but_ptb_gets_no_answer(fake):
    fake.drop_after_accept_next(1)
    with pytest.raises(NetworkError) as info:
        with_bot(fake, lambda bot: bot.send_message(CHANNEL, "lost answer"))
    assert not isinstance(info.value, (BadRequest, TimedOut))
    assert [m.text for m in fake.messages] == ["lost answer"]
    assert fake.requests[-1].status is None


def test_reject_html_refuses_every_html_send(fake):
    fake.reject_html()

    async def action(bot):
        with pytest.raises(BadRequest, match='unsupported start tag "b" at byte offset 0'):
            await bot.send_message(CHANNEL, "plain words", parse_mode="HTML")
        await bot.send_message(CHANNEL, "no parse mode")
        fake.reject_html(False)
        await bot.send_message(CHANNEL, "<i>html again</i>", parse_mode="HTML")

    with_bot(fake, action)
    assert [m.plain for m in fake.messages] == ["no parse mode", "html again"]


def test_get_updates_long_poll_wakes_up_for_a_pushed_command(fake):
    async def action(bot):
        poll = asyncio.create_task(bot.get_updates(timeout=30))
        assert await asyncio.to_thread(fake.wait_for, lambda: fake.polling == 1)
        fake.push_message(chat_id=42, user_id=42, text="/search budget")
        (update,) = await poll
        fake.push_message(chat_id=CHANNEL, user_id=7, text="post", chat_type="channel")
        (post,) = await bot.get_updates(offset=update.update_id + 1, timeout=0)
        confirmed = await bot.get_updates(offset=post.update_id + 1, timeout=0)
        return update, post, confirmed

    update, post, confirmed = with_bot(fake, action)
    message = update.message
    assert (message.text, message.from_user.id, message.chat.type) == (
        "/search budget",
        42,
        "private",
    )
    assert list(message.parse_entities(["bot_command"]).values()) == ["/search"]
    assert (post.channel_post.chat.type, post.channel_post.text) == ("channel", "post")
    assert confirmed == ()


def test_stop_releases_long_polls_and_held_requests(fake):
    fake.hang_next(1, 3600)
    url = f"{fake.base_url}{DEFAULT_TOKEN}"
    outcomes = []

    def call(method, data):
        try:
            outcomes.append(httpx.post(f"{url}/{method}", data=data, timeout=30).status_code)
        except httpx.HTTPError as exc:
            outcomes.append(type(exc).__name__)

    clients = [threading.Thread(target=call, args=("getUpdates", {"timeout": 3600})),
               threading.Thread(target=call, args=("sendMessage", {"chat_id": CHANNEL, "text": "x"}))]  # fmt: skip
    for client in clients:
        client.start()
    assert fake.wait_for(lambda: fake.polling == 1 and fake.held == 1)
    assert stops_within(fake)
    for client in clients:
        client.join(10)
    # The long poll may get its empty answer or the cut; the held send never gets an answer.
    assert "RemoteProtocolError" in outcomes and len(outcomes) == 2


def test_edits_are_validated_and_kept_as_history(fake):
    async def action(bot):
        sent = await bot.send_message(CHANNEL, "<b>Draft</b>", parse_mode="HTML")
        edit = dict(chat_id=CHANNEL, message_id=sent.message_id, parse_mode="HTML")
        edited = await bot.edit_message_text("<b>Final</b>", **edit)
        with pytest.raises(
            BadRequest, match="Message is not modified: specified new message content"
        ):
            await bot.edit_message_text("<b>Final</b>", **edit)
        with pytest.raises(BadRequest, match="Can't parse entities"):
            await bot.edit_message_text("<p>Final</p>", **edit)
        assert await bot.delete_message(CHANNEL, sent.message_id)
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await bot.edit_message_text("gone", **edit)
        return edited

    edited = with_bot(fake, action)
    assert (edited.text, edited.edit_date) == ("Final", dt.datetime.fromtimestamp(NOW, dt.UTC))
    assert fake.history(CHANNEL, 1) == ["<b>Draft</b>", "<b>Final</b>"]
    assert fake.edits[0].previous == "<b>Draft</b>"
    assert fake.deleted == [(CHANNEL, 1)]


def test_bot_is_a_channel_admin_until_its_rights_are_taken(fake):
    async def action(bot):
        before = await bot.get_chat_member(CHANNEL, bot.id)
        fake.set_bot_rights(CHANNEL, can_post_messages=False)
        after = await bot.get_chat_member(CHANNEL, bot.id)
        with pytest.raises(BadRequest, match="Need administrator rights in the channel chat"):
            await bot.send_message(CHANNEL, "x")
        return before, after, await bot.get_chat(CHANNEL)

    before, after, chat = with_bot(fake, action)
    assert (before.status, before.can_post_messages, after.can_post_messages) == (
        "administrator",
        True,
        False,
    )
    assert (chat.id, chat.type) == (CHANNEL, "channel")


def test_housekeeping_methods(fake):
    fake.push_message(chat_id=42, user_id=42, text="stale")

    async def action(bot):
        assert await bot.set_my_commands([("search", "Search the archive")])
        assert await bot.set_my_commands([("search", "Поиск по архиву")], language_code="ru")
        with pytest.raises(BadRequest, match="Invalid language code"):
            await bot.set_my_commands([("search", "?")], language_code="russian")
        assert await bot.set_my_commands([("pause", "Stop")], scope=BotCommandScopeChat(7))
        with pytest.raises(BadRequest, match="Unsupported bot command scope"):
            await bot.set_my_commands([("pause", "?")], scope=BotCommandScopeAllGroupChats())
        assert await bot.delete_webhook(drop_pending_updates=True)
        assert await bot.send_chat_action(CHANNEL, "typing")
        assert await bot.answer_callback_query("123")
        return await bot.get_webhook_info()

    assert with_bot(fake, action).pending_update_count == 0
    assert fake.commands == [{"command": "search", "description": "Search the archive"}]
    assert fake.commands_in == {"ru": [{"command": "search", "description": "Поиск по архиву"}]}
    assert fake.commands_for == {(7, ""): [{"command": "pause", "description": "Stop"}]}


def test_ptb_sees_invalid_token_and_unknown_endpoint(fake):
    async def wrong_token():
        async with Bot("0:WRONG", base_url=fake.base_url):
            pass

    with pytest.raises(InvalidToken):
        asyncio.run(wrong_token())
    with pytest.raises(EndPointNotFound):
        with_bot(fake, lambda bot: bot.do_api_request("noSuchMethod"))


def test_json_bodies_get_queries_and_error_envelopes(fake):
    url = f"{fake.base_url}{DEFAULT_TOKEN}"
    with httpx.Client() as client:
        sent = client.post(f"{url}/sendMessage", json={
            "chat_id": CHANNEL, "text": "<i>json</i>", "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True}})  # fmt: skip
        queried = client.get(f"{url}/sendmessage", params={"chat_id": CHANNEL, "text": "via query"})
        unknown = client.post(f"{url}/noSuchMethod")
        bad_token = client.get(f"{fake.base_url}0:WRONG/getMe")
    assert sent.json()["result"]["entities"] == [{"type": "italic", "offset": 0, "length": 4}]
    assert queried.json()["result"]["message_id"] == 2
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    assert (bad_token.status_code, bad_token.json()["description"]) == (401, "Unauthorized")
    assert fake.messages[0].link_preview_options == {"is_disabled": True}
    assert [c.method for c in fake.requests[:2]] == ["sendMessage", "sendMessage"]


def test_wait_for_gives_up_with_false(fake):
    assert fake.wait_for(lambda: fake.messages, timeout=0.01) is False
