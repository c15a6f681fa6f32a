"""The scale bench's own arithmetic and feeds: rates from two samples, one new entry per poll."""

from __future__ import annotations

from bench.scale.feeds import GrowingFeeds, entry
from bench.scale.measure import Sample, rate


def test_a_rate_is_new_articles_over_time_and_cpu_over_new_articles() -> None:
    measured = rate(Sample(10.0, 100, 2.0, 1.0, 5.0), Sample(30.0, 500, 6.0, 3.0, 7.0))
    assert measured.per_second == 20.0
    assert measured.cpu_ms == 10.0  # 4 s of the workers' CPU over 400 articles
    assert measured.all_cpu_ms == 15.0  # and 2 s of the server's
    assert measured.parse_cpu_ms == 5.0  # the parsers' 2 s, apart
    assert measured.cores == 0.4  # 8 s of CPU in all over 20 s


def test_the_benchs_own_cpu_is_counted_apart_per_article() -> None:
    # The loopback feeds run in the bench's process, on the cores the workers use.
    measured = rate(Sample(10.0, 100, 2.0, 1.0, 5.0, 1.0), Sample(30.0, 500, 6.0, 3.0, 7.0, 1.5))
    assert measured.feeds_cpu_ms == 1.25  # 0.5 s over 400 articles
    assert measured.cores == 0.4  # not in the cores the workers, parsers and server keep busy


def test_a_worker_s_parsers_are_found_below_it() -> None:
    import os
    import subprocess
    import sys

    from bench.scale.measure import children

    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=-1)
    try:
        assert child.pid in children([os.getpid()])
        assert children([child.pid]) == []
    finally:
        child.communicate(b"")


def test_each_request_shows_one_new_entry_and_keeps_the_older_texts() -> None:
    with GrowingFeeds() as feeds:
        first, second = feeds.body("wire-0"), feeds.body("wire-0")
    newest = entry("wire-0", 4, feeds.base_url)
    assert newest.encode() in second and newest.encode() not in first
    assert entry("wire-0", 3, feeds.base_url).encode() in first  # the same text both times
    assert entry("wire-0", 3, feeds.base_url).encode() in second


def test_a_rate_tells_how_far_each_mode_fell_behind() -> None:
    before = Sample(10.0, 100, 2.0, 1.0, 5.0, 1.0, behind=30, queued=4)
    measured = rate(before, Sample(30.0, 500, 6.0, 3.0, 7.0, 1.5, behind=130, queued=250))
    assert measured.behind == 0.25  # 100 skipped or missed polls over 400 articles
    assert measured.queued == (4, 250)  # a queue that grew: the workers fell behind


def test_skipped_and_missed_polls_are_read_from_the_service_s_log(tmp_path) -> None:
    from bench.scale.measure import behind

    log = tmp_path / "service.log"  # synthetic: the lines bot/service/polling.py writes
    assert behind(log) == 0  # not written yet
    log.write_text(
        "WARNING poll wire-1: skipped: the previous one is still running\n"
        "INFO poll wire-2 http://127.0.0.1/wire-2.xml: 1 new\n"
        "WARNING poll wire-3: missed its time (the loop was busy)\n"
        "WARNING poll wire-1: skipped: the previous one is still running\n",
        encoding="utf-8",
    )
    assert behind(log) == 3


def test_every_is_whole_seconds_and_the_table_names_the_load_offered() -> None:
    import argparse

    import pytest

    from bench.scale.__main__ import _seconds, report
    from bench.scale.measure import Rate

    assert _seconds("4") == 4
    for bad in ("0", "1.5", "-2", "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            _seconds(bad)
    args = argparse.Namespace(sources=300, every=4, runs=1, window=24.0)
    results = {
        ("SQLite, the service", 0): [Rate(75.0, 6.0, 6.0, behind=0.0)],
        ("PostgreSQL", 1): [Rate(75.0, 7.5, 9.0, queued=(3, 2))],
    }
    table = report(results, [], args)
    assert "300 sources due every 4 s (offered: 75.0 articles/s)" in table
    assert "| 1.25× |" in table and "| 1.50× |" in table  # the worker's, and with the server's
    assert table.splitlines()[-2].endswith("| 0.00 |")
    assert table.splitlines()[-1].endswith("| 3→2 |")
