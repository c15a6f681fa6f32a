"""A loopback fake of the Telegram Bot API for end-to-end tests and benchmarks.

``FakeTelegram`` is a real HTTP server on 127.0.0.1 (an ephemeral port unless told otherwise),
served from background threads and used as a context manager. It answers like Telegram (the
``ok``/``result`` envelope, status codes, error texts, full Message objects), records every call,
and injects the faults a publisher must survive: flood limits with ``retry_after``, 5xx, hung
requests, answers dripped a byte at a time, sends accepted and then dropped, 403/400 for one chat, HTML rejection, chat migration;
forwarding, protected chats, other posters and random faults live in forwarding.py, photos and
link previews (and photo URLs Telegram cannot use) in photos.py.

By hand: ``python -m tests.fakes.telegram --port 8081 --token 123:ABC`` prints the base URL.

Errors: the client only ever sees HTTP answers; a test's own misuse (an unknown method to fault,
a chat id that is neither a number nor an @username) raises ValueError.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import time

from .methods import BotMethods
from .params import resolve_chat
from .photos import PhotoMethods
from .records import (
    ADMIN_RIGHTS,
    DEFAULT_TOKEN,
    SEND,
    ApiError,
    Call,
    Edit,
    Fault,
    InFlight,
    Limiter,
    Pending,
    RateLimit,
    SentMessage,
    flood,
)
from .server import Server

logger = logging.getLogger(__name__)
TELEGRAM_LIMITS = RateLimit()  # the FAQ's numbers


class FakeTelegram(BotMethods, PhotoMethods):
    """A Telegram Bot API for one bot token on a loopback port; use ``with``."""

    def __init__(
        self, *, token: str = DEFAULT_TOKEN, host: str = "127.0.0.1", port: int = 0,
        rate_limit: RateLimit | None = TELEGRAM_LIMITS, clock=time.monotonic, now=time.time,
        strict_html: bool = True, bot_username: str = "presswatch_test_bot", latency: float = 0.0,
    ) -> None:  # fmt: skip
        self.token, self._clock, self._now, self._strict = token, clock, now, strict_html
        # Network round trip of a send, split before and after Telegram processes it, so a client
        # killed mid-send can leave a message either undelivered or delivered but unconfirmed.
        self._latency = latency
        self._limiter = Limiter(rate_limit, clock) if rate_limit else None
        self._cond = threading.Condition(threading.RLock())  # guards all state below
        self._stopping = threading.Event()
        self._calls: list[Call] = []
        self._messages: list[SentMessage] = []
        self._edits: list[Edit] = []
        self._live: dict[tuple[int, int], dict] = {}  # current message, raw text, markup
        self._ids: collections.Counter = collections.Counter()  # last message_id per chat
        self._updates: list[dict] = []
        self._last_update_id, self._polling, self._held = 0, 0, 0
        self._faults: list[Fault] = []
        self._pending: list[Pending] = []
        self._blocked: dict[int, ApiError] = {}
        self._chats: dict[int, dict] = {}
        self._rights: dict[int, dict] = {}
        self._throttled: collections.Counter = collections.Counter()
        self._reject_html = False
        self.commands: list[dict] = []  # the menu for every language without its own
        self.commands_in: dict[str, list[dict]] = {}  # by language_code: the menu of one language
        self.commands_for: dict[tuple[int, str], list[dict]] = {}  # by (chat, language_code)
        self.deleted: list[tuple[int, int]] = []
        self.forwards: list[tuple[int, int, int, int]] = []  # (chat, copy id, from chat, from id)
        self.others: list[tuple[int, int, str]] = []  # messages posted by somebody else
        self._protected: set[int] = set()
        self._chaos = None  # forwarding.Chaos
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
            "forwardMessage": self._forward_message, "copyMessage": self._copy_message,
            "sendPhoto": self._send_photo, "editMessageCaption": self._edit_message_caption,
        }.items()}  # fmt: skip
        self._server = Server((host, port), self)
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
        chat = resolve_chat(chat)
        return [m for m in self.messages if m.chat == chat]

    @property
    def edits(self) -> list[Edit]:
        with self._cond:
            return list(self._edits)

    def history(self, chat: int | str, message_id: int) -> list[str]:
        """Return a message's raw texts, the original first, then each edit."""
        chat = resolve_chat(chat)
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

    def sends_in_flight(self) -> InFlight:
        """Count sendMessage calls received and not yet answered, and those already carried out."""
        with self._cond:
            sends = [c for c in self._pending if c.method == SEND]
            return InFlight(received=len(sends), accepted=sum(c.accepted for c in sends))

    @contextlib.contextmanager
    def frozen(self):
        """Hold every call where it is while the block runs: none starts, is carried out or answered.

        ``wait_for`` inside the block lets calls move while it waits and freezes them again once
        its predicate holds, so the block acts at a moment the predicate describes.
        """
        with self._cond:
            yield self

    def wait_for(self, predicate, timeout: float = 10.0) -> bool:
        """Block until ``predicate()`` is true (re-checked on every change); False on timeout."""
        with self._cond:
            return bool(self._cond.wait_for(predicate, timeout))

    # -- fault injection ---------------------------------------------------------------------

    def fail_next(
        self, n: int = 1, *, status: int = 500, description: str = "Internal Server Error",
        method: str | None = SEND, chat: int | str | None = None, parameters: dict | None = None,
        html: bool = False,
    ) -> None:  # fmt: skip
        """Answer the next ``n`` matching calls with this error ("{path}" quotes the request's)."""
        error = ApiError(status, description, parameters, html=html)
        self._queue(Fault("fail", n, method, chat, error))

    def flood_next(self, n: int = 1, *, retry_after: int = 5, method: str | None = SEND,
                   chat: int | str | None = None) -> None:  # fmt: skip
        """Answer the next ``n`` matching calls with 429 and ``retry_after``."""
        self._queue(Fault("fail", n, method, chat, flood(retry_after)))

    def hang_next(self, n: int = 1, seconds: float = 30.0, *, deliver: bool = False,
                  method: str | None = SEND, chat: int | str | None = None) -> None:  # fmt: skip
        """Hold the next ``n`` calls open; then close silently, or process them if ``deliver``."""
        self._queue(Fault("hang", n, method, chat, seconds=seconds, deliver=deliver))

    def drop_after_accept_next(self, n: int = 1, *, method: str | None = SEND,
                               chat: int | str | None = None) -> None:  # fmt: skip
        """Process the next ``n`` calls, then close the socket without answering."""
        self._queue(Fault("drop", n, method, chat))

    def drip_next(self, n: int = 1, *, every: float = 0.05, blanks: int = 40,
                  method: str | None = SEND, chat: int | str | None = None) -> None:  # fmt: skip
        """Process the next ``n`` calls, then drip the answer: ``blanks`` bytes of blank, one
        every ``every`` seconds (each read well within a client's read timeout), then the answer.

        Bounded (2 s by default) so a client that does not bound the whole call gets the answer
        in the end and its test fails rather than hangs; choose ``blanks`` above the bound tested.
        """
        self._queue(Fault("drip", n, method, chat, seconds=every, blanks=blanks))

    def forbid_chat(
        self, chat_id: int | str, description: str = "Forbidden: bot was kicked from the channel chat"
    ) -> None:  # fmt: skip
        """Answer 403 for every call about this chat."""
        self._block(chat_id, ApiError(403, description))

    def missing_chat(self, chat_id: int | str) -> None:
        """Answer 400 chat not found for every call about this chat."""
        self._block(chat_id, ApiError(400, "Bad Request: chat not found"))

    def migrate_chat(self, old: int | str, new: int) -> None:
        """Answer 400 with parameters.migrate_to_chat_id for every call about ``old``."""
        error = ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                          {"migrate_to_chat_id": int(new)})  # fmt: skip
        self._block(old, error)

    def restore_chat(self, chat_id: int | str) -> None:
        """Undo forbid_chat, missing_chat or migrate_chat."""
        with self._cond:
            self._blocked.pop(resolve_chat(chat_id), None)

    def reject_html(self, on: bool = True) -> None:
        """Make every parse_mode=HTML text fail to parse, whatever it contains."""
        with self._cond:
            self._reject_html = on

    def set_bot_rights(self, chat_id: int | str, **rights: bool) -> None:
        """Change the bot's administrator rights in one chat (e.g. can_post_messages=False)."""
        with self._cond:
            self._rights.setdefault(resolve_chat(chat_id), dict(ADMIN_RIGHTS)).update(rights)

    def _queue(self, fault: Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("n must be at least 1")
        if fault.method and fault.method.lower() not in self._handlers:
            raise ValueError(f"the fake does not implement {fault.method}")
        fault.method = self._handlers[fault.method.lower()][0] if fault.method else None
        fault.chat = None if fault.chat is None else resolve_chat(fault.chat)
        with self._cond:
            self._faults.append(fault)

    def _block(self, chat_id: int | str, error: ApiError) -> None:
        with self._cond:
            self._blocked[resolve_chat(chat_id)] = error

    def _take(self, kind: str, method: str, chat: int | None) -> Fault | None:
        with self._cond:
            for fault in self._faults:
                matches = fault.method in (None, method) and fault.chat in (None, chat)
                if fault.kind == kind and matches:
                    fault.remaining -= 1
                    if not fault.remaining:
                        self._faults.remove(fault)
                    return fault
            if self._chaos_fault(kind, method):
                return Fault(kind, 1, method, chat, ApiError(500, "Internal Server Error"))
        return None

    # -- request path ------------------------------------------------------------------------

    def _serve(self, path: str, params: dict) -> tuple[int | None, dict | None, Pending]:
        """Answer one call; a None payload means: close the socket without a byte of answer.

        The call stays pending until the handler calls ``_answering`` just before writing.
        """
        method, chat, status, payload = path.rpartition("/")[2], None, None, None
        call = Pending(method)
        with self._cond:
            self._pending.append(call)
            self._cond.notify_all()
        try:
            method, handler = self._route(path)
            call.method = method
            chat = self._target(params)
            if self._hang(method, chat):  # else: held, then closed without an answer
                fault = self._take("fail", method, chat)
                if fault:
                    raise fault.error
                if chat in self._blocked:
                    raise self._blocked[chat]
                self._delay(method)
                result = handler(params, chat)
                with self._cond:
                    call.accepted = True
                    self._cond.notify_all()
                self._delay(method)
                if not self._take("drop", method, chat):
                    status, payload = 200, {"ok": True, "result": result}
                    if drip := self._take("drip", method, chat):
                        call.drip, call.blanks = drip.seconds, drip.blanks
        except ApiError as error:
            status, payload = error.status, error.answer(path)
        except Exception:  # a bug in the fake must still answer, as Telegram's 500 would
            logger.exception("fake Telegram failed on %s", method)
            status, payload = 500, ApiError(500, "Internal Server Error").envelope()
        with self._cond:
            if status == 429:
                self._throttled[chat] += 1
            self._calls.append(Call(method, dict(params), status, self._clock()))
            self._cond.notify_all()
        logger.debug("%s -> %s", method, status or "no answer")
        return status, payload, call

    def _answering(self, call: Pending) -> None:
        """Mark a call answered: its answer (or the closed socket) is about to reach the client."""
        with self._cond:
            self._pending.remove(call)
            self._cond.notify_all()

    def _delay(self, method: str) -> None:
        """Spend half the configured round trip of a send (emulated network time)."""
        if self._latency and method in ("sendMessage", "editMessageText"):
            self._stopping.wait(self._latency / 2)

    def _route(self, path: str) -> tuple[str, object]:
        prefix, _, method = path.rpartition("/")
        if not prefix.startswith("/bot"):
            raise ApiError(404, "Not Found")
        if prefix[len("/bot") :] != self.token:
            raise ApiError(401, "Unauthorized")
        if method.lower() not in self._handlers:  # Telegram matches method names case-insensitively
            raise ApiError(404, "Not Found")
        return self._handlers[method.lower()]

    def _target(self, params: dict) -> int | None:
        """Resolve the call's chat_id, remembering @usernames as public channels."""
        raw = params.get("chat_id")
        if raw in (None, ""):
            return None
        chat = resolve_chat(raw)
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
