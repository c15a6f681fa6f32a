"""Pure send pacing under Telegram's limits: per chat and overall."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass(slots=True)
class Pacer:
    """Decide when the next message to a chat may go, given what was sent recently.

    Per chat: at most `per_minute` in any 60 s and at least `interval` s apart (Telegram allows
    about 20 a minute in a group or channel). Overall: at most `per_second` in any second.
    Times are monotonic seconds supplied by the caller.
    """

    per_minute: int = 20
    interval: float = 3.0
    per_second: int = 25
    _chats: dict[str, deque[float]] = field(default_factory=dict)
    _all: deque[float] = field(default_factory=deque)
    _blocked_until: dict[str, float] = field(default_factory=dict)

    def ready_at(self, chat: str, now: float) -> float:
        """Return the earliest time a message to `chat` may be sent (now or later)."""
        sent = self._chats.get(chat, deque())
        earliest = max(now, self._blocked_until.get(chat, now))
        if sent:
            earliest = max(earliest, sent[-1] + self.interval)
        if len(sent) >= self.per_minute:
            earliest = max(earliest, sent[-self.per_minute] + 60.0)
        if len(self._all) >= self.per_second:
            earliest = max(earliest, self._all[-self.per_second] + 1.0)
        return earliest

    def record(self, chat: str, when: float) -> None:
        """Note a send to `chat` at `when`."""
        sent = self._chats.setdefault(chat, deque())
        sent.append(when)
        self._all.append(when)
        while sent and sent[0] < when - 60.0:
            sent.popleft()
        while self._all and self._all[0] < when - 1.0:
            self._all.popleft()

    def block(self, chat: str, until: float) -> None:
        """Hold a chat until `until` (a flood wait Telegram asked for)."""
        self._blocked_until[chat] = max(until, self._blocked_until.get(chat, until))
