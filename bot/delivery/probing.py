"""Pure rules of a probe: what a sent message will look like, and what the answers so far mean.

An uncertain send to a chat whose last confirmed message id was L either exists as L+1 (or a
little later, if someone else posted in between) with our text, or does not exist. A probe
forwards L+1, L+2, … into the probe chat and reads each copy; `decide` turns the answers into the
next step: forward another id, ask whether the chat protects its content, or a verdict.

- Found: a copy shows our text and our links.
- Absent: `GAP` ids in a row past the chat's last known message are "not found". Only in
  channels and supergroups, which number their messages one after another; private chats and
  basic groups share one counter per bot with every other such chat, so a missing id proves
  nothing there (a probe can still find the message, never prove it absent).
- Undecided (the operator's or the fallback's turn): a copy resembling ours without being it,
  a chat that forbids forwarding, `LIMIT` ids looked at without a verdict.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from dataclasses import dataclass, replace
from enum import StrEnum
from urllib.parse import unquote, urlsplit

from bot.delivery.telegram import Message
from storage.records import Expectation

GAP = 3  # "not found" ids in a row past the chat's end that prove our message absent
LIMIT = 20  # ids one probe may look at in a channel or supergroup
SHARED_LIMIT = 8  # … in a private chat or basic group, where it can only find, never disprove
_TAG = re.compile(r"<[^>]*>")
_HREF = re.compile(r"""<a\s[^>]*href=(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>\"']+")
_SPACE = re.compile(r"\s+")


class Seen(StrEnum):
    """What a probe saw at one message id."""

    OURS = "ours"  # our text and our links
    NEAR = "near"  # our text or one of our links, not both: never guess
    OTHER = "other"  # somebody else's message
    MISSING = "missing"  # "message to forward not found"
    UNFORWARDABLE = "unforwardable"  # "message can't be forwarded"


@dataclass(frozen=True, slots=True)
class Look:
    """The answer for one message id."""

    message_id: int
    seen: Seen


@dataclass(frozen=True, slots=True)
class Scan:
    """A probe's state: where it starts, the ids known to be ours, and what it has seen."""

    after: int | None  # the chat's highest confirmed id when the send was claimed
    own: frozenset[int] = frozenset()  # ids above `after` Telegram confirmed for other rows
    sequential: bool = True  # the chat numbers its own messages (channel, supergroup)
    looks: tuple[Look, ...] = ()
    protected: bool | None = None  # whether the chat forbids forwarding, once asked

    def seeing(self, message_id: int, seen: Seen) -> Scan:
        """Return the scan with one more answer."""
        return replace(self, looks=(*self.looks, Look(message_id, seen)))


@dataclass(frozen=True, slots=True)
class Forward:
    """Next: forward this id into the probe chat."""

    message_id: int


@dataclass(frozen=True, slots=True)
class AskProtection:
    """Next: ask Telegram whether the chat forbids forwarding (a message could not be forwarded)."""


@dataclass(frozen=True, slots=True)
class Found:
    """Verdict: our message is there."""

    message_id: int


@dataclass(frozen=True, slots=True)
class Absent:
    """Verdict: our message is provably not in the chat."""

    checked: tuple[int, ...]  # the ids found missing past the chat's end


@dataclass(frozen=True, slots=True)
class Undecided:
    """Verdict: the probe cannot tell; the fallback rule applies."""

    reason: str


Step = Forward | AskProtection | Found | Absent | Undecided


def decide(scan: Scan) -> Step:
    """Return the next step of a probe, from the answers so far."""
    for look in scan.looks:
        if look.seen == Seen.OURS:
            return Found(look.message_id)
        if look.seen == Seen.NEAR:
            return Undecided(
                f"message {look.message_id} has our text or our link but not both: not guessing"
            )
    if any(look.seen == Seen.UNFORWARDABLE for look in scan.looks):
        if scan.protected is None:
            return AskProtection()
        if scan.protected:
            return Undecided("the chat protects its content: its messages can't be forwarded")
    if not scan.sequential and scan.after is None:
        return Undecided("no message of ours was confirmed in a private chat or basic group yet")
    top = max(scan.own | {scan.after or 0})
    missing = _missing_past(scan.looks, top)
    if scan.sequential and len(missing) >= GAP:
        return Absent(missing)
    if len(scan.looks) >= (LIMIT if scan.sequential else SHARED_LIMIT):
        first, last = scan.looks[0].message_id, scan.looks[-1].message_id
        if scan.sequential:
            return Undecided(f"messages {first}–{last} are somebody else's")
        return Undecided(
            f"not among messages {first}–{last}; a private chat or basic group shares message "
            "ids with the bot's other chats, so a missing id proves nothing"
        )
    following = scan.looks[-1].message_id if scan.looks else (scan.after or 0)
    following += 1
    while following in scan.own:
        following += 1
    return Forward(following)


def _missing_past(looks: tuple[Look, ...], top: int) -> tuple[int, ...]:
    """Return the ids at the end of the scan, past `top`, that were all missing."""
    run: list[int] = []
    for look in reversed(looks):
        if look.seen != Seen.MISSING or look.message_id <= top:
            break
        run.append(look.message_id)
    return tuple(reversed(run))


def sequential_ids(chat_id: str) -> bool:
    """True for chats that number their own messages: channels and supergroups.

    Their Bot API ids are -100… (below -10^12) or an @username; private chats (positive ids) and
    basic groups number messages from the bot's one counter (core.telegram.org/api/bots/ids).
    """
    if chat_id.startswith("@"):
        return True
    try:
        return int(chat_id) <= -1_000_000_000_000
    except ValueError:
        return False


def expectation(message: Message, *, after: int | None) -> Expectation:
    """Return what `message` will look like in its chat, for a probe to recognise it."""
    if message.html:
        links = [html.unescape(a or b) for a, b in _HREF.findall(message.text)]
        text = html.unescape(_TAG.sub("", message.text))
    else:
        links, text = [], message.text
    return Expectation(after=after, digest=_digest(text), links=_links(text, links))


def compare(expected: Expectation, *, text: str, links: tuple[str, ...]) -> Seen:
    """Say whether a copy Telegram returned (its text and hidden links) is our message."""
    same_text = _digest(text) == expected.digest
    theirs = _links(text, list(links))
    if same_text and theirs == expected.links:
        return Seen.OURS
    if same_text or set(theirs) & set(expected.links):
        return Seen.NEAR
    return Seen.OTHER


def _digest(text: str) -> str:
    """Hash the text as shown, whitespace runs folded (Telegram trims and may fold them)."""
    folded = _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()[:32]


def _links(text: str, hidden: list[str]) -> tuple[str, ...]:
    """Return the message's links, hidden and visible, normalised and sorted."""
    return tuple(sorted({_norm_url(u) for u in [*hidden, *_URL.findall(text)]}))


def _norm_url(url: str) -> str:
    """Normalise a URL the ways Telegram may rewrite it: case of scheme and host, escapes, '/'."""
    parts = urlsplit(unquote(url.strip()))
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}{query}"
