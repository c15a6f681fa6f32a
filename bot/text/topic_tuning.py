"""Choose the topic model's settings by cross-validation inside its training texts (offline).

Called by :mod:`bot.text.topic_training`, so a model scored by the bench's cross-validation
has chosen its thresholds and penalties without seeing the fold it is scored on (nested
cross-validation). Folds keep a group (a site) whole, as the bench's folds do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np

GRID = tuple(round(0.15 + 0.05 * i, 2) for i in range(15))  # thresholds tried: 0.15 ... 0.85
SCORED_VIEWS = (None, 600)  # what the bench scores: the whole text and title + 600 characters
# (train rows, train labels, test rows, {C: probabilities of the test rows per topic})
Fitter = Callable[[list[int], list[int], Sequence[float]], dict[float, np.ndarray]]


def group_folds(groups: Sequence[str], k: int) -> list[list[int]]:
    """Deal whole groups into k folds of similar size, biggest first, ties by a stable hash."""
    members: dict[str, list[int]] = {}
    for i, name in enumerate(groups):
        members.setdefault(name, []).append(i)
    order = sorted(members, key=lambda g: (-len(members[g]), hashlib.sha256(g.encode()).digest()))
    dealt: list[list[int]] = [[] for _ in range(min(k, len(members)))]
    for name in order:
        min(dealt, key=len).extend(members[name])
    return [sorted(fold) for fold in dealt]


def out_of_fold(
    groups: Sequence[str], k: int, cs: Sequence[float], fit: Fitter, n_topics: int
) -> dict[float, np.ndarray]:
    """Return, for each C, every text's probabilities from a model that did not see it."""
    n = len(groups)
    found = {c: np.zeros((n, len(SCORED_VIEWS), n_topics)) for c in cs}
    for fold in group_folds(groups, k):
        held = set(fold)
        train = [i for i in range(n) if i not in held]
        for c, probabilities in fit(train, fold, cs).items():
            found[c][fold] = probabilities
    return found


def counts(probabilities: np.ndarray, truth: np.ndarray, threshold) -> np.ndarray:
    """Return tp, fp, fn per topic at a threshold (a number or one per topic)."""
    given = probabilities >= threshold
    tp = (given & truth).sum(axis=(0, 1))
    fp = (given & ~truth).sum(axis=(0, 1))
    fn = (~given & truth).sum(axis=(0, 1))
    return np.stack([tp, fp, fn], axis=1)


def micro_f1(table: np.ndarray) -> float:
    """Return micro-F1 of per-topic tp, fp, fn rows."""
    tp, fp, fn = table.sum(axis=0)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def recall(table: np.ndarray) -> float:
    """Return micro-recall of per-topic tp, fp, fn rows."""
    tp, _, fn = table.sum(axis=0)
    return tp / (tp + fn) if tp + fn else 0.0


def best_global(probabilities: np.ndarray, truth: np.ndarray, min_recall: float = 0.0) -> float:
    """Return the one threshold with the best micro-F1 among those keeping recall at
    min_recall (all, if none does); the middle one among equals."""
    tables = [counts(probabilities, truth, t) for t in GRID]
    allowed = [t for t, table in zip(GRID, tables) if recall(table) >= min_recall] or list(GRID)
    scores = {t: micro_f1(table) for t, table in zip(GRID, tables) if t in allowed}
    best = max(scores.values())
    ties = [t for t, s in scores.items() if s >= best - 1e-9]
    return ties[len(ties) // 2]


def best_per_topic(probabilities: np.ndarray, truth: np.ndarray, start: float) -> np.ndarray:
    """Move each topic's threshold from start while micro-F1 rises (two sweeps over topics)."""
    chosen = np.full(probabilities.shape[2], start)
    for _ in range(2):
        for j in range(len(chosen)):
            scores = []
            for t in GRID:
                trial = chosen.copy()
                trial[j] = t
                scores.append(micro_f1(counts(probabilities, truth, trial)))
            best = max(scores)
            if best > micro_f1(counts(probabilities, truth, chosen)) + 1e-9:
                ties = [t for t, s in zip(GRID, scores) if s >= best - 1e-9]
                chosen[j] = ties[len(ties) // 2]
    return chosen


def lowered_for_recall(
    probabilities: np.ndarray, truth: np.ndarray, start: float, floor: float
) -> np.ndarray:
    """Keep start, but lower a topic short of floor recall to the highest threshold reaching it."""
    chosen = np.full(probabilities.shape[2], start)
    for j in range(len(chosen)):
        column, gold = probabilities[:, :, j : j + 1], truth[:, :, j : j + 1]
        if recall(counts(column, gold, start)) >= floor:
            continue
        reaching = [t for t in GRID if t <= start and recall(counts(column, gold, t)) >= floor]
        chosen[j] = max(reaching, default=GRID[0])  # none reaches it: the lowest tried
    return chosen


def best_c(found: dict[float, np.ndarray], truth: np.ndarray) -> list[float]:
    """Return, per topic, the C whose out-of-fold probabilities reach the best F1 at any threshold."""
    picks = []
    for j in range(truth.shape[2]):
        scored = []
        for c, probabilities in found.items():
            column, gold = probabilities[:, :, j : j + 1], truth[:, :, j : j + 1]
            scored.append((max(micro_f1(counts(column, gold, t)) for t in GRID), -c, c))
        picks.append(max(scored)[2])  # ties: the smaller C, the stronger penalty
    return picks
