"""The polling benchmark's short form runs clean: every poll does the work it is meant to measure."""

from __future__ import annotations

import os

import pytest

from bench.polling import PATHS, report, run


@pytest.mark.slow
def test_the_polling_benchmark_runs_clean_in_its_short_form(tmp_path) -> None:
    affinity = os.sched_getaffinity(0)
    polls = {"304": 4, "changed": 2, "rebuilt": 2}
    # run() checks each poll's outcome (304, one new article, nothing new) and exits otherwise.
    measured = run(
        sources=2, rounds=1, polls=polls, memory_polls=4, db=tmp_path / "bench.db", log=False
    )
    results = measured["results"]
    assert set(results.rates) == set(PATHS)
    assert all(rate > 0 for rates in results.rates.values() for rate in rates)
    assert [n for n, *_ in results.memory] == [0, 4]
    assert results.memory[-1][3] - results.memory[0][3] == 2  # one new article per changed poll
    assert measured["server"]["requests"] > 0
    assert os.sched_getaffinity(0) == affinity  # the pinning does not outlive the run
    text = report(measured, sources=2, rounds=1, polls=polls, command="python -m bench.polling")
    assert "| 304 Not Modified |" in text and "Command: `python -m bench.polling`" in text
