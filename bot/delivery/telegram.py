"""Sending to Telegram through python-telegram-bot, every answer mapped to one outcome.

A send either surely happened (`Delivered`), surely did not and may be retried (`RetryLater`),
may or may not have happened (`Uncertain`), or cannot succeed as is (`BadMarkup`, `TooLong`,
`PhotoRefused`, `ChatMigrated`, `Rejected`); the outbox in storage/ records the state each one
leads to. Every reason is scrubbed of the bot token here, where Telegram's error texts enter
presswatch: an API proxy may echo the request path, which holds the token (`scrubbed`).

A probe's forward of a message into the probe chat either returns the copy (`Forwarded`), finds
no such message (`NotFound`), finds one that may not be forwarded (`Unforwardable`), or ends like
a send (`RetryLater`, `Uncertain`, `Rejected`, `ChatMoved`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Protocol

import httpx
from telegram import Bot, LinkPreviewOptions, ReplyParameters
from telegram import error as tg
from telegram.constants import MessageEntityType, ParseMode

from bot.delivery.deadline import deadline_request
from bot.secrets import Scrub, scrubber

log = logging.getLogger(__name__)

# Telegram's answers when it cannot fetch or read a photo given by URL: a post without it works.
_PHOTO_PROBLEMS = (
    "wrong type of the web page content|failed to get http url content|wrong file identifier/"
    "http url specified|wrong remote file identifier|image_process_failed|photo_invalid|"
    "photo_ext_invalid|webpage_curl_failed|webpage_media_empty|file is too big|"
    "not enough rights to send photos"  # a group that allows text but not media
).split("|")
# Transport failures that prove the request never reached Telegram, so a retry cannot double it.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_RETRY_AFTER = re.compile(r"retry after (\d+)")
_CHAT_PROBLEMS = (
    "chat not found|kicked|not a member|rights|bot was blocked|user is deactivated|"
    "have no rights|chat_write_forbidden|topic_closed|message thread not found"
).split("|")


@dataclass(frozen=True, slots=True)
class Delivered:
    """Telegram accepted the message."""

    message_id: int | None


@dataclass(frozen=True, slots=True)
class RetryLater:
    """The message surely was not delivered; try again after `after` seconds."""

    after: float
    reason: str


@dataclass(frozen=True, slots=True)
class Uncertain:
    """The message may or may not have been delivered."""

    reason: str


@dataclass(frozen=True, slots=True)
class BadMarkup:
    """Telegram could not parse our HTML."""

    reason: str


@dataclass(frozen=True, slots=True)
class TooLong:
    """Telegram found the message too long."""

    reason: str


@dataclass(frozen=True, slots=True)
class PhotoRefused:
    """Telegram could not fetch or use the photo's URL; nothing was posted."""

    reason: str


@dataclass(frozen=True, slots=True)
class ChatMoved:
    """The group became a supergroup with a new id."""

    new_chat_id: int


@dataclass(frozen=True, slots=True)
class Rejected:
    """A permanent refusal; `chat_problem` when the chat itself is unusable (kicked, not found)."""

    reason: str
    chat_problem: bool = False


Outcome = (
    Delivered | RetryLater | Uncertain | BadMarkup | TooLong | PhotoRefused | ChatMoved | Rejected
)


@dataclass(frozen=True, slots=True)
class Forwarded:
    """The forwarded copy: its id in the probe chat, the text (or caption) it shows, its hidden
    links, and whether it is a photo or a text."""

    message_id: int
    text: str
    links: tuple[str, ...] = ()
    media: str = "text"


@dataclass(frozen=True, slots=True)
class NotFound:
    """No such message: never sent, or deleted ("message to forward not found")."""

    reason: str


@dataclass(frozen=True, slots=True)
class Unforwardable:
    """The message exists but may not be forwarded (protected content, a service message)."""

    reason: str


ProbeAnswer = Forwarded | NotFound | Unforwardable | RetryLater | Uncertain | ChatMoved | Rejected


@dataclass(frozen=True, slots=True)
class Message:
    """What to send to one chat."""

    chat_id: str
    text: str
    plain: str = ""
    html: bool = True
    thread_id: int | None = None
    silent: bool = False
    preview_url: str | None = None
    reply_to: int | None = None
    edit_message_id: int | None = None
    no_preview: bool = False  # a digest links many articles: no preview of the first
    large_preview: bool = False  # the preview's picture large, not small
    preview_above: bool = False  # the preview above the text
    # sendPhoto with this URL, the text as its caption; for an edit, `media` says what to edit.
    photo: str | None = None
    media: str = "text"  # "photo": the message is (or the edited one was) a photo with a caption
    console: str = ""  # what the console prints, if not `plain` (a digest: addresses written out)


