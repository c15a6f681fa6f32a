"""Source state between polls: validators, baseline, failures, backoff, pausing, and the runs table."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from scrapers.normalize import url_key

from .dialect import is_postgres
from .listed_links import ListedLinks, keep_listing, read_listing
from .records import (
    RunRecord,
    RunStatus,
    Scrub,
    SourceState,
    from_iso,
    iso,
    source_from_row,
    unchanged,
)
from .selector_misses import SelectorMiss, SelectorRun, misses_to_json
from .transaction import immediate, joined

_VALIDATORS = ("etag", "last_modified")


@dataclass(frozen=True, slots=True)
class Noted:
    """What a source key was last configured to read, and what the archive holds under it."""

    key: str
    url: str | None  # None: not noted yet (an archive from before m019, not started since)
    link_pattern: str | None
    articles: bool  # it holds articles
    polled: bool  # it was polled under this key


class Sources:
    """The `sources` and `runs` tables: what is remembered about each source, and every poll."""

    def __init__(self, db: Database, *, scrub: Scrub = unchanged) -> None:
        self.db = db
        self._scrub = scrub

    def state(self, key: str) -> SourceState:
        """Return what is remembered about a source (defaults for a new one)."""
        row = next(self.db.query("select * from sources where key = ?", [key]), None)
        return SourceState(key=key) if row is None else source_from_row(row)

    def states(self, keys: Iterable[str]) -> dict[str, SourceState]:
        """Return what is remembered about each of `keys` (defaults for a new one), in one query."""
        keys = list(dict.fromkeys(keys))
        if is_postgres(self.db):
            # One array parameter: the same statement text for any batch, so it stays prepared.
            rows = self.db.query("select * from sources where key = any(?::text[])", [keys])
        else:
            rows = self.db.query(
                "select * from sources where key in (select value from json_each(?))",
                [json.dumps(keys)],
            )
        found = {row["key"]: source_from_row(row) for row in rows}
        return {key: found.get(key) or SourceState(key=key) for key in keys}

    def record_run(
        self,
        run: RunRecord,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        baseline: bool = False,
        next_poll_at: datetime | None = None,
        new_at: datetime | None = None,
    ) -> None:
        """Store one poll and update the source's state (with `new_at`: when articles last came)
        in one transaction."""
        error = None if run.error is None else self._scrub(run.error)
        runs = {
            "source_key": run.source_key,
            "started_at": iso(run.started_at),
            "finished_at": iso(run.finished_at),
            "status": run.status,
            "links_found": run.links_found,
            "new_articles": run.new_articles,
            "error": error,
        }
        # The counters and the baseline are computed by the statement from the stored row, so
        # that row is not read first (on PostgreSQL each read is a round trip).
        finished = iso(run.finished_at)
        row: dict = {
            "key": run.source_key,
            "last_poll_at": finished,
            "next_poll_at": iso(next_poll_at),
        }
        if new_at is not None:
            row["last_new_at"] = iso(new_at)
        if run.status == RunStatus.ERROR:
            row |= {"last_error": error, "last_error_at": finished, "consecutive_failures": 1}
            kept = {"consecutive_failures": "sources.consecutive_failures + 1"}
        else:
            row |= {
                "last_success_at": finished,
                "consecutive_failures": 0,
                "etag": etag,
                "last_modified": last_modified,
                "baseline_at": finished if baseline else None,
            }
            kept = {"baseline_at": "coalesce(sources.baseline_at, excluded.baseline_at)"}
            # A 304 may omit the validators; keep the ones we had.
            if run.status != RunStatus.OK:
                kept |= {c: f"coalesce(excluded.{c}, sources.{c})" for c in _VALIDATORS}
        if is_postgres(self.db):
            # One statement, whole by itself: no BEGIN and COMMIT around it (two round trips).
            sql = f"with run as ({_insert('runs', runs)}) {_upsert(row, kept)}"
            self.db.execute(sql, [*runs.values(), *row.values()])
            return
        with joined(self.db):
            self.db.execute(_insert("runs", runs), list(runs.values()))
            self.db.execute(_upsert(row, kept), list(row.values()))

    def overview(self, *, problems_since: datetime | None = None) -> list[dict]:
        """Return each known source's state, and with `problems_since` the latest problem of a
        poll that went on past it (a partial run: an item given up); article_counts counts."""
        problem = (
            "(select r.error from runs r where r.source_key = s.key and r.status = ? "
            "and r.started_at >= ? order by r.started_at desc limit 1)"
            if problems_since
            else "null"
        )
        params = [RunStatus.PARTIAL, iso(problems_since)] if problems_since else []
        return list(
            self.db.query(
                f"select s.*, {problem} as last_problem from sources s order by s.key",
                params,
            )
        )

    def article_counts(self) -> dict[str, int]:
        """Return the number of stored articles per source key."""
        return {
            r["source_key"]: r["n"]
            for r in self.db.query(
                "select source_key, count(*) as n from articles group by source_key"
            )
        }

    def archived_keys(self) -> set[str]:
        """Return every source key the archive holds something under: articles, or polls (a
        configured key never polled has a state row too, its address: that is not something)."""
        # Every poll writes the key's state row too: the rows are few, the polls many.
        sql = (
            "select s.key from sources s where exists "
            "(select 1 from runs r where r.source_key = s.key) "
            "union select distinct source_key from articles"
        )
        return {row[0] for row in self.db.execute(sql).fetchall()}

    def noted(self) -> list[Noted]:
        """Return what each source key with a state row was last configured to read (where it
        was noted), and whether the key holds articles and polls of its own."""
        rows = self.db.execute(
            "select s.key, s.url, s.link_pattern, "
            "exists (select 1 from articles a where a.source_key = s.key), "
            "exists (select 1 from runs r where r.source_key = s.key) "
            "from sources s order by s.key"
        ).fetchall()
        return [Noted(key, url, pattern, bool(a), bool(r)) for key, url, pattern, a, r in rows]

    def note_addresses(
        self, reads: dict[str, tuple[str, str | None]], noted: list[Noted] | None = None
    ) -> None:
        """Remember what each key is configured to read, its address and link_pattern; write
        only the ones that changed (most starts write nothing, and workers starting together
        take no row locks). `noted`: what `noted()` returned just before, not read again."""
        known = {n.key: (n.url, n.link_pattern) for n in (self.noted() if noted is None else noted)}
        changed = sorted((k, r) for k, r in reads.items() if known.get(k) != r)
        if not changed:
            return
        with immediate(self.db):
            for key, (url, pattern) in changed:  # in key order: two workers lock the rows alike
                self.db.execute(
                    "insert into sources (key, url, link_pattern) values (?, ?, ?) "
                    "on conflict (key) do update set url = excluded.url, "
                    "link_pattern = excluded.link_pattern",
                    [key, url, pattern],
                )

    def note_selector_misses(
        self, key: str, misses: tuple[SelectorMiss, ...], runs: tuple[SelectorRun, ...] = ()
    ) -> None:
        """Remember which of a source's selectors match nothing since when (none: all match), and
        the runs of pages that missed one not yet long enough to show."""
        with immediate(self.db):
            self.db.execute(
                "insert into sources (key, selectors_missed) values (?, ?) "
                "on conflict (key) do update set selectors_missed = excluded.selectors_missed",
                [key, misses_to_json(misses, runs)],
            )

    def listed_links(
        self, key: str, *, validators: tuple[str | None, str | None] | None = None
    ) -> ListedLinks | None:
        """Return the links of the source's listing as last read whole, and its validators then
        (None: none kept, or with `validators`, none kept with those)."""
        return read_listing(self.db, key, validators=validators)

    def keep_listed_links(self, key: str, listed: ListedLinks) -> None:
        """Remember the links of the source's listing as just read whole, with its validators,
        writing only what changed (storage/listed_links.py)."""
        keep_listing(self.db, key, listed)

    def set_paused(self, key: str, *, paused: bool) -> None:
        """Stop polling a source until it is resumed, or poll it again."""
        with immediate(self.db):
            self.db.execute(
                "insert into sources (key, paused) values (?, ?) "
                "on conflict(key) do update set paused = excluded.paused",
                [key, int(paused)],
            )

    def missing_since(self, source_key: str, url: str, *, now: datetime) -> datetime:
        """Return since when a new item's page has answered 404/410 (`now` the first time), kept
        across restarts, runs of `once` and workers."""
        key = url_key(url)
        with immediate(self.db):
            # Rows of pages that answered after a restart are never asked about again: drop
            # this source's old ones here, where a missing page is rare enough to pay for it.
            self.db.execute(
                "delete from missing_pages where source_key = ? and since < ?",
                [source_key, iso(now - _MISSING_KEPT)],
            )
            self.db.execute(
                "insert into missing_pages (url_key, source_key, since) values (?, ?, ?) "
                "on conflict (url_key) do nothing",
                [key, source_key, iso(now)],
            )
            row = next(self.db.query("select since from missing_pages where url_key = ?", [key]))
        return from_iso(row["since"]) or now

    def page_answered(self, url: str) -> None:
        """Forget a waited-for item: its page answered, or it was given up."""
        with immediate(self.db):
            self.db.execute("delete from missing_pages where url_key = ?", [url_key(url)])


# A waited-for page is given up after hours (a source's missing_page_wait); a row this old
# belongs to an item whose page answered while no process remembered it waiting.
_MISSING_KEPT = timedelta(days=30)


def _insert(table: str, row: dict) -> str:
    """Return the plain insert of one row into `table`."""
    names = ", ".join(f'"{column}"' for column in row)
    return f"insert into {table} ({names}) values ({', '.join('?' * len(row))})"


def _upsert(row: dict, kept: dict[str, str]) -> str:
    """Return the upsert of a source's row: each column set from `row`, or by its `kept` expression."""
    names = ", ".join(f'"{column}"' for column in row)
    sets = ", ".join(
        f'"{column}" = {kept.get(column, f"excluded.{column}")}'
        for column in row
        if column != "key"
    )
    return (
        f"insert into sources ({names}) values ({', '.join('?' * len(row))}) "
        f'on conflict ("key") do update set {sets}'
    )
