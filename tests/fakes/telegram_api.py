"""A loopback fake of the Telegram Bot API for end-to-end tests.

``FakeTelegram`` is a real HTTP server on 127.0.0.1 (an ephemeral port unless told otherwise),
served from background threads and used as a context manager. It answers like Telegram (the
``ok``/``result`` envelope, status codes, error texts, full Message objects), records every call,
and injects the faults a publisher must survive: flood limits with ``retry_after``, 5xx, hung
requests, sends accepted and then dropped, 403/400 for one chat, HTML rejection, chat migration.

By hand: ``python -m tests.fakes.telegram_api --port 8081 --token 123:ABC`` prints the base URL.

Errors: the client only ever sees HTTP answers; a test's own misuse (an unknown method to fault,
a chat id that is neither a number nor an @username) raises ValueError.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import json
import logging
import math
import signal
import socket
import socketserver
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .telegram_html import HtmlParseError, ParsedText, parse_html, utf16_len

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456789:TEST-fake-token"
MAX_TEXT_UTF16 = 4096
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are"
    " exactly the same as a current content and reply markup of the message"
)
ADMIN_RIGHTS = {
    "can_be_edited": False, "is_anonymous": False, "can_manage_chat": True,
    "can_delete_messages": True, "can_manage_video_chats": False, "can_restrict_members": False,
    "can_promote_members": False, "can_change_info": False, "can_invite_users": True,
    "can_post_stories": False, "can_edit_stories": False, "can_delete_stories": False,
    "can_post_messages": True, "can_edit_messages": True,
}  # fmt: skip
# One-shot faults default to sendMessage so a polling bot's getUpdates doesn't use them up.
_SEND = "sendMessage"


@dataclasses.dataclass(frozen=True, slots=True)
class RateLimit:
    """Flood limits, sliding windows; None switches one off (Telegram FAQ numbers by default)."""

    per_chat_per_minute: int | None = 20
    per_chat_min_interval: float = 0.0  # seconds, below 60
    global_per_second: int | None = 30


@dataclasses.dataclass(frozen=True, slots=True)
class SentMessage:
    """One message the fake accepted."""

    chat_id: int | str  # as the client sent it
    chat: int  # resolved numeric id
    message_id: int
    text: str  # as sent: raw HTML under parse_mode=HTML
    plain: str  # as Telegram shows it: markup removed, entities decoded
    parse_mode: str | None
    message_thread_id: int | None
    disable_notification: bool
    link_preview_options: dict | None
    reply_to_message_id: int | None
    date: int  # unix seconds, from `now`
    at: float  # the injected `clock`


@dataclasses.dataclass(frozen=True, slots=True)
class Edit:
    """One accepted editMessageText."""

    chat: int
    message_id: int
    text: str
    plain: str
    parse_mode: str | None
    previous: str  # raw text before this edit
    at: float


@dataclasses.dataclass(frozen=True, slots=True)
class Call:
    """One HTTP call; status None means the fake answered nothing (hang, drop)."""

    method: str
    params: dict
    status: int | None
    at: float


class _ApiError(ValueError):
    """An error answer: HTTP status, Telegram's description and optional parameters."""

    def __init__(self, status: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters

    def envelope(self) -> dict:
        body = {"ok": False, "error_code": self.status, "description": self.description}
        return body | ({"parameters": self.parameters} if self.parameters else {})


def _flood(retry_after: int) -> _ApiError:
    description = f"Too Many Requests: retry after {retry_after}"
    return _ApiError(429, description, {"retry_after": retry_after})


@dataclasses.dataclass(slots=True)
class _Fault:
    """A queued one-shot fault: kind is "fail", "hang" or "drop"."""

    kind: str
    remaining: int
    method: str | None
    chat: int | None
    error: _ApiError | None = None
    seconds: float = 0.0
    deliver: bool = False


class _Limiter:
    """Sliding-window flood control per chat and overall."""

    def __init__(self, limit: RateLimit, clock) -> None:
        self._limit, self._clock = limit, clock
        self._chats: dict[int, collections.deque] = collections.defaultdict(collections.deque)
        self._all: collections.deque = collections.deque()

    def retry_after(self, chat: int) -> int | None:
        """Return whole seconds until `chat` may send again, or None if it may send now."""
        now, lim = self._clock(), self._limit
        sent, overall = _prune(self._chats[chat], now - 60), _prune(self._all, now - 1)
        waits = [0.0]
        if lim.per_chat_per_minute and len(sent) >= lim.per_chat_per_minute:
            waits.append(sent[-lim.per_chat_per_minute] + 60 - now)
        if lim.per_chat_min_interval and sent:
            waits.append(sent[-1] + lim.per_chat_min_interval - now)
        if lim.global_per_second and len(overall) >= lim.global_per_second:
            waits.append(overall[-lim.global_per_second] + 1 - now)
        return max(1, math.ceil(max(waits))) if max(waits) > 0 else None

    def record(self, chat: int) -> None:
        now = self._clock()
        self._chats[chat].append(now)
        self._all.append(now)


def _prune(times: collections.deque, cutoff: float) -> collections.deque:
    while times and times[0] <= cutoff:
        times.popleft()
    return times


class FakeTelegram:
    """A Telegram Bot API for one bot token on a loopback port; use ``with``."""

    def __init__(
        self, *, token: str = DEFAULT_TOKEN, host: str = "127.0.0.1", port: int = 0,
        rate_limit: RateLimit | None = RateLimit(), clock=time.monotonic, now=time.time,
        strict_html: bool = True, bot_username: str = "presswatch_test_bot", latency: float = 0.0,
    ) -> None:  # fmt: skip
        self.token, self._clock, self._now, self._strict = token, clock, now, strict_html
        # Network round trip of a send, split before and after Telegram processes it, so a client
        # killed mid-send can leave a message either undelivered or delivered but unconfirmed.
        self._latency = latency
        self._limiter = _Limiter(rate_limit, clock) if rate_limit else None
        self._cond = threading.Condition(threading.RLock())  # guards all state below
        self._stopping = threading.Event()
        self._calls: list[Call] = []
        self._messages: list[SentMessage] = []
        self._edits: list[Edit] = []
        self._live: dict[tuple[int, int], dict] = {}  # current message, raw text, markup
        self._ids: collections.Counter = collections.Counter()  # last message_id per chat
        self._updates: list[dict] = []
        self._last_update_id, self._polling, self._held = 0, 0, 0
        self._faults: list[_Fault] = []
        self._blocked: dict[int, _ApiError] = {}
        self._chats: dict[int, dict] = {}
        self._rights: dict[int, dict] = {}
        self._throttled: collections.Counter = collections.Counter()
        self._reject_html = False
        self.commands: list[dict] = []
        self.deleted: list[tuple[int, int]] = []
        bot_id = int(token.partition(":")[0]) if token.partition(":")[0].isdigit() else 1000001
        self.bot_user = {"id": bot_id, "is_bot": True, "first_name": "Presswatch Test",
                         "username": bot_username, "can_join_groups": True,
                         "can_read_all_group_messages": False, "supports_inline_queries": False,
                         "can_connect_to_business": False, "has_main_web_app": False}  # fmt: skip
        self._handlers = {name.lower(): (name, fn) for name, fn in {
            "getMe": self._get_me, "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text, "deleteMessage": self._delete_message,
            "getChat": self._get_chat, "getChatMember": self._get_chat_member,
            "setMyCommands": self._set_my_commands, "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info, "getUpdates": self._get_updates,
            "answerCallbackQuery": self._true, "sendChatAction": self._send_chat_action,
        }.items()}  # fmt: skip
        self._server = _Server((host, port), self)
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """The ``base_url`` for ``telegram.Bot``; PTB appends the token and the method."""
        return f"http://{self._server.server_address[0]}:{self.port}/bot"

    def start(self) -> FakeTelegram:
        """Serve from a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name="fake-telegram", daemon=True)  # fmt: skip
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release long polls and hung requests, cut connections and join every thread."""
        with self._cond:
            if self._stopping.is_set():
                return
            self._stopping.set()
            self._cond.notify_all()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._server.cut_connections()
        self._server.server_close()

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- inspection --------------------------------------------------------------------------

    @property
    def messages(self) -> list[SentMessage]:
        with self._cond:
            return list(self._messages)

    def messages_for(self, chat: int | str) -> list[SentMessage]:
        """Return the messages delivered to one chat (numeric id or @username)."""
        chat = _resolve(chat)
        return [m for m in self.messages if m.chat == chat]

    @property
    def edits(self) -> list[Edit]:
        with self._cond:
            return list(self._edits)

    def history(self, chat: int | str, message_id: int) -> list[str]:
        """Return a message's raw texts, the original first, then each edit."""
        chat = _resolve(chat)
        sent = [m.text for m in self.messages if (m.chat, m.message_id) == (chat, message_id)]
        return sent + [e.text for e in self.edits if (e.chat, e.message_id) == (chat, message_id)]

    @property
    def requests(self) -> list[Call]:
        with self._cond:
            return list(self._calls)

    @property
    def throttled(self) -> dict[int | None, int]:
        """Count 429 answers per resolved chat (None: calls without a chat)."""
        with self._cond:
            return dict(self._throttled)

    @property
    def polling(self) -> int:
        """Count getUpdates calls waiting in a long poll right now."""
        with self._cond:
            return self._polling

    @property
    def held(self) -> int:
        """Count calls held open by hang_next right now."""
        with self._cond:
            return self._held

    def wait_for(self, predicate, timeout: float = 10.0) -> bool:
        """Block until ``predicate()`` is true (re-checked on every change); False on timeout."""
        with self._cond:
            return bool(self._cond.wait_for(predicate, timeout))

    # -- fault injection ---------------------------------------------------------------------

    def fail_next(
        self, n: int = 1, *, status: int = 500, description: str = "Internal Server Error",
        method: str | None = _SEND, chat: int | str | None = None, parameters: dict | None = None,
    ) -> None:  # fmt: skip
        """Answer the next ``n`` matching calls with this error."""
        self._queue(_Fault("fail", n, method, chat, _ApiError(status, description, parameters)))

    def flood_next(self, n: int = 1, *, retry_after: int = 5, method: str | None = _SEND,
                   chat: int | str | None = None) -> None:  # fmt: skip
        """Answer the next ``n`` matching calls with 429 and ``retry_after``."""
        self._queue(_Fault("fail", n, method, chat, _flood(retry_after)))

    def hang_next(self, n: int = 1, seconds: float = 30.0, *, deliver: bool = False,
                  method: str | None = _SEND, chat: int | str | None = None) -> None:  # fmt: skip
        """Hold the next ``n`` calls open; then close silently, or process them if ``deliver``."""
        self._queue(_Fault("hang", n, method, chat, seconds=seconds, deliver=deliver))

    def drop_after_accept_next(self, n: int = 1, *, method: str | None = _SEND,
                               chat: int | str | None = None) -> None:  # fmt: skip
        """Process the next ``n`` calls, then close the socket without answering."""
        self._queue(_Fault("drop", n, method, chat))

    def forbid_chat(
        self, chat_id: int | str, description: str = "Forbidden: bot was kicked from the channel chat"
    ) -> None:  # fmt: skip
        """Answer 403 for every call about this chat."""
        self._block(chat_id, _ApiError(403, description))

    def missing_chat(self, chat_id: int | str) -> None:
        """Answer 400 chat not found for every call about this chat."""
        self._block(chat_id, _ApiError(400, "Bad Request: chat not found"))

    def migrate_chat(self, old: int | str, new: int) -> None:
        """Answer 400 with parameters.migrate_to_chat_id for every call about ``old``."""
        error = _ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                          {"migrate_to_chat_id": int(new)})  # fmt: skip
        self._block(old, error)

    def restore_chat(self, chat_id: int | str) -> None:
        """Undo forbid_chat, missing_chat or migrate_chat."""
        with self._cond:
            self._blocked.pop(_resolve(chat_id), None)

    def reject_html(self, on: bool = True) -> None:
        """Make every parse_mode=HTML text fail to parse, whatever it contains."""
        with self._cond:
            self._reject_html = on

    def set_bot_rights(self, chat_id: int | str, **rights: bool) -> None:
        """Change the bot's administrator rights in one chat (e.g. can_post_messages=False)."""
        with self._cond:
            self._rights.setdefault(_resolve(chat_id), dict(ADMIN_RIGHTS)).update(rights)

    def _queue(self, fault: _Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("n must be at least 1")
        if fault.method and fault.method.lower() not in self._handlers:
            raise ValueError(f"the fake does not implement {fault.method}")
        fault.method = self._handlers[fault.method.lower()][0] if fault.method else None
        fault.chat = None if fault.chat is None else _resolve(fault.chat)
        with self._cond:
            self._faults.append(fault)

    def _block(self, chat_id: int | str, error: _ApiError) -> None:
        with self._cond:
            self._blocked[_resolve(chat_id)] = error

    def _take(self, kind: str, method: str, chat: int | None) -> _Fault | None:
        with self._cond:
            for fault in self._faults:
                matches = fault.method in (None, method) and fault.chat in (None, chat)
                if fault.kind == kind and matches:
                    fault.remaining -= 1
                    if not fault.remaining:
                        self._faults.remove(fault)
                    return fault
        return None

    # -- user side ---------------------------------------------------------------------------

    def push_message(self, *, chat_id: int | str, user_id: int, text: str,
                     chat_type: str = "private") -> dict:  # fmt: skip
        """Queue a user's message (a channel_post in channels) for getUpdates; return the update."""
        chat = _resolve(chat_id)
        user = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}",
                "username": f"user{user_id}", "language_code": "en"}  # fmt: skip
        chat_obj = {"id": chat, "type": chat_type, "title": f"Test {chat_type} {chat}"}
        if chat_type == "private":
            chat_obj = {"id": chat, "type": "private", "first_name": user["first_name"],
                        "username": user["username"]}  # fmt: skip
        with self._cond:
            self._chats[chat] = chat_obj  # later sends see the same chat type
            self._ids[chat] += 1
            message = {"message_id": self._ids[chat], "date": int(self._now()), "chat": chat_obj,
                       "text": text}  # fmt: skip
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

    # -- request path ------------------------------------------------------------------------

    def _serve(self, path: str, params: dict) -> tuple[int | None, dict | None]:
        """Answer one call; a None payload means: close the socket without a byte of answer."""
        method, chat, status, payload = path.rpartition("/")[2], None, None, None
        try:
            method, handler = self._route(path)
            chat = self._target(params)
            if self._hang(method, chat):  # else: held, then closed without an answer
                fault = self._take("fail", method, chat)
                if fault:
                    raise fault.error
                if chat in self._blocked:
                    raise self._blocked[chat]
                self._delay(method)
                result = handler(params, chat)
                self._delay(method)
                if not self._take("drop", method, chat):
                    status, payload = 200, {"ok": True, "result": result}
        except _ApiError as error:
            status, payload = error.status, error.envelope()
        except Exception:  # a bug in the fake must still answer, as Telegram's 500 would
            logger.exception("fake Telegram failed on %s", method)
            status, payload = 500, _ApiError(500, "Internal Server Error").envelope()
        with self._cond:
            if status == 429:
                self._throttled[chat] += 1
            self._calls.append(Call(method, dict(params), status, self._clock()))
            self._cond.notify_all()
        logger.debug("%s -> %s", method, status or "no answer")
        return status, payload

    def _delay(self, method: str) -> None:
        """Spend half the configured round trip of a send (emulated network time)."""
        if self._latency and method in ("sendMessage", "editMessageText"):
            self._stopping.wait(self._latency / 2)

    def _route(self, path: str) -> tuple[str, object]:
        prefix, _, method = path.rpartition("/")
        if not prefix.startswith("/bot"):
            raise _ApiError(404, "Not Found")
        if prefix[len("/bot") :] != self.token:
            raise _ApiError(401, "Unauthorized")
        if method.lower() not in self._handlers:  # Telegram matches method names case-insensitively
            raise _ApiError(404, "Not Found")
        return self._handlers[method.lower()]

    def _target(self, params: dict) -> int | None:
        """Resolve the call's chat_id, remembering @usernames as public channels."""
        raw = params.get("chat_id")
        if raw in (None, ""):
            return None
        chat = _resolve(raw)
        if str(raw).startswith("@"):
            with self._cond:
                name = raw[1:]
                self._chats.setdefault(
                    chat, {"id": chat, "type": "channel", "title": name, "username": name}
                )
        return chat

    def _hang(self, method: str, chat: int | None) -> bool:
        """Hold a call if a hang is queued; True when the call should then be answered."""
        fault = self._take("hang", method, chat)
        if fault is None:
            return True
        with self._cond:
            self._held += 1
            self._cond.notify_all()
            released_by_stop = self._cond.wait_for(self._stopping.is_set, fault.seconds)
            self._held -= 1
        return fault.deliver and not released_by_stop

    # -- methods -----------------------------------------------------------------------------

    def _true(self, params: dict, chat: int | None) -> bool:
        return True

    def _get_me(self, params: dict, chat: int | None) -> dict:
        return dict(self.bot_user)

    def _send_message(self, p: dict, chat: int | None) -> dict:
        chat = _require_chat(chat)
        parsed = self._parse(p)
        with self._cond:
            self._check_can_post(chat)
            self._throttle(chat)
            self._ids[chat] += 1
            message_id = self._ids[chat]
            message = self._message_object(chat, message_id, parsed, p)
            markup = _json(p, "reply_markup")
            self._live[(chat, message_id)] = {
                "message": message,
                "raw": p["text"],
                "markup": markup,
            }
            reply_to = _int(p, "reply_to_message_id") or (_json(p, "reply_parameters") or {}).get(
                "message_id"
            )
            self._messages.append(SentMessage(
                chat_id=p["chat_id"], chat=chat, message_id=message_id, text=p["text"], plain=parsed.text,
                parse_mode=p.get("parse_mode"), message_thread_id=_int(p, "message_thread_id"),
                disable_notification=_bool(p, "disable_notification"),
                link_preview_options=_json(p, "link_preview_options"), reply_to_message_id=reply_to,
                date=message["date"], at=self._clock()))  # fmt: skip
            return message

    def _edit_message_text(self, p: dict, chat: int | None) -> dict:
        chat, message_id = _require_chat(chat), _int(p, "message_id")
        if message_id is None:
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        parsed = self._parse(p)
        with self._cond:
            live = self._live.get((chat, message_id))
            if live is None:
                raise _ApiError(400, "Bad Request: message to edit not found")
            old, markup = live["message"], _json(p, "reply_markup")
            before = (old["text"], old.get("entities", []), live["markup"])
            if before == (parsed.text, list(parsed.entities), markup):
                raise _ApiError(400, NOT_MODIFIED)
            self._throttle(chat)
            message = self._message_object(chat, message_id, parsed, p) | {
                "date": old["date"],
                "edit_date": int(self._now()),
            }
            if "message_thread_id" in old:  # an edit keeps the message in its topic
                message["message_thread_id"] = old["message_thread_id"]
            self._edits.append(Edit(
                chat=chat, message_id=message_id, text=p["text"], plain=parsed.text,
                parse_mode=p.get("parse_mode"), previous=live["raw"], at=self._clock()))  # fmt: skip
            self._live[(chat, message_id)] = {
                "message": message,
                "raw": p["text"],
                "markup": markup,
            }
            return message

    def _delete_message(self, p: dict, chat: int | None) -> bool:
        key = (_require_chat(chat), _int(p, "message_id"))
        with self._cond:
            if self._live.pop(key, None) is None:
                raise _ApiError(400, "Bad Request: message to delete not found")
            self.deleted.append(key)
        return True

    def _get_chat(self, p: dict, chat: int | None) -> dict:
        gifts = dict.fromkeys(("unlimited_gifts", "limited_gifts", "unique_gifts",
                               "premium_subscription", "gifts_from_channels"), False)  # fmt: skip
        return self._chat_object(_require_chat(chat)) | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    def _get_chat_member(self, p: dict, chat: int | None) -> dict:
        chat, user_id = _require_chat(chat), _int(p, "user_id")
        if user_id != self.bot_user["id"]:
            user = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
            return {"status": "member", "user": user}
        with self._cond:
            rights = self._rights.get(chat, ADMIN_RIGHTS)
        return {"status": "administrator", "user": dict(self.bot_user), **rights}

    def _set_my_commands(self, p: dict, chat: int | None) -> bool:
        commands = _json(p, "commands")
        if not isinstance(commands, list):
            raise _ApiError(400, 'Bad Request: parameter "commands" is required')
        self.commands = commands
        return True

    def _delete_webhook(self, p: dict, chat: int | None) -> bool:
        if _bool(p, "drop_pending_updates"):
            with self._cond:
                self._updates.clear()
        return True

    def _get_webhook_info(self, p: dict, chat: int | None) -> dict:
        with self._cond:
            pending = len(self._updates)
        return {"url": "", "has_custom_certificate": False, "pending_update_count": pending}

    def _send_chat_action(self, p: dict, chat: int | None) -> bool:
        _require_chat(chat)
        if not p.get("action"):
            raise _ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _get_updates(self, p: dict, chat: int | None) -> list[dict]:
        offset, limit, timeout = _int(p, "offset"), _int(p, "limit") or 100, _int(p, "timeout") or 0
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
            raise _ApiError(400, "Bad Request: unsupported parse_mode")
        parsed = ParsedText(text)
        if mode == "html":
            try:
                if self._reject_html:
                    raise HtmlParseError('Unsupported start tag "b" at byte offset 0')
                parsed = parse_html(text, strict=self._strict)
            except HtmlParseError as exc:
                raise _ApiError(400, f"Bad Request: can't parse entities: {exc}") from exc
        if not parsed.text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if utf16_len(parsed.text) > MAX_TEXT_UTF16:
            raise _ApiError(400, "Bad Request: message is too long")
        return parsed

    def _check_can_post(self, chat: int) -> None:
        rights = self._rights.get(chat, ADMIN_RIGHTS)
        if self._chat_object(chat)["type"] == "channel" and not rights["can_post_messages"]:
            raise _ApiError(400, "Bad Request: need administrator rights in the channel chat")

    def _throttle(self, chat: int) -> None:
        """Count one send against the flood limits or raise the 429 Telegram would."""
        if self._limiter is None:
            return
        retry_after = self._limiter.retry_after(chat)
        if retry_after is not None:
            raise _flood(retry_after)
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
        optional = {"entities": list(parsed.entities), "message_thread_id": _int(p, "message_thread_id"),
                    "link_preview_options": _json(p, "link_preview_options")}  # fmt: skip
        markup = _json(p, "reply_markup")
        if (
            isinstance(markup, dict) and "inline_keyboard" in markup
        ):  # only inline keyboards echo back
            optional["reply_markup"] = markup
        return message | {key: value for key, value in optional.items() if value}


