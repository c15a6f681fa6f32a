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
