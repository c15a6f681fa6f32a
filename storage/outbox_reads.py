"""The outbox's reads: the rows due to send, counts, recent sends, and the operator's listings.

storage/outbox.py moves the rows through their states; its Outbox is this class with the writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlite_utils import Database

from .dialect import id_set
from .records import OutboxItem, OutboxState, from_iso, iso, outbox_from_row

_ARTICLE_COLUMNS = (
    "a.source_key, a.url, a.canonical_url, a.title, a.published_at, a.author, "
    "a.lang, a.lead, a.body, a.summary, a.topics, a.entities, a.image_url"
)


class OutboxReads:
    """Reads of outbox rows (with their articles where a send needs them)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def due(
        self,
        now: datetime,
        *,
        limit: int = 100,
        per_chat: int | None = None,
        resend_uncertain: bool = False,
        probe_before: datetime | None = None,
        exclude: Iterable[int] = (),
        chat: str | None = None,
    ) -> list[OutboxItem]:
        """Return rows whose time has come, oldest first, at most `per_chat` per chat.

        With `probe_before`, uncertain rows not yet settled and unchanged since then are due too
        (for a probe, given time for a request Telegram may still be processing to land). With
        `chat`, only that chat's rows (a worker of many delivers one chat at a time). A chat
        Telegram told to wait (`defer_chat`) has no row due until then.
        """
        states = (
            (OutboxState.PENDING, OutboxState.UNCERTAIN)
            if resend_uncertain
            else (OutboxState.PENDING,)
        )
        skip = set(exclude)
        skipped, skip_arg = id_set(self.db, skip)
        not_skipped, skip_args = (f"and id not in {skipped}", [skip_arg]) if skip else ("", [])
        probing = (
            "or (state = ? and settlement is null and updated_at <= ?)" if probe_before else ""
        )
        probe_args = [OutboxState.UNCERTAIN, iso(probe_before)] if probe_before else []
        one_chat, chat_args = ("and chat_id = ?", [chat]) if chat is not None else ("", [])
        rows = self.db.query(
            f"""with ranked as (
                  select id, row_number() over (partition by chat_id order by id) as rank
                  from outbox
                  where (state in ({_marks(states)}) {probing})
                    and (next_attempt_at is null or next_attempt_at <= ?)
                    and not exists (select 1 from chat_holds h
                                    where h.chat_id = outbox.chat_id and h.held_until > ?)
                    {not_skipped} {one_chat})
                select o.*, {_ARTICLE_COLUMNS}
                from ranked r join outbox o on o.id = r.id join articles a on a.id = o.article_id
                where r.rank <= ? order by o.id limit ?""",
            [
                *states,
                *probe_args,
                iso(now),
                iso(now),
                *skip_args,
                *chat_args,
                per_chat or limit,
                limit,
            ],
        )
        return [outbox_from_row(r) for r in rows]

    def counts(self) -> dict[tuple[str, str], int]:
        """Return the number of outbox rows per (channel, state)."""
        return {
            (r["channel"], r["state"]): r["n"]
            for r in self.db.query(
                "select channel, state, count(*) as n from outbox group by channel, state"
            )
        }

    def recent_sends(self, since: datetime) -> list[tuple[str, datetime]]:
        """Return (chat id, time) of the sends since `since` that reached or may have reached Telegram."""
        rows = self.db.query(
            "select chat_id, coalesce(sent_at, updated_at) as at from outbox "
            "where (state = ? and sent_at >= ?) or (state = ? and updated_at >= ?)",
            [OutboxState.SENT, iso(since), OutboxState.UNCERTAIN, iso(since)],
        )
        return [(r["chat_id"], from_iso(r["at"])) for r in rows]

    def listing(self, states: Iterable[str]) -> list[dict]:
        """Return rows in these states with their article's title, oldest first (for operators)."""
        states = tuple(states)
        return list(
            self.db.query(
                f"""select o.id, o.channel, o.chat_id, o.kind, o.state, o.attempts, o.next_attempt_at,
                       o.last_error, o.settlement, o.settle_note, a.title
                from outbox o join articles a on a.id = o.article_id
                where o.state in ({_marks(states)}) order by o.id""",
                list(states),
            )
        )

    def ids_in(self, state: str) -> list[int]:
        """Return the ids of every row in a state."""
        return [r["id"] for r in self.db.query("select id from outbox where state = ?", [state])]

    def states_of(self, ids: Iterable[int]) -> dict[int, str]:
        """Return the state of each existing row among `ids` (a missing id is left out)."""
        ids = list(ids)
        if not ids:
            return {}
        among, ids_arg = id_set(self.db, ids)
        rows = self.db.query(f"select id, state from outbox where id in {among}", [ids_arg])
        return {r["id"]: r["state"] for r in rows}


def _marks(values: Iterable[object]) -> str:
    """Return SQL placeholders for a short list of states (an impossible NULL for an empty one)."""
    count = len(list(values))
    return ",".join("?" * count) if count else "null"
