"""Copy an SQLite archive into PostgreSQL: resumable, in batches, with the counts compared after.

Tables are copied parents first. A big table goes in ranges of an ascending integer key (its id,
or the article id its rows hang on), one transaction per range, through COPY; so the database
always holds a prefix of each table, and a stopped copy resumes after the largest key it holds.
A small table without such a key is copied whole, skipping rows already there. Identity
sequences are moved past the copied ids, so new rows get new ones. The tsvector of each article
is computed by the archive's trigger as it arrives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from ..lock import StorageError
from .database import PgDatabase, quote, storage_errors

# (table, the integer key its ranges run over, or None to copy it whole), parents first.
TABLES: tuple[tuple[str, str | None], ...] = (
    ("sources", None),
    ("runs", "id"),
    ("articles", "id"),
    ("article_urls", None),
    ("article_topics", "article_id"),
    ("article_versions", "id"),
    ("signatures", "article_id"),
    ("outbox", "id"),
    ("chat_marks", None),
    ("chat_holds", None),
    ("chat_moves", None),
    ("probe_copies", "id"),
    ("retag_progress", "id"),
    ("channels", None),
    ("alerts", "id"),
    ("subscriptions", "id"),
    ("missing_pages", None),
    ("listings", None),
    ("listing_links", None),
)


@dataclass(frozen=True, slots=True)
class TableCount:
    """A table's rows in the SQLite archive and in PostgreSQL."""

    table: str
    sqlite: int
    postgres: int

    @property
    def equal(self) -> bool:
        """Return True when both archives hold the same number of rows."""
        return self.sqlite == self.postgres


def source_rows(source: Database) -> dict[str, int]:
    """Return each copied table's rows in the SQLite archive (for the progress bar's total)."""
    return {name: source[name].count for name, _ in TABLES if source[name].exists()}


def copy_archive(
    source: Database,
    target: PgDatabase,
    *,
    batch: int = 5000,
    progress: Callable[[str, int], None] = lambda table, rows: None,
    analyzing: Callable[[], None] = lambda: None,
) -> None:
    """Copy every table not yet (wholly) in PostgreSQL; `progress(table, rows)` after each batch,
    `analyzing()` once the rows are in, before the statistics are gathered.

    Raises StorageError, before copying anything, when the database holds an article the
    archive does not: resuming after it would leave two archives' rows mixed under equal counts.
    """
    _refuse_a_foreign_target(source, target)
    for name, key in TABLES:
        if not source[name].exists():
            continue
        columns = _shared_columns(source, target, name)
        if key is None:
            _copy_whole(source, target, name, columns, progress)
        else:
            _copy_ranges(source, target, name, key, columns, batch=batch, progress=progress)
    _move_identities(target)
    # Workers started right after would otherwise plan their statements for empty tables (no
    # statistics until autovacuum's first look) and keep those plans: a whole-table read per
    # URL looked up, until autovacuum analyses the table.
    analyzing()
    target.execute("analyze")


def copied_rows(source: Database, target: PgDatabase) -> int:
    """Return the archive's rows an earlier, stopped copy already put in PostgreSQL (those a
    rerun skips: each table's rows up to the largest key PostgreSQL holds).

    Raises StorageError, as copy_archive does, when the database holds another archive's rows.
    """
    _refuse_a_foreign_target(source, target)
    copied = 0
    for name, key in TABLES:
        if not source[name].exists():
            continue
        if key is None:  # a small table, copied whole: the rows of it PostgreSQL has
            copied += min(target[name].count, source[name].count)
            continue
        after = _copied_up_to(target, name, key)
        sql = f"select count(*) from {quote(name)} where {quote(key)} <= ?"
        copied += source.execute(sql, [after]).fetchone()[0]
    return copied


def _copied_up_to(target: PgDatabase, table: str, key: str) -> Any:
    """Return the largest key of a table PostgreSQL holds (0 for none)."""
    done = target.execute(f"select coalesce(max({quote(key)}), 0) from {quote(table)}")
    return done.fetchone()[0]


def _refuse_a_foreign_target(source: Database, target: PgDatabase) -> None:
    """Raise StorageError unless PostgreSQL's newest article is the archive's under the same id.

    A copy resumes after the largest id it finds; only rows copied from this archive make that
    safe. A service that ran on PostgreSQL since (its own articles, ids the archive also gave
    out after) is told by its newest article: absent from the archive, or another URL there.
    """
    last = target.execute("select id, url from articles order by id desc limit 1").fetchone()
    if last is None:
        return
    ours = source.execute("select url from articles where id = ?", [last[0]]).fetchone()
    if ours is None or ours[0] != last[1]:
        here = f"{ours[0]} in the archive" if ours else "absent from the archive"
        raise StorageError(
            f"the database already holds articles this archive does not (article {last[0]} is "
            f"{last[1]} there, {here}): presswatch has written to it since an earlier copy; "
            "copy into an empty database"
        )