class Sender(Protocol):
    """Anything that can deliver a Message."""

    async def send(self, message: Message) -> Outcome:
        """Deliver one message and say what happened."""


class TelegramSender:
    """Deliver messages through a python-telegram-bot `Bot` (no Application needed)."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot
        self._scrub = scrubber(bot.token)

    @classmethod
    def create(cls, *, token: str, api_base_url: str, timeout: float) -> TelegramSender:
        """Build a sender whose Bot talks to `api_base_url`, each call bounded (deadline.py)."""
        # Every call (sends, edits, photos, probes, getMe) ends within a few `timeout`s.
        request = deadline_request(timeout=timeout, pool_size=16)
        return cls(Bot(token, base_url=api_base_url, request=request))

    @property
    def bot(self) -> Bot:
        """Return the underlying Bot."""
        return self._bot

    async def start(self) -> None:
        """Initialise the Bot (PTB calls getMe); failures surface as errors of the first send."""
        try:
            await self._bot.initialize()
        except tg.TelegramError as exc:
            log.warning("telegram: could not initialise the bot yet: %s", exc)

    async def close(self) -> None:
        """Close the Bot's connections."""
        await self._bot.shutdown()

    async def send(self, message: Message) -> Outcome:
        """Send or edit one message; never raises for Telegram or network errors."""
        parse_mode = ParseMode.HTML if message.html else None
        try:
            if message.edit_message_id is not None and message.media == "photo":
                result = await self._bot.edit_message_caption(
                    chat_id=message.chat_id,
                    message_id=message.edit_message_id,
                    caption=message.text,
                    parse_mode=parse_mode,
                )
                return Delivered(getattr(result, "message_id", message.edit_message_id))
            if message.edit_message_id is not None:
                result = await self._bot.edit_message_text(
                    chat_id=message.chat_id,
                    message_id=message.edit_message_id,
                    text=message.text,
                    parse_mode=parse_mode,
                    link_preview_options=_preview(message),
                )
                return Delivered(getattr(result, "message_id", message.edit_message_id))
            reply = (
                ReplyParameters(message.reply_to, allow_sending_without_reply=True)
                if message.reply_to is not None
                else None
            )
            if message.photo:
                sent = await self._bot.send_photo(
                    chat_id=message.chat_id,
                    photo=message.photo,
                    caption=message.text,
                    parse_mode=parse_mode,
                    message_thread_id=message.thread_id,
                    disable_notification=message.silent,
                    reply_parameters=reply,
                )
                return Delivered(sent.message_id)
            sent = await self._bot.send_message(
                chat_id=message.chat_id,
                text=message.text,
                parse_mode=parse_mode,
                message_thread_id=message.thread_id,
                disable_notification=message.silent,
                link_preview_options=_preview(message),
                reply_parameters=reply,
            )
            return Delivered(sent.message_id)
        except tg.TelegramError as exc:
            editing = message.edit_message_id is not None
            outcome = classify_error(exc, editing=editing, photo=bool(message.photo))
            return scrubbed(outcome, self._scrub)


def scrubbed(outcome: Outcome, scrub: Scrub) -> Outcome:
    """Return the outcome with the token redacted from its reason (it may quote the request)."""
    reason = getattr(outcome, "reason", None)
    return replace(outcome, reason=scrub(reason)) if isinstance(reason, str) else outcome


