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

from bot.text import topic_second, topic_tuning
from bot.text.classify import Taxonomy, rule_points
from bot.text.lemmas import simplemma_lemma, words
from bot.text.topic_model import FORMAT, TopicModel, features

DIGITS = 2  # weights are rounded to this many decimals; smaller ones are dropped
Sample = tuple[str, str, Sequence[str]]  # title, body, topics
Setting = tuple[float, bool]  # a topic's regression: C, and whether its classes are balanced


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
    # if given, each topic's class weighting is chosen by inner CV with its C (from c_grid)
    balanced_grid: tuple[bool, ...] = ()
    # Second stage (bot.text.topic_second), each part fitted or chosen on inner-CV probabilities:
    # a regression per topic over the first stage's probabilities of all topics (co-occurrence)
    stack: bool = False
    stack_c: float = 1.0
    # balanced classes in the second stage inflate rare topics' probabilities (round 7: precision
    # 0.82 against 0.87 on deal 0); the first stage is balanced, its thresholds absorb it
    stack_balanced: bool = False
    ratio: bool = False  # a topic near the best given one is given too, the share by inner CV
    fallback: bool = False  # the likeliest topic when none passes, if inner CV says it helps


RECIPE = Recipe()


@dataclass(frozen=True, slots=True)
class Prepared:
    """A trained first stage and its inner-CV probabilities: what every second stage starts from."""

    samples: Sequence[Sample]
    topics: Sequence[str]
    groups: Sequence[str]
    names: list[str]
    fitted: list[tuple[float, np.ndarray]]  # (bias, coefficients over names) per topic
    settings: list[Setting]
    probabilities: np.ndarray | None  # (texts, scored views, topics), out of fold; None: untuned
    truth: np.ndarray | None


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
    """Fit one regression per topic on the samples (and a second stage); return the JSON form.

    groups (e.g. each sample's site) keep related texts in one inner fold when C or the
    thresholds are chosen by cross-validation.
    """
    prepared = prepare(samples, taxonomy=taxonomy, topics=topics, groups=groups, recipe=recipe)
    return finish(prepared, recipe, source=source, with_forms=with_forms)


def prepare(
    samples: Sequence[Sample],
    *,
    taxonomy: Taxonomy,
    topics: Sequence[str],
    groups: Sequence[str] | None = None,
    recipe: Recipe = RECIPE,
) -> Prepared:
    """Fit the first stage and keep its inner-CV probabilities (recipes differing only after may share it)."""
    rows, labels = _rows(samples, taxonomy, recipe)
    groups = list(groups or [str(i) for i in range(len(labels))])
    settings, probabilities, truth = _settings(rows, labels, topics, recipe, groups)
    names = _vocabulary(rows, len(recipe.views), recipe.min_texts)
    fitted = _fit(rows, labels, names, topics, settings)
    return Prepared(samples, topics, groups, names, fitted, settings, probabilities, truth)


def finish(
    prepared: Prepared, recipe: Recipe, *, source: str = "", with_forms: bool = False
) -> dict:
    """Choose thresholds and the second stage on inner-CV probabilities; return the JSON form."""
    topics, names = prepared.topics, prepared.names
    thresholds, second = _second_stage(prepared, recipe)
    out = {"format": FORMAT, "source": source, "threshold": recipe.threshold, "topics": {}}
    for j, (topic, (bias, coef)) in enumerate(zip(topics, prepared.fitted)):
        weights = {
            names[i]: round(float(w), DIGITS)
            for i, w in enumerate(coef)
            if abs(w) >= 2 * 10**-DIGITS
        }
        out["topics"][topic] = {"bias": round(float(bias), DIGITS), "weights": weights}
        if thresholds is not None:
            out["topics"][topic]["threshold"] = round(float(thresholds[j]), 2)
            out["topics"][topic]["c"] = prepared.settings[j][0]
            if recipe.balanced_grid:
                out["topics"][topic]["balanced"] = prepared.settings[j][1]
    if thresholds is not None:  # the threshold most topics share; the others carry their own
        out["threshold"] = Counter(round(float(t), 2) for t in thresholds).most_common(1)[0][0]
    if second:
        out["second"] = second
    if with_forms:
        used = {name for topic in out["topics"].values() for name in topic["weights"]}
        texts = (
            text for title, body, _ in prepared.samples for text in (title, *_cuts(body, recipe))
        )
        out["lemmas"] = form_table(used, texts)
        out["lemmatizer"] = _lemmatizer_version()
    return out


