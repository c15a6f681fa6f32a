"""Round 13's unit-length variant: lemma vectors scaled to the fit's median length K.

Every text, feature row and model here is synthetic (written for the test).
"""

from __future__ import annotations

import json
import math
import statistics

import numpy as np
import pytest

from bench.topics.data import DEALS, TOPICS
from bench.topics.paired import adoption, paired_rows, topic_rows
from bot.text.lemmas import lemma_norm, unit_scaled
from bot.text.topic_model import TopicModel, features

DRILLS = ("Troops held drills", "The troops held joint drills near the border again.")
SUMMIT = ("Leaders met at a summit", "The leaders met and signed a statement at the summit.")
LONG = " ".join(["The troops held joint drills near the border and the leaders met."] * 8)


def test_synthetic_scaling_sets_the_known_lemmas_length_and_keeps_rule_points():
    found = {"w:drill": 3.0, "w:troop": 4.0, "w:rare": 12.0, "r:military": 1.5}
    known = {"w:drill", "w:troop", "r:military"}
    assert lemma_norm(found, known) == 5.0  # w:rare is unknown, r: is no lemma
    scaled = unit_scaled(found, k=2.0, known=known)
    assert lemma_norm(scaled, known) == pytest.approx(2.0)
    assert scaled["w:drill"] == pytest.approx(1.2) and scaled["r:military"] == 1.5
    only_rules = {"r:military": 1.5, "w:rare": 2.0}
    assert unit_scaled(only_rules, k=2.0, known=known) == only_rules  # nothing to scale


def test_synthetic_a_long_text_and_its_lead_meet_one_length():
    known = {"w:troop", "w:drill", "w:joint", "w:border", "w:leader", "w:meet"}
    short = features("", LONG[:70], {})
    whole = features("", LONG, {})
    assert lemma_norm(whole, known) > 1.5 * lemma_norm(short, known)  # today's length bias
    lengths = [lemma_norm(unit_scaled(f, k=1.7, known=known), known) for f in (short, whole)]
    assert lengths == pytest.approx([1.7, 1.7])


def _train(samples, **recipe):
    from bench.topics.scoring import rules_taxonomy
    from bot.text.topic_training import Recipe, train

    pytest.importorskip("sklearn")
    pytest.importorskip("simplemma")
    recipe = Recipe(tune="none", **recipe)
    return train(samples, taxonomy=rules_taxonomy(), topics=TOPICS[:2], recipe=recipe)


def _samples(extra: int = 0):
    """Synthetic drills and summit texts; extra long drills texts make longer rows."""
    drills, summit = [*DRILLS, [TOPICS[0]]], [*SUMMIT, [TOPICS[1]]]
    return [drills] * 6 + [summit] * 6 + [("Drills", LONG, [TOPICS[0]])] * extra


def _median_norm(samples) -> float:
    """K by hand: the median lemma length of every training row (whole, 600, 300 views)."""
    cuts = [(title, cut) for title, body, _ in samples for cut in (body, body[:600], body[:300])]
    rows = [features(title, cut, {}) for title, cut in cuts]  # rule points are no lemmas
    known = {n for row in rows for n in row}  # every synthetic lemma is in >= 3 texts
    return statistics.median(lemma_norm(row, known) for row in rows)


def test_synthetic_k_is_the_median_length_of_the_fits_own_training_rows():
    samples = _samples(extra=3)
    data = _train(samples, unit=True)
    assert data["unit"]["k"] == pytest.approx(_median_norm(samples), abs=1e-4)
    # Other training rows give another K: it is the fit's own, not a constant.
    assert _train(_samples(), unit=True)["unit"]["k"] != pytest.approx(data["unit"]["k"])


def test_synthetic_inner_folds_take_k_from_their_own_training_rows(monkeypatch):
    from bot.text import topic_training

    seen = []
    real = topic_training._unit

    def spy(rows, names, recipe):
        seen.append(len(rows))
        return real(rows, names, recipe)

    monkeypatch.setattr(topic_training, "_unit", spy)
    samples = _samples(extra=3)
    groups = [f"site{i % 5}" for i in range(len(samples))]
    pytest.importorskip("sklearn")
    from bench.topics.scoring import rules_taxonomy

    recipe = topic_training.Recipe(unit=True, tune="global")
    taxonomy, topics = rules_taxonomy(), TOPICS[:2]
    topic_training.train(samples, taxonomy=taxonomy, topics=topics, groups=groups, recipe=recipe)
    # Five inner folds, each on the rows (3 views) of the texts outside it, then the final fit.
    outside = [3 * sum(g != f"site{k}" for g in groups) for k in range(5)]
    assert sorted(seen[:-1]) == sorted(outside) and seen[-1] == 3 * len(samples)


def test_synthetic_the_model_file_round_trips_k_and_scores_as_trained():
    data = _train(_samples(extra=3), unit=True)
    assert data["topics"] != _train(_samples(extra=3))["topics"]  # the fit saw scaled rows
    model = TopicModel.from_dict(json.loads(json.dumps(data)))
    assert model.unit == data["unit"]["k"]
    silent = {"w:" + n for n in data["unit"]["silent"]}
    assert silent <= set(model.vocabulary)
    found = unit_scaled(features(*DRILLS, {}), k=model.unit, known=model.vocabulary)
    names = [n for n in found if n in model.vocabulary]
    rows = model.weights[[model.vocabulary[n] for n in names]]
    logit = (model.bias + np.array([found[n] for n in names]) @ rows)[0]
    [decision] = model.decide(*DRILLS, {}, only={TOPICS[0]})
    assert decision.probability == pytest.approx(1 / (1 + math.exp(-logit)))


def test_synthetic_a_model_without_k_scores_exactly_as_today():
    data = _train(_samples(extra=3))
    assert "unit" not in data
    model = TopicModel.from_dict(data)
    assert model.unit is None
    found = features(*DRILLS, {})
    names = [n for n in found if n in model.vocabulary]
    rows = model.weights[[model.vocabulary[n] for n in names]]
    logit = (model.bias + np.array([found[n] for n in names]) @ rows)[0]
    [decision] = model.decide(*DRILLS, {}, only={TOPICS[0]})
    assert decision.probability == 1 / (1 + math.exp(-logit))  # unscaled values, bit for bit


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
