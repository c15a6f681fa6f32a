"""The topic model's second stage: co-occurrence, a second topic near the best, the fallback."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bot.text.classify import classify, taxonomy_from_dict
from bot.text.topic_model import FORMAT, TopicModel, give
from bot.text.topic_second import best_fallback, best_ratio, fit_stack, stacked_out_of_fold
from bot.text.topic_training import Recipe, finish, prepare

ROOT = Path(__file__).resolve().parents[1]
THRESHOLDS = np.array([0.5, 0.5, 0.5])


def test_a_topic_is_given_at_its_threshold_and_near_the_best_only_with_a_ratio():
    texts = np.array([[0.9, 0.4, 0.1], [0.3, 0.2, 0.1]])
    given, why = give(texts, THRESHOLDS)
    assert given.tolist() == [[True, False, False], [False, False, False]]
    given, why = give(texts, THRESHOLDS, ratio=0.4)
    # 0.4 >= 0.4 * 0.9: given as a second topic; the second text has no first one to be near
    assert given.tolist() == [[True, True, False], [False, False, False]]
    assert why[0].tolist() == [0, 1, 0]


def test_the_fallback_gives_the_likeliest_topic_only_when_none_passes_and_never_a_vetoed_one():
    texts = np.array([[0.9, 0.4, 0.1], [0.3, 0.2, 0.1], [0.0, 0.0, 0.0]])
    given, why = give(texts, THRESHOLDS, best=True)
    assert given.tolist() == [[True, False, False], [True, False, False], [False] * 3]
    assert why[1].tolist() == [2, 0, 0]


def shaped(rows: list[list[float]], gold: list[list[bool]]) -> tuple[np.ndarray, np.ndarray]:
    """Return (probabilities, truth) shaped texts x 1 view x topics."""
    return np.array(rows)[:, None, :], np.array(gold)[:, None, :]


def test_the_ratio_is_chosen_only_when_second_topics_sit_near_the_best():
    # synthetic: every text's second gold topic has about half the first one's probability
    probabilities, truth = shaped(
        [[0.9, 0.45, 0.05], [0.8, 0.42, 0.1], [0.95, 0.1, 0.48]],
        [[True, True, False], [True, True, False], [True, False, True]],
    )
    assert best_ratio(probabilities, truth, THRESHOLDS) == 0.5
    only_first = np.zeros_like(truth)
    only_first[:, :, 0] = True  # now those near topics are wrong ones
    assert best_ratio(probabilities, only_first, THRESHOLDS) == 0


def test_the_fallback_is_kept_only_when_inner_cv_says_it_helps():
    probabilities, truth = shaped([[0.4, 0.1], [0.3, 0.2], [0.9, 0.1]], [[1, 0], [1, 0], [1, 0]])
    assert best_fallback(probabilities, truth.astype(bool), THRESHOLDS[:2], 0.0)
    no_topic = np.zeros_like(truth, dtype=bool)
    no_topic[2, 0, 0] = True  # synthetic: the texts under every threshold carry no topic
    assert not best_fallback(probabilities, no_topic, THRESHOLDS[:2], 0.0)


def synthetic_co_occurrence(n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic first-stage probabilities: topic 1 is gold whenever topic 0 is, though its own
    probability is a middling 0.3-0.5; topic 2 is noise."""
    rng = np.random.default_rng(7)
    first = rng.random(n) > 0.5
    p0 = np.where(first, rng.uniform(0.7, 1.0, n), rng.uniform(0.0, 0.3, n))
    p1 = rng.uniform(0.3, 0.5, n)
    p2 = rng.uniform(0.0, 1.0, n)
    gold = np.stack([first, first, p2 > 0.5], axis=1)
    return np.stack([p0, p1, p2], axis=1)[:, None, :], gold[:, None, :]


