"""Markdown rows of the topic benchmark: per system, language, topic, fold and timing."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence

from bench.topics.data import (
    DEALS,
    FOLDS,
    SHORT,
    TOPICS,
    VIEWS,
    WRITTEN,
    Predict,
    Record,
    load,
    view,
)
from bench.topics.scoring import (
    count,
    cv_runs,
    first_call_seconds,
    micro,
    ms_per_article,
    predict_all,
    predictor,
    prf,
    rules_taxonomy,
)


def row(name: str, counts: dict[str, Counter], n: int) -> str:
    """Format one micro-averaged table row."""
    p, r, f = micro(counts)
    return f"| {name} | {n} | {p:.3f} | {r:.3f} | **{f:.3f}** |"


def language_rows(name: str, records: Sequence[Record], predicted: Sequence[set]) -> list[str]:
    """Format micro rows for each language."""
    rows = []
    for lang in ("en", "ru"):
        pairs = [(r, p) for r, p in zip(records, predicted) if r["lang"] == lang]
        subset = [r for r, _ in pairs]
        rows.append(row(f"{name}, {lang}", count(subset, [p for _, p in pairs]), len(subset)))
    return rows


def topic_table(columns: dict[str, dict[str, Counter]]) -> list[str]:
    """Format per-topic P/R/F1 with one group of columns per named count set."""
    head = "| topic | " + " | ".join(f"{name} P | R | F1" for name in columns) + " |"
    rule = "|---|" + "---:|---:|---:|" * len(columns)
    lines = [head, rule]
    for topic in TOPICS:
        cells = []
        for counts in columns.values():
            p, r, f = prf(counts[topic])
            cells.append(f"{p:.2f} | {r:.2f} | {f:.2f}")
        lines.append(f"| {topic} | " + " | ".join(cells) + " |")
    return lines


def cross_validate(records: Sequence[Record], name: str, recipe=None) -> list[str]:
    """Report each fold's scores, their mean, and the pooled figures of a cross-validation."""
    dealt, runs = cv_runs(records, recipe)
    out = [f"#### {name}: {FOLDS}-fold cross-validation, folds grouped by site", ""]
    out += [
        "| fold | texts | title+600 P | R | F1 | full P | R | F1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    pooled_records: list[Record] = []
    pooled: dict[str, list] = {label: [] for label in VIEWS}
    f1s: dict[str, list] = {label: [] for label in VIEWS}
    for i, (test, got) in enumerate(zip(dealt, runs)):
        cells = []
        for label in VIEWS:
            p, r, f = micro(count(test, got[label]))
            f1s[label].append(f)
            cells.append(f"{p:.3f} | {r:.3f} | {f:.3f}")
            pooled[label] += got[label]
        pooled_records += test
        out.append(f"| {i + 1} | {len(test)} | " + " | ".join(cells) + " |")
    means = " | ".join(f" | | **{statistics.mean(f1s[label]):.3f}**" for label in VIEWS)
    out.append(f"| mean of folds | {len(records)} |{means} |")
    return out + [""] + detail(pooled_records, pooled, f"{name}, pooled over the folds")


def deal_runs(records: Sequence[Record], recipe) -> dict[str, tuple[list, list, list]]:
    """Run a recipe's CV over every fold deal: per view, each deal's F1, texts and predictions."""
    dealt_runs = [cv_runs(records, recipe, deal) for deal in DEALS]
    out = {}
    for label in VIEWS:
        f1s, pooled, got = [], [], []
        for dealt, runs in dealt_runs:
            texts = [r for fold in dealt for r in fold]
            found = [p for run in runs for p in run[label]]
            f1s.append(micro(count(texts, found))[2])
            pooled += texts
            got += found
        out[label] = (f1s, pooled, got)
    return out


def ablation_row(name: str, runs: dict[str, tuple[list, list, list]]) -> str:
    """Summarise CV over the fold deals: micro-F1, weakest topic recall, F1 per language."""
    cells = []
    for label in VIEWS:
        f1s, pooled, got = runs[label]
        counts = count(pooled, got)
        worst = min(TOPICS, key=lambda t: prf(counts[t])[1])
        by_lang = [
            micro(count(*zip(*[(x, y) for x, y in zip(pooled, got) if x["lang"] == lang])))[2]
            for lang in ("en", "ru")
        ]
        cells.append(
            f"**{statistics.mean(f1s):.3f}** | {min(f1s):.3f}–{max(f1s):.3f}"
            f" | {prf(counts[worst])[1]:.2f} {worst[:8]} | {by_lang[0]:.3f} / {by_lang[1]:.3f}"
        )
    return f"| {name} | " + " | ".join(cells) + " |"


def subset_row(name: str, runs: dict[str, tuple[list, list, list]], keep) -> str:
    """F1 over the deals of only the texts keep() selects: the same texts before and after."""
    cells = []
    for label in VIEWS:
        _, pooled, got = runs[label]
        pairs = [(r, p) for r, p in zip(pooled, got) if keep(r)]
        langs = [_f1([(r, p) for r, p in pairs if r["lang"] == lang]) for lang in ("en", "ru")]
        cells.append(f"**{_f1(pairs)}** | | | {langs[0]} / {langs[1]}")
    return f"| {name} ({len(pairs) // len(DEALS)} texts) | " + " | ".join(cells) + " |"


def _f1(pairs: Sequence[tuple[Record, set]]) -> str:
    """Micro-F1 of (record, predicted) pairs, or a dash when there are none."""
    return f"{micro(count(*zip(*pairs)))[2]:.3f}" if pairs else "–"


def deal_topic_rows(name: str, runs: dict[str, tuple[list, list, list]]) -> list[str]:
    """Per-topic P/R/F1 per language and view, pooled over every fold deal."""
    pooled = runs[next(iter(VIEWS))][1]
    got = {label: runs[label][2] for label in VIEWS}
    head = f"per language and topic, {name}, pooled over deals {DEALS}:"
    return [head, ""] + topic_table(by_language(pooled, got)) + [""]


def subset_detail(records: Sequence[Record], got: dict, keep, name: str) -> list[str]:
    """Report detail() for the records that keep() selects, with their predictions."""
    mine = [i for i, r in enumerate(records) if keep(r)]
    picked = {label: [found[i] for i in mine] for label, found in got.items()}
    return detail([records[i] for i in mine], picked, name)


def detail(records: Sequence[Record], got: dict, name: str) -> list[str]:
    """Report micro figures per view and language, and per-topic figures per view."""
    out = [f"#### {name}", "", "| view | texts | precision | recall | micro-F1 |"]
    out.append("|---|---:|---:|---:|---:|")
    for label in VIEWS:
        out.append(row(label, count(records, got[label]), len(records)))
        out.extend(language_rows(label, records, got[label]))
    out.append("")
    out += topic_table({label: count(records, got[label]) for label in VIEWS}) + [""]
    return out + [f"per language, {name}:", ""] + topic_table(by_language(records, got)) + [""]


def by_language(records: Sequence[Record], got: dict) -> dict[str, dict[str, Counter]]:
    """Count tp/fp/fn per topic for each language and view ("title + 600, en" ...)."""
    columns = {}
    for label in VIEWS:
        for lang in ("en", "ru"):
            mine = [i for i, r in enumerate(records) if r["lang"] == lang]
            columns[f"{label}, {lang}"] = count(
                [records[i] for i in mine], [got[label][i] for i in mine]
            )
    return columns


def written_rows(systems: dict[str, Predict]) -> list[str]:
    """Report each system on the written set (unit-test texts, not accuracy)."""
    written = load(WRITTEN)
    out = ["#### written set (texts we wrote; unit tests, never accuracy)", ""]
    out += ["| system | texts | precision | recall | micro-F1 |", "|---|---:|---:|---:|---:|"]
    for name, predict in systems.items():
        out.append(row(name, count(written, predict_all(predict, written, None)), len(written)))
    return out + [""]


def timing_rows(systems: dict[str, Predict], records: Sequence[Record]) -> list[str]:
    """Report milliseconds per article (title + whole body) and a fresh process's first call."""
    out = ["#### time per article (title + whole body, best of 5 runs, over the real set)", ""]
    for name, predict in systems.items():
        predict_all(predict, records, None)  # warm up: the first call loads the model
        times = ms_per_article(predict, records)
        out.append(
            f"- {name}: median {statistics.median(times):.3f} ms,"
            f" mean {statistics.mean(times):.3f} ms, slowest {max(times):.3f} ms"
        )
    out += ["", "#### a fresh process", ""]
    out += [f"- {name}: {seconds:.2f} s" for name, seconds in first_call_seconds().items()]
    return out + [""]


def form_table_rows(tuning: Sequence[Record], heldout: Sequence[Record]) -> list[str]:
    """Compare the form table with simplemma on held-out texts (table from tuning texts)."""
    import dataclasses

    from bot.text.lemmas import lemma_features
    from bot.text.topic_model import TopicModel
    from bot.text.topic_training import train

    samples = [(r["title"], r["body"], r["topics"]) for r in tuning]
    data = train(samples, taxonomy=rules_taxonomy(), topics=TOPICS, with_forms=True)
    model = TopicModel.from_dict(data)
    fast, slow = predictor(model), predictor(dataclasses.replace(model, forms=None))
    views = features_differ = topics_differ = 0
    for record in heldout:
        for chars in (None, SHORT, 300):
            title, body = view(record, chars)
            views += 1
            a = lemma_features(title, body, forms=model.forms)
            b = lemma_features(title, body)
            features_differ += any(a.get(n) != b.get(n) for n in model.vocabulary)
            topics_differ += fast(title, body, "") != slow(title, body, "")
    return [
        "#### form table vs simplemma, held-out texts (model and table from the tuning part)",
        "",
        f"- views (whole, 600, 300) compared: {views}; with a weighted lemma counted otherwise:"
        f" {features_differ}; with other topics: {topics_differ}",
        "",
    ]
