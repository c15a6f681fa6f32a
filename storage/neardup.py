"""Near-duplicate detection: word shingles, MinHash-LSH candidates, exact confirmation.

Signatures are persisted in the `signatures` table; the in-memory LSH index holds only the
recent window (rebuilt from SQLite at start-up), so its cost stays flat as the archive grows.
Short press releases need small shingles and a low candidate threshold (a reprint with a new
title and dateline shares little of a 100-word text): 3-word shingles, LSH at ~0.5, then
confirmation on the exact shingle sets.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from sqlite_utils import Database

if TYPE_CHECKING:
    from datasketch import MinHash

from .dialect import is_postgres
from .records import DedupConfig, from_iso, iso

_WORD = re.compile(r"\w+")
# How long an article id skipped by the ids other writers committed is asked for again: a
# transaction that drew it and is still open, or one rolled back (its id never comes).
_GAP_SECONDS = 600
# How far below the newest article id a PostgreSQL index starts asking what others committed:
# ids drawn before its start by transactions still open then.
_BACK = 256
# How long a PostgreSQL index goes between decisions without asking what other writers
# committed: a storing transaction then reads (and indexes) under its locks about this much of
# the fleet's articles at most, however long its worker stored nothing new.
_CATCH_UP_SECONDS = 60
# What other writers (PostgreSQL workers) committed: articles past the newest id seen, and ids
# skipped so far; an article without a signature answers too, so that its id is settled.
_NEWER = """select a.id, s.minhash, s.created_at from articles a
    left join signatures s on s.article_id = a.id
    where a.id > ? or a.id = any(?::bigint[])"""


@dataclass(frozen=True, slots=True)
class NearDuplicate:
    """An archived article that a new text repeats."""

    article_id: int
    similarity: float


def shingles(text: str, *, size: int) -> frozenset[str]:
    """Return the set of `size`-word shingles of text, case and Unicode form folded."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold().replace("ё", "е"))
    if len(words) <= size:
        return frozenset([" ".join(words)]) if words else frozenset()
    return frozenset(" ".join(words[i : i + size]) for i in range(len(words) - size + 1))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Return how much two shingle sets overlap: Jaccard, or containment of the smaller one.

    Containment catches a reprint that adds an introduction or drops a closing paragraph.
    """
    if not a or not b:
        return 0.0
    common = len(a & b)
    jaccard = common / len(a | b)
    containment = common / min(len(a), len(b))
    # Containment alone would match a one-line text inside any long one; require substance.
    return max(jaccard, containment if min(len(a), len(b)) >= 20 else 0.0)


def signature(shingle_set: frozenset[str], *, num_perm: int) -> MinHash:
    """Return the MinHash of a shingle set."""
    return signature_of(hashed(shingle_set), num_perm=num_perm)


def hashed(shingle_set: frozenset[str]) -> tuple[int, ...]:
    """Return the 32-bit hashes of a shingle set's members, sorted: what its MinHash is made of.

    Plain data without datasketch, so a parsing worker can compute it beside the extraction and
    the poller only applies the permutations (signature_of).
    """
    return tuple(sorted({_hash32(s.encode("utf-8")) for s in shingle_set}))


def signature_of(hashes: tuple[int, ...], *, num_perm: int) -> MinHash:
    """Return the MinHash of shingles given by their hashes (see `hashed`)."""
    from datasketch import MinHash  # noqa: PLC0415 - see _lsh_class

    # The hashes are already what datasketch's hash function would return for each shingle, so
    # it is told to take them as they are; the permutations and the minimum are its own.
    minhash = MinHash(
        num_perm=num_perm, hashfunc=_given, permutations=_permutations(num_perm), scheme="affine32"
    )
    if hashes:
        minhash.update_batch(hashes)
    return minhash


def _hash32(data: bytes) -> int:
    """Hash a shingle to 32 bits (blake2b: fast, well mixed, in the standard library)."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=4).digest(), "little")


def _key32(data: bytes) -> int:
    """Hash bytes to a signed 32-bit key (an advisory lock's second half on PostgreSQL)."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=4).digest(), "little", signed=True)


def _given(value: int) -> int:
    """Return a hash already computed (see signature_of)."""
    return value


@lru_cache(maxsize=8)
def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the MinHash permutations once per size (building them per text is the slow part)."""
    from datasketch import MinHash  # noqa: PLC0415 - see _lsh_class

    return MinHash(num_perm=num_perm, hashfunc=_hash32).permutations


def _lsh_class() -> type:
    """Return datasketch's MinHashLSH, imported on first use.

    datasketch imports SciPy (a second of start-up), which commands that never deduplicate
    (search, status, export, --help) should not pay for.
    """
    from datasketch import MinHashLSH  # noqa: PLC0415

    return MinHashLSH


@dataclass(frozen=True, slots=True)
class Meanwhile:
    """What other writers committed since an article was decided about."""

    fresh: frozenset[int] = frozenset()  # articles they stored, now in the index
    exact: int | None = None  # the first original with the article's content hash, if any


