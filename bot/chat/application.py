"""Chat commands: a python-telegram-bot Application, long polling beside the service.

Handlers stay thin: each parses its words, runs one query of the archive and has its reply
written by bot/chat/answers.py (escaped HTML within Telegram's 4096-unit limit); one place sends it. A per-user rate limit answers a
flood once ("slow down") and then ignores it until the window passes. Nothing a user types can
crash a handler: every failure becomes a short answer and a log line.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime

from telegram import BotCommand, LinkPreviewOptions, Update
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
from telegram.request import HTTPXRequest

from bot.chat.answers import (
    QUOTES,
    echo,
    find_source,
    help_text,
    latest_request,
    latest_text,
    mysubs_text,
    search_text,
    sources_text,
    status_text,
    subscription_target,
    topics_text,
)
from bot.config import Config
from bot.delivery.render import escape_html
from bot.service.counters import Counters
from bot.service.overview import status_lines
from storage import OutboxState, Store
from storage.search import latest, search
from storage.status import Snapshot

log = logging.getLogger(__name__)

PUBLIC = (
    ("latest", "newest articles: /latest [N] [topic]"),
    ("search", "search the archive: /search words"),
    ("topics", "the topics articles are sorted into"),
    ("sources", "the sites I follow"),
    ("subscribe", 'alerts here: /subscribe topic, source or "phrase"'),
    ("unsubscribe", "stop an alert (or: /unsubscribe all)"),
    ("mysubs", "your alerts"),
    ("help", "what I can do"),
)
ADMIN = (
    ("status", "health at a glance"),
    ("pause", "KEY: stop polling a source"),
    ("resume", "KEY: poll it again"),
    ("retry", "queue failed and uncertain posts again"),
)
MAX_QUERY, MAX_SUBS, SEARCH_LIMIT = 200, 20, 5
POLL_TIMEOUT = 10  # seconds of one getUpdates long poll


@dataclass(frozen=True, slots=True)
class Who:
    """Who asked, and where."""

    user_id: int
    chat_id: int
    private: bool
    admin: bool
    command: str = ""  # as typed, "/search@presswatch_bot" included


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
        self._snapshot, self._clock = snapshot, clock
        self._limiter = limiter or RateLimiter()
        self.app: Application | None = None

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
            await app.bot.set_my_commands([BotCommand(name, text) for name, text in PUBLIC])
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

    async def stop(self) -> None:
        """Stop polling, finish the update in hand and close the connections."""
        if self.app:
            await _close(self.app)
            self.app = None
            log.info("chat commands off")

    def _build(self) -> Application:
        """Return the Application with every handler, talking to the configured Bot API."""
        tg_config = self.config.telegram
        request = HTTPXRequest(
            connection_pool_size=8,
            read_timeout=tg_config.request_timeout,
            write_timeout=tg_config.request_timeout,
            connect_timeout=5.0,
            pool_timeout=2.0,
        )
        updates = HTTPXRequest(
            connection_pool_size=1,
            read_timeout=POLL_TIMEOUT + 10.0,
            connect_timeout=5.0,
            pool_timeout=2.0,
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
        commands = {name: getattr(self, f"_cmd_{name}") for name, _ in (*PUBLIC, *ADMIN)}
        commands["start"] = self._cmd_help
        for name, answer in commands.items():
            app.add_handler(CommandHandler(name, self._handler(name, answer)))
        app.add_handler(
            MessageHandler(filters.COMMAND, self._handler("unknown", self._cmd_unknown))
        )
        app.add_handler(
            MessageHandler(filters.ChatType.PRIVATE, self._handler("text", self._cmd_text))
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
                return await _send(update, "That command is for the operator.")
            words = (message.text or "").split(maxsplit=1)
            text = await answer(words[1] if len(words) > 1 else "", who)
            if text:
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
            await _send(
                update,
                f"Slow down, please: at most {self._limiter.limit} messages in "
                f"{self._limiter.window:g} seconds. I will answer again after that.",
            )
        raise ApplicationHandlerStop

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log a handler's failure and tell the user briefly."""
        log.error("chat: a command failed: %r", context.error, exc_info=context.error)
        if isinstance(update, Update) and update.effective_message:
            with suppress(tg.TelegramError):
                await _send(update, "Sorry, that went wrong on my side. Please try again later.")

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
        )

    # -- answers ---------------------------------------------------------------------------------

    async def _cmd_help(self, words: str, who: Who) -> str:
        """List the commands."""
        return help_text(PUBLIC, ADMIN if who.admin else ())

    async def _cmd_latest(self, words: str, who: Who) -> str:
        """Show the newest articles, optionally of one topic."""
        request = latest_request(words, self.config.taxonomy.topics)
        if isinstance(request, str):
            return request
        count, topic = request
        hits = latest(self.store.db, limit=count, topic=topic.key if topic else None)
        return latest_text(hits, topic=topic, sources=self.config.sources)

    async def _cmd_search(self, words: str, who: Who) -> str:
        """Search the archive."""
        query = " ".join(words.split())
        if len(query) > MAX_QUERY:
            return f"That query is too long: {MAX_QUERY} characters at most."
        try:
            hits = search(self.store.db, query, limit=SEARCH_LIMIT) if query else None
        except ValueError:
            hits = None
        except (sqlite3.Error, RuntimeError) as exc:  # the archive's problem, not the user's words
            log.warning("chat: search for %r failed: %s", query, exc)
            return "I could not run that search; try plain words."
        return search_text(query, hits, sources=self.config.sources)

    async def _cmd_topics(self, words: str, who: Who) -> str:
        """List the topics."""
        return topics_text(self.config.taxonomy.topics)

    async def _cmd_sources(self, words: str, who: Who) -> str:
        """List the sources with their article counts."""
        return sources_text(self.config.sources, self.store.sources.article_counts())

    async def _cmd_unknown(self, words: str, who: Who) -> str | None:
        """Point at /help; in groups only when addressed to this bot (other bots live there too)."""
        name, _, bot = who.command.partition("@")
        if not who.private and bot.casefold() != self.app.bot.username.casefold():
            return None
        return f"I don't know {echo(name, 40)}. /help lists what I can do."

    async def _cmd_text(self, words: str, who: Who) -> str:
        """Answer plain text in a private chat."""
        return "Send me a command: /help lists them. To search, send /search and some words."

    async def _cmd_subscribe(self, words: str, who: Who) -> str:
        """Follow a topic, a source or a phrase in this private chat."""
        if not who.private:
            return "Alerts arrive in a private chat: message me directly and send /subscribe there."
        target = self._target(words)
        if isinstance(target, str):
            return target
        kind, value, label = target
        subs = self.store.subscriptions
        if len(subs.of_user(who.user_id)) >= MAX_SUBS:
            return f"You have {MAX_SUBS} alerts, the most I keep. /unsubscribe one first."
        added = subs.add(
            user_id=who.user_id, chat_id=str(who.chat_id), kind=kind, value=value, now=self._clock()
        )
        return (
            f"Subscribed to {label}. New articles will arrive here."
            if added
            else f"You already follow {label}."
        )

    async def _cmd_unsubscribe(self, words: str, who: Who) -> str:
        """Stop one alert, or all of them."""
        subs = self.store.subscriptions
        if not words.strip():
            return (
                await self._cmd_mysubs(words, who)
                + "\n\nTo stop one: /unsubscribe and its name, or /unsubscribe all."
            )
        if words.strip().casefold() == "all":
            return f"Removed {subs.remove_all(user_id=who.user_id)} alert(s)."
        wanted = " ".join(words.split()).strip(QUOTES).casefold()
        mine = next((s for s in subs.of_user(who.user_id) if s.value.casefold() == wanted), None)
        target = (mine.kind, mine.value, escape_html(mine.value)) if mine else self._target(words)
        if isinstance(target, str):
            return target
        kind, value, label = target
        removed = subs.remove(user_id=who.user_id, kind=kind, value=value)
        return f"Unsubscribed from {label}." if removed else f"You did not follow {label}."

    async def _cmd_mysubs(self, words: str, who: Who) -> str:
        """List this user's alerts."""
        return mysubs_text(self.store.subscriptions.of_user(who.user_id))

    def _target(self, words: str) -> tuple[str, str, str] | str:
        """Return (kind, value, label) for a configured topic or source or a phrase; or a helpful error."""
        return subscription_target(
            words, topics=self.config.taxonomy.topics, sources=self.config.sources
        )

    async def _cmd_status(self, words: str, who: Who) -> str:
        """Show sources and channels at a glance (operator)."""
        try:
            snapshot = await self._snapshot()
        except (sqlite3.Error, TimeoutError, OSError) as exc:
            return f"The archive does not answer: {escape_html(exc)}"
        keys = [s.key for s in self.config.sources]
        missed = {
            k: self.counters.value("jobs_missed", source=k)
            + self.counters.value("jobs_skipped", source=k)
            for k in keys
        }
        lines = status_lines(
            snapshot,
            sources=keys,
            channels=[c.name for c in self.config.channels],
            missed=missed,
        )
        return status_text(lines)

    async def _cmd_pause(self, words: str, who: Who) -> str:
        """Stop polling a source until /resume (operator)."""
        return self._set_paused(words, who, paused=True)

    async def _cmd_resume(self, words: str, who: Who) -> str:
        """Poll a paused source again (operator)."""
        return self._set_paused(words, who, paused=False)

    def _set_paused(self, words: str, who: Who, *, paused: bool) -> str:
        """Set sources.paused for a configured source."""
        source = find_source(self.config.sources, words.strip()) if words.strip() else None
        if source is None:
            keys = ", ".join(s.key for s in self.config.sources)
            return f"Name a source: /{'pause' if paused else 'resume'} KEY (one of {escape_html(keys)})."
        self.store.sources.set_paused(source.key, paused=paused)
        log.info("chat: user %d %s %s", who.user_id, "paused" if paused else "resumed", source.key)
        return (
            f"Paused {escape_html(source.key)}: no polls until /resume {escape_html(source.key)}."
            if paused
            else f"Resumed {escape_html(source.key)}: it is polled at its next turn."
        )

    async def _cmd_retry(self, words: str, who: Who) -> str:
        """Queue failed and uncertain posts again (operator)."""
        outbox = self.store.outbox
        count = outbox.retry(
            outbox.ids_in(OutboxState.FAILED) + outbox.ids_in(OutboxState.UNCERTAIN),
            now=self._clock(),
        )
        log.info("chat: user %d queued %d post(s) again", who.user_id, count)
        return (
            f"Queued {count} post(s) again. Uncertain ones may arrive twice."
            if count
            else "Nothing to retry: no failed or uncertain posts."
        )


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
