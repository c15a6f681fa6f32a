"""Train the topic model's second stage from inner-CV probabilities (offline, scikit-learn).

Every choice here is made on probabilities the first stage gave texts it was not trained on
(:func:`bot.text.topic_tuning.out_of_fold`), so a model scored by the bench's cross-validation
chose its second stage without seeing the fold it is scored on. The stacked regressions are
themselves scored out of fold (the same site-grouped folds) before thresholds are chosen on them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from bot.text import topic_tuning
from bot.text.topic_model import CLIP, SecondStage, give

RATIOS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)  # shares of the best topic's probability tried
DIGITS = 2
Thresholds = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (probabilities, truth) -> per topic


def stack_rows(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the clipped first-stage logits and the probabilities, one row per (text, view)."""
    flat = probabilities.reshape(-1, probabilities.shape[-1])
    clipped = np.clip(flat, 1e-9, 1 - 1e-9)
    return np.clip(np.log(clipped / (1 - clipped)), -CLIP, CLIP), flat


def fit_stack(probabilities: np.ndarray, truth: np.ndarray, *, c: float, balanced: bool) -> dict:
    """Fit one regression per topic over its own logit and the other topics' probabilities."""
    from sklearn.linear_model import LogisticRegression

    logits, flat = stack_rows(probabilities)
    gold = truth.reshape(-1, truth.shape[-1])
    n_topics = flat.shape[1]
    own, others, bias = np.zeros(n_topics), np.zeros((n_topics, n_topics)), np.zeros(n_topics)
    for j in range(n_topics):
        inputs = np.column_stack([logits[:, j], np.delete(flat, j, axis=1)])
        fit = LogisticRegression(C=c, class_weight="balanced" if balanced else None, max_iter=5000)
        fit.fit(inputs, gold[:, j])
        coef = np.round(fit.coef_[0], DIGITS)
        own[j], bias[j] = coef[0], round(float(fit.intercept_[0]), DIGITS)
        others[np.arange(n_topics) != j, j] = coef[1:]
    return {"own": own, "others": others, "bias": bias}


def stacked_out_of_fold(
    probabilities: np.ndarray,
    truth: np.ndarray,
    groups: Sequence[str],
    k: int,
    *,
    c: float,
    balanced: bool,
) -> np.ndarray:
    """Return every text's stacked probabilities from a second stage that did not see it."""
    found = np.zeros(probabilities.shape)
    for fold in topic_tuning.group_folds(groups, k):
        held = set(fold)
        train = [i for i in range(len(groups)) if i not in held]
        stage = SecondStage(**fit_stack(probabilities[train], truth[train], c=c, balanced=balanced))
        found[fold] = stage.probabilities(_logits(probabilities[fold]))
    return found


def best_ratio(probabilities: np.ndarray, truth: np.ndarray, thresholds: np.ndarray) -> float:
    """Return the share of the best topic that gives a second topic best (0: none helps)."""
    scores = {0.0: _f1(probabilities, truth, thresholds, 0.0, False)}
    for ratio in RATIOS:
        scores[ratio] = _f1(probabilities, truth, thresholds, ratio, False)
    best = max(scores.values())
    if scores[0.0] >= best - 1e-9:
        return 0.0
    return max(r for r, s in scores.items() if s >= best - 1e-9)  # ties: the fewest topics added


def best_fallback(
    probabilities: np.ndarray, truth: np.ndarray, thresholds: np.ndarray, ratio: float
) -> bool:
    """Tell whether giving the likeliest topic when none passes raises inner-CV micro-F1."""
    without = _f1(probabilities, truth, thresholds, ratio, False)
    return _f1(probabilities, truth, thresholds, ratio, True) > without + 1e-9


def to_json(stage: dict, topics: Sequence[str]) -> dict:
    """Return the stacked regressions as the model file stores them, by topic name."""
    return {
        topic: {
            "own": float(stage["own"][j]),
            "bias": float(stage["bias"][j]),
            "with": {
                other: float(stage["others"][i, j])
                for i, other in enumerate(topics)
                if i != j and stage["others"][i, j]
            },
        }
        for j, topic in enumerate(topics)
    }


def _logits(probabilities: np.ndarray) -> np.ndarray:
    """Return the logits of probabilities (the inverse of the first stage's sigmoid)."""
    clipped = np.clip(probabilities, 1e-9, 1 - 1e-9)
    return np.log(clipped / (1 - clipped))


def _f1(
    probabilities: np.ndarray, truth: np.ndarray, thresholds: np.ndarray, ratio: float, best: bool
) -> float:
    """Return micro-F1 of the topics give() hands out."""
    given, _ = give(probabilities, thresholds, ratio, best)
    tp = (given & truth).sum()
    wrong = (given ^ truth).sum()
    return 2 * tp / (2 * tp + wrong) if tp else 0.0
