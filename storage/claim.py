"""A new article's storing transaction: on PostgreSQL its near-duplicate keys locked, and what
other workers committed meanwhile read inside it.

Workers (`presswatch run` processes sharing one archive) decide about an article from committed
rows, outside the write transaction, each with its own near-duplicate index. Two workers storing
reprints of one story at the same moment would each find no original and both post it; and a
worker's index, loaded at its start, would never learn what the others stored since. So the
storing transaction first takes transaction advisory locks on the article's keys (its LSH bands
and its content hash, sorted: two workers never deadlock), then asks for the articles others
committed since it last asked (indexing them) and for the original with its content hash. The
caller re-plans when one of those could be its original. A worker waits only for one storing a
text that shares a key with its own; the question costs one round trip, the locks none more.

SQLite has one writer: nothing is locked or asked there, and the caller stores as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .dialect import is_postgres
from .neardup import Meanwhile, NearDuplicateIndex

if TYPE_CHECKING:
    from datasketch import MinHash

# The first half of the keys' advisory locks ("pd"): apart from 0x7077's instance, take-over,
# dispatching and pruning locks (storage/postgres/fleet.py), whose second halves are 1-4.
KEYS = 0x7064
_LOCK = "select count(pg_advisory_xact_lock(?::int4, k)) from unnest(?::int4[]) as k"
_EXACT = (
    "select id from articles where content_hash = ? and duplicate_of is null order by id limit 1"
)


@contextmanager
def storing(
    db: Any,
    near_duplicates: Callable[..., NearDuplicateIndex],
    content_hash: str | None,
    minhash: MinHash | None,
    *,
    now: datetime,
) -> Iterator[Callable[[], Meanwhile] | None]:
    """Hold a new article's storing transaction, its keys locked (PostgreSQL); yield what reads
    what others committed meanwhile, or None where nothing is locked (SQLite, no signature)."""
    if minhash is None or not is_postgres(db) or db.in_transaction:
        yield None
        return
    index = near_duplicates(now=now)  # the store's, loaded on first use
    # A pipeline: BEGIN, the locks and the questions go out with the caller's writes, and their
    # answers come back with the first read (the new article's key): one round trip for all.
    with index.held(), db.pipelined():  # the article indexed once committed
        # unnest keeps the array's order: the locks are taken in ascending order.
        db.execute(_LOCK, [KEYS, list(index.lock_keys(minhash, content_hash))])
        newer = db.execute(*index.newer())
        exact = db.execute(_EXACT, [content_hash]) if content_hash else None
        answer: list[Meanwhile] = []

        def meanwhile() -> Meanwhile:
            """Return what other workers committed before the locks were ours (read once)."""
            if not answer:
                first = exact.fetchone() if exact is not None else None
                fresh = index.absorb(newer.fetchall(), now=now)
                answer.append(Meanwhile(fresh, first[0] if first else None))
            return answer[0]

        yield meanwhile