class NearDuplicateIndex:
    """An LSH index over the signatures of recent articles, backed by the signatures table."""

    def __init__(self, db: Database, settings: DedupConfig) -> None:
        self.db, self.num_perm, self.window = db, settings.num_perm, settings.window_seconds
        self._lsh = _lsh_class()(threshold=settings.candidate_threshold, num_perm=settings.num_perm)
        self._order: deque[tuple[datetime, int]] = deque()
        self._ids: set[int] = set()
        # PostgreSQL: the newest article id asked about, and ids skipped (since when).
        self._high = 0
        self._gaps: dict[int, datetime] = {}
        self._asked: datetime | None = None  # when they were last asked
        self._held: list[tuple[int, MinHash, datetime]] | None = None  # see `held`

    def load(self, *, now: datetime) -> int:
        """Fill the index with the signatures of the window ending `now`; return how many."""
        since = iso(datetime.fromtimestamp(now.timestamp() - self.window, now.tzinfo))
        from datasketch import MinHash  # noqa: PLC0415 - see _lsh_class

        count = 0
        if is_postgres(self.db):
            # Read first: what commits after it is past it, or among the ids asked again.
            top = self.db.execute("select coalesce(max(id), 0) from articles").fetchone()[0]
            self._high, self._asked = max(top - _BACK, 0), now
        for row in self.db.query(
            "select article_id, minhash, created_at from signatures "
            "where created_at >= ? order by created_at",
            [since],
        ):
            values = np.frombuffer(row["minhash"], dtype=np.uint32)
            if len(values) == self.num_perm:
                self._insert(
                    row["article_id"],
                    MinHash(hashvalues=values, scheme="affine32"),
                    from_iso(row["created_at"]),
                )
                count += 1
        return count

    def candidates(self, minhash: MinHash) -> list[int]:
        """Return ids of indexed articles whose estimated similarity passes the candidate threshold."""
        return sorted(self._lsh.query(minhash))

    def add(self, article_id: int, minhash: MinHash, *, source_key: str, now: datetime) -> None:
        """Persist a signature and index it."""
        self.save(article_id, minhash, source_key=source_key, now=now)
        self.index(article_id, minhash, now=now)

    def save(self, article_id: int, minhash: MinHash, *, source_key: str, now: datetime) -> None:
        """Persist a signature (inside the caller's transaction)."""
        self.db["signatures"].insert(
            {
                "article_id": article_id,
                "source_key": source_key,
                "minhash": minhash.hashvalues.astype(np.uint32).tobytes(),
                "created_at": iso(now),
            },
            replace=True,
        )

    def index(self, article_id: int, minhash: MinHash, *, now: datetime) -> None:
        """Make a committed signature findable (inside `held`, once the block ends well)."""
        if self._held is not None:
            self._held.append((article_id, minhash, now))
            return
        self._insert(article_id, minhash, now)

    @contextmanager
    def held(self) -> Iterator[None]:
        """Index the signatures `index` is given inside only if the block ends without error."""
        # The block is an outer transaction (storage/claim.py): a rolled-back try's article
        # must not be findable, by an id that names nothing.
        self._held = []
        try:
            yield
            held = self._held
        finally:
            self._held = None
        for article_id, minhash, now in held:
            self._insert(article_id, minhash, now)

    def lock_keys(self, minhash: MinHash, content_hash: str | None) -> tuple[int, ...]:
        """Return signed 32-bit keys, sorted, one of which any text this one could be found a
        near-duplicate of shares: its LSH bands' and its content hash's."""
        values = minhash.hashvalues.astype(np.uint32)
        keys = {
            _key32(bytes([band % 256]) + values[start:end].tobytes())
            for band, (start, end) in enumerate(self._lsh.hashranges)
        }
        if content_hash:
            keys.add(_key32(b"#" + content_hash.encode()))
        return tuple(sorted(keys))

    def newer(self) -> tuple[str, list]:
        """Return the query (and its parameters) of what other writers committed lately."""
        return _NEWER, [self._high, sorted(self._gaps)]

    def catch_up(self, *, now: datetime) -> None:
        """Index what other writers committed, if not asked within a minute (PostgreSQL, outside
        a transaction: before a decision, never between it and its storing, storage/claim.py)."""
        if not is_postgres(self.db) or self.db.in_transaction:
            return
        if self._asked and (now - self._asked).total_seconds() < _CATCH_UP_SECONDS:
            return
        self.absorb(self.db.execute(*self.newer()).fetchall(), now=now)

    def absorb(self, rows: Iterable[tuple], *, now: datetime) -> frozenset[int]:
        """Index the signatures `newer` found; return the ids of the articles newly indexed."""
        from datasketch import MinHash  # noqa: PLC0415 - see _lsh_class

        since, fresh, seen = now.timestamp() - self.window, set(), set()
        for article_id, blob, created in rows:
            seen.add(article_id)
            self._gaps.pop(article_id, None)
            if blob is None or article_id in self._ids:
                continue
            values = np.frombuffer(blob, dtype=np.uint32)
            when = from_iso(created)
            if len(values) == self.num_perm and when.timestamp() >= since:
                self._insert(article_id, MinHash(hashvalues=values, scheme="affine32"), when)
                fresh.add(article_id)
        top = max(seen, default=0)
        # An id below the newest one that did not answer belongs to a transaction still open
        # (or rolled back): asked again until it answers or is too old to be open still.
        self._gaps.update(dict.fromkeys(set(range(self._high + 1, top)) - seen, now))
        self._high, self._asked = max(self._high, top), now
        for gap in [g for g, at in self._gaps.items() if (now - at).total_seconds() > _GAP_SECONDS]:
            del self._gaps[gap]
        return frozenset(fresh)

    def _insert(self, article_id: int, minhash: MinHash, created: datetime) -> None:
        """Index one signature and drop those that left the window."""
        if article_id in self._ids:
            return
        self._lsh.insert(article_id, minhash, check_duplication=False)
        self._ids.add(article_id)
        self._order.append((created, article_id))
        while self._order and (created - self._order[0][0]).total_seconds() > self.window:
            _, old = self._order.popleft()
            self._lsh.remove(old)
            self._ids.discard(old)
