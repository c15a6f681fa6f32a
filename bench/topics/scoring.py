"""Score topic predictions: counts, precision/recall/F1, cross-validation runs and timing."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence

from bench.topics.data import (
    EXAMPLE,
    ROOT,
    TOPICS,
    VIEWS,
    Predict,
    Record,
    example_tables,
    folds,
    site,
    view,
)


def count(records: Sequence[Record], predicted: Sequence[set[str]]) -> dict[str, Counter]:
    """Count tp, fp and fn per topic."""
    counts: dict[str, Counter] = {topic: Counter() for topic in TOPICS}
    for record, got in zip(records, predicted):
        gold = set(record["topics"])
        for topic in (got | gold) & set(TOPICS):
            counts[topic]["tp" if topic in got & gold else "fp" if topic in got else "fn"] += 1
    return counts


def prf(c: Counter) -> tuple[float, float, float]:
    """Return precision, recall and F1 of a tp/fp/fn counter."""
    precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
    recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def micro(counts: dict[str, Counter]) -> tuple[float, float, float]:
    """Return micro-averaged precision, recall and F1."""
    return prf(sum(counts.values(), Counter()))


def predict_all(predict: Predict, records: Sequence[Record], chars: int | None) -> list[set]:
    """Run a predictor over records seen through one view."""
    return [predict(*view(r, chars), r["lang"]) for r in records]


def ms_per_article(predict: Predict, records: Sequence[Record], *, runs: int = 5) -> list[float]:
    """Return each article's best time over runs (title + whole body), in milliseconds."""
    best = []
    for record in records:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            predict(record["title"], record["body"], record["lang"])
            times.append(time.perf_counter() - start)
        best.append(min(times) * 1000)
    return best


def first_call_seconds() -> dict[str, float]:
    """Time a fresh process: one text through `presswatch classify`, and import + first call."""
    line = '{"title": "ОДКБ провела учения", "body": "Миротворцы ОДКБ провели учения."}\n'
    cli = [sys.executable, "-m", "bot", "classify", "--config", str(EXAMPLE)]
    code = (
        "import time, tomllib; start = time.perf_counter()\n"
        "from bot.text.classify import classify, taxonomy_from_dict\n"
        f"tables = tomllib.load(open({str(EXAMPLE)!r}, 'rb'))\n"
        "taxonomy = taxonomy_from_dict({'topics': tables['topics']})\n"
        "classify(title='ОДКБ провела учения', body='Миротворцы ОДКБ.', taxonomy=taxonomy)\n"
        "print(time.perf_counter() - start)\n"
    )
    start = time.perf_counter()
    subprocess.run(cli, input=line, text=True, capture_output=True, check=True, cwd=ROOT)
    wall = time.perf_counter() - start
    inner = subprocess.run(
        [sys.executable, "-c", code], text=True, capture_output=True, check=True, cwd=ROOT
    )
    return {
        "presswatch classify, one text (wall)": wall,
        "import, load, first call": float(inner.stdout),
    }


def predictor(model=None) -> Predict:
    """Return the example taxonomy's classifier: with a given model, or rules alone."""
    from bot.text.classify import classify, taxonomy_from_dict
    from bot.text.topic_model import TopicModel

    taxonomy = taxonomy_from_dict(example_tables(), model=model or TopicModel(topics=()))

    def predict(title: str, body: str, lang: str) -> set[str]:
        return {m.topic for m in classify(title=title, body=body, taxonomy=taxonomy, lang=lang)}

    return predict


def trained(records: Sequence[Record], recipe=None):
    """Train the topic model on records with the example's rules."""
    from bot.text.topic_training import RECIPE, model

    samples = [(r["title"], r["body"], r["topics"]) for r in records]
    groups = [site(r["source"]) for r in records]
    return model(
        samples, taxonomy=rules_taxonomy(), topics=TOPICS, groups=groups, recipe=recipe or RECIPE
    )


def rules_taxonomy():
    """Return the example's topics with no model: what the model reads rule points from."""
    from bot.text.classify import taxonomy_from_dict
    from bot.text.topic_model import TopicModel

    return taxonomy_from_dict(example_tables(), model=TopicModel(topics=()))


def evaluate(predict: Predict, records: Sequence[Record]) -> dict:
    """Predict records in both views; return {view: predictions}."""
    return {label: predict_all(predict, records, chars) for label, chars in VIEWS.items()}


def cv_runs(
    records: Sequence[Record], recipe=None, deal: int = 0
) -> tuple[list[Record], list[dict]]:
    """Train on k-1 folds and predict the k-th, for each fold; return the folds and predictions."""
    dealt = folds(records, deal=deal)
    runs = []
    for i, test in enumerate(dealt):
        train = [r for j, fold in enumerate(dealt) if j != i for r in fold]
        runs.append(evaluate(predictor(trained(train, recipe)), test))
    return dealt, runs