def counts(source: Database, target: PgDatabase) -> list[TableCount]:
    """Return each copied table's rows on both sides."""
    return [TableCount(name, n, target[name].count) for name, n in source_rows(source).items()]


def articles_that_differ(source: Database, target: PgDatabase) -> list[int]:
    """Return the ids whose article is on one side only, or under another URL on the other.

    Equal counts do not prove one archive: a service that wrote to PostgreSQL between two copies
    leaves other articles under the same ids, and as many of them.
    """
    sql = "select id, url from articles order by id"
    ours, theirs = iter(source.execute(sql)), iter(target.stream(sql))
    differ: list[int] = []
    a, b = next(ours, None), next(theirs, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            differ.append(a[0])
            a = next(ours, None)
        elif a is None or b[0] < a[0]:
            differ.append(b[0])
            b = next(theirs, None)
        else:
            if a[1] != b[1]:
                differ.append(a[0])
            a, b = next(ours, None), next(theirs, None)
    return differ


def _shared_columns(source: Database, target: PgDatabase, table: str) -> list[str]:
    """Return the columns of a table that both archives have, in SQLite's order."""
    theirs = {
        r[0]
        for r in target.execute(
            "select column_name from information_schema.columns "
            "where table_schema = current_schema() and table_name = ?",
            [table],
        )
    }
    return [c.name for c in source[table].columns if c.name in theirs]


def _copy_whole(
    source: Database,
    target: PgDatabase,
    table: str,
    columns: list[str],
    progress: Callable[[str, int], None],
) -> None:
    """Copy a small table in one transaction, keeping the rows PostgreSQL already has."""
    names = ", ".join(map(quote, columns))
    rows = [list(r) for r in source.execute(f"select {names} from {quote(table)}")]
    with target.atomic():
        target[table].insert_all((dict(zip(columns, r)) for r in rows), ignore=True)
    progress(table, len(rows))


def _copy_ranges(
    source: Database,
    target: PgDatabase,
    table: str,
    key: str,
    columns: list[str],
    *,
    batch: int,
    progress: Callable[[str, int], None],
) -> None:
    """Copy a table in ascending ranges of `key`, each range COPYed in one transaction."""
    after = _copied_up_to(target, table, key)
    skipped = source.execute(
        f"select count(*) from {quote(table)} where {quote(key)} <= ?", [after]
    ).fetchone()[0]
    if skipped:
        progress(table, skipped)  # already copied by an earlier, stopped run
    for rows in _ranges(source, table, key, columns, after=after, batch=batch):
        with target.atomic(), storage_errors(f"copying {table}"):
            cursor = target.conn.cursor()
            sql = f"copy {quote(table)} ({', '.join(map(quote, columns))}) from stdin"
            with cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(_storable(row))
        progress(table, len(rows))


def _ranges(
    source: Database, table: str, key: str, columns: list[str], *, after: Any, batch: int
) -> Iterator[list[tuple]]:
    """Yield a table's rows with `key` > after, about `batch` at a time, never splitting a key."""
    names = ", ".join(map(quote, columns))
    while True:
        # The batch ends at the key of its last row, so rows sharing a key stay together.
        last = source.execute(
            f"select max({quote(key)}) from (select {quote(key)} from {quote(table)} "
            f"where {quote(key)} > ? order by {quote(key)} limit ?)",
            [after, batch],
        ).fetchone()[0]
        if last is None:
            return
        yield source.execute(
            f"select {names} from {quote(table)} where {quote(key)} > ? and {quote(key)} <= ? "
            f"order by {quote(key)}",
            [after, last],
        ).fetchall()
        after = last


def _storable(row: tuple) -> tuple:
    """Return a row as PostgreSQL can take it: NUL in text becomes U+FFFD (as PgDatabase does)."""
    return tuple(
        v.replace("\x00", "\ufffd") if isinstance(v, str) and "\x00" in v else v for v in row
    )


def _move_identities(target: PgDatabase) -> None:
    """Move every identity sequence past the largest id its table holds."""
    for (table,) in target.execute(
        "select table_name from information_schema.columns where table_schema = current_schema() "
        "and column_name = 'id' and is_identity = 'YES'"
    ).fetchall():
        target.execute(
            f"select setval(pg_get_serial_sequence(?, 'id'), "
            f"coalesce((select max(id) from {quote(table)}), 0) + 1, false)",
            [table],
        )
