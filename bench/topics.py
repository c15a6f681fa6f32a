"""Measure the topic classifier on real texts: python -m bench.topics [train].

The real development set (bench/data/topics_real/dev.jsonl) is split once, before any error was
looked at, into a TUNING part (~70%) and a HELD-OUT part (~30%): records are grouped by site
(the host's registrable domain), sites are ordered by the SHA-256 of their name, and a site goes
to the held-out part while that keeps each language's held-out count within 30% of its records.
Rules and features may be improved by reading tuning texts; held-out texts are only ever scored.

A learned model is scored by grouped k-fold cross-validation on the tuning part (each fold
trained on the others), then trained on the whole tuning part and scored on the held-out part.
The written set (tests/data/topics_eval.jsonl) is shown beside, never as accuracy.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "bench" / "data" / "topics_real" / "dev.jsonl"
WRITTEN = ROOT / "tests" / "data" / "topics_eval.jsonl"
EXAMPLE = ROOT / "config.example.toml"
HELDOUT_SHARE = 0.30
FOLDS = 5
SHORT = 600  # characters of body a feed item or a post shows
VIEWS = {"title + 600": SHORT, "full text": None}
TOPICS = (
    "military-cooperation",
    "peacekeeping",
    "terrorism-extremism",
    "pandemic-health",
    "international-cooperation",
    "border-security",
    "drugs-crime",
    "politics-diplomacy",
    "economy",
    "cyber-information-security",
)
_SECOND_LEVEL = {"co", "com", "org", "gov", "ac", "net"}

Record = dict
Predict = Callable[[str, str, str], set[str]]  # (title, body, lang) -> topics


def load(path: Path = DEV) -> list[Record]:
    """Read a JSON Lines set of labelled texts."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def site(host: str) -> str:
    """Return the registrable domain of a host: all pages of one publisher stay together."""
    parts = host.lower().removeprefix("www.").split(".")
    keep = 3 if len(parts) > 2 and parts[-2] in _SECOND_LEVEL else 2
    return ".".join(parts[-keep:])


def _site_order(sites: Iterable[str]) -> list[str]:
    """Order sites by a stable hash of their name (the same on every machine and run)."""
    return sorted(set(sites), key=lambda s: hashlib.sha256(s.encode()).hexdigest())


def split(records: Sequence[Record]) -> tuple[list[Record], list[Record]]:
    """Split into (tuning, held-out): whole sites, ~30% of each language held out."""
    by_site: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        by_site[site(record["source"])].append(record)
    total = Counter(r["lang"] for r in records)
    held, held_sites = Counter(), set()
    for name in _site_order(by_site):
        langs = Counter(r["lang"] for r in by_site[name])
        if all(held[lang] + n <= round(HELDOUT_SHARE * total[lang]) for lang, n in langs.items()):
            held += langs
            held_sites.add(name)
    tuning = [r for r in records if site(r["source"]) not in held_sites]
    heldout = [r for r in records if site(r["source"]) in held_sites]
    return tuning, heldout


def folds(records: Sequence[Record], k: int = FOLDS) -> list[list[Record]]:
    """Deal whole sites into k folds of similar size, biggest site first, ties by hash."""
    by_site: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        by_site[site(record["source"])].append(record)
    order = _site_order(by_site)
    dealt: list[list[Record]] = [[] for _ in range(k)]
    for name in sorted(order, key=lambda s: -len(by_site[s])):  # stable: hash order in ties
        min(dealt, key=len).extend(by_site[name])
    return dealt


def view(record: Record, chars: int | None) -> tuple[str, str]:
    """Return (title, body) as a reader sees it: the whole body, or its first chars."""
    body = record["body"] if chars is None else record["body"][:chars]
    return record["title"], body


# --- scoring -----------------------------------------------------------------------------


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


# --- reporting ---------------------------------------------------------------------------


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


def example_tables() -> dict:
    """Return the [topics.*] tables of config.example.toml."""
    import tomllib

    return {"topics": tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))["topics"]}


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
        samples, taxonomy=_rules_taxonomy(), topics=TOPICS, groups=groups, recipe=recipe or RECIPE
    )


def _rules_taxonomy():
    """Return the example's topics with no model: what the model reads rule points from."""
    from bot.text.classify import taxonomy_from_dict
    from bot.text.topic_model import TopicModel

    return taxonomy_from_dict(example_tables(), model=TopicModel(topics=()))


def evaluate(predict: Predict, records: Sequence[Record]) -> dict:
    """Predict records in both views; return {view: predictions}."""
    return {label: predict_all(predict, records, chars) for label, chars in VIEWS.items()}


def cv_runs(records: Sequence[Record], recipe=None) -> tuple[list[Record], list[dict]]:
    """Train on k-1 folds and predict the k-th, for each fold; return the folds and predictions."""
    dealt = folds(records)
    runs = []
    for i, test in enumerate(dealt):
        train = [r for j, fold in enumerate(dealt) if j != i for r in fold]
        runs.append(evaluate(predictor(trained(train, recipe)), test))
    return dealt, runs


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


