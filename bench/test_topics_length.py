"""Round 14's view-length variant: one feature, the damped length of the view the model sees.

Every text, feature row and model here is synthetic (written for the test).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from bench.topics.data import DEALS, TOPICS
from bench.topics.paired import adoption, paired_rows, topic_rows
from bot.text.topic_model import LENGTH, TopicModel, _describe, features, view_length

DRILLS = ("Troops held drills", "The troops held joint drills near the border again.")
SUMMIT = ("Leaders met at a summit", "The leaders met and signed a statement at the summit.")
LONG = " ".join(["The troops held joint drills near the border and the leaders met."] * 20)


def test_synthetic_length_has_its_value_for_known_lengths():
    assert view_length("", "x" * 5000) == pytest.approx(1.0)
    assert view_length("t" * 90, "b" * 600) == pytest.approx(math.log1p(690) / math.log1p(5000))
    assert 0.76 < view_length("t" * 90, "b" * 600) < 0.77  # the title + 600 view
    assert view_length("", "") == 0.0
    assert view_length("", "x" * 20000) > 1.0  # not clipped
    assert features(*DRILLS, {}, length=True)[LENGTH] == view_length(*DRILLS)
    assert LENGTH not in features(*DRILLS, {})  # only when asked


def _train(samples, **recipe):
    from bench.topics.scoring import rules_taxonomy
    from bot.text.topic_training import Recipe, train

    pytest.importorskip("sklearn")
    pytest.importorskip("simplemma")
    recipe = Recipe(tune="none", **recipe)
    return train(samples, taxonomy=rules_taxonomy(), topics=TOPICS[:2], recipe=recipe)


def _samples():
    """Synthetic texts whose words say little: only their length tells the two topics apart."""
    short, long = [*DRILLS, [TOPICS[1]]], ("Troops held drills", LONG, [TOPICS[0]])
    return [short] * 8 + [long] * 8 + [[*SUMMIT, [TOPICS[1]]]] * 4


def test_synthetic_training_rows_take_the_length_of_each_view():
    from bench.topics.scoring import rules_taxonomy
    from bot.text.topic_training import Recipe, _rows

    pytest.importorskip("simplemma")
    title, body = "Drills", LONG
    assert len(body) > 1000
    rows, _ = _rows([(title, body, [TOPICS[0]])], rules_taxonomy(), Recipe(length=True))
    expected = [view_length(title, cut) for cut in (body, body[:600], body[:300])]
    assert [row[LENGTH] for row in rows] == expected
    plain, _ = _rows([(title, body, [TOPICS[0]])], rules_taxonomy(), Recipe())
    assert all(LENGTH not in row for row in plain)


def _logits(model: TopicModel, found: dict[str, float]) -> dict[str, float]:
    """Each topic's logit by hand over the features the model knows."""
    names = [n for n in found if n in model.vocabulary]
    rows = model.weights[[model.vocabulary[n] for n in names]]
    return dict(zip(model.topics, model.bias + np.array([found[n] for n in names]) @ rows))


def test_synthetic_the_model_file_round_trips_the_length_and_scores_the_given_view():
    data = _train(_samples(), length=True)
    assert any(LENGTH in topic["weights"] for topic in data["topics"].values())
    model = TopicModel.from_dict(json.loads(json.dumps(data)))
    assert LENGTH in model.vocabulary
    for title, body in (DRILLS, ("Drills", LONG), ("Drills", LONG[:600])):
        logits = _logits(model, features(title, body, {}, length=True))
        decisions = model.decide(title, body, {}, only=set(TOPICS))
        assert decisions  # one of the two topics at least
        for d in decisions:
            assert d.probability == pytest.approx(1 / (1 + math.exp(-logits[d.topic])))
    # The view decides the value: a long text and its lead differ by the length term alone.
    whole, lead = (features("Drills", LONG[:n], {}, length=True)[LENGTH] for n in (None, 600))
    assert whole > lead


def test_synthetic_the_length_alone_gives_no_topic():
    model = TopicModel.from_dict(_train(_samples(), length=True))
    assert model.decide("Zzz", "Qqq xxyy.", {}, only=set(TOPICS)) == []


def test_synthetic_a_model_without_the_length_scores_exactly_as_today():
    data = _train(_samples())
    assert all(LENGTH not in topic["weights"] for topic in data["topics"].values())
    model = TopicModel.from_dict(data)
    [decision] = model.decide(*DRILLS, {}, only=set(TOPICS))
    logit = _logits(model, features(*DRILLS, {}))[decision.topic]
    assert decision.probability == 1 / (1 + math.exp(-logit))  # unscaled inputs, bit for bit


def test_the_shipped_model_has_no_length_feature():
    from bot.text.topic_model import shipped_model

    assert LENGTH not in shipped_model().vocabulary


def test_synthetic_explain_names_the_length():
    assert _describe(LENGTH, 0.5) == "length+0.50"
    assert _describe("w:drill", 1.25) == "lemma:drill+1.25"


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
