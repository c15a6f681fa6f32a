"""What many workers on one PostgreSQL archive share: who is alive, which sources are due, and
Telegram's send limits counted for all of them together.

Jobs themselves (polls, deliveries, their locks and retries) are procrastinate's, in its own
tables (migration p006); this module holds the little the archive adds beside them:

- `workers`: one row per running `presswatch run`, its heartbeat and the address it serves
  /healthz at (migration p014), for `presswatch status`.
- `send_pace`: per chat and per bot, the recent send times and a flood wait's end. A worker
  reserves a send under `SELECT … FOR UPDATE` of the chat's row and the bot's row (always in key
  order, so two workers never deadlock), on the database's clock (machines' clocks may differ).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from ..busy import LOCK_TIMEOUT_SECONDS, ArchiveBusy
from .database import PgDatabase

log = logging.getLogger(__name__)
BOT = "bot"  # send_pace's key for the per-bot limit (chat keys are "chat:<id>")
TAKE_OVER = (0x7077, 2)  # the advisory lock of the look for dead workers' jobs ("pw", 2)
DISPATCHING = (0x7077, 3)  # the advisory lock of the dispatcher's look for due sources and defer
# (0x7077, 4): storage/history.py's PRUNING, the runs upkeep's (one worker's pass at a time)
_NOW = "extract(epoch from clock_timestamp())::float8"


@dataclass(frozen=True, slots=True)
class Limits:
    """Telegram's limits: per chat `per_minute` in 60 s and `interval` s apart; per bot `per_second`."""

    per_minute: int
    interval: float
    per_second: int


@dataclass(frozen=True, slots=True)
class Worker:
    """A running worker as its heartbeat row says."""

    id: str
    host: str
    pid: int
    started_at: str
    seen_at: str
    http: str | None = None  # "host:port" of its /healthz and /metrics, if it serves them


def earliest(
    chat: Sequence[float], bot: Sequence[float], *, blocked: float, now: float, limits: Limits
) -> float:
    """Return the earliest moment a send to a chat may start, given both windows' send times."""
    at = max(now, blocked)
    if chat:
        at = max(at, max(chat) + limits.interval)
    recent = sorted(t for t in chat if t > now - 60.0)
    if len(recent) >= limits.per_minute:
        at = max(at, recent[-limits.per_minute] + 60.0)
    second = sorted(t for t in bot if t > now - 1.0)
    if len(second) >= limits.per_second:
        at = max(at, second[-limits.per_second] + 1.0)
    return at


