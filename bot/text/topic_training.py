"""Train the topic model offline with scikit-learn (the ``train`` extra); never imported at run time.

Each labelled text is seen whole and cut to its first 600 and 300 characters, so the model
learns that a feed item's lead carries the same topics as the article. One logistic regression
per topic, classes balanced (most topics are rare), weights rounded and tiny ones dropped to
keep the shipped file small. The shipped file also carries the form table that lets scoring
skip simplemma (:func:`form_table`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.text import topic_tuning
from bot.text.classify import Taxonomy, rule_points
from bot.text.lemmas import simplemma_lemma, words
from bot.text.topic_model import FORMAT, TopicModel, features

DIGITS = 2  # weights are rounded to this many decimals; smaller ones are dropped
Sample = tuple[str, str, Sequence[str]]  # title, body, topics


@dataclass(frozen=True, slots=True)
class Recipe:
    """How a model is trained: the choices cross-validation compares."""

    views: tuple[int | None, ...] = (None, 600, 300)  # whole text, and the leads a feed shows
    min_texts: int = 3  # a lemma seen in fewer training texts is noise, not a feature
    c: float = 1.0  # inverse strength of the L2 penalty
    c_grid: tuple[float, ...] = ()  # if given, each topic's C is chosen from it by inner CV
    balanced: bool = True  # weigh each class by the inverse of its frequency
    threshold: float = 0.4  # the probability at which a topic is given
    # by inner CV: "global" one threshold; "floor" that one, lowered for a topic whose recall
    # stays under topic_recall; "topic" one per topic for the best F1; "none" the recipe's
    tune: str = "floor"
    # A tuned threshold keeps inner-CV recall at least this high: the goal asks recall >= 0.80
    # (a missed topic is a missed post), and F1 is flat over a wide range of thresholds.
    min_recall: float = 0.8
    # Every topic's recall should reach 0.70: a topic that misses this in inner CV gets a lower
    # threshold of its own (a reader who subscribed to it misses fewer posts).
    topic_recall: float = 0.75
    inner_folds: int = 5


RECIPE = Recipe()


def train(
    samples: Sequence[Sample],
    *,
    taxonomy: Taxonomy,
    topics: Sequence[str],
    groups: Sequence[str] | None = None,
    source: str = "",
    recipe: Recipe = RECIPE,
    with_forms: bool = False,
) -> dict:
    """Fit one regression per topic on the samples; return the model's JSON form.

    groups (e.g. each sample's site) keep related texts in one inner fold when C or the
    thresholds are chosen by cross-validation.
    """
    rows, labels = _rows(samples, taxonomy, recipe)
    cs, thresholds = _settings(rows, labels, topics, recipe, groups)
    names = _vocabulary(rows, len(recipe.views), recipe.min_texts)
    out = {"format": FORMAT, "source": source, "threshold": recipe.threshold, "topics": {}}
    for j, (topic, (bias, coef)) in enumerate(
        zip(topics, _fit(rows, labels, names, topics, cs, recipe.balanced))
    ):
        weights = {
            names[i]: round(float(w), DIGITS)
            for i, w in enumerate(coef)
            if abs(w) >= 2 * 10**-DIGITS
        }
        out["topics"][topic] = {"bias": round(float(bias), DIGITS), "weights": weights}
        if thresholds is not None:
            out["topics"][topic]["threshold"] = round(float(thresholds[j]), 2)
            out["topics"][topic]["c"] = cs[j]
    if thresholds is not None:  # the threshold most topics share; the others carry their own
        out["threshold"] = Counter(round(float(t), 2) for t in thresholds).most_common(1)[0][0]
    if with_forms:
        used = {name for topic in out["topics"].values() for name in topic["weights"]}
        texts = (text for title, body, _ in samples for text in (title, *_cuts(body, recipe)))
        out["lemmas"] = form_table(used, texts)
        out["lemmatizer"] = _lemmatizer_version()
    return out


def _settings(
    rows: Sequence[dict[str, float]],
    labels: Sequence[set[str]],
    topics: Sequence[str],
    recipe: Recipe,
    groups: Sequence[str] | None,
) -> tuple[list[float], np.ndarray | None]:
    """Return each topic's C and threshold: the recipe's, or chosen by inner CV."""
    if not recipe.c_grid and recipe.tune == "none":
        return [recipe.c] * len(topics), None
    per_text = len(recipe.views)
    scored = [recipe.views.index(view) for view in topic_tuning.SCORED_VIEWS]

    def fit_fold(train: list[int], test: list[int], cs: Sequence[float]) -> dict:
        train_rows = [rows[i * per_text + v] for i in train for v in range(per_text)]
        names = _vocabulary(train_rows, per_text, recipe.min_texts)
        test_rows = _matrix([rows[i * per_text + v] for i in test for v in scored], names)
        found = {}
        for c in cs:
            fitted = _fit(
                train_rows,
                [labels[i] for i in train],
                names,
                topics,
                [c] * len(topics),
                recipe.balanced,
            )
            logits = test_rows @ np.array([coef for _, coef in fitted]).T
            logits += np.array([bias for bias, _ in fitted])
            found[c] = (1 / (1 + np.exp(-logits))).reshape(len(test), len(scored), len(topics))
        return found

    groups = groups or [str(i) for i in range(len(labels))]
    grid = recipe.c_grid or (recipe.c,)
    found = topic_tuning.out_of_fold(groups, recipe.inner_folds, grid, fit_fold, len(topics))
    truth = np.array([[[t in gold for t in topics]] * len(scored) for gold in labels])
    cs = topic_tuning.best_c(found, truth) if recipe.c_grid else [recipe.c] * len(topics)
    probabilities = np.stack([found[c][:, :, j] for j, c in enumerate(cs)], axis=2)
    return cs, _thresholds(probabilities, truth, recipe)


def _thresholds(probabilities: np.ndarray, truth: np.ndarray, recipe: Recipe) -> np.ndarray:
    """Choose each topic's threshold from inner-CV probabilities as the recipe says."""
    topics = probabilities.shape[2]
    if recipe.tune == "none":
        return np.full(topics, recipe.threshold)
    start = topic_tuning.best_global(probabilities, truth, recipe.min_recall)
    if recipe.tune == "global":
        return np.full(topics, start)
    if recipe.tune == "floor":
        return topic_tuning.lowered_for_recall(probabilities, truth, start, recipe.topic_recall)
    return topic_tuning.best_per_topic(probabilities, truth, start)


def model(samples: Sequence[Sample], **kwargs) -> TopicModel:
    """Train and return a ready model (for cross-validation)."""
    return TopicModel.from_dict(train(samples, **kwargs))


def form_table(names: Iterable[str], texts: Iterable[str] = ()) -> dict[str, str]:
    """Return {lemma: "form form ..."}: every word form whose simplemma lemma the model weighs.

    Candidate forms are all words of simplemma's English and Russian dictionaries (keys and
    lemmas), the lemmas themselves and the training texts' words; each is kept when simplemma
    lemmatises it to a lemma among the features, so a kept form scores exactly as simplemma
    would. A word outside the candidates whose lemma simplemma would guess by a suffix rule is
    the only difference; bench/topics.py counts how often that changes a decision.
    """
    from simplemma.strategies import DEFAULT_DICTIONARY_FACTORY

    needed = {name[2:] for name in names if name.startswith("w:")}
    candidates = set(needed)
    for text in texts:
        candidates.update(words(text))
    for lang in ("en", "ru"):
        for key, value in DEFAULT_DICTIONARY_FACTORY.get_dictionary(lang).items():
            candidates.update(words(key))
            candidates.update(words(value))
    table: dict[str, list[str]] = defaultdict(list)
    for form in candidates:
        if (found := simplemma_lemma(form)) in needed:
            table[found].append(form)
    return {name: " ".join(sorted(forms)) for name, forms in sorted(table.items())}


def _cuts(body: str, recipe: Recipe) -> list[str]:
    """Return the body as each view sees it (a cut may end inside a word)."""
    return [body if chars is None else body[:chars] for chars in recipe.views]


def _lemmatizer_version() -> str:
    """Name the lemmatiser the form table was drawn from."""
    from importlib.metadata import version

    return f"simplemma {version('simplemma')}"


def _rows(
    samples: Sequence[Sample], taxonomy: Taxonomy, recipe: Recipe
) -> tuple[list[dict[str, float]], list[set[str]]]:
    """Return every sample's feature rows, one per view in order, and its label set."""
    rows, labels = [], []
    for title, body, gold in samples:
        for cut in _cuts(body, recipe):
            points = rule_points(title=title, body=cut, taxonomy=taxonomy)
            rows.append(features(title, cut, points))
        labels.append(set(gold))
    return rows, labels


def _fit(
    rows: Sequence[dict[str, float]],
    labels: Sequence[set[str]],
    names: Sequence[str],
    topics: Sequence[str],
    cs: Sequence[float],
    balanced: bool,
) -> list[tuple[float, np.ndarray]]:
    """Fit each topic's regression; return (bias, coefficients over names) per topic."""
    from sklearn.linear_model import LogisticRegression

    matrix = _matrix(rows, names)
    per_row = len(rows) // len(labels)
    fitted = []
    for topic, c in zip(topics, cs):
        target = [topic in gold for gold in labels for _ in range(per_row)]
        fit = LogisticRegression(C=c, class_weight="balanced" if balanced else None, max_iter=5000)
        fit.fit(matrix, target)
        fitted.append((float(fit.intercept_[0]), fit.coef_[0]))
    return fitted


def _matrix(rows: Sequence[dict[str, float]], names: Sequence[str]):
    """Return the rows as a sparse matrix over the named features."""
    from scipy.sparse import csr_matrix

    index = {name: i for i, name in enumerate(names)}
    data, cols, ptr = [], [], [0]
    for row in rows:
        for name, value in row.items():
            if name in index:
                data.append(value)
                cols.append(index[name])
        ptr.append(len(data))
    return csr_matrix((data, cols, ptr), shape=(len(rows), len(names)))


def _vocabulary(rows: Sequence[dict[str, float]], per_text: int, min_texts: int) -> list[str]:
    """Return the features seen in at least min_texts texts (rule points always)."""
    seen: dict[str, int] = {}
    for row in rows[::per_text]:  # count each text once, by its first (whole) view
        for name in row:
            seen[name] = seen.get(name, 0) + 1
    return sorted(n for n, k in seen.items() if k >= min_texts or n.startswith("r:"))
