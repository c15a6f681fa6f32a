"""The Bot API methods the fake answers, with Telegram's checks and error texts."""

from __future__ import annotations

from .entities import HtmlParseError, ParsedText, parse_html, utf16_len
from .forwarding import ForwardMethods
from .params import bool_param, int_param, json_param, require_chat, resolve_chat
from .photos import check_preview
from .records import ADMIN_RIGHTS, MAX_TEXT_UTF16, NOT_MODIFIED, ApiError, Edit, SentMessage, flood


class BotMethods(ForwardMethods):
    """Telegram's methods, and a user's side of getUpdates, over the state FakeTelegram keeps."""

    # -- user side ---------------------------------------------------------------------------

    def push_message(self, *, chat_id: int | str, user_id: int, text: str,
                     chat_type: str = "private", language: str = "en") -> dict:  # fmt: skip
        """Queue a user's message (a channel_post in channels) for getUpdates; return the update.

        `language` is the user's app language, as Telegram tells it (language_code)."""
        chat = resolve_chat(chat_id)
        user = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}",
                "username": f"user{user_id}", "language_code": language}  # fmt: skip
        chat_obj = {"id": chat, "type": chat_type, "title": f"Test {chat_type} {chat}"}
        if chat_type == "private":
            chat_obj = {"id": chat, "type": "private", "first_name": user["first_name"],
                        "username": user["username"]}  # fmt: skip
        with self._cond:
            self._chats[chat] = chat_obj  # later sends see the same chat type
            message = {"message_id": self._new_id(chat), "date": int(self._now()),
                       "chat": chat_obj, "text": text}  # fmt: skip
            message |= {"sender_chat": chat_obj} if chat_type == "channel" else {"from": user}
            if text.startswith("/"):  # Telegram marks a leading command, "/search@bot" included
                length = utf16_len(text.split(maxsplit=1)[0])
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
            kind = "channel_post" if chat_type == "channel" else "message"
            return self.push_update({kind: message})

    def push_update(self, update: dict) -> dict:
        """Queue any update for getUpdates, numbering it; return it."""
        with self._cond:
            self._last_update_id += 1
            update = {"update_id": self._last_update_id} | update
            self._updates.append(update)
            self._cond.notify_all()
            return update

    # -- methods -----------------------------------------------------------------------------

    def _true(self, params: dict, chat: int | None) -> bool:
        return True

    def _get_me(self, params: dict, chat: int | None) -> dict:
        return dict(self.bot_user)

    def _send_message(self, p: dict, chat: int | None) -> dict:
        chat = require_chat(chat)
        parsed = self._parse(p)
        check_preview(p)
        with self._cond:
            self._check_can_post(chat)
            self._throttle(chat)
            self._before_send(chat)
            message_id = self._new_id(chat)
            message = self._message_object(chat, message_id, parsed, p)
            markup = json_param(p, "reply_markup")
            self._live[(chat, message_id)] = {
                "message": message,
                "raw": p["text"],
                "markup": markup,
            }
            reply_to = int_param(p, "reply_to_message_id") or (
                json_param(p, "reply_parameters") or {}
            ).get("message_id")
            self._messages.append(SentMessage(
                chat_id=p["chat_id"], chat=chat, message_id=message_id, text=p["text"], plain=parsed.text,
                parse_mode=p.get("parse_mode"), message_thread_id=int_param(p, "message_thread_id"),
                disable_notification=bool_param(p, "disable_notification"),
                link_preview_options=json_param(p, "link_preview_options"), reply_to_message_id=reply_to,
                date=message["date"], at=self._clock()))  # fmt: skip
            return message

    def _edit_message_text(self, p: dict, chat: int | None) -> dict:
        chat, message_id = self._edit_target(p, chat)
        parsed = self._parse(p)
        check_preview(p)
        with self._cond:
            live = self._live_message(chat, message_id)
            if "photo" in live["message"]:
                raise ApiError(400, "Bad Request: there is no text in the message to edit")
            old, markup = live["message"], json_param(p, "reply_markup")
            before = (old["text"], old.get("entities", []), live["markup"])
            if before == (parsed.text, list(parsed.entities), markup):
                raise ApiError(400, NOT_MODIFIED)
            self._throttle(chat)
            message = self._message_object(chat, message_id, parsed, p) | {
                "date": old["date"],
                "edit_date": int(self._now()),
            }
            if "message_thread_id" in old:  # an edit keeps the message in its topic
                message["message_thread_id"] = old["message_thread_id"]
            self._keep_edit(
                chat, message_id, message, raw=p["text"], markup=markup, parsed=parsed, p=p
            )
            return message

    def _get_chat(self, p: dict, chat: int | None) -> dict:
        gifts = dict.fromkeys(("unlimited_gifts", "limited_gifts", "unique_gifts",
                               "premium_subscription", "gifts_from_channels"), False)  # fmt: skip
        chat = require_chat(chat)
        with self._cond:
            protected = {"has_protected_content": True} if chat in self._protected else {}
        return (
            self._chat_object(chat)
            | protected
            | {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": gifts,
            }
        )

    def _get_chat_member(self, p: dict, chat: int | None) -> dict:
        chat, user_id = require_chat(chat), int_param(p, "user_id")
        if user_id != self.bot_user["id"]:
            user = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
            return {"status": "member", "user": user}
        with self._cond:
            rights = self._rights.get(chat, ADMIN_RIGHTS)
        return {"status": "administrator", "user": dict(self.bot_user), **rights}

    def _set_my_commands(self, p: dict, chat: int | None) -> bool:
        commands = json_param(p, "commands")
        if not isinstance(commands, list):
            raise ApiError(400, 'Bad Request: parameter "commands" is required')
        language = p.get("language_code") or ""
        if language and not (len(language) == 2 and language.isascii() and language.isalpha()):
            raise ApiError(400, "Bad Request: invalid language code specified")
        scope = json_param(p, "scope") or {"type": "default"}
        kind = scope.get("type") if isinstance(scope, dict) else None
        if kind == "chat":  # BotCommandScopeChat: the menu of one chat, by language as above
            target = resolve_chat(scope.get("chat_id", ""))
            with self._cond:
                if target in self._blocked:  # missing_chat: a user who never wrote to the bot
                    raise self._blocked[target]
                self.commands_for[(target, language)] = commands
            return True
        if kind != "default":  # the fake keeps these two scopes; a test needing more adds it
            raise ApiError(400, "Bad Request: unsupported bot command scope type")
        if not language:
            self.commands = commands
        else:
            self.commands_in[language] = commands  # a two-letter ISO 639-1 code, as Telegram takes
        return True

    def _delete_webhook(self, p: dict, chat: int | None) -> bool:
        if bool_param(p, "drop_pending_updates"):
            with self._cond:
                self._updates.clear()
        return True

    def _get_webhook_info(self, p: dict, chat: int | None) -> dict:
        with self._cond:
            pending = len(self._updates)
        return {"url": "", "has_custom_certificate": False, "pending_update_count": pending}

    def _send_chat_action(self, p: dict, chat: int | None) -> bool:
        require_chat(chat)
        if not p.get("action"):
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _get_updates(self, p: dict, chat: int | None) -> list[dict]:
        offset, limit, timeout = (
            int_param(p, "offset"),
            int_param(p, "limit") or 100,
            int_param(p, "timeout") or 0,
        )
        with self._cond:
            if offset is not None and offset < 0:  # keep the last -offset updates, forget the rest
                del self._updates[:offset]
            elif offset is not None:  # everything below offset is confirmed
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if timeout > 0 and not self._updates:
                self._polling += 1
                self._cond.notify_all()
                self._cond.wait_for(lambda: self._updates or self._stopping.is_set(), timeout)
                self._polling -= 1
            return self._updates[: max(1, min(limit, 100))]

    # -- helpers -----------------------------------------------------------------------------

    def _parse(self, p: dict) -> ParsedText:
        """Validate text and parse_mode as Telegram does; return what the chat will show."""
        text, mode = p.get("text") or "", (p.get("parse_mode") or "").lower()
        if mode not in ("", "html", "markdown", "markdownv2"):
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        parsed = self._parse_html(text) if mode == "html" else ParsedText(text)
        if not parsed.text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(parsed.text) > MAX_TEXT_UTF16:
            raise ApiError(400, "Bad Request: message is too long")
        return parsed

    def _parse_html(self, text: str) -> ParsedText:
        """Parse HTML markup as Telegram does, or raise its 400 (always, after reject_html)."""
        try:
            if self._reject_html:
                raise HtmlParseError('Unsupported start tag "b" at byte offset 0')
            return parse_html(text, strict=self._strict)
        except HtmlParseError as exc:
            raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from exc

    def _edit_target(self, p: dict, chat: int | None) -> tuple[int, int]:
        """Return the (chat, message id) an edit names, or raise as Telegram does without an id."""
        chat, message_id = require_chat(chat), int_param(p, "message_id")
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        return chat, message_id

    def _live_message(self, chat: int, message_id: int) -> dict:
        """Return the record of a message still in its chat, to edit (under _cond), or raise."""
        live = self._live.get((chat, message_id))
        if live is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        return live

    def _keep_edit(self, chat: int, message_id: int, message: dict, *, raw: str, markup,
                   parsed: ParsedText, p: dict) -> None:  # fmt: skip
        """Record an accepted edit (under _cond): in the edits, and as the message the chat shows."""
        self._edits.append(Edit(
            chat=chat, message_id=message_id, text=raw, plain=parsed.text, parse_mode=p.get("parse_mode"),
            previous=self._live[(chat, message_id)]["raw"], at=self._clock()))  # fmt: skip
        self._live[(chat, message_id)] = {"message": message, "raw": raw, "markup": markup}

    def _check_can_post(self, chat: int) -> None:
        rights = self._rights.get(chat, ADMIN_RIGHTS)
        if self._chat_object(chat)["type"] == "channel" and not rights["can_post_messages"]:
            raise ApiError(400, "Bad Request: need administrator rights in the channel chat")

    def _throttle(self, chat: int) -> None:
        """Count one send against the flood limits or raise the 429 Telegram would."""
        if self._limiter is None:
            return
        retry_after = self._limiter.retry_after(chat)
        if retry_after is not None:
            raise flood(retry_after)
        self._limiter.record(chat)

    def _chat_object(self, chat: int) -> dict:
        if chat in self._chats:
            return dict(self._chats[chat])
        if chat > 0:
            return {"id": chat, "type": "private", "first_name": f"User {chat}"}
        kind = "channel" if str(chat).startswith("-100") else "group"
        return {"id": chat, "type": kind, "title": f"Test {kind} {chat}"}

    def _message_object(self, chat: int, message_id: int, parsed: ParsedText, p: dict) -> dict:
        chat_obj = self._chat_object(chat)
        message = {"message_id": message_id, "date": int(self._now()), "chat": chat_obj,
                   "text": parsed.text}  # fmt: skip
        # Channel posts come from the channel itself; elsewhere the bot is the sender.
        is_channel = chat_obj["type"] == "channel"
        message |= {"sender_chat": chat_obj} if is_channel else {"from": dict(self.bot_user)}
        optional = {"entities": list(parsed.entities), "message_thread_id": int_param(p, "message_thread_id"),
                    "link_preview_options": json_param(p, "link_preview_options")}  # fmt: skip
        markup = json_param(p, "reply_markup")
        if (
            isinstance(markup, dict) and "inline_keyboard" in markup
        ):  # only inline keyboards echo back
            optional["reply_markup"] = markup
        return message | {key: value for key, value in optional.items() if value}
