"""Chat commands: a python-telegram-bot Application, long polling beside the service.

Handlers stay thin: each command's answer comes from bot/chat/commands.py and one place here sends
it. A per-user rate limit answers a flood once ("slow down") and then ignores it until the window
passes. Nothing a user types can crash a handler: every failure becomes a short answer and a log
line.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import UTC, datetime
from http import HTTPStatus

from telegram import BotCommand, BotCommandScopeChat, LinkPreviewOptions, Update
from telegram import error as tg
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.chat.answers import echo
from bot.chat.commands import ADMIN, PUBLIC, Commands, Who
from bot.chat.phrases import EN, RU, count_of, language, say
from bot.config import Config
from bot.delivery.deadline import DeadlineRequest, deadline_request
from bot.service.counters import Counters
from storage import Store
from storage.status import Snapshot

log = logging.getLogger(__name__)

POLL_TIMEOUT = 10  # seconds of one getUpdates long poll


class RateLimiter:
    """Allow each user `limit` messages per `window` seconds; say 'slow down' once per window."""

    def __init__(
        self, limit: int = 10, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window, self._clock = limit, window, clock
        self._hits: dict[int, deque[float]] = {}
        self._warned: set[int] = set()

    def check(self, user_id: int) -> str:
        """Return 'ok', 'warn' (first message over the limit) or 'drop'."""
        now = self._clock()
        if len(self._hits) > 10_000:  # forget idle users so a crowd cannot grow memory forever
            self._hits = {u: h for u, h in self._hits.items() if h and h[-1] > now - self.window}
        hits = self._hits.setdefault(user_id, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) < self.limit:
            hits.append(now)
            self._warned.discard(user_id)
            return "ok"
        if user_id in self._warned:
            return "drop"
        self._warned.add(user_id)
        return "warn"


class _PollRequest(DeadlineRequest):
    """The long poll's request: a 401 or 404 on getUpdates is retried, not the end of commands.

    python-telegram-bot ends its polling loop for good on InvalidToken (401/404), without calling
    the error callback, so one refusal (a proxy's hiccup, a token revoked and restored) would
    leave commands off until a restart, while the relay keeps retrying the posts. Raised as a
    NetworkError instead, it goes through PTB's retry loop: the error callback logs one line and
    polling tries again after a backoff (1 s growing to 30 s). A token refused at start still
    turns commands off (`start_when_reachable`).
    """

    async def do_request(self, url, method, request_data=None, **timeouts):
        """Make the call; a refusal of the token or of the address becomes a NetworkError."""
        code, payload = await super().do_request(url, method, request_data, **timeouts)
        if code in (HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND):
            what = "the bot token" if code == HTTPStatus.UNAUTHORIZED else "the address"
            raise tg.NetworkError(
                f"Telegram refused {what} ({code} {HTTPStatus(code).phrase}); polling again"
            )
        return code, payload


class Chat:
    """Build, start and stop the chat-command Application; answer each command from the archive."""

    def __init__(
        self,
        *,
        config: Config,
        store: Store,
        counters: Counters,
        snapshot: Callable[[], Awaitable[Snapshot]],
        limiter: RateLimiter | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config, self.store, self.counters = config, store, counters
        self.commands = Commands(
            config=config, store=store, counters=counters, snapshot=snapshot, clock=clock
        )
        self._limiter = limiter or RateLimiter()
        self.app: Application | None = None

    def reconfigure(self, config: Config) -> None:
        """Answer from a reloaded config: its sources, topics and tags, names and time zones."""
        self.config = self.commands.config = config

    # -- lifecycle -----------------------------------------------------------------------------

    async def start_when_reachable(self, stopping: asyncio.Event, *, delay: float = 5.0) -> bool:
        """Start, retrying while Telegram is unreachable; False when stopped first or the token is refused."""
        while not stopping.is_set():
            try:
                await self.start()
                return True
            except tg.InvalidToken as exc:
                log.error("chat commands off: Telegram refused the bot token (%s)", exc)
                return False
            except tg.TelegramError as exc:
                log.warning(
                    "chat commands: Telegram unreachable (%s); trying again in %.0fs", exc, delay
                )
            with suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), delay)
            delay = min(delay * 2, 300.0)
        return False

    async def start(self) -> None:
        """Connect, publish the command list, drop stale updates and start long polling."""
        app = self.app = self._build()
        try:
            await app.initialize()
            # The menu in English for everyone, and in Russian for Russian Telegram apps.
            await app.bot.set_my_commands([BotCommand(name, text) for name, text in PUBLIC])
            await app.bot.set_my_commands(
                [BotCommand(name, say(RU, text)) for name, text in PUBLIC], language_code=RU
            )
            await self._operator_menus(app.bot)
            await app.updater.start_polling(
                timeout=POLL_TIMEOUT,
                drop_pending_updates=True,
                allowed_updates=["message"],
                error_callback=lambda exc: log.warning("chat commands: polling failed: %s", exc),
            )
            await app.start()
        except BaseException:
            self.app = None
            await _close(app)
            raise
        log.info("chat commands on as @%s", app.bot.username)

    async def _operator_menus(self, bot) -> None:
        """Publish the operator's commands after the public ones, in each operator's private
        chat only (BotCommandScopeChat): a reader's menu offers nothing they would be refused."""
        for user_id in self.config.telegram.admin_user_ids:
            scope = BotCommandScopeChat(user_id)  # a private chat's id is its user's id
            try:
                for lang in (EN, RU):
                    menu = [BotCommand(name, say(lang, text)) for name, text in (*PUBLIC, *ADMIN)]
                    code = RU if lang == RU else None  # English: every other language's menu
                    await bot.set_my_commands(menu, scope=scope, language_code=code)
            except (tg.BadRequest, tg.Forbidden) as exc:
                # Telegram knows a private chat once its user has written to the bot (400 chat
                # not found till then), and refuses one whose user blocked the bot (403): the
                # operator's commands work as typed, only their menu waits for a restart, and
                # the other operators and the chat go on.
                log.warning(
                    "chat commands: no operator menu for user %d (%s): it is published at the "
                    "next start once they have messaged the bot%s",
                    user_id,
                    exc,
                    " (and unblocked it)" if isinstance(exc, tg.Forbidden) else "",
                )

    async def stop(self) -> None:
        """Stop polling, finish the update in hand and close the connections."""
        if self.app:
            await _close(self.app)
            self.app = None
            log.info("chat commands off")

    def _build(self) -> Application:
        """Return the Application with every handler, talking to the configured Bot API."""
        tg_config = self.config.telegram
        # Each call bounded as a whole: an answer that drips cannot hold a command (deadline.py).
        timeout = tg_config.request_timeout
        request = deadline_request(timeout=timeout, pool_size=8)
        read = POLL_TIMEOUT + 10.0
        updates = deadline_request(
            timeout=timeout, pool_size=1, read_timeout=read, kind=_PollRequest
        )
        app = (
            ApplicationBuilder()
            .token(tg_config.token)
            .base_url(tg_config.api_base_url)
            .request(request)
            .get_updates_request(updates)
            .job_queue(None)
            .build()
        )
        app.add_handler(TypeHandler(Update, self._throttle), group=-1)
        commands = {name: getattr(self.commands, name) for name, _ in (*PUBLIC, *ADMIN)}
        commands["start"] = self.commands.help
        for name, answer in commands.items():
            app.add_handler(CommandHandler(name, self._handler(name, answer)))
        app.add_handler(
            MessageHandler(filters.COMMAND, self._handler("unknown", self._cmd_unknown))
        )
        app.add_handler(
            MessageHandler(filters.ChatType.PRIVATE, self._handler("text", self.commands.text))
        )
        app.add_error_handler(self._on_error)
        return app

    # -- the one path every answer takes -------------------------------------------------------

    def _handler(self, name: str, answer: Callable[[str, Who], Awaitable[str | None]]):
        """Wrap an answer function: count it, check admin rights, send its text as HTML."""
        admin_only = name in dict(ADMIN)

        async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            message, who = update.effective_message, self._who(update)
            self.counters.inc("chat_commands", command=name)
            if admin_only and not who.admin:
                return await _send(update, say(who.reads, "That command is for the operator."))
            words = (message.text or "").split(maxsplit=1)
            text = await answer(words[1] if len(words) > 1 else "", who)
            if text:
                # "Paused", "Subscribed": said only once the change is on disk.
                await self.commands.store.durable()
                await _send(update, text)

        return handle

    async def _throttle(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stop a user's flood: answer the first message over the limit, ignore the rest."""
        user = update.effective_user
        if user is None or update.effective_message is None:
            raise ApplicationHandlerStop
        verdict = self._limiter.check(user.id)
        if verdict == "ok":
            return
        self.counters.inc("chat_rate_limited")
        if verdict == "warn":
            lang = _reads(update)
            limit, window = self._limiter.limit, round(self._limiter.window)
            await _send(
                update,
                say(
                    lang,
                    "Slow down, please: at most {messages} in {seconds}. "
                    "I will answer again after that.",
                    messages=count_of(lang, limit, "message"),
                    seconds=count_of(lang, window, "second"),
                ),
            )
        raise ApplicationHandlerStop

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log a handler's failure and tell the user briefly."""
        log.error("chat: a command failed: %r", context.error, exc_info=context.error)
        if isinstance(update, Update) and update.effective_message:
            with suppress(tg.TelegramError):
                sorry = "Sorry, that went wrong on my side. Please try again later."
                await _send(update, say(_reads(update), sorry))

    async def _cmd_unknown(self, words: str, who: Who) -> str | None:
        """Point at /help; in groups only when addressed to this bot (other bots live there too)."""
        name, _, bot = who.command.partition("@")
        if not who.private and bot.casefold() != self.app.bot.username.casefold():
            return None
        return say(
            who.reads, "I don't know {name}. /help lists what I can do.", name=echo(name, 40)
        )

    def _who(self, update: Update) -> Who:
        """Return who sent the update."""
        user_id = update.effective_user.id if update.effective_user else 0
        chat = update.effective_chat
        text = update.effective_message.text or "" if update.effective_message else ""
        return Who(
            user_id=user_id,
            chat_id=chat.id if chat else 0,
            private=bool(chat and chat.type == "private"),
            admin=user_id in self.config.telegram.admin_user_ids,
            command=(text.split(maxsplit=1) or [""])[0],
            lang=update.effective_user.language_code or "" if update.effective_user else "",
        )


def _reads(update: Update) -> str:
    """Return the language to answer an update's sender in: RU or EN."""
    user = update.effective_user
    return language(user.language_code or "") if user else EN


async def _send(update: Update, text: str) -> None:
    """Reply with HTML; a lone surrogate or other unencodable character becomes '?'."""
    clean = text.encode("utf-8", "replace").decode("utf-8")
    await update.effective_message.reply_text(
        clean,
        parse_mode=ParseMode.HTML,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        do_quote=False,
    )


async def _close(app: Application) -> None:
    """Stop whatever of the Application is running, then shut it down; never raises."""
    with suppress(Exception):
        if app.updater and app.updater.running:
            await app.updater.stop()
    with suppress(Exception):
        if app.running:
            await app.stop()
    with suppress(Exception):
        await app.shutdown()
    with suppress(Exception):  # a failed initialize() leaves the Bot's connections to close
        await app.bot.shutdown()
