"""What the fake Bot API records and enforces: messages, edits, calls, errors, flood limits."""

from __future__ import annotations

import collections
import dataclasses
import math
import urllib.parse

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
SEND = "sendMessage"


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
    photo: str | None = None  # sendPhoto's URL; `text` and `plain` are then its caption


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


@dataclasses.dataclass(slots=True, eq=False)
class Pending:
    """One call received and not yet answered; `accepted` once the fake has carried it out."""

    method: str
    accepted: bool = False
    drip: float = 0.0  # seconds between the answer's blanks (drip_next), 0: all at once
    blanks: int = 0  # how many blanks are dripped before the answer


@dataclasses.dataclass(frozen=True, slots=True)
class InFlight:
    """sendMessage calls received and not yet answered, and how many of them are in the chat."""

    received: int
    accepted: int


class ApiError(ValueError):
    """An error answer: HTTP status, Telegram's description and optional parameters.

    As a proxy in front of the API might, a description may quote the request's path
    ("{path}", or "{quoted_path}" with ':' URL-encoded), and `html` sends it as an HTML page.
    """

    def __init__(
        self, status: int, description: str, parameters: dict | None = None, *, html: bool = False
    ) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters
        self.html = html

    def envelope(self) -> dict:
        body = {"ok": False, "error_code": self.status, "description": self.description}
        return body | ({"parameters": self.parameters} if self.parameters else {})

    def answer(self, path: str) -> dict | str:
        """Return the JSON envelope, or the HTML page, with the request path filled in."""
        text = self.description.replace("{path}", path)
        text = text.replace("{quoted_path}", urllib.parse.quote(path, safe="/"))
        if self.html:
            return f"<html><head><title>{self.status}</title></head><body>{text}</body></html>"
        return ApiError(self.status, text, self.parameters).envelope()


def flood(retry_after: int) -> ApiError:
    description = f"Too Many Requests: retry after {retry_after}"
    return ApiError(429, description, {"retry_after": retry_after})


@dataclasses.dataclass(slots=True)
class Fault:
    """A queued one-shot fault: kind is "fail", "hang", "drop" or "drip"."""

    kind: str
    remaining: int
    method: str | None
    chat: int | None
    error: ApiError | None = None
    seconds: float = 0.0
    deliver: bool = False
    blanks: int = 0  # a drip's length in bytes


class Limiter:
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
