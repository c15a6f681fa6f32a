"""Score the default topics with a linear model over lemmas and rule scores, in numpy.

The model is one logistic regression per topic, trained offline (``python -m bench.topics
train``) and shipped as ``topics_model.json`` beside this module. Its inputs are the damped,
position-weighted lemma counts of :mod:`bot.text.lemmas` and, for each topic of the taxonomy,
the damped points its rules earned; so a topic's own phrases still count, and what decided is
told as the lemmas and rule scores that added most. The file carries its own form table
(word form -> lemma for every lemma it weighs), so scoring never loads a lemmatiser.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from bot.text.lemmas import Forms, lemma_features
from bot.text.shipped import FORMAT, MODEL_PATH, checked

__all__ = ["FORMAT", "MODEL_PATH", "Decision", "TopicModel", "features", "shipped_model"]
RULE_WEIGHT = 2.0  # rule points are few and strong; this puts them on the lemmas' scale
EXPLAIN_TOP = 5


@dataclass(frozen=True, slots=True)
class Decision:
    """The model's verdict on one topic: probability and the inputs that added most."""

    topic: str
    probability: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TopicModel:
    """Weights of one logistic regression per topic, over a shared feature vocabulary."""

    topics: tuple[str, ...]
    threshold: float = 0.5  # the probability at which a topic is given, unless it has its own
    vocabulary: Mapping[str, int] = field(default_factory=dict, repr=False)
    weights: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    bias: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    source: str = ""
    # word form -> lemma; None: lemmatise with simplemma (training and cross-validation)
    forms: Forms | None = field(default=None, repr=False)
    thresholds: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    @classmethod
    def from_dict(cls, data: Mapping) -> TopicModel:
        """Build a model from its JSON form, refusing another format."""
        data = checked(data)
        topics = tuple(data["topics"])
        names = sorted({name for t in topics for name in data["topics"][t]["weights"]})
        vocabulary = {name: i for i, name in enumerate(names)}
        weights = np.zeros((len(names), len(topics)))
        for j, topic in enumerate(topics):
            for name, value in data["topics"][topic]["weights"].items():
                weights[vocabulary[name], j] = value
        bias = np.array([data["topics"][t]["bias"] for t in topics], dtype=float)
        threshold = float(data["threshold"])
        thresholds = np.array([data["topics"][t].get("threshold", threshold) for t in topics])
        forms = data.get("lemmas")
        if forms is not None:  # stored by lemma, forms joined by spaces: a third of the size
            forms = {form: name for name, joined in forms.items() for form in joined.split()}
        return cls(topics, threshold, vocabulary, weights, bias, data["source"], forms, thresholds)

    def decide(
        self, title: str, body: str, rule_points: Mapping[str, float], *, only: set[str]
    ) -> list[Decision]:
        """Return a decision for each topic in only that the model scores at its threshold."""
        found = features(title, body, rule_points, forms=self.forms)
        names = [name for name in found if name in self.vocabulary]
        if not names:
            return []
        rows = self.weights[[self.vocabulary[n] for n in names]]
        values = np.fromiter((found[n] for n in names), float, len(names))
        logits = self.bias + values @ rows
        decisions = []
        for j, topic in enumerate(self.topics):
            probability = 1.0 / (1.0 + math.exp(-logits[j]))
            if topic in only and probability >= self.thresholds[j]:
                parts = rows[:, j] * values  # each feature's contribution to this topic
                decisions.append(Decision(topic, probability, _reasons(names, parts)))
        return decisions


def features(
    title: str,
    body: str,
    rule_points: Mapping[str, float],
    *,
    forms: Forms | None = None,
) -> dict[str, float]:
    """Return the model's inputs: lemma features and each topic's damped rule points."""
    found = lemma_features(title, body, forms=forms)
    for key, points in rule_points.items():
        if points > 0:
            found["r:" + key] = RULE_WEIGHT * math.log1p(points)
    return found


def _reasons(names: list[str], parts: np.ndarray) -> tuple[str, ...]:
    """Name the inputs that raised a topic's score most, e.g. "lemma:миротворец+1.52"."""
    order = np.argsort(-parts)[:EXPLAIN_TOP]
    return tuple(_describe(names[i], parts[i]) for i in order if parts[i] > 0)


def _describe(name: str, part: float) -> str:
    """Render one feature and its contribution."""
    kind, _, what = name.partition(":")
    return f"{'lemma' if kind == 'w' else 'rules'}:{what}{part:+.2f}"


@cache
def shipped_model() -> TopicModel:
    """Load the model shipped with the package, or an empty one if there is none."""
    if not MODEL_PATH.exists():
        return TopicModel(topics=())
    return TopicModel.from_dict(json.loads(MODEL_PATH.read_text(encoding="utf-8")))
