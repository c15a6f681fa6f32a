"""Score the default topics with a linear model over lemmas and rule scores, in numpy.

The model is one logistic regression per topic, trained offline (``python -m bench.topics
train``) and shipped as ``topics_model.json`` beside this module. Its inputs are the damped,
position-weighted lemma counts of :mod:`bot.text.lemmas` and, for each topic of the taxonomy,
the damped points its rules earned; so a topic's own phrases still count, and what decided is
told as the lemmas and rule scores that added most. The file carries its own form table
(word form -> lemma for every lemma it weighs), so scoring never loads a lemmatiser.

A model may carry a second stage (:class:`SecondStage`), chosen when it was trained: a second
regression per topic over the first stage's verdict on it and its probabilities of the other
topics (a summit's military matters), a lower bar for a topic close to the text's best one, or
the best topic when none passes. Its explanations name what it added ("co-occurrence:...").
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from bot.text.lemmas import Forms, lemma_features

MODEL_PATH = Path(__file__).with_name("topics_model.json")
FORMAT = 2
RULE_WEIGHT = 2.0  # rule points are few and strong; this puts them on the lemmas' scale
EXPLAIN_TOP = 5
CLIP = 10.0  # first-stage logits fed to the second stage are clipped: past this, certainty is equal
MIN_REASON = 0.1  # a co-occurrence adding less than this to a logit is not named


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
    second: SecondStage | None = field(default=None, repr=False)

    @classmethod
    def from_dict(cls, data: Mapping) -> TopicModel:
        """Build a model from its JSON form, refusing another format."""
        if data.get("format") != FORMAT:
            raise ValueError(f"topic model format {data.get('format')!r}, expected {FORMAT}")
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
        second = SecondStage.from_dict(data["second"], topics) if "second" in data else None
        return cls(
            topics, threshold, vocabulary, weights, bias, data["source"], forms, thresholds, second
        )

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
        if self.second is None:
            probabilities = _sigmoid(logits)
            given = probabilities >= self.thresholds
            allowed = np.array([topic in only for topic in self.topics])
            return [
                Decision(topic, float(probabilities[j]), _reasons(names, rows[:, j] * values))
                for j, topic in enumerate(self.topics)
                if given[j] and allowed[j]
            ]
        return self.second.decide(self, names, rows * values[:, None], logits, only)


@dataclass(frozen=True, slots=True)
class SecondStage:
    """What the model does after its first regressions: co-occurrence, a second topic's bar, a fallback."""

    # logit = own * first-stage logit + first-stage probabilities @ others + bias (topic columns);
    # own None: no stacking, the first stage's probabilities are final
    own: np.ndarray | None = None
    others: np.ndarray | None = None
    bias: np.ndarray | None = None
    ratio: float = 0.0  # a topic within this share of the text's best given one is given too
    best: bool = False  # when no topic passes its threshold, the likeliest one is given

    @classmethod
    def from_dict(cls, data: Mapping, topics: Sequence[str]) -> SecondStage:
        """Build the second stage from its JSON form ({"stack": {topic: ...}, "ratio", "best"})."""
        own = others = bias = None
        if "stack" in data:
            stack = [data["stack"][t] for t in topics]
            own = np.array([s["own"] for s in stack], dtype=float)
            bias = np.array([s["bias"] for s in stack], dtype=float)
            others = np.array([[s["with"].get(k, 0.0) for s in stack] for k in topics])
        return cls(own, others, bias, float(data.get("ratio", 0.0)), bool(data.get("best", False)))

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """Return final probabilities from first-stage logits (any leading shape, topics last)."""
        first = _sigmoid(logits)
        if self.own is None:
            return first
        return _sigmoid(self.own * np.clip(logits, -CLIP, CLIP) + first @ self.others + self.bias)

    def decide(
        self, model: TopicModel, names: list[str], parts: np.ndarray, logits: np.ndarray, only
    ) -> list[Decision]:
        """Return the decisions of the topics in only, each with what raised it."""
        final = self.probabilities(logits)
        allowed = np.array([topic in only for topic in model.topics])
        given, why = give(final * allowed, model.thresholds, self.ratio, self.best)
        first = _sigmoid(logits)
        decisions = []
        for j in np.flatnonzero(given):
            reasons = _reasons(names, parts[:, j] * (1.0 if self.own is None else self.own[j]))
            if self.others is not None:
                reasons = _merged(reasons, self._co_occurrence(model.topics, first, j))
            note = {
                1: f"second topic:within {self.ratio:.2f} of the best",
                2: "best topic:none passed",
            }
            reasons = (note[why[j]], *reasons) if why[j] else reasons
            decisions.append(Decision(model.topics[j], float(final[j]), reasons))
        return decisions

    def _co_occurrence(self, topics: Sequence[str], first: np.ndarray, j: int) -> list[str]:
        """Name the other topics whose probability raised topic j, e.g. "co-occurrence:economy+0.84"."""
        parts = first * self.others[:, j]
        return [
            f"co-occurrence:{topics[k]}{parts[k]:+.2f}"
            for k in np.argsort(-parts)[:EXPLAIN_TOP]
            if parts[k] >= MIN_REASON
        ]


def give(
    probabilities: np.ndarray, thresholds: np.ndarray, ratio: float = 0.0, best: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Return which topics are given (topics last) and why: 0 threshold, 1 near the best, 2 fallback."""
    given = probabilities >= thresholds
    why = np.zeros(probabilities.shape, dtype=int)
    if ratio:
        top = np.where(given, probabilities, 0.0).max(axis=-1, keepdims=True)
        near = (top > 0) & (probabilities >= ratio * top) & ~given
        given, why = given | near, np.where(near, 1, why)
    if best:
        likeliest = probabilities == probabilities.max(axis=-1, keepdims=True)
        fallback = ~given.any(axis=-1, keepdims=True) & likeliest & (probabilities > 0)
        given, why = given | fallback, np.where(fallback, 2, why)
    return given, why


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    """Return the logistic function of logits."""
    return 1.0 / (1.0 + np.exp(-logits))


def _merged(first: tuple[str, ...], second: list[str]) -> tuple[str, ...]:
    """Merge two lists of "name+0.12" reasons, largest contribution first, EXPLAIN_TOP kept."""
    both = sorted((*first, *second), key=lambda r: -float(r[r.rindex("+") :]))
    return tuple(both[:EXPLAIN_TOP])


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
