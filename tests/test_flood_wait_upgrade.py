"""A Telegram flood wait an older presswatch recorded survives the upgrade (m029/p026): before
`chat_holds` (m021/p019) the wait lived only in the chat's pending rows, and the upgrade made the
table empty, so a post queued after it went out inside the wait, ahead of the older ones.

The archive is made one from before m021/p019 as the slogan test makes one from before its
migrations: the table and the records of the migrations that made and filled it taken away, the
rows written as the older relay wrote them (synthetic articles). The real relay and
python-telegram-bot against the loopback fake Bot API, on a clock that starts at the real time
(the migration reads the wait against it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage import OutboxState, Store
from storage.status import read_snapshot
from tests.support.relay import PACED, TWO_CHATS, FakeTime, add, relay_rounds, titles

pytestmark = pytest.mark.telegram(rate_limit=PACED, virtual_time=True)

A, B = TWO_CHATS
WAIT = 900  # seconds: the 429's retry_after the older presswatch recorded
# What bot/delivery/telegram.py wrote in the answered row's last_error at baea424 and since.
FLOOD_ERROR = f"flood wait of {WAIT}s (429 Too Many Requests)"
# The migrations that made and fill chat_holds, per backend.
HOLD_MIGRATIONS = {
    "sqlite": ("_sqlite_migrations", "m021_chat_holds", "m029_flood_waits_held"),
    "postgres": ("presswatch_migrations", "p019_chat_holds", "p026_flood_waits_held"),
}


class RealStart(FakeTime):
    """Virtual time that starts at the real moment the test began (whole seconds)."""

    def __init__(self) -> None:
        super().__init__(real=0.001)
        self.start = datetime.now(UTC).replace(microsecond=0)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t)


@pytest.fixture
def time() -> RealStart:
    """The relay's and the fake Bot API's clock, from now (overrides conftest's)."""
    return RealStart()


def _is_postgres(store: Store) -> bool:
    return getattr(store.db, "backend", None) is not None


def _apply(store: Store, statements: list[tuple[str, list]]) -> None:
    """Run the statements in one transaction of the store's own backend."""
    with store.db.atomic() if _is_postgres(store) else store.db.conn:
        for sql, params in statements:
            store.db.execute(sql, params)


def _as_before_the_holds(store: Store, *, until: datetime) -> None:
    """Leave chat A as the older relay left a 429 on its first post: that row pending with the
    flood error and the wait's end, the chat's other pending rows moved to the same end; then
    take `chat_holds` and its migrations' records away."""
    table, *names = HOLD_MIGRATIONS["postgres" if _is_postgres(store) else "sqlite"]
    statements = [
        ("update outbox set next_attempt_at = ? where chat_id = ?", [until.isoformat(), A[1]]),
        (
            "update outbox set attempts = 1, last_error = ? where id = "
            "(select min(id) from outbox where chat_id = ?)",
            [FLOOD_ERROR, A[1]],
        ),
        ("drop table chat_holds", []),
        (f"delete from {table} where name in (?, ?)", names),
    ]
    _apply(store, statements)


def test_an_older_presswatchs_flood_wait_holds_its_chat_after_the_upgrade(
    backend, store, telegram, time, tmp_path
) -> None:
    until = time.now() + timedelta(seconds=WAIT)
    for n in range(5):
        add(store, n, A, B, now=time.now())
    _as_before_the_holds(store, until=until)
    store.close()
    upgraded = backend.open()  # as the next start (or upgrade-archive) migrates it
    try:
        holds = upgraded.db.execute("select chat_id, held_until from chat_holds").fetchall()
        assert [(chat, str(held)) for chat, held in holds] in (
            [(A[1], until.isoformat())],  # SQLite's ISO text
            [(A[1], str(until))],  # PostgreSQL's timestamptz
        )
        add(upgraded, 5, A, now=time.now())  # queued after the upgrade, inside the wait
        snapshot = read_snapshot(backend)
        assert snapshot.flood_waiting == {"a": 6}  # the five the 429 held and the new one
        # Inside the wait chat A gets nothing, B everything; after it, A's posts oldest first.
        relay_rounds(upgraded, telegram, time, tmp_path, [lambda: time.advance(5)] * 3)
        assert titles(telegram, A[1]) == []
        assert titles(telegram, B[1]) == [0, 1, 2, 3, 4]
        relay_rounds(
            upgraded,
            telegram,
            time,
            tmp_path,
            [lambda: time.advance(WAIT)] * 1 + [lambda: time.advance(60)] * 3,
        )
        assert titles(telegram, A[1]) == [0, 1, 2, 3, 4, 5]
        states = {r["state"] for r in upgraded.db.query("select state from outbox")}
        assert states == {OutboxState.SENT}
    finally:
        upgraded.close()


def test_the_upgrade_leaves_a_hold_already_recorded_and_a_wait_already_over(backend, store) -> None:
    """A chat held since m021/p019 keeps its own hold; a flood wait that has ended holds nothing."""
    now = datetime.now(UTC).replace(microsecond=0)
    held, over = ("c", "-1001003"), ("d", "-1001004")
    for n in range(2):
        add(store, n, held, over, now=now)
    table, _, name = HOLD_MIGRATIONS["postgres" if _is_postgres(store) else "sqlite"]
    own = now + timedelta(seconds=30)
    statements = [
        ("insert into chat_holds (chat_id, held_until) values (?, ?)", [held[1], own.isoformat()]),
        (
            "update outbox set last_error = ?, next_attempt_at = ? where chat_id = ?",
            [FLOOD_ERROR, (now + timedelta(seconds=WAIT)).isoformat(), held[1]],
        ),
        (
            "update outbox set last_error = ?, next_attempt_at = ? where chat_id = ?",
            [FLOOD_ERROR, (now - timedelta(seconds=1)).isoformat(), over[1]],
        ),
        (f"delete from {table} where name = ?", [name]),
    ]
    _apply(store, statements)
    store.close()
    upgraded = backend.open()
    try:
        holds = upgraded.db.execute("select chat_id, held_until from chat_holds").fetchall()
        assert [(chat, str(until)) for chat, until in holds] in (
            [(held[1], own.isoformat())],
            [(held[1], str(own))],
        )
    finally:
        upgraded.close()