class Fleet:
    """The workers' shared rows in the archive: heartbeats, due sources and the send pace."""

    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    # -- heartbeats -------------------------------------------------------------------------

    def beat(self, worker: str, *, host: str, pid: int, http: str | None = None) -> None:
        """Record that a worker is alive now, and where it serves /healthz (its row is created on
        the first beat)."""
        self.db.execute(
            "insert into workers (id, host, pid, started_at, seen_at, http) "
            "values (?, ?, ?, now(), now(), ?) "
            "on conflict (id) do update set seen_at = now(), http = excluded.http",
            [worker, host, pid, http],
        )

    def leave(self, worker: str) -> None:
        """Remove a worker that stopped cleanly."""
        self.db.execute("delete from workers where id = ?", [worker])

    def live(self, *, within: float) -> list[Worker]:
        """Return the workers heard from in the last `within` seconds, oldest first."""
        rows = self.db.query(
            "select id, host, pid, started_at, seen_at, http from workers "
            "where seen_at >= now() - make_interval(secs => ?) order by started_at, id",
            [within],
        )
        return [Worker(**row) for row in rows]

    # -- what is due --------------------------------------------------------------------------

    def due_sources(self, every: Mapping[str, int]) -> list[str]:
        """Return the sources (key -> interval s) whose interval has passed since their last poll,
        neither paused nor backing off, nor queued or being polled already."""
        if not every:
            return []
        rows = self.db.execute(
            """with batched as (  -- in a batch of polls waiting or under way (bot/service/jobs.py)
                 select jsonb_array_elements_text(j.args -> 'sources') as key
                 from procrastinate_jobs j
                 where j.task_name = 'presswatch.polls' and j.status in ('todo', 'doing'))
               select c.key from unnest(?::text[], ?::int[]) as c(key, every)
               left join sources s on s.key = c.key
               where coalesce(s.paused, 0) = 0
                 and (s.next_poll_at is null or s.next_poll_at <= now())
                 and (s.last_poll_at is null
                      or s.last_poll_at + make_interval(secs => c.every) <= now())
                 and not exists (select 1 from batched b where b.key = c.key)
                 -- an earlier version's one-source polls (procrastinate's partial lock indexes)
                 and not exists (select 1 from procrastinate_jobs j
                                 where j.queueing_lock = 'poll:' || c.key and j.status = 'todo')
                 and not exists (select 1 from procrastinate_jobs j
                                 where j.lock = 'source:' || c.key and j.status = 'doing')
               order by s.last_poll_at nulls first, c.key""",
            [list(every), list(every.values())],
        )
        return [key for (key,) in rows]

    # -- Telegram's limits for all workers --------------------------------------------------

    def reserve(self, chat: str, limits: Limits) -> tuple[float, float]:
        """Take a send slot for `chat` now: return (0, the slot's moment), or (seconds to wait, 0).

        The moment is the database's; `settle` moves it to when Telegram answered. A pace that
        another worker's transaction holds past lock_timeout is waited for as a slot is: the post,
        already `sending`, goes once the server has ended that transaction (at most its idle bound).
        """
        try:
            return self._reserve(chat, limits)
        except ArchiveBusy as exc:
            log.warning("send to %s: %s on the send pace; tried again", chat, exc)
            return float(LOCK_TIMEOUT_SECONDS), 0.0

    def _reserve(self, chat: str, limits: Limits) -> tuple[float, float]:
        """Take a send slot for `chat` now (`reserve` without its wait for a held pace)."""
        keys = sorted([BOT, f"chat:{chat}"])
        with self.db.atomic():
            self.db.execute(
                "insert into send_pace (key) values (?), (?) on conflict do nothing", keys
            )
            rows = {
                key: (list(sent), blocked)
                for key, sent, blocked in self.db.execute(
                    "select key, sent, blocked_until from send_pace where key in (?, ?) "
                    "order by key for update",
                    keys,
                )
            }
            (now,) = self.db.execute(f"select {_NOW}").fetchone()
            chat_sent, blocked = rows[f"chat:{chat}"]
            bot_sent, _ = rows[BOT]
            at = earliest(chat_sent, bot_sent, blocked=blocked, now=now, limits=limits)
            if at > now:
                return at - now, 0.0
            # Only the windows' spans are kept: 60 s for a chat, 1 s for the bot.
            self.db.execute(
                "update send_pace set sent = array_append(array(select t from unnest(sent) t "
                "where t > ? - case when key = ? then 1.0 else 60.0 end), ?) where key in (?, ?)",
                [now, BOT, now, *keys],
            )
        return 0.0, now

    def settle(self, chat: str, slot: float) -> None:
        """Count a send from when its answer came: Telegram stamped it somewhere in between, and
        counting from the start would let the next send look early to Telegram."""
        self.db.execute(
            f"update send_pace set sent = array_replace(sent, ?, {_NOW}) where key in (?, ?)",
            [slot, BOT, f"chat:{chat}"],
        )

    def block(self, chat: str, seconds: float) -> None:
        """Hold every worker's sends to `chat` for `seconds` (a flood wait Telegram asked for)."""
        self.db.execute(
            "insert into send_pace (key, blocked_until) values (?, "
            f"{_NOW} + ?) on conflict (key) do update set "
            "blocked_until = greatest(send_pace.blocked_until, excluded.blocked_until)",
            [f"chat:{chat}", seconds],
        )


@asynccontextmanager
async def alone(connection: Any, *keys: tuple[int, int]) -> AsyncIterator[tuple[bool, ...]]:
    """Hold each of these session advisory locks (by default TAKE_OVER's) that is free, on an
    autocommit async connection: yield which are held. One round trip to take them, one to let go."""
    keys = keys or (TAKE_OVER,)
    tries = ", ".join(["pg_try_advisory_lock(%s, %s)"] * len(keys))
    tried = await connection.execute(f"select {tries}", [n for key in keys for n in key])
    held = tuple(await tried.fetchone())
    try:
        yield held
    finally:
        if mine := [key for key, got in zip(keys, held, strict=True) if got]:
            frees = ", ".join(["pg_advisory_unlock(%s, %s)"] * len(mine))
            await connection.execute(f"select {frees}", [n for key in mine for n in key])