def _resolve(chat_id: int | str) -> int:
    """Map a chat_id as sent (number, numeric string, @username) to a stable numeric id."""
    text = str(chat_id).strip()
    if text.startswith("@") and len(text) > 1:
        return -(1_000_000_000_000 + zlib.crc32(text[1:].lower().encode()))
    try:
        return int(text)
    except ValueError:
        raise _ApiError(400, "Bad Request: chat not found") from None


def _require_chat(chat: int | None) -> int:
    if chat is None:
        raise _ApiError(400, "Bad Request: chat_id is empty")
    return chat


def _int(p: dict, name: str) -> int | None:
    value = p.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _ApiError(400, f"Bad Request: invalid {name} specified") from None


def _bool(p: dict, name: str) -> bool:
    return p.get(name) is True or str(p.get(name)).lower() in ("true", "1")


def _json(p: dict, name: str):
    """Read a nested object: a JSON string in form bodies, already parsed in JSON bodies."""
    value = p.get(name)
    if not isinstance(value, str) or not value:
        return value or None
    try:
        return json.loads(value)
    except ValueError:
        raise _ApiError(400, f"Bad Request: can't parse {name} JSON object") from None


class _Server(ThreadingHTTPServer):
    """A threading HTTP server that tracks open connections so stop() can cut them."""

    daemon_threads = True  # never keep the interpreter alive; server_close() still joins them

    def __init__(self, address: tuple[str, int], fake: FakeTelegram) -> None:
        self.fake = fake
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls getfqdn(), a DNS lookup: tests stay offline.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def process_request(self, request, client_address) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def cut_connections(self) -> None:
        """Shut down every open connection so idle keep-alive handlers return."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request, client_address) -> None:
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    """Turn one HTTP request into Bot API parameters and write the fake's answer."""

    protocol_version = "HTTP/1.1"  # keep-alive, like Telegram, for PTB's pooled httpx client
    disable_nagle_algorithm = True  # headers and body are two writes: don't wait on delayed ACKs
    server: _Server

    def do_GET(self) -> None:
        self._answer(self._query())

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            if self.headers.get_content_type() == "application/json":
                body = json.loads(raw or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("not an object")
            else:  # PTB's form body: nested objects arrive as JSON strings, booleans as 'true'
                body = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        except ValueError:
            error = _ApiError(400, "Bad Request: can't parse request body")
            return self._write(error.status, error.envelope())
        self._answer(self._query() | body)

    def _query(self) -> dict:
        return dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))

    def _answer(self, params: dict) -> None:
        status, payload = self.server.fake._serve(urlsplit(self.path).path, params)
        if payload is None:  # hang or drop: the client gets a closed socket and nothing else
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._write(status, payload)

    def _write(self, status: int, payload: dict) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up first (a timed-out hang, a stopped server)
            self.close_connection = True

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        """Keep stderr quiet: tests read fake.requests, the CLI logs in _serve."""


def main(argv: list[str] | None = None) -> int:
    """Serve a fake Bot API until interrupted, printing its base URL first."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.telegram_api", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--no-rate-limit", action="store_true", help="switch flood limits off")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logger.setLevel(logging.DEBUG)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop cleanly on SIGTERM too
    limit = None if args.no_rate_limit else RateLimit()
    with FakeTelegram(token=args.token, host=args.host, port=args.port, rate_limit=limit) as fake:
        print(fake.base_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
