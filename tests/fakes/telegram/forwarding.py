"""Forwarding, copying and deleting in the fake Bot API, with what else happens in a chat.

Telegram's rules as the fake applies them: channels and supergroups number their messages one
after another; private chats and basic groups take ids from one counter per bot (a message in
one of them moves every other's next id). ``forwardMessage`` returns the copy with the original's
text and entities and a ``forward_origin``; ``copyMessage`` returns only the new id. Errors use
Telegram's texts: "message to forward not found", "message to copy not found", "message can't be
forwarded" / "message can't be copied" (protected content, service messages), "message to delete
not found", "message can't be deleted".

Also here: other people posting in a chat (by hand, or at random between the bot's sends) and
random faults on a method (500 before the fake acts, or the answer dropped after it acted).
"""

from __future__ import annotations

import collections
import dataclasses
import random

from .params import int_param, require_chat, resolve_chat
from .records import ADMIN_RIGHTS, ApiError

_SHARED = "shared"  # the key of the per-bot counter in FakeTelegram._ids


@dataclasses.dataclass(slots=True)
class Chaos:
    """Random faults on one method and other posters between the bot's sends."""

    method: str
    fail: float  # answer 500 before acting
    drop: float  # act, then close the connection without an answer
    others: float  # before a send, someone else posts in the chat
    rng: random.Random
    counts: collections.Counter = dataclasses.field(default_factory=collections.Counter)


