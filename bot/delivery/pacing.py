"""Pure send pacing under Telegram's limits (per chat and overall), served fairly across chats."""

from __future__ import annotations

from bisect import insort
from collections import deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Job = TypeVar("Job")


@dataclass(slots=True)
class Pacer:
    """Decide when the next message to a chat may go, given what was sent recently.

    Per chat: at most `per_minute` in any 60 s and at least `interval` s apart (Telegram allows
    about 20 a minute in a group or channel). Overall: at most `per_second` in any second.
    Times are monotonic seconds supplied by the caller. A send is counted from its start until it
    settles, then from when its answer came: Telegram stamps it somewhere in between, so counting
    from the answer keeps a slow request from making the next one look early to Telegram.
    """

    # No defaults here: the limits are telegram.per_chat_per_minute, per_chat_interval and
    # per_second (TelegramConfig holds their defaults).
    per_minute: int
    interval: float
    per_second: int
    _chats: dict[str, deque[float]] = field(default_factory=dict)
    _all: list[float] = field(default_factory=list)  # sorted
    _blocked_until: dict[str, float] = field(default_factory=dict)

    def ready_at(self, chat: str, now: float) -> float:
        """Return the earliest time a message to `chat` may be sent (now or later)."""
        sent = self._chats.get(chat, deque())
        earliest = max(now, self._blocked_until.get(chat, now))
        if sent:
            earliest = max(earliest, sent[-1] + self.interval)
        if len(sent) >= self.per_minute:
            earliest = max(earliest, sent[-self.per_minute] + 60.0)
        recent = [t for t in self._all if t > now - 1.0]
        if len(recent) >= self.per_second:
            earliest = max(earliest, recent[-self.per_second] + 1.0)
        return earliest

    def record(self, chat: str, when: float) -> None:
        """Note a send to `chat` starting at `when`."""
        sent = self._chats.setdefault(chat, deque())
        sent.append(when)
        insort(self._all, when)
        while sent and sent[0] < when - 60.0:
            sent.popleft()
        while self._all and self._all[0] < when - 1.0:
            self._all.pop(0)

    def settle(self, chat: str, started: float, finished: float) -> None:
        """Count the send that started at `started` from `finished`, when its answer came."""
        sent = self._chats.get(chat)
        if sent and sent[-1] == started:
            sent[-1] = max(started, finished)
        if started in self._all:
            self._all.remove(started)
            insort(self._all, max(started, finished))

    def block(self, chat: str, until: float) -> None:
        """Hold a chat until `until` (a flood wait Telegram asked for)."""
        self._blocked_until[chat] = max(until, self._blocked_until.get(chat, until))


class Lanes(Generic[Job]):
    """One queue of jobs per chat, served round-robin with at most one job in flight per chat.

    The next job goes to the first chat in turn that is idle and allowed by the pacer; that chat
    then moves to the back of the line, so a busy chat cannot starve the others.
    """

    def __init__(self) -> None:
        self._queues: dict[Hashable, deque[Job]] = {}
        self._turn: deque[Hashable] = deque()
        self._busy: set[Hashable] = set()

    def add(self, chat: Hashable, job: Job) -> None:
        """Queue a job for a chat, after the chat's earlier jobs."""
        if chat not in self._queues:
            self._queues[chat] = deque()
            self._turn.append(chat)
        self._queues[chat].append(job)

    def take(self, pacer: Pacer, now: float) -> tuple[Hashable, Job] | None:
        """Return the next (chat, job) that may go now, marking the chat busy; None if none may."""
        for chat in list(self._turn):
            queue = self._queues[chat]
            if chat in self._busy or not queue or pacer.ready_at(str(chat), now) > now:
                continue
            self._turn.remove(chat)
            self._turn.append(chat)
            self._busy.add(chat)
            return chat, queue.popleft()
        return None

    def done(self, chat: Hashable) -> None:
        """Mark a chat's job finished, so its next job may go."""
        self._busy.discard(chat)

    def clear(self, chat: Hashable) -> list[Job]:
        """Forget a chat's queued jobs (it is paused) and return them."""
        queue = self._queues.get(chat, deque())
        jobs = list(queue)
        queue.clear()
        return jobs

    def wake_at(self, pacer: Pacer, now: float) -> float | None:
        """Return when the next idle chat with work may send, or None if none is waiting."""
        times = [
            pacer.ready_at(str(chat), now)
            for chat, queue in self._queues.items()
            if queue and chat not in self._busy
        ]
        return min(times) if times else None

    def queued(self) -> Iterable[Job]:
        """Yield every job still waiting in a queue."""
        for queue in self._queues.values():
            yield from queue

    @property
    def idle(self) -> bool:
        """True when no job waits and none is in flight."""
        return not self._busy and not any(self._queues.values())
