"""The poll history: the health read's index seeks (m027/p024) and the upkeep that bounds `runs`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage import RunRecord, RunStatus, Store
from storage.alerts import _FAILING_SINCE
from storage.dialect import is_postgres
from storage.history import last_worked_args, prune

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _poll(store: Store, key: str, status: RunStatus, at: datetime) -> None:
    """Record one poll of `key` at `at`."""
    error = "HTTP 500" if status == RunStatus.ERROR else None
    store.sources.record_run(RunRecord(key, at, at + timedelta(seconds=1), status, error=error))


def _history(store: Store, key: str, statuses: str, *, start: datetime, every: timedelta) -> None:
    """Record a poll per letter, `every` apart: o ok, n not_modified, p partial, e error."""
    letters = {"o": RunStatus.OK, "n": RunStatus.NOT_MODIFIED, "p": RunStatus.PARTIAL}
    for i, letter in enumerate(statuses):
        _poll(store, key, letters.get(letter, RunStatus.ERROR), start + i * every)


def _statuses(store: Store, key: str) -> str:
    """Return the source's kept runs as letters, oldest first."""
    rows = store.db.execute(
        "select status from runs where source_key = ? order by id", [key]
    ).fetchall()
    return "".join({"ok": "o", "not_modified": "n", "partial": "p"}.get(r[0], "e") for r in rows)


def _pass(store: Store, *, kept: timedelta, batch: int = 3) -> int:
    """Run one whole upkeep pass with rows older than `kept` before NOW; return the count."""
    return sum(prune(store.db, before=NOW - kept, batch=batch))


def test_the_health_read_seeks_the_status_index_on_sqlite(tmp_path) -> None:
    """The failing-since read is index seeks on runs (source_key, status, id), never a scan."""
    store = Store.open(tmp_path / "archive.db")
    try:
        sql = f"explain query plan select ({_FAILING_SINCE}) from sources s where s.key = ?"
        plan = [
            row[3] for row in store.db.execute(sql, ["s", "error", *last_worked_args("s"), "s"])
        ]
        runs = [step for step in plan if " runs " in f"{step} "]
        assert runs and all("idx_runs_source_key_status_id" in step for step in runs), plan
        assert not any(step.startswith("SCAN") for step in plan), plan
    finally:
        store.close()


def test_the_day_s_counts_read_the_index_alone_on_sqlite(tmp_path) -> None:
    """`presswatch status`'s count of a day's polls per status never reads the runs rows."""
    store = Store.open(tmp_path / "archive.db")
    try:
        plan = [
            row[3]
            for row in store.db.execute(
                "explain query plan select status, count(*) from runs "
                "where source_key = ? and started_at >= ? group by 1",
                ["s", "2026-01-01"],
            )
        ]
        assert any("COVERING INDEX idx_runs_source_key_started_at_status" in s for s in plan), plan
    finally:
        store.close()


@pytest.mark.postgres
def test_the_health_read_seeks_the_status_index_on_postgres(postgres_archive) -> None:
    """On PostgreSQL the same read is index scans of p024's index (sequential scans off: the
    planner picks them on a table this small, and the plan asked is whether the index serves)."""
    store = postgres_archive.open()
    try:
        with store.transaction():
            store.db.execute("set local enable_seqscan = off")
            sql = f"explain select ({_FAILING_SINCE}) from sources s where s.key = ?"
            args = ["s", "error", *last_worked_args("s"), "s"]
            plan = "\n".join(row[0] for row in store.db.execute(sql, args).fetchall())
        assert "idx_runs_source_key_status_id" in plan, plan
        assert "Seq Scan on runs" not in plan, plan
    finally:
        store.close()


def test_failing_since_is_the_first_failure_after_the_last_poll_that_worked(store) -> None:
    """Each status that works ends a failure streak; the streak's first failure is when it began."""
    hour = timedelta(hours=1)
    _history(store, "s", "oeepnee", start=NOW, every=hour)
    assert store.health.read("s").failing_since == NOW + 5 * hour
    _poll(store, "s", RunStatus.PARTIAL, NOW + 7 * hour)
    assert store.health.read("s").failing_since is None
    _history(store, "never", "eee", start=NOW, every=hour)
    assert store.health.read("never").failing_since == NOW


def test_failing_since_is_the_streak_s_earliest_start_when_polls_overlapped(store) -> None:
    """Two polls of one source overlapped and both failed, the later started finishing first (a
    smaller id): the streak began when the earlier started."""
    hour = timedelta(hours=1)
    _history(store, "s", "o", start=NOW, every=hour)
    _poll(store, "s", RunStatus.ERROR, NOW + 2 * hour)
    _poll(store, "s", RunStatus.ERROR, NOW + hour)
    assert store.health.read("s").failing_since == NOW + hour


def test_upkeep_drops_old_runs_and_keeps_the_last_success_and_the_streak(store) -> None:
    """Rows older than the days kept go, in batches; a source's last poll that worked and its
    failures since stay however old; one that never worked keeps all; health reads the same."""
    day = timedelta(days=1)
    _history(store, "steady", "onnnnonnnn", start=NOW - 10 * day, every=day)
    _history(store, "failing", "onenoeeeee", start=NOW - 10 * day, every=day)
    _history(store, "never", "eeee", start=NOW - 10 * day, every=day)
    before = {k: store.health.read(k) for k in ("steady", "failing", "never")}
    assert _pass(store, kept=timedelta(days=3, hours=12)) == 7 + 4
    assert _statuses(store, "steady") == "nnn"  # the last 3 days; its newest worked
    assert _statuses(store, "failing") == "oeeeee"  # its last success 6 days back, then failures
    assert _statuses(store, "never") == "eeee"
    assert {k: store.health.read(k) for k in before} == before
    assert _pass(store, kept=timedelta(days=3, hours=12)) == 0  # a second pass finds nothing
    assert store.sources.archived_keys() == {"steady", "failing", "never"}


def test_upkeep_keeps_what_the_day_s_counts_read(store) -> None:
    """The runs of the last day (what status and /metrics count) are never old enough to go."""
    _history(store, "s", "o" * 30, start=NOW - timedelta(hours=29), every=timedelta(hours=1))
    assert _pass(store, kept=timedelta(days=1), batch=2) == 5
    kept = store.db.execute("select min(started_at) from runs").fetchone()[0]
    at = kept if isinstance(kept, datetime) else datetime.fromisoformat(kept)
    assert at == NOW - timedelta(days=1) and _statuses(store, "s") == "o" * 25


def test_upkeep_runs_each_batch_in_a_transaction_of_its_own(store) -> None:
    """A pass stopped after a batch keeps that batch's deletions (the writer is free between)."""
    _history(store, "s", "o" * 10, start=NOW - timedelta(days=40), every=timedelta(hours=1))
    batches = prune(store.db, before=NOW - timedelta(days=30), batch=4)
    assert next(batches) == 4
    batches.close()
    assert store.db.execute("select count(*) from runs").fetchone()[0] == 6
    db = store.db
    assert not (db.in_transaction if is_postgres(db) else db.conn.in_transaction)
