"""Run the topic benchmark: python -m bench.topics [train|ablation|time] [--whole]."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from bench.topics.data import (
    DEALS,
    DEV,
    FOLDS,
    ROOT,
    TOPICS,
    TRAINED_BEFORE,
    Record,
    load,
    site,
    split,
)
from bench.topics.report import (
    ablation_row,
    cross_validate,
    detail,
    form_table_rows,
    timing_rows,
    written_rows,
)
from bench.topics.scoring import evaluate, predictor, rules_taxonomy, trained

USAGE = (
    "python -m bench.topics [train | ablation | time] [--whole]  (e.g. python -m bench.topics time)"
)


def main(argv: Sequence[str]) -> int:
    """Print the topic benchmark as Markdown, or train and write the shipped model."""
    from bot.text.topic_model import shipped_model

    unknown = [a for a in argv if a not in {"train", "time", "ablation", "--whole"}]
    if unknown:
        # Anything else (--help included) prints the usage: the full run scores the held-out part.
        print(f"usage: {USAGE}", file=sys.stderr)
        return 0 if unknown[0] in {"-h", "--help"} else 2
    records = load()
    if argv[:1] == ["train"]:
        return write_model(records)
    systems = {"rules alone": predictor(), "shipped model": predictor(shipped_model())}
    if argv[:1] == ["time"]:  # speed only: scores nothing, so the held-out part stays unread
        print("\n".join(timing_rows(systems, records)))
        return 0
    tuning, heldout = split(records)
    if argv[:1] == ["ablation"]:
        return ablation(tuning)
    print(f"real set: {len(records)} texts; tuning {len(tuning)}, held-out {len(heldout)}\n")
    rules = systems["rules alone"]
    model = evaluate(predictor(trained(tuning)), heldout)
    fresh = [i for i, r in enumerate(heldout) if r["id"] not in TRAINED_BEFORE]
    show = [
        *detail(heldout, evaluate(rules, heldout), "rules alone, held-out"),
        *detail(tuning, evaluate(rules, tuning), "rules alone, tuning part"),
        *cross_validate(tuning, "model, tuning part"),
        *deal_rows(tuning),
        *detail(heldout, model, "model, held-out"),
        *detail(
            [heldout[i] for i in fresh],
            {label: [got[i] for i in fresh] for label, got in model.items()},
            "model, held-out without the texts an earlier round trained on",
        ),
        *form_table_rows(tuning, heldout),
    ]
    if "--whole" in argv:
        show += cross_validate(records, "model, whole real set")
    print("\n".join(show + written_rows(systems) + timing_rows(systems, records)))
    return 0


def deal_rows(tuning: Sequence[Record]) -> list[str]:
    """Report the shipped recipe's CV over every fold deal (how much the deal alone moves it)."""
    from bot.text.topic_training import RECIPE

    head = "F1, mean of deals | lowest–highest | lowest topic R | F1 en / ru"
    return [
        f"#### model, tuning part: the same CV over fold deals {DEALS}",
        "",
        f"| recipe | title + 600: {head} | full: {head} |",
        "|---|" + "---:|" * 8,
        ablation_row("shipped recipe", tuning, RECIPE),
        "",
    ]


def ablation(tuning: Sequence[Record]) -> int:
    """Print each candidate recipe's CV on the tuning part (the held-out part is not read)."""
    from bot.text.topic_training import Recipe

    # Round 6's rejected options (English word pairs, thresholds per language) left the code with
    # round 7; their figures stay in BENCHMARKS.md.
    recipes = {"shipped recipe": Recipe()}
    print(f"tuning part: {len(tuning)} texts, {FOLDS}-fold CV grouped by site, deals {DEALS}\n")
    head = "F1, mean of deals | lowest–highest | lowest topic R | F1 en / ru"
    print(f"| recipe | title + 600: {head} | full: {head} |")
    print("|---|" + "---:|" * 8)
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
        taxonomy=rules_taxonomy(),
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
