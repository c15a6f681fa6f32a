"""Pair a variant with the shipped recipe deal by deal; check the pre-registered adoption rule."""

from __future__ import annotations

from collections.abc import Sequence

from bench.topics.data import DEALS, TOPICS, VIEWS, Record
from bench.topics.scoring import count, micro, prf

Runs = dict[str, tuple[list, list, list]]  # view -> (each deal's F1, texts, predictions)
Pairs = list[tuple[Record, set]]
LANGS = ("en", "ru")
MIN_TOPIC_RECALL = 0.70  # the goal for every topic


def f1(pairs: Sequence[tuple[Record, set]], lang: str = "") -> float:
    """Micro-F1 of (record, predicted) pairs, of one language if given."""
    kept = [(r, p) for r, p in pairs if not lang or r["lang"] == lang]
    return micro(count([r for r, _ in kept], [p for _, p in kept]))[2]


def by_deal(runs: Runs, label: str) -> list[Pairs]:
    """Split a view's pooled (record, predicted) pairs back into its deals."""
    _, pooled, got = runs[label]
    size = len(pooled) // len(DEALS)
    pairs = list(zip(pooled, got))
    return [pairs[i * size : (i + 1) * size] for i in range(len(DEALS))]


def paired_rows(base: Runs, variant: Runs, *, views: Sequence[str] = tuple(VIEWS)) -> list[str]:
    """Micro-F1 per view and deal, all and per language: shipped -> variant, and the change."""
    out = ["| view | deal | all | change | en | change | ru | change |"]
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label in views:
        pooled = (_pooled(base, label), _pooled(variant, label))
        deals = [*zip(DEALS, by_deal(base, label), by_deal(variant, label)), ("pooled", *pooled)]
        for deal, before, after in deals:
            cells = [_change(f1(before, lang), f1(after, lang)) for lang in ("", *LANGS)]
            out.append(f"| {label} | {deal} | " + " | ".join(cells) + " |")
    return out


def topic_rows(base: Runs, variant: Runs, label: str) -> list[str]:
    """Per topic and language on one view, pooled: precision and recall, shipped -> variant."""
    out = [f"| topic ({label}, pooled) | lang | P | change | R | change |"]
    out.append("|---|---|---:|---:|---:|---:|")
    for lang in (*LANGS, ""):
        before, after = (_counts(_pooled(runs, label), lang) for runs in (base, variant))
        for topic in TOPICS:
            (p0, r0, _), (p1, r1, _) = prf(before[topic]), prf(after[topic])
            cells = f"{_change(p0, p1)} | {_change(r0, r1)}"
            out.append(f"| {topic} | {lang or 'all'} | {cells} |")
    return out


def adoption(base: Runs, variant: Runs, short: str, full: str) -> list[tuple[str, bool]]:
    """Check the CV parts of the pre-registered rule (rounds 12-14): (what, held) for each."""
    rise = f1(_pooled(variant, short)) - f1(_pooled(base, short))
    deals_up = sum(
        f1(after) > f1(before)
        for before, after in zip(by_deal(base, short), by_deal(variant, short))
    )
    gap_before, gap_after = (
        abs(f1(_pooled(runs, short), "en") - f1(_pooled(runs, short), "ru"))
        for runs in (base, variant)
    )
    english = f1(_pooled(variant, short), "en") - f1(_pooled(base, short), "en")
    fall = f1(_pooled(base, full)) - f1(_pooled(variant, full))
    counts = _counts(_pooled(variant, short), "")
    labelled = [t for t in TOPICS if counts[t]["tp"] + counts[t]["fn"]]  # recall is defined
    lowest = min(labelled, key=lambda t: prf(counts[t])[1])
    recall = prf(counts[lowest])[1]
    return [
        (f"{short} pooled F1 up by >= 0.005 ({rise:+.4f})", rise >= 0.005),
        (f"{short} F1 up in >= 3 of {len(DEALS)} deals ({deals_up})", deals_up >= 3),
        (
            f"{short} en/ru gap narrows ({gap_before:.4f} -> {gap_after:.4f})",
            gap_after < gap_before,
        ),
        (f"{short} English F1 does not fall ({english:+.4f})", english >= 0),
        (f"{full} pooled F1 falls by <= 0.003 ({-fall:+.4f})", fall <= 0.003),
        (
            f"{short} every topic's recall >= {MIN_TOPIC_RECALL} ({lowest} {recall:.3f})",
            recall >= MIN_TOPIC_RECALL,
        ),
    ]


def _pooled(runs: Runs, label: str) -> Pairs:
    """Return a view's (record, predicted) pairs over every deal."""
    return sum(by_deal(runs, label), [])


def _counts(pairs: Pairs, lang: str) -> dict:
    """Count tp/fp/fn per topic of the pairs, of one language if given."""
    kept = [(r, p) for r, p in pairs if not lang or r["lang"] == lang]
    return count([r for r, _ in kept], [p for _, p in kept])


def _change(before: float, after: float) -> str:
    """Format 'before -> after | change'."""
    return f"{before:.3f} → {after:.3f} | {after - before:+.3f}"