class ForwardMethods:
    """forwardMessage, copyMessage and deleteMessage, and the chat events around them."""

    # -- the test's side ---------------------------------------------------------------------

    def post_as_other(self, chat_id: int | str, text: str) -> int:
        """Post a message as somebody else (another admin, a member); return its id."""
        chat = resolve_chat(chat_id)
        with self._cond:
            return self._post_other(chat, text)

    def post_service_message(self, chat_id: int | str) -> int:
        """Add a service message (a pin, a title change): it exists but cannot be forwarded."""
        chat = resolve_chat(chat_id)
        with self._cond:
            message_id = self._new_id(chat)
            message = {"message_id": message_id, "date": int(self._now()),
                       "chat": self._chat_object(chat), "new_chat_title": "Renamed"}  # fmt: skip
            self._live[(chat, message_id)] = {"message": message, "raw": "", "markup": None,
                                              "service": True}  # fmt: skip
            return message_id

    def protect_content(self, chat_id: int | str, on: bool = True) -> None:
        """Forbid (or allow again) forwarding and copying messages out of a chat."""
        with self._cond:
            (self._protected.add if on else self._protected.discard)(resolve_chat(chat_id))

    def chaos(self, *, fail: float = 0.0, drop: float = 0.0, others: float = 0.0,
              seed: int = 1, method: str = "sendMessage") -> None:  # fmt: skip
        """Fail, drop or precede with another poster's message a share of ``method`` calls."""
        with self._cond:
            self._chaos = Chaos(method, fail, drop, others, random.Random(seed))

    @property
    def chaos_counts(self) -> dict[str, int]:
        """Count what chaos did: "fail", "drop" and "others"."""
        with self._cond:
            return dict(self._chaos.counts) if self._chaos else {}

    def live_ids(self, chat_id: int | str) -> list[int]:
        """Return the ids of the messages a chat holds now (deleted ones gone)."""
        chat = resolve_chat(chat_id)
        with self._cond:
            return sorted(message_id for c, message_id in self._live if c == chat)

    # -- methods -----------------------------------------------------------------------------

    def _forward_message(self, p: dict, chat: int | None) -> dict:
        chat = require_chat(chat)
        with self._cond:
            original = self._original(p, "forward")
            self._check_can_post(chat)
            self._throttle(chat)
            source = original["message"]
            copy_id = self._new_id(chat)
            copy = {
                "message_id": copy_id,
                "date": int(self._now()),
                "chat": self._chat_object(chat),
            }
            copy |= {"sender_chat": copy["chat"]} if copy["chat"]["type"] == "channel" else {
                "from": dict(self.bot_user)}  # fmt: skip
            copy["forward_origin"] = self._origin(source)
            copy |= {key: source[key] for key in ("text", "entities") if key in source}
            self._live[(chat, copy_id)] = {"message": copy, "raw": original["raw"], "markup": None}
            self.forwards.append((chat, copy_id, source["chat"]["id"], source["message_id"]))
            return copy

    def _copy_message(self, p: dict, chat: int | None) -> dict:
        chat = require_chat(chat)
        with self._cond:
            original = self._original(p, "copy")
            self._check_can_post(chat)
            self._throttle(chat)
            copy_id = self._new_id(chat)
            message = original["message"] | {"message_id": copy_id, "date": int(self._now()),
                                              "chat": self._chat_object(chat)}  # fmt: skip
            self._live[(chat, copy_id)] = {
                "message": message,
                "raw": original["raw"],
                "markup": None,
            }
            return {"message_id": copy_id}

    def _delete_message(self, p: dict, chat: int | None) -> bool:
        key = (require_chat(chat), int_param(p, "message_id"))
        with self._cond:
            if key not in self._live:
                raise ApiError(400, "Bad Request: message to delete not found")
            rights = self._rights.get(key[0], ADMIN_RIGHTS)
            if self._chat_object(key[0])["type"] == "channel" and not rights["can_delete_messages"]:
                raise ApiError(400, "Bad Request: message can't be deleted")
            del self._live[key]
            self.deleted.append(key)
        return True

    # -- helpers -----------------------------------------------------------------------------

    def _original(self, p: dict, verb: str) -> dict:
        """Return the live message a forward or copy names, or raise Telegram's error."""
        raw = p.get("from_chat_id")
        if raw in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        source = resolve_chat(raw)
        if source in self._blocked:
            raise self._blocked[source]
        live = self._live.get((source, int_param(p, "message_id")))
        if live is None:
            raise ApiError(400, f"Bad Request: message to {verb} not found")
        if source in self._protected or live.get("service"):
            done = "forwarded" if verb == "forward" else "copied"
            raise ApiError(400, f"Bad Request: message can't be {done}")
        return live

    def _origin(self, source: dict) -> dict:
        """Return the forward_origin of a copy of ``source``."""
        if source["chat"]["type"] == "channel":
            return {"type": "channel", "chat": source["chat"], "message_id": source["message_id"],
                    "date": source["date"]}  # fmt: skip
        return {"type": "user", "sender_user": source.get("from", dict(self.bot_user)),
                "date": source["date"]}  # fmt: skip

    def _new_id(self, chat: int) -> int:
        """Take the next message id for a chat: its own counter, or the bot's shared one."""
        kind = self._chat_object(chat)["type"]
        key = chat if kind in ("channel", "supergroup") else _SHARED
        self._ids[key] += 1
        return self._ids[key]

    def _post_other(self, chat: int, text: str) -> int:
        """Store a message by somebody else in ``chat`` (the lock is held)."""
        message_id = self._new_id(chat)
        chat_obj = self._chat_object(chat)
        message = {"message_id": message_id, "date": int(self._now()), "chat": chat_obj,
                   "text": text}  # fmt: skip
        user = {"id": 777, "is_bot": False, "first_name": "Another admin"}
        message |= {"sender_chat": chat_obj} if chat_obj["type"] == "channel" else {"from": user}
        self._live[(chat, message_id)] = {"message": message, "raw": text, "markup": None}
        self.others.append((chat, message_id, text))
        return message_id

    def _before_send(self, chat: int) -> None:
        """Let chaos have somebody else post first (the lock is held)."""
        if self._chaos and self._chaos.others and self._chaos.rng.random() < self._chaos.others:
            self._chaos.counts["others"] += 1
            self._post_other(chat, f"Somebody else's post {len(self.others) + 1}")

    def _chaos_fault(self, kind: str, method: str) -> bool:
        """Draw whether chaos fails ("fail") or drops ("drop") this call (the lock is held)."""
        chaos = self._chaos
        if chaos is None or method != chaos.method or kind not in ("fail", "drop"):
            return False
        if chaos.rng.random() < (chaos.fail if kind == "fail" else chaos.drop):
            chaos.counts[kind] += 1
            return True
        return False
