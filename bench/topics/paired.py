"""Pair a variant with the shipped recipe deal by deal, and check round 11's adoption rule."""

from __future__ import annotations

from collections.abc import Sequence

from bench.topics.data import DEALS, VIEWS, Record
from bench.topics.scoring import count, micro

Runs = dict[str, tuple[list, list, list]]  # view -> (each deal's F1, texts, predictions)
LANGS = ("en", "ru")


def f1(pairs: Sequence[tuple[Record, set]], lang: str = "") -> float:
    """Micro-F1 of (record, predicted) pairs, of one language if given."""
    kept = [(r, p) for r, p in pairs if not lang or r["lang"] == lang]
    return micro(count([r for r, _ in kept], [p for _, p in kept]))[2]


def by_deal(runs: Runs, label: str) -> list[list[tuple[Record, set]]]:
    """Split a view's pooled (record, predicted) pairs back into its deals."""
    _, pooled, got = runs[label]
    size = len(pooled) // len(DEALS)
    pairs = list(zip(pooled, got))
    return [pairs[i * size : (i + 1) * size] for i in range(len(DEALS))]


def paired_rows(base: Runs, variant: Runs) -> list[str]:
    """Micro-F1 per view and deal, all and per language: shipped -> variant, and the change."""
    out = ["| view | deal | all | change | en | change | ru | change |"]
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label in VIEWS:
        pooled = (sum(by_deal(base, label), []), sum(by_deal(variant, label), []))
        deals = [*zip(DEALS, by_deal(base, label), by_deal(variant, label)), ("pooled", *pooled)]
        for deal, before, after in deals:
            cells = [_change(f1(before, lang), f1(after, lang)) for lang in ("", *LANGS)]
            out.append(f"| {label} | {deal} | " + " | ".join(cells) + " |")
    return out


def _change(before: float, after: float) -> str:
    """Format 'before -> after | change'."""
    return f"{before:.3f} → {after:.3f} | {after - before:+.3f}"


def adoption(base: Runs, variant: Runs, short: str, full: str) -> list[tuple[str, bool]]:
    """Check the CV parts of round 11's pre-registered rule: (what, held) for each."""
    pooled = {
        (name, label): sum(by_deal(runs, label), [])
        for name, runs in (("base", base), ("variant", variant))
        for label in (short, full)
    }
    rise = f1(pooled["variant", short]) - f1(pooled["base", short])
    deals_up = sum(
        f1(after) > f1(before)
        for before, after in zip(by_deal(base, short), by_deal(variant, short))
    )
    gap_before, gap_after = (
        abs(f1(pooled[name, short], "en") - f1(pooled[name, short], "ru"))
        for name in ("base", "variant")
    )
    fall = f1(pooled["base", full]) - f1(pooled["variant", full])
    return [
        (f"{short} pooled F1 up by >= 0.005 ({rise:+.4f})", rise >= 0.005),
        (f"{short} F1 up in >= 3 of {len(DEALS)} deals ({deals_up})", deals_up >= 3),
        (
            f"{short} en/ru gap narrows ({gap_before:.4f} -> {gap_after:.4f})",
            gap_after < gap_before,
        ),
        (f"{full} pooled F1 falls by <= 0.003 ({-fall:+.4f})", fall <= 0.003),
    ]
