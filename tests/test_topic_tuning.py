"""Thresholds chosen from out-of-fold probabilities: one for all, lowered for a topic left behind."""

from __future__ import annotations

import numpy as np

from bot.text.topic_tuning import best_global, lowered_for_recall


def scored(columns: list[list[tuple[float, bool]]]) -> tuple[np.ndarray, np.ndarray]:
    """Return (probabilities, truth) shaped texts x 1 view x topics from per-topic columns."""
    probabilities = np.array([[p for p, _ in column] for column in columns]).T[:, None, :]
    truth = np.array([[g for _, g in column] for column in columns]).T[:, None, :]
    return probabilities, truth


def test_a_topic_whose_recall_falls_short_gets_the_highest_threshold_that_reaches_the_floor():
    easy = [(0.9, True), (0.8, True), (0.7, True), (0.1, False)]
    hard = [(0.6, True), (0.45, True), (0.3, True), (0.2, False)]
    probabilities, truth = scored([easy, hard])
    chosen = lowered_for_recall(probabilities, truth, start=0.65, floor=0.6)
    assert chosen[0] == 0.65  # recall 1.0 at the start: left alone
    assert chosen[1] == 0.45  # 2 of 3 found at 0.45, only 1 of 3 at 0.5-0.65


def test_a_topic_that_never_reaches_the_floor_gets_the_lowest_threshold_tried():
    probabilities, truth = scored([[(0.05, True), (0.1, True), (0.9, False)]])
    assert lowered_for_recall(probabilities, truth, start=0.5, floor=0.7)[0] == 0.15


def test_the_global_threshold_keeps_recall_at_the_floor_when_one_does():
    column = [(0.9, True), (0.8, True), (0.5, False), (0.45, False), (0.4, True)]
    probabilities, truth = scored([column])
    # Best F1 (0.8) from 0.55 to 0.8: 2 of 3 found, none wrong; the middle of those is taken.
    assert best_global(probabilities, truth) == 0.7
    assert best_global(probabilities, truth, min_recall=0.9) <= 0.4  # all 3 found, F1 0.75
