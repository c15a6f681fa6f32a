"""Round 12's evidence-only fit: the same loss as scikit-learn's, every feature weight >= 0.

Every matrix and text here is synthetic (drawn or written for the test).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from bench.topics.data import DEALS, TOPICS
from bench.topics.paired import adoption, paired_rows, topic_rows
from bot.text.topic_fit import fit_logistic

pytest.importorskip("sklearn")


def _synthetic(seed: int = 0, rows: int = 300, size: int = 12):
    """A sparse count matrix and an unbalanced target, some features for it and some against."""
    rng = np.random.default_rng(seed)
    dense = rng.poisson(0.4, size=(rows, size)).astype(float)
    truth = rng.normal(size=size)
    target = dense @ truth - 1.5 + rng.normal(size=rows) > 0
    return csr_matrix(dense), target


@pytest.mark.parametrize("balanced", [True, False])
def test_synthetic_unconstrained_fit_matches_scikit_learn(balanced):
    from sklearn.linear_model import LogisticRegression

    matrix, target = _synthetic()
    assert 0.1 < target.mean() < 0.4  # unbalanced, so the class weights matter
    bias, coef = fit_logistic(matrix, target, c=1.0, balanced=balanced, nonnegative=False, tol=1e-8)
    weights = "balanced" if balanced else None
    reference = LogisticRegression(C=1.0, class_weight=weights, max_iter=5000, tol=1e-8)
    reference.fit(matrix, target)
    assert np.abs(coef - reference.coef_[0]).max() < 1e-3
    assert bias == pytest.approx(reference.intercept_[0], abs=1e-3)
    assert (coef < -0.05).any()  # the data has features against the target: the test can tell


def test_synthetic_constrained_fit_has_no_negative_weight_and_keeps_the_positive_ones():
    matrix, target = _synthetic(seed=1)
    _, free = fit_logistic(matrix, target, c=1.0, balanced=True, nonnegative=False)
    _, bound = fit_logistic(matrix, target, c=1.0, balanced=True, nonnegative=True)
    assert (bound >= 0).all() and (free < 0).any()
    assert (bound[free > 0.5] > 0).all()


def test_synthetic_a_feature_that_only_argues_against_the_topic_gets_zero():
    # Column 0 marks the topic; column 1 appears only in texts without it (a first topic's word).
    rows = [[1, 0]] * 40 + [[0, 1]] * 80 + [[0, 0]] * 40
    target = [True] * 40 + [False] * 120
    matrix = csr_matrix(np.array(rows, dtype=float))
    _, free = fit_logistic(matrix, target, c=1.0, balanced=True, nonnegative=False)
    bias, bound = fit_logistic(matrix, target, c=1.0, balanced=True, nonnegative=True)
    assert free[1] < -0.5
    assert bound[1] == 0.0 and bound[0] > 0.5
    assert bias < 0  # the free bias takes over what column 1 said: no topic without evidence


def _runs(right: list[bool]) -> dict:
    """Synthetic deal runs: per deal an English text, right as given, and a Russian one always right."""
    topic, other = TOPICS[:2]
    texts, got = [], []
    for deal, ok in zip(DEALS, right):
        texts += [{"id": f"en{deal}", "lang": "en", "topics": [topic]}]
        texts += [{"id": f"ru{deal}", "lang": "ru", "topics": [topic]}]
        got += [{topic} if ok else {other}, {topic}]
    return {label: ([], texts, got) for label in ("short", "full")}


def test_synthetic_adoption_checks_each_part_of_the_rule():
    base, better = _runs([False, False, False, True]), _runs([True] * 4)
    verdicts = [held for _, held in adoption(base, better, "short", "full")]
    assert verdicts == [True] * 6
    backwards = adoption(better, base, "short", "full")
    assert [held for _, held in backwards] == [False] * 6
    assert "(0.0000 -> 0.7500)" in backwards[2][0]  # the gap, en 0.25 against ru 1.0
    assert backwards[1][0].endswith("deals (0)")  # three deals fell, one stayed
    rows = paired_rows(base, better, views=("short",))
    assert rows[-1].startswith("| short | pooled | 0.625 → 1.000 | +0.375 | 0.250 → 1.000")
    [en] = [r for r in topic_rows(base, better, "short") if r.startswith(f"| {TOPICS[0]} | en")]
    assert "| 0.250 → 1.000 | +0.750 |" in en  # recall: one of four English texts, then all


def test_synthetic_an_evidence_only_recipe_trains_a_model_without_negative_weights():
    from bench.topics.scoring import rules_taxonomy
    from bot.text.topic_training import Recipe, train

    drills = ("Troops held drills", "The troops held joint drills near the border again.")
    summit = ("Leaders met at a summit", "The leaders met and signed a statement at the summit.")
    samples = [(*drills, [TOPICS[0]])] * 6 + [(*summit, [TOPICS[1]])] * 6
    taxonomy, topics = rules_taxonomy(), TOPICS[:2]
    free = train(samples, taxonomy=taxonomy, topics=topics, recipe=Recipe(tune="none"))
    recipe = Recipe(tune="none", nonnegative=True)
    bound = train(samples, taxonomy=taxonomy, topics=topics, recipe=recipe)
    assert min(w for t in free["topics"].values() for w in t["weights"].values()) < 0
    weights = [w for t in bound["topics"].values() for w in t["weights"].values()]
    assert weights and min(weights) > 0  # zeros are dropped from the file