def _second_stage(prepared: Prepared, recipe: Recipe) -> tuple[np.ndarray | None, dict]:
    """Return the thresholds and the second stage's JSON form, all chosen on inner-CV probabilities."""
    probabilities, truth = prepared.probabilities, prepared.truth
    if probabilities is None:
        return None, {}
    second: dict = {}
    if recipe.stack:
        options = {"c": recipe.stack_c, "balanced": recipe.stack_balanced}
        stage = topic_second.fit_stack(probabilities, truth, **options)
        second["stack"] = topic_second.to_json(stage, prepared.topics)
        # thresholds are chosen on stacked probabilities of texts the second stage did not see
        probabilities = topic_second.stacked_out_of_fold(
            probabilities, truth, prepared.groups, recipe.inner_folds, **options
        )
    thresholds = _thresholds(probabilities, truth, recipe)
    ratio = topic_second.best_ratio(probabilities, truth, thresholds) if recipe.ratio else 0.0
    if ratio:
        second["ratio"] = ratio
    if recipe.fallback and topic_second.best_fallback(probabilities, truth, thresholds, ratio):
        second["best"] = True
    return thresholds, second


def _settings(
    rows: Sequence[dict[str, float]],
    labels: Sequence[set[str]],
    topics: Sequence[str],
    recipe: Recipe,
    groups: Sequence[str],
) -> tuple[list[Setting], np.ndarray | None, np.ndarray | None]:
    """Return each topic's setting and inner-CV probabilities (None when nothing is tuned)."""
    if not recipe.c_grid and recipe.tune == "none":
        return [(recipe.c, recipe.balanced)] * len(topics), None, None
    per_text = len(recipe.views)
    scored = [recipe.views.index(view) for view in topic_tuning.SCORED_VIEWS]

    def fit_fold(train: list[int], test: list[int], grid: Sequence[Setting]) -> dict:
        train_rows = [rows[i * per_text + v] for i in train for v in range(per_text)]
        names = _vocabulary(train_rows, per_text, recipe.min_texts)
        test_rows = _matrix([rows[i * per_text + v] for i in test for v in scored], names)
        found = {}
        for setting in grid:
            fitted = _fit(
                train_rows, [labels[i] for i in train], names, topics, [setting] * len(topics)
            )
            logits = test_rows @ np.array([coef for _, coef in fitted]).T
            logits += np.array([bias for bias, _ in fitted])
            found[setting] = (1 / (1 + np.exp(-logits))).reshape(
                len(test), len(scored), len(topics)
            )
        return found

    grid = [
        (c, balanced)
        for c in recipe.c_grid or (recipe.c,)
        for balanced in recipe.balanced_grid or (recipe.balanced,)
    ]
    found = topic_tuning.out_of_fold(groups, recipe.inner_folds, grid, fit_fold, len(topics))
    truth = np.array([[[t in gold for t in topics]] * len(scored) for gold in labels])
    chosen = topic_tuning.best_c(found, truth) if len(grid) > 1 else grid * len(topics)
    probabilities = np.stack([found[s][:, :, j] for j, s in enumerate(chosen)], axis=2)
    return chosen, probabilities, truth


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
    settings: Sequence[Setting],
) -> list[tuple[float, np.ndarray]]:
    """Fit each topic's regression; return (bias, coefficients over names) per topic."""
    from sklearn.linear_model import LogisticRegression

    matrix = _matrix(rows, names)
    per_row = len(rows) // len(labels)
    fitted = []
    for topic, (c, balanced) in zip(topics, settings):
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
