"""The benchmarks run clean in their short forms, run as programs: tests never import bench."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.cli import ROOT


def bench(name: str, *args: str) -> dict:
    """Run `python -m bench.NAME ARGS --json` and return what it printed."""
    run = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", *args, "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_the_delivery_benchmark_runs_clean_in_its_short_form() -> None:
    result = bench("delivery", "--posts", "24", "--channels", "3", "--clock", "virtual")
    assert result["throttled"] == 0
    assert sorted(n for n, _ in result["per_channel"].values()) == [8, 8, 8]


@pytest.mark.slow
def test_the_polling_benchmark_runs_clean_in_its_short_form(tmp_path) -> None:
    # The bench checks each poll's outcome (304, one new article, nothing new) and exits otherwise.
    measured = bench(
        "polling",
        *("--sources", "2", "--rounds", "1", "--polls-304", "4", "--polls-changed", "2"),
        *("--memory-polls", "4", "--db", str(tmp_path / "bench.db"), "--no-log"),
    )
    assert set(measured["rates"]) == {"304", "changed", "rebuilt"}
    assert all(rate > 0 for rates in measured["rates"].values() for rate in rates)
    # The event loop's CPU and blocked shares of each round's wall time.
    assert set(measured["loop"]) == {"304", "changed", "rebuilt"}
    shares = [share for rounds in measured["loop"].values() for pair in rounds for share in pair]
    assert all(0 <= share <= 1 for share in shares) and sum(shares) > 0
    memory = measured["memory"]
    assert [n for n, *_ in memory] == [0, 4]
    assert memory[-1][3] - memory[0][3] == 2  # one new article per changed poll
    assert measured["server_requests"] > 0
    assert "| 304 Not Modified |" in measured["report"]
    assert "Command: `python -m bench.polling --sources 2" in measured["report"]


def test_the_immutable_export_benchmark_runs_clean_in_its_short_form() -> None:
    result = bench("immutable_export", "--articles", "300", "--runs", "1")
    assert set(result["medians"]) == {"immutable", "checked", "wal"}
    assert all(len(runs) == 1 and runs[0] > 0 for runs in result["runs"].values())


def test_the_lead_hash_upgrade_benchmark_runs_clean_in_its_short_form(tmp_path) -> None:
    db = str(tmp_path / "archive.db")
    result = bench("lead_hashes", "--db", db, "--fill", "--articles", "2000", "--runs", "1")
    # bench/archive's ten sources: m025 hashes each one's 50 newest leads, the reference all.
    assert (result["m025_hashed"], result["every_lead_hashed"]) == (500, 2000)


def test_the_runs_history_benchmark_runs_clean_in_its_short_form(tmp_path) -> None:
    from datetime import UTC, datetime

    from storage import RunRecord, RunStatus, Store

    store = Store.open(tmp_path / "soak.db")  # two polled sources, as the soak's archive has
    now = datetime.now(UTC)
    for key in ("s00", "s03"):
        store.sources.record_run(RunRecord(key, now, now, RunStatus.OK))
    store.close()
    result = bench(
        "runs_history",
        *("--archive", str(tmp_path / "soak.db"), "--days", "40", "--every", "3600"),
        "--runs",
        "1",
    )
    assert result["same_answers"] and result["same_answers_after_upkeep"]
    # 40 days of hourly polls: the 10 beyond 30 days go (the one at the boundary by a second).
    assert result["per_source"] == 960 and 2 * 240 <= result["upkeep_deleted"] <= 2 * 241
    assert result["failing_since"]["s03"] and result["failing_since"]["s00"] is None