def test_the_stack_learns_that_one_topic_brings_another():
    probabilities, truth = synthetic_co_occurrence()
    stage = fit_stack(probabilities, truth, c=1.0, balanced=True)
    assert stage["others"][0, 1] > 2 and abs(stage["others"][2, 1]) < stage["others"][0, 1] / 4
    groups = [str(i % 10) for i in range(len(truth))]
    stacked = stacked_out_of_fold(probabilities, truth, groups, 5, c=1.0, balanced=True)
    hits = (stacked[:, 0, 1] >= 0.5) == truth[:, 0, 1]
    assert hits.mean() > 0.95 and ((probabilities[:, 0, 1] >= 0.5) == truth[:, 0, 1]).mean() < 0.6


def tiny_model(second: dict) -> TopicModel:
    """A two-topic model by hand: "summit" raises politics; military is raised only by co-occurrence."""
    topics = {
        "politics-diplomacy": {"bias": -2.0, "weights": {"w:summit": 4.0}},
        "military-cooperation": {"bias": -1.0, "weights": {"w:summit": 0.5}},
    }
    return TopicModel.from_dict(
        {"format": FORMAT, "source": "test", "threshold": 0.5, "topics": topics, "second": second}
    )


def test_a_second_topic_raised_by_co_occurrence_says_so():
    stack = {
        "politics-diplomacy": {"own": 1.0, "bias": 0.0, "with": {}},
        "military-cooperation": {"own": 1.0, "bias": -0.5, "with": {"politics-diplomacy": 2.5}},
    }
    model = tiny_model({"stack": stack})
    decisions = {d.topic: d for d in model.decide("Summit", "", {}, only=set(model.topics))}
    assert set(decisions) == {"politics-diplomacy", "military-cooperation"}
    reasons = decisions["military-cooperation"].reasons
    assert reasons[0].startswith("co-occurrence:politics-diplomacy+2.")
    assert "lemma:summit+0.55" in reasons  # the word still counts, scaled by the stage's own weight
    assert not model.decide("Summit", "", {}, only={"politics-diplomacy"})[1:]


def test_a_topic_given_near_the_best_one_is_explained_as_such():
    model = tiny_model({"ratio": 0.4})  # military p=0.39 is within 0.4 of politics' 0.92
    decisions = {d.topic: d for d in model.decide("Summit", "", {}, only=set(model.topics))}
    assert decisions["military-cooperation"].reasons[0] == "second topic:within 0.40 of the best"
    # 4 x log1p(2): a title word; a topic passing its own threshold gets no note
    assert decisions["politics-diplomacy"].reasons == ("lemma:summit+4.39",)


def test_recipes_that_share_a_first_stage_train_their_second_stages_and_still_explain():
    lines = (ROOT / "tests/data/topics_eval.jsonl").read_text(encoding="utf-8").splitlines()
    written = [json.loads(line) for line in lines if line.strip()]
    tables = {"topics": json.loads(json.dumps(_example_topics()))}
    rules = taxonomy_from_dict(tables, model=TopicModel(topics=()))
    topics = sorted({t for r in written for t in r["topics"]})
    samples = [(r["title"], r["body"], r["topics"]) for r in written]
    recipe = Recipe(views=(None, 600))
    prepared = prepare(samples, taxonomy=rules, topics=topics, recipe=recipe)
    plain = finish(prepared, recipe)
    assert "second" not in plain
    every = finish(prepared, Recipe(views=(None, 600), stack=True, ratio=True, fallback=True))
    assert plain["topics"]["peacekeeping"]["weights"] == every["topics"]["peacekeeping"]["weights"]
    assert set(every["second"]["stack"]) == set(topics)
    taxonomy = taxonomy_from_dict(tables, model=TopicModel.from_dict(every))
    (found, *_) = classify(
        title="ОДКБ завершила миротворческую операцию", body="Миротворцы ОДКБ.", taxonomy=taxonomy
    )
    assert found.topic == "peacekeeping" and found.rules[0].startswith("model:p=")
    assert any(reason.startswith("lemma:миротвор") for reason in found.rules)


def _example_topics() -> dict:
    """Return the example config's topic tables."""
    import tomllib

    return tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))["topics"]