def ablation_row(name: str, records: Sequence[Record], recipe) -> str:
    """Summarise a recipe's CV per view: pooled P/R/F1, fold mean, lowest topic recall, en/ru gap."""
    dealt, runs = cv_runs(records, recipe)
    pooled = [r for fold in dealt for r in fold]
    cells = []
    for label in VIEWS:
        got = [p for run in runs for p in run[label]]
        counts = count(pooled, got)
        p, r, f = micro(counts)
        mean = statistics.mean(micro(count(t, run[label]))[2] for t, run in zip(dealt, runs))
        worst = min(TOPICS, key=lambda t: prf(counts[t])[1])
        by_lang = [
            micro(count(*zip(*[(x, y) for x, y in zip(pooled, got) if x["lang"] == lang])))[2]
            for lang in ("en", "ru")
        ]
        cells.append(
            f"{p:.3f} | {r:.3f} | **{f:.3f}** | {mean:.3f} | {prf(counts[worst])[1]:.2f} {worst[:8]}"
            f" | {abs(by_lang[0] - by_lang[1]):.3f}"
        )
    return f"| {name} | " + " | ".join(cells) + " |"


def detail(records: Sequence[Record], got: dict, name: str) -> list[str]:
    """Report micro figures per view and language, and per-topic figures per view."""
    out = [f"#### {name}", "", "| view | texts | precision | recall | micro-F1 |"]
    out.append("|---|---:|---:|---:|---:|")
    for label in VIEWS:
        out.append(row(label, count(records, got[label]), len(records)))
        out.extend(language_rows(label, records, got[label]))
    out.append("")
    return out + topic_table({label: count(records, got[label]) for label in VIEWS}) + [""]


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
    data = train(samples, taxonomy=_rules_taxonomy(), topics=TOPICS, with_forms=True)
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


def main(argv: Sequence[str]) -> int:
    """Print the topic benchmark as Markdown, or train and write the shipped model."""
    from bot.text.topic_model import shipped_model

    records = load()
    if argv[:1] == ["train"]:
        return write_model(records)
    tuning, heldout = split(records)
    if argv[:1] == ["ablation"]:
        return ablation(tuning)
    print(f"real set: {len(records)} texts; tuning {len(tuning)}, held-out {len(heldout)}\n")
    rules = predictor()
    show = [
        *detail(heldout, evaluate(rules, heldout), "rules alone, held-out"),
        *detail(tuning, evaluate(rules, tuning), "rules alone, tuning part"),
        *cross_validate(tuning, "model, tuning part"),
        *detail(heldout, evaluate(predictor(trained(tuning)), heldout), "model, held-out"),
        *form_table_rows(tuning, heldout),
    ]
    if "--whole" in argv:
        show += cross_validate(records, "model, whole real set")
    systems = {"rules alone": rules, "shipped model": predictor(shipped_model())}
    print("\n".join(show + written_rows(systems) + timing_rows(systems, records)))
    return 0


def ablation(tuning: Sequence[Record]) -> int:
    """Print each candidate recipe's CV on the tuning part (the held-out part is not read)."""
    from bot.text.topic_training import RECIPE, Recipe

    grid = (0.25, 0.5, 1.0, 2.0, 4.0)
    recipes = {
        "round 1: C 1, threshold 0.4 (chosen by this CV)": Recipe(tune="none", threshold=0.4),
        "threshold by inner CV, one for all topics": Recipe(min_recall=0.0),
        "the same, keeping inner-CV recall >= 0.80 (shipped)": RECIPE,
        "threshold by inner CV, one per topic": Recipe(tune="topic"),
        "C per topic by inner CV, one threshold": Recipe(c_grid=grid),
        "C and threshold per topic by inner CV": Recipe(c_grid=grid, tune="topic"),
        "classes not balanced": Recipe(balanced=False),
        "also trained on a 150-character lead": Recipe(views=(None, 600, 300, 150)),
        "trained on whole text and 600 only": Recipe(views=(None, 600)),
        "lemmas seen in 2+ texts": Recipe(min_texts=2),
        "lemmas seen in 5+ texts": Recipe(min_texts=5),
    }
    print(f"tuning part: {len(tuning)} texts, {FOLDS}-fold CV grouped by site\n")
    head = "P | R | F1 | fold mean | lowest topic R | en/ru gap"
    print(f"| recipe | title + 600: {head} | full: {head} |")
    print("|---|" + "---:|" * 12)
    for name, recipe in recipes.items():
        print(ablation_row(name, tuning, recipe), flush=True)
    return 0


def write_model(records: Sequence[Record]) -> int:
    """Train on every real text and write the model the package ships."""
    from bot.text.topic_model import MODEL_PATH
    from bot.text.topic_training import train

    samples = [(r["title"], r["body"], r["topics"]) for r in records]
    source = f"{DEV.relative_to(ROOT)} ({len(records)} texts)"
    groups = [site(r["source"]) for r in records]
    data = train(
        samples,
        taxonomy=_rules_taxonomy(),
        topics=TOPICS,
        groups=groups,
        source=source,
        with_forms=True,
    )
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    MODEL_PATH.write_text(text + "\n", encoding="utf-8")
    weights = sum(len(t["weights"]) for t in data["topics"].values())
    forms = sum(len(joined.split()) for joined in data["lemmas"].values())
    print(f"wrote {MODEL_PATH.relative_to(ROOT)}: {weights} weights, {forms} word forms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
