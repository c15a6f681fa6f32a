"""A PostgreSQL connection that speaks the part of sqlite-utils' Database the keepers use.

The keepers (outbox, sources, alerts, the store…) call `execute`, `query`, `atomic` and a table's
`insert`, `insert_all`, `upsert`, `update`, `get` and `count`; this class answers the same calls
on PostgreSQL, so a keeper's code is one for both backends and SQLite keeps sqlite-utils itself,
untouched and as fast as before. SQL keeps SQLite's `?` placeholders (storage/postgres/sql.py).

Outside `atomic()` every statement commits at once, as sqlite-utils' writes do; `atomic()` is a
transaction (a savepoint inside one), so `SELECT … FOR UPDATE SKIP LOCKED` and explicit
transactions are there for many workers. psycopg's errors become the archive's:
ConstraintViolation for a broken rule, ArchiveBusy for a lock wait past its bound
(storage/busy.py), StorageError for the rest. A connection the server closed (its idle
timeout, a restart) is swapped for a fresh one at its next use outside a transaction block.
PostgreSQL's text cannot hold NUL: a NUL in a value is written (and looked for) as U+FFFD,
where SQLite keeps it.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool
from sqlite_utils.db import NotFoundError

from ..busy import ArchiveBusy, ended_line
from ..lock import ConstraintViolation, StorageError
from .sql import pyformat
from .stalled import name_stalled

_PRIMARY_KEY = """select a.attname from pg_index i
    join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
    where i.indrelid = ?::regclass and i.indisprimary
    order by array_position(i.indkey::int2[], a.attnum)"""


_ROWS_PER_INSERT = 500  # rows in one multi-row insert (PostgreSQL takes at most 65,535 values)
_PLACEHOLDER = re.compile(r"%%|%s")  # a doubled (literal) percent sign, or a placeholder


@dataclass(frozen=True, slots=True)
class NewKey:
    """A stand-in for the key the session's last insert drew from an identity's sequence."""

    sequence: str  # as pg_get_serial_sequence names it: "public.articles_id_seq"

    @property
    def sql(self) -> str:
        """Return the expression the server reads the key with (the session's own, never
        another's); the sequence is looked up once, when the statement is parsed."""
        return f"currval('{self.sequence.replace(chr(39), chr(39) * 2)}'::regclass)"


def quote(name: str) -> str:
    """Return a table or column name as a quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def storage_errors(what: str) -> Iterator[None]:
    """Turn psycopg's errors inside the block into the archive's (ConstraintViolation,
    ArchiveBusy, StorageError)."""
    try:
        yield
    except psycopg.IntegrityError as exc:
        raise ConstraintViolation(f"{what}: {exc}".strip()) from exc
    except psycopg.errors.LockNotAvailable as exc:  # lock_timeout: another worker holds it
        raise ArchiveBusy from exc
    except psycopg.errors.IdleInTransactionSessionTimeout as exc:
        raise StorageError(f"{what}: {ended_line()}") from exc
    except psycopg.Error as exc:
        raise StorageError(f"{what}: {exc}".strip()) from exc


class PgDatabase:
    """One pooled connection of the archive, held while the store lives (as SQLite's writer is)."""

    dialect = "postgresql"

    def __init__(
        self, pool: ConnectionPool, *, read_only: bool = False, backend: object = None
    ) -> None:
        self._pool, self._read_only = pool, read_only
        self.backend = backend  # the archive it belongs to: status readers borrow from its pool
        self._conn: psycopg.Connection | None = None
        self._blocks = 0  # transaction blocks open (atomic, pipelined): no swap of a broken conn
        self._keys: dict[str | tuple[str, str], tuple[str, ...]] = {}  # the catalog's answers

    @property
    def conn(self) -> psycopg.Connection:
        """Return the held connection; a broken one is swapped for a fresh one between transactions."""
        # Not inside a block: its statements would go to the fresh connection one by one,
        # committed, where the block meant all or nothing. They fail on the broken one instead.
        if self._conn is not None and self._conn.broken and not self._blocks:
            self._pool.putconn(self._conn)  # the pool discards a broken connection
            self._conn = None
        if self._conn is None:
            with storage_errors("cannot reach the archive"):
                self._conn = self._pool.getconn()
                if self._read_only:
                    self._conn.execute("set default_transaction_read_only = on")
        return self._conn

    @property
    def in_transaction(self) -> bool:
        """Return True inside `atomic()` (or any open transaction)."""
        if self._conn is None or self._conn.broken:
            return False  # a closed connection's transaction ended with it
        return self._conn.info.transaction_status != TransactionStatus.IDLE

    def execute(
        self, sql: str, params: Sequence[Any] | None = None, *, prepare: bool | None = None
    ) -> psycopg.Cursor:
        """Run one statement and return its cursor (tuples); a write outside `atomic()` commits."""
        cursor = self.conn.cursor()
        with self._block() if not self._blocks else contextlib.nullcontext():
            with storage_errors(_first_line(sql)):
                # prepare=False: planned anew each time (psycopg's cursor.execute; search.py).
                return cursor.execute(*_bound(pyformat(sql), _values(params)), prepare=prepare)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each row of parameters, pipelined."""
        with storage_errors(_first_line(sql)), self.conn.cursor() as cursor:
            cursor.executemany(pyformat(sql), [_values(row) for row in rows])

    def query(self, sql: str, params: Sequence[Any] | None = None) -> Iterator[dict]:
        """Yield the rows of a query as dicts."""
        cursor = self.conn.cursor(row_factory=dict_row)
        with storage_errors(_first_line(sql)):
            cursor.execute(pyformat(sql), _values(params))
        yield from cursor

    def stream(self, sql: str, params: Sequence[Any] | None = None) -> Iterator[tuple]:
        """Yield a big query's rows a batch at a time (a server-side cursor, in a transaction)."""
        with self.atomic(), self.conn.cursor(name="presswatch_stream") as cursor:
            cursor.itersize = 2000
            # The reader may be a person paging through `export | less`: idle for minutes, and
            # holding no lock a worker waits for (a snapshot's reads block no write).
            self.execute("set local idle_in_transaction_session_timeout = 0")
            with storage_errors(_first_line(sql)):
                cursor.execute(pyformat(sql), _values(params))
            yield from cursor

    @contextmanager
    def atomic(self) -> Iterator[PgDatabase]:
        """Run a block in one transaction (a savepoint inside an open one): all or nothing."""
        with self._block(), storage_errors("transaction"), self.conn.transaction():
            yield self

    @contextmanager
    def _block(self) -> Iterator[None]:
        """Count a transaction block open while inside it; when a lock wait in it ran out, once
        it is rolled back, name the stalled transactions (storage/postgres/stalled.py)."""
        self._blocks += 1
        try:
            yield
        except ArchiveBusy:
            if self._blocks == 1 and not self.in_transaction:  # rolled back: free to ask
                name_stalled(self)
            raise
        finally:
            self._blocks -= 1

    @contextmanager
    def pipelined(self) -> Iterator[PgDatabase]:
        """Run a block in one transaction whose statements, BEGIN and COMMIT among them, go out
        together: one round trip unless the block reads. A failure rolls the whole back."""
        # Not psycopg's transaction() in a pipeline: its entry and its end each wait for the
        # server (a sync), and the pipeline's end once more: three round trips where one does.
        conn = self.conn
        with self._block():
            try:
                with storage_errors("transaction"), conn.pipeline():
                    conn.execute("begin")
                    yield self
                    conn.execute("commit")
            except BaseException:
                if not conn.broken and conn.info.transaction_status != TransactionStatus.IDLE:
                    with storage_errors("rollback"):
                        conn.rollback()  # the failed statement left the transaction open
                raise

    @contextmanager
    def pipeline(self) -> Iterator[PgDatabase]:
        """Send the block's statements without waiting for each one's answer; a read waits for
        the answers before it. Errors come at the read, or at the end of the block."""
        with storage_errors("pipeline"), self.conn.pipeline():
            yield self

    def __getitem__(self, name: str) -> PgTable:
        return PgTable(self, name)

    def sequence(self, table: str, column: str) -> str:
        """Return the sequence of a table's identity column (looked up once)."""
        if (table, column) not in self._keys:
            sql = "select pg_get_serial_sequence(?, ?)"
            self._keys[(table, column)] = self.execute(sql, [quote(table), column]).fetchone()
        return self._keys[(table, column)][0]

    def primary_key(self, table: str) -> tuple[str, ...]:
        """Return a table's primary key columns (looked up once)."""
        if table not in self._keys:
            self._keys[table] = tuple(r[0] for r in self.execute(_PRIMARY_KEY, [table]))
        return self._keys[table]

    def close(self) -> None:
        """Give the connection back to the pool."""
        if self._conn is not None:
            self._pool.putconn(self._conn)
            self._conn = None


class PgTable:
    """The writes and reads of one table that the keepers make through sqlite-utils' Table."""

    def __init__(self, db: PgDatabase, name: str) -> None:
        self.db, self.name = db, name
        self._pk: Any = None
        self._inserted: psycopg.Cursor | None = None  # the last insert, its key not read yet

    @property
    def last_pk(self) -> Any:
        """Return the primary key of the row the last `insert` wrote (None if it wrote none)."""
        # Read when asked, not at the insert: in a pipeline, an insert whose key nobody needs
        # (a signature's, a topic's) is not waited for.
        if self._inserted is not None:
            found, self._inserted = self._inserted, None
            with storage_errors(f"insert into {self.name}"):
                values = found.fetchone()
            if values is not None:
                self._pk = values[0] if len(values) == 1 else tuple(values)
        return self._pk

    @property
    def new_key(self) -> NewKey:
        """Return a stand-in for the key `insert` just drew, which the server reads itself: rows
        that name it go out with the insert, without waiting for its answer (one round trip)."""
        return NewKey(self.db.sequence(self.name, self.db.primary_key(self.name)[0]))

    @property
    def count(self) -> int:
        """Return the number of rows."""
        return self.db.execute(f"select count(*) from {quote(self.name)}").fetchone()[0]

    def get(self, pk: Any) -> dict:
        """Return the row with this primary key, or raise NotFoundError (as sqlite-utils does)."""
        keys = self.db.primary_key(self.name)
        values = pk if isinstance(pk, list | tuple) else [pk]
        where = " and ".join(f"{quote(k)} = ?" for k in keys)
        row = next(self.db.query(f"select * from {quote(self.name)} where {where}", values), None)
        if row is None:
            raise NotFoundError(f"{self.name}: no row with key {pk!r}")
        return row

    def insert(self, row: dict, *, ignore: bool = False, replace: bool = False) -> PgTable:
        """Insert one row and remember its primary key in `last_pk`."""
        keys = self.db.primary_key(self.name)
        sql = self._insert_sql(tuple(row), ignore=ignore, replace=replace)
        self._inserted = self.db.execute(
            f"{sql} returning {', '.join(map(quote, keys))}", list(row.values())
        )
        return self

    def insert_all(
        self, rows: Iterable[dict], *, ignore: bool = False, replace: bool = False
    ) -> PgTable:
        """Insert rows (skipping conflicts with `ignore`, overwriting them with `replace`), one
        statement for each set of columns."""
        groups: dict[tuple[str, ...], list[list[Any]]] = {}
        for row in rows:
            groups.setdefault(tuple(row), []).append(list(row.values()))
        for columns, values in groups.items():
            if replace:
                # One statement may not update a row twice: the last of a key wins, as it would
                # one row at a time.
                values = _last_per_key(columns, values, self.db.primary_key(self.name))
            sql = self._insert_sql(columns, ignore=ignore, replace=replace)
            for start in range(0, len(values), _ROWS_PER_INSERT):
                chunk = values[start : start + _ROWS_PER_INSERT]
                # Flattened in one pass: sum(chunk, []) would copy the growing list per row,
                # quadratic in the 500 rows of each chunk of a migrate-archive copy.
                flat = list(chain.from_iterable(chunk))
                self.db.execute(_more_rows(sql, len(columns), len(chunk)), flat)
        return self

    def upsert(self, row: dict, *, pk: str) -> PgTable:
        """Insert a row, or update the given columns of the row with the same `pk`."""
        self.db.execute(self._insert_sql(tuple(row), conflict=(pk,)), list(row.values()))
        return self

    def update(self, pk: Any, fields: dict) -> PgTable:
        """Change columns of the row with this primary key (NotFoundError if there is none)."""
        keys = self.db.primary_key(self.name)
        values = list(pk) if isinstance(pk, list | tuple) else [pk]
        names = ", ".join(f"{quote(name)} = ?" for name in fields)
        where = " and ".join(f"{quote(k)} = ?" for k in keys)
        sql = f"update {quote(self.name)} set {names} where {where}"
        if self.db.execute(sql, [*fields.values(), *values]).rowcount == 0:
            raise NotFoundError(f"{self.name}: no row with key {pk!r}")
        return self

    def _insert_sql(
        self,
        columns: tuple[str, ...],
        *,
        ignore: bool = False,
        replace: bool = False,
        conflict: tuple[str, ...] = (),
    ) -> str:
        """Return the INSERT for these columns, with its ON CONFLICT clause."""
        sql = (
            f"insert into {quote(self.name)} ({', '.join(map(quote, columns))}) "
            f"values ({', '.join('?' * len(columns))})"
        )
        if ignore:
            return sql + " on conflict do nothing"
        if replace:
            conflict = self.db.primary_key(self.name)
        if not conflict:
            return sql
        changed = [c for c in columns if c not in conflict]
        target = f"on conflict ({', '.join(map(quote, conflict))})"
        if not changed:
            return f"{sql} {target} do nothing"
        sets = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in changed)
        return f"{sql} {target} do update set {sets}"


def _more_rows(sql: str, width: int, count: int) -> str:
    """Return an insert of one row of `width` values as the insert of `count` rows."""
    # Every row in one statement: the server parses and runs one where it ran `count`.
    row = f"({', '.join('?' * width)})"
    return sql.replace(f"values {row}", f"values {', '.join([row] * count)}", 1)


def _last_per_key(
    columns: tuple[str, ...], values: list[list[Any]], keys: tuple[str, ...]
) -> list[list[Any]]:
    """Return the rows with the last one of each primary key only, in their first order."""
    where = [columns.index(k) for k in keys if k in columns]
    if len(where) != len(keys):
        return values
    last = {tuple(row[i] for i in where): row for row in values}
    return list(last.values())


def _bound(sql: str, values: list[Any]) -> tuple[str, list[Any]]:
    """Return a statement with each NewKey among its values written into it as its expression."""
    if not any(isinstance(v, NewKey) for v in values):
        return sql, values
    keys = tuple(v if isinstance(v, NewKey) else None for v in values)
    return _with_keys(sql, keys), [v for v in values if not isinstance(v, NewKey)]


@functools.lru_cache(maxsize=256)
def _with_keys(sql: str, keys: tuple[NewKey | None, ...]) -> str:
    """Return SQL with the placeholders whose value is a NewKey replaced by its expression."""
    # Cached: the same statement text every time, so psycopg still prepares it once.
    given = iter(keys)

    def place(found: re.Match[str]) -> str:
        if found.group(0) == "%%":
            return "%%"
        key = next(given)
        return key.sql if key is not None else "%s"

    return _PLACEHOLDER.sub(place, sql)


def _values(params: Sequence[Any] | None) -> list[Any]:
    """Return parameters as PostgreSQL can take them: NUL in text becomes U+FFFD."""
    return [
        v.replace("\x00", "\ufffd") if isinstance(v, str) and "\x00" in v else v
        for v in params or ()
    ]


def _first_line(sql: str) -> str:
    """Return the start of a statement, to name it in an error."""
    return " ".join(sql.split())[:60]
