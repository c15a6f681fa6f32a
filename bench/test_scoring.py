"""Hand-computed cases for the benchmark scorer: bodies (4-token shingles), titles and dates."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from bench.scoring import (
    DateLabel,
    PageCounts,
    aggregate,
    page_counts,
    same_day,
    same_minute,
    same_title,
    shingles,
    title_contains,
    tokens,
)


def test_tokens_are_unicode_word_runs_with_case_kept() -> None:
    assert tokens("Hello, world! It's 2024.") == ["Hello", "world", "It", "s", "2024"]
    assert tokens("Привет, мир_1 — ok") == ["Привет", "мир_1", "ok"]
    assert tokens("") == []


def test_shingles_are_a_multiset_of_four_token_runs() -> None:
    assert shingles(list("abcde")) == Counter({("a", "b", "c", "d"): 1, ("b", "c", "d", "e"): 1})
    assert shingles(list("abcdabcd")) == Counter(
        {
            ("a", "b", "c", "d"): 2,
            ("b", "c", "d", "a"): 1,
            ("c", "d", "a", "b"): 1,
            ("d", "a", "b", "c"): 1,
        }
    )


def test_short_texts_are_one_shingle_and_empty_texts_none() -> None:
    assert shingles(["a", "b"]) == Counter({("a", "b"): 1})
    assert shingles([]) == Counter()


def test_page_counts_are_normalised_by_their_sum() -> None:
    # truth {abcd, bcde}, prediction {abcd, bcdx}: one of each kind.
    c = page_counts("a b c d e", "a b c d x")
    assert (c.tp, c.fp, c.fn) == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert not c.exact


def test_repeated_shingles_count_as_often_as_they_occur() -> None:
    # truth: abcd twice, bcda, cdab, dabc (5); prediction: abcd once.
    c = page_counts("a b c d a b c d", "a b c d")
    assert (c.tp, c.fp, c.fn) == pytest.approx((0.2, 0.0, 0.8))


def test_identical_token_lists_are_exact_whatever_the_punctuation() -> None:
    c = page_counts("One, two; three four.\n\nFive", "One two three four Five")
    assert (c.tp, c.fp, c.fn, c.exact) == (1.0, 0.0, 0.0, True)


def test_case_matters() -> None:
    c = page_counts("The cat", "the cat")
    assert (c.tp, c.fp, c.fn, c.exact) == (0.0, 0.5, 0.5, False)


def test_empty_prediction_and_empty_pages() -> None:
    assert page_counts("a b c d", "") == PageCounts(0.0, 0.0, 1.0, False)
    assert page_counts("", "") == PageCounts(0.0, 0.0, 0.0, True)


def test_aggregate_averages_precision_and_recall_over_the_pages_where_defined() -> None:
    pages = [
        page_counts("a b c d", "a b c d"),  # P 1,   R 1,   exact
        page_counts("a b c d e", "a b c d x"),  # P 1/2, R 1/2
        page_counts("a b c d", ""),  # no precision (nothing predicted), R 0
        page_counts("a b c d e f", "a b c d e"),  # P 1,   R 2/3
    ]
    scores = aggregate(pages)
    assert scores.precision == pytest.approx(5 / 6)  # (1 + 1/2 + 1) / 3
    assert scores.recall == pytest.approx(13 / 24)  # (1 + 1/2 + 0 + 2/3) / 4
    assert scores.f1 == pytest.approx(65 / 99)  # 2PR / (P + R)
    assert scores.accuracy == pytest.approx(1 / 4)
    assert scores.pages == 4


def test_a_prediction_for_an_empty_truth_counts_against_precision_only() -> None:
    scores = aggregate([page_counts("", "a b c d"), page_counts("a b c d", "a b c d")])
    assert (scores.precision, scores.recall) == (pytest.approx(0.5), pytest.approx(1.0))


def test_long_pages_weigh_no_more_than_short_ones() -> None:
    long_truth = " ".join(f"w{i}" for i in range(1000))
    scores = aggregate([page_counts(long_truth, long_truth), page_counts("a b c d e", "x y z w v")])
    assert scores.precision == pytest.approx(0.5)


# -- Titles and dates against hand labels ---------------------------------------------------------


def test_titles_match_whatever_the_case_spacing_and_quotes() -> None:
    assert same_title("‘We had some issues,’ exec  says", "'We had some issues,' exec says")
    assert same_title("OPINION", "opinion")
    assert not same_title(
        "Republicans Are Following Trump", "Opinion | Republicans Are Following Trump"
    )
    assert not same_title(None, "A title")


def test_a_title_with_the_site_name_still_contains_the_headline() -> None:
    assert title_contains(
        "Opinion | Republicans Are Following Trump", "Republicans are following Trump"
    )
    assert not title_contains("Republicans", "Republicans Are Following Trump")
    assert not title_contains("", "")


def test_date_labels_with_and_without_time() -> None:
    assert DateLabel.parse("2019-11-19") == DateLabel(date(2019, 11, 19))
    with_offset = DateLabel.parse("2019-11-19", "-05:00")
    assert with_offset.moment is None and with_offset.zone.utcoffset(None) == timedelta(hours=-5)
    timed = DateLabel.parse("2019-11-18T23:03-08:00")
    assert timed.day == date(2019, 11, 18)
    assert timed.moment == datetime(2019, 11, 19, 7, 3, tzinfo=UTC)


def test_an_instant_counts_on_the_day_of_the_pages_offset() -> None:
    late_evening = datetime(2019, 11, 19, 4, 31, tzinfo=UTC)  # 22:31 CST on the 18th
    assert same_day(late_evening, DateLabel.parse("2019-11-18T22:31-06:00"))
    assert same_day(late_evening, DateLabel.parse("2019-11-18", "-06:00"))
    assert not same_day(late_evening, DateLabel.parse("2019-11-18"))  # no offset: UTC
    assert same_day(late_evening, DateLabel.parse("2019-11-19"))


def test_a_day_string_is_the_pages_own_day() -> None:
    assert same_day("2019-11-19", DateLabel.parse("2019-11-19T22:31-06:00"))
    assert same_day("2019-11-19T22:31:00", DateLabel.parse("2019-11-19"))
    assert not same_day("2019-11-20", DateLabel.parse("2019-11-19T22:31-06:00"))
    assert not same_day(None, DateLabel.parse("2019-11-19"))


def test_instants_match_to_the_minute() -> None:
    label = DateLabel.parse("2019-11-19T08:03-05:00")
    assert same_minute(datetime(2019, 11, 19, 13, 3, 59, tzinfo=UTC), label)
    assert not same_minute(datetime(2019, 11, 19, 13, 4, tzinfo=UTC), label)
    assert not same_minute(None, label)
    assert not same_minute(datetime(2019, 11, 19, tzinfo=UTC), DateLabel.parse("2019-11-19"))
