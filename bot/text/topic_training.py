"""Train the topic model offline with scikit-learn (the ``train`` extra); never imported at run time.

Each labelled text is seen whole and cut to its first 600 and 300 characters, so the model
learns that a feed item's lead carries the same topics as the article. One logistic regression
per topic, classes balanced (most topics are rare), weights rounded and tiny ones dropped to
keep the shipped file small.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.text.classify import Taxonomy, rule_points
from bot.text.topic_model import FORMAT, TopicModel, features

VIEWS = (None, 600, 300)  # whole text, and the leads a feed item or a post shows
MIN_TEXTS = 3  # a lemma seen in fewer training texts is noise, not a feature
C = 1.0  # inverse strength of the L2 penalty
THRESHOLD = 0.4  # the probability at which a topic is given (chosen by cross-validation)
DIGITS = 2  # weights are rounded to this many decimals; smaller ones are dropped
Sample = tuple[str, str, Sequence[str]]  # title, body, topics


def train(
    samples: Sequence[Sample],
    *,
    taxonomy: Taxonomy,
    topics: Sequence[str],
    source: str = "",
    threshold: float = THRESHOLD,
) -> dict:
    """Fit one regression per topic on the samples; return the model's JSON form."""
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    rows, labels = [], []
    for title, body, gold in samples:
        for chars in VIEWS:
            cut = body if chars is None else body[:chars]
            points = rule_points(title=title, body=cut, taxonomy=taxonomy)
            rows.append(features(title, cut, points))
            labels.append(set(gold))
    names = _vocabulary(rows)
    index = {name: i for i, name in enumerate(names)}
    data, cols, ptr = [], [], [0]
    for row in rows:
        for name, value in row.items():
            if name in index:
                data.append(value)
                cols.append(index[name])
        ptr.append(len(data))
    matrix = csr_matrix((data, cols, ptr), shape=(len(rows), len(names)))
    out = {"format": FORMAT, "source": source, "threshold": threshold, "topics": {}}
    for topic in topics:
        target = [topic in gold for gold in labels]
        fit = LogisticRegression(C=C, class_weight="balanced", max_iter=5000)
        fit.fit(matrix, target)
        weights = {
            names[i]: round(float(w), DIGITS)
            for i, w in enumerate(fit.coef_[0])
            if abs(w) >= 2 * 10**-DIGITS
        }
        out["topics"][topic] = {"bias": round(float(fit.intercept_[0]), DIGITS), "weights": weights}
    return out


def model(samples: Sequence[Sample], **kwargs) -> TopicModel:
    """Train and return a ready model (for cross-validation)."""
    return TopicModel.from_dict(train(samples, **kwargs))


def _vocabulary(rows: Sequence[dict[str, float]]) -> list[str]:
    """Return the features seen in at least MIN_TEXTS texts (rule points always)."""
    seen: dict[str, int] = {}
    for row in rows[:: len(VIEWS)]:  # count each text once, by its whole view
        for name in row:
            seen[name] = seen.get(name, 0) + 1
    return sorted(n for n, k in seen.items() if k >= MIN_TEXTS or n.startswith("r:"))
