"""Near-duplicate detection on labelled pairs of press texts, and the LSH index on either archive."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import DedupConfig
from storage import Store
from storage.neardup import NearDuplicateIndex, shingles, signature, similarity
from tests.support.archive import reopen

PAIRS = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "reprints.jsonl")
    .read_text(encoding="utf-8")
    .splitlines()
]
NOW = datetime(2026, 11, 28, tzinfo=UTC)
DEFAULT = DedupConfig()


@pytest.mark.parametrize("pair", PAIRS, ids=[p["note"] for p in PAIRS])
def test_reprints_pass_the_threshold_and_distinct_releases_do_not(pair: dict) -> None:
    score = similarity(
        shingles(pair["a"], size=DEFAULT.shingle), shingles(pair["b"], size=DEFAULT.shingle)
    )
    assert (score >= DEFAULT.threshold) is pair["duplicate"], score


def _index(store: Store) -> NearDuplicateIndex:
    return store.near_duplicates(now=NOW)


def _sig(text: str):
    return signature(shingles(text, size=DEFAULT.shingle), num_perm=DEFAULT.num_perm)


def _insert(
    store: Store, index: NearDuplicateIndex, article_id: int, text: str, when: datetime
) -> None:
    store.db["articles"].insert(
        {
            "id": article_id,
            "source_key": "s",
            "url": f"https://x/{article_id}",
            "url_key": f"x/{article_id}",
            "title": "t",
            "discovered_at": when.isoformat(),
        }
    )
    index.add(article_id, _sig(text), source_key="s", now=when)


def test_lsh_finds_every_labelled_reprint_as_a_candidate() -> None:
    store = Store.in_memory()
    index = _index(store)
    positives = [p for p in PAIRS if p["duplicate"]]
    for i, pair in enumerate(positives, start=1):
        _insert(store, index, i, pair["a"], NOW)
    for i, pair in enumerate(positives, start=1):
        assert i in index.candidates(_sig(pair["b"]))


def test_signatures_persist_and_reload_within_the_window(store: Store) -> None:
    index = _index(store)
    text = PAIRS[0]["a"]
    _insert(store, index, 1, text, NOW - timedelta(days=40))
    _insert(store, index, 2, text, NOW - timedelta(days=1))
    again = reopen(store)
    try:
        assert _index(again).candidates(_sig(text)) == [2]
    finally:
        again.close()


def test_old_signatures_leave_the_in_memory_index() -> None:
    store = Store.in_memory(dedup=DedupConfig(window_seconds=86400))
    index = _index(store)
    text = PAIRS[0]["a"]
    _insert(store, index, 1, text, NOW)
    _insert(
        store,
        index,
        2,
        "an unrelated text about something else entirely " * 3,
        NOW + timedelta(days=2),
    )
    assert index.candidates(_sig(text)) == []


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("", "anything", 0.0),
        ("same words here", "Same  words HERE", 1.0),
        ("ёлка зелёная стоит", "елка зеленая стоит", 1.0),
    ],
)
def test_similarity_edges(a: str, b: str, expected: float) -> None:
    assert (
        similarity(shingles(a, size=DEFAULT.shingle), shingles(b, size=DEFAULT.shingle)) == expected
    )


@pytest.mark.parametrize("pair", PAIRS[:3], ids=[p["note"] for p in PAIRS[:3]])
def test_a_signature_from_shingle_hashes_is_the_one_datasketch_makes_from_the_shingles(
    pair: dict,
) -> None:
    # Signatures are persisted: built from hashes computed elsewhere (a parsing worker), they
    # must stay what datasketch computes hashing each shingle itself.
    from datasketch import MinHash

    from storage.neardup import _hash32

    shingle_set = shingles(pair["a"], size=DEFAULT.shingle)
    direct = MinHash(num_perm=DEFAULT.num_perm, hashfunc=_hash32, scheme="affine32")
    direct.update_batch([s.encode("utf-8") for s in shingle_set])
    assert len(shingle_set) > 20
    assert (_sig(pair["a"]).hashvalues == direct.hashvalues).all()


def _row(article_id: int, text: str, when: datetime) -> tuple:
    """Return a row of `NearDuplicateIndex.newer`'s query: id, signature bytes, created at."""
    return article_id, _sig(text).hashvalues.astype("uint32").tobytes(), when.isoformat()


def test_ids_skipped_by_other_writers_commits_are_asked_again_until_they_answer() -> None:
    index = NearDuplicateIndex(Store.in_memory().db, DEFAULT)
    text = PAIRS[0]["a"]
    # Ids 1 and 2 were drawn by transactions still open when 3 was seen committed.
    assert index.absorb([_row(3, text, NOW)], now=NOW) == {3}
    assert index.newer()[1] == [3, [1, 2]]
    assert index.absorb([_row(1, text, NOW), (2, None, None)], now=NOW) == {1}
    assert index.newer()[1] == [3, []]
    assert index.candidates(_sig(text)) == [1, 3]
    # One never answering (rolled back) is given up once no transaction could still hold it.
    index.absorb([_row(5, text, NOW)], now=NOW)
    index.absorb([], now=NOW + timedelta(minutes=11))
    assert index.newer()[1] == [5, []]


def test_lock_keys_are_shared_by_lsh_candidates_and_by_one_text() -> None:
    index = NearDuplicateIndex(Store.in_memory().db, DEFAULT)
    pair = next(p for p in PAIRS if p["duplicate"])
    a, b = _sig(pair["a"]), _sig(pair["b"])
    keys_a = index.lock_keys(a, "hash-a")
    assert list(keys_a) == sorted(set(keys_a))
    assert all(-(2**31) <= k < 2**31 for k in keys_a)
    assert set(keys_a) & set(index.lock_keys(b, None))  # candidates share a band
    # The same text (its hash) shares a key whatever its signature.
    other = _sig("other words entirely")
    assert not set(index.lock_keys(other, None)) & set(keys_a)
    assert set(index.lock_keys(other, "hash-a")) & set(keys_a)
