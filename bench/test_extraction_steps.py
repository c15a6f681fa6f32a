"""The per-step timer of the extraction bench: what it counts and how it takes medians."""

from __future__ import annotations

from bench.extraction_steps import medians, timed


def test_a_wrapped_step_returns_its_result_and_adds_its_time_to_its_name() -> None:
    spent: dict[str, float] = {}
    step = timed(lambda n: sum(range(n)), "sum", spent)
    assert step(10_000) == sum(range(10_000))
    first = spent["sum"]
    step(10_000)
    assert spent["sum"] >= first and list(spent) == ["sum"]


def test_medians_are_over_pages_of_each_pages_median_run_in_ms_with_zero_where_not_run() -> None:
    pages = [
        [{"a": 0.001, "b": 0.004}, {"a": 0.003}, {"a": 0.002}],  # a: 2 ms; b: 0 (median of 4, 0, 0)
        [{"a": 0.010}, {"a": 0.010}, {"a": 0.010}],  # a: 10 ms
        [{"a": 0.004, "b": 0.002}, {"a": 0.004, "b": 0.002}, {"a": 0.004, "b": 0.002}],
    ]
    found = medians(pages)
    assert found["a"] == 4.0
    assert found["b"] == 0.0