class TelegramProbe:
    """Forward, delete and look up chats through a python-telegram-bot `Bot`, for probes."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot
        # Error texts may quote the request path, which holds the token (see `scrubbed`).
        self._scrub = scrubber(bot.token)

    def _answer(self, exc: tg.TelegramError):
        """Map a probe call's error to its answer, scrubbed of the token."""
        return scrubbed(classify_probe_error(exc), self._scrub)

    async def forward(self, *, chat_id: str, from_chat_id: str, message_id: int) -> ProbeAnswer:
        """Forward one message silently into `chat_id`; never raises for Telegram errors."""
        try:
            copy = await self._bot.forward_message(
                chat_id=chat_id,
                from_chat_id=from_chat_id,
                message_id=message_id,
                disable_notification=True,
            )
        except tg.TelegramError as exc:
            return self._answer(exc)
        entities = copy.entities or copy.caption_entities or ()
        links = tuple(e.url for e in entities if e.type == MessageEntityType.TEXT_LINK and e.url)
        media = "photo" if copy.photo else "text"
        return Forwarded(copy.message_id, copy.text or copy.caption or "", links, media)

    async def delete(self, *, chat_id: str, message_id: int) -> Outcome | NotFound:
        """Delete one message; `NotFound` when it is already gone."""
        try:
            await self._bot.delete_message(chat_id=chat_id, message_id=message_id)
        except tg.TelegramError as exc:
            return self._answer(exc)
        return Delivered(message_id)

    async def protected(self, chat_id: str) -> bool | ProbeAnswer:
        """Return whether a chat forbids forwarding its messages, or why we could not tell."""
        try:
            chat = await self._bot.get_chat(chat_id)
        except tg.TelegramError as exc:
            return self._answer(exc)
        return bool(chat.has_protected_content)


def classify_probe_error(exc: tg.TelegramError) -> ProbeAnswer:
    """Map an error of a probe's call: a missing or unforwardable message, else as a send's."""
    lowered = str(exc).lower()
    if (
        isinstance(exc, tg.BadRequest)
        and "not found" in lowered
        and "chat not found" not in lowered
    ):
        return NotFound(str(exc))  # "message to forward/copy/delete not found"
    if isinstance(exc, tg.BadRequest) and (
        "can't be forwarded" in lowered or "can't be copied" in lowered
    ):
        return Unforwardable(str(exc))
    outcome = classify_error(exc)
    if isinstance(outcome, (BadMarkup, TooLong)):
        return Rejected(outcome.reason)
    return outcome


def classify_error(exc: tg.TelegramError, *, editing: bool = False, photo: bool = False) -> Outcome:
    """Map a python-telegram-bot exception to an outcome (order matters: BadRequest is a NetworkError)."""
    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, tg.RetryAfter):
        wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        return RetryLater(seconds, f"flood wait of {seconds:.0f}s (429 Too Many Requests)")
    if isinstance(exc, tg.ChatMigrated):
        return ChatMoved(int(exc.new_chat_id))
    if isinstance(exc, tg.BadRequest):
        if editing and "not modified" in lowered:
            return Delivered(None)
        if "parse entities" in lowered or "unsupported start tag" in lowered:
            return BadMarkup(text)
        if "too long" in lowered or "too_long" in lowered:  # MESSAGE_TOO_LONG on edits
            return TooLong(text)
        if photo and any(p in lowered for p in _PHOTO_PROBLEMS):
            return PhotoRefused(text)
        return Rejected(text, chat_problem=any(p in lowered for p in _CHAT_PROBLEMS))
    if isinstance(exc, tg.Forbidden):
        return Rejected(text, chat_problem=True)
    if isinstance(exc, tg.InvalidToken) and "not found" in lowered:
        # 404: a malformed token (config loading refuses those) or an address that is no Bot API.
        return RetryLater(600.0, "Telegram answered 404 Not Found: check telegram.api_base_url")
    if isinstance(exc, tg.InvalidToken):
        # Every post would fail the same way; keep them queued until the operator fixes the token.
        return RetryLater(600.0, f"Telegram refused the bot token: {text}")
    if "too many requests" in lowered:
        # A 429 without retry_after (a proxy's, say): refused, so surely not sent.
        found = _RETRY_AFTER.search(lowered)
        seconds = float(found.group(1)) if found else 30.0
        return RetryLater(seconds, f"flood wait of {seconds:.0f}s (429 Too Many Requests)")
    if isinstance(exc.__cause__, _NEVER_SENT):
        return RetryLater(30.0, f"network: {text}")
    return Uncertain(f"{type(exc).__name__}: {text}")


def _preview(message: Message) -> LinkPreviewOptions | None:
    """Return link preview options: the article link small, or a large picture above or below."""
    if message.no_preview:
        return LinkPreviewOptions(is_disabled=True)
    if not message.preview_url:
        return None
    if message.large_preview:
        return LinkPreviewOptions(
            url=message.preview_url,
            prefer_large_media=True,
            show_above_text=message.preview_above,
        )
    return LinkPreviewOptions(url=message.preview_url, prefer_small_media=True)
