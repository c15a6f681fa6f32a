"""Markdown tables of the extraction bench: totals per set, view and split; the worst dev pages."""

from __future__ import annotations

import statistics
from datetime import datetime

from bench.extraction_data import Case


def _share(values) -> str:
    """Return the mean of the defined values as "0.912 (n)", or "—"."""
    defined = [float(v) for v in values if v is not None]
    return f"{sum(defined) / len(defined):.3f} ({len(defined)})" if defined else "—"


def _mean(values) -> str:
    """Return the mean of the defined values with three decimals, or "—"."""
    defined = [float(v) for v in values if v is not None]
    return f"{sum(defined) / len(defined):.3f}" if defined else "—"


def summary_table(rows) -> str:
    """Return one line per set, view, split and extractor; time against trafilatura's."""
    lines = [
        "| set | view | pages | extractor | title | date (day) | date (minute) | authors "
        "| first author | ROUGE-LSum | token F1 | must-have | boilerplate-free | errors "
        "| ms/page | time vs trafilatura |",
        "|---|---|---|---|" + "---:|" * 12,
    ]
    for name, view, cases, runs in rows:
        for split, wanted in (("dev", False), ("held-out", True)):
            index = [n for n, c in enumerate(cases) if c.held_out == wanted]
            if not index:
                continue
            base = statistics.median(runs[-1].ms[n] for n in index)
            for r in runs:
                s = [r.scores[n] for n in index]
                ms = statistics.median(r.ms[n] for n in index)
                timed = any(isinstance(r.got[n].published, datetime) for n in index)
                errors = sum(bool(p.error) for p in s)
                speed = f"{ms:.1f} | {ms / base:.2f}×" if base else "— | —"
                lines.append(
                    f"| {name} | {view} | {split} {len(index)} | {r.name} "
                    f"| {_share(p.title for p in s)} | {_share(p.day for p in s)} "
                    f"| {_share(p.minute for p in s) if timed else '— (days only)'} "
                    f"| {_share(p.authors for p in s)} "
                    f"| {_share(p.first_author for p in s)} | {_mean(p.rouge for p in s)} "
                    f"| {_mean(p.token_f1 for p in s)} | {_mean(p.must_have for p in s)} "
                    f"| {_mean(p.clean for p in s)} | {errors} | {speed} |"
                )
    return "\n".join(lines)


def worst_table(groups, *, count: int) -> str:
    """Return the dev pages with presswatch's lowest body scores, trafilatura's beside them."""
    lines = [
        f"The {count} dev pages of each set and view with presswatch's lowest ROUGE-LSum:\n",
        "| set | view | page | presswatch ROUGE-LSum | trafilatura ROUGE-LSum "
        "| presswatch words | true words | error |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for name, view, cases, runs in groups:
        ours, theirs = runs[0], runs[-1]
        dev = [n for n, c in enumerate(cases) if not c.held_out]
        dev.sort(key=lambda n: ours.scores[n].rouge)
        for n in dev[:count]:
            lines.append(
                f"| {name} | {view} | {cases[n].key} | {ours.scores[n].rouge:.3f} "
                f"| {theirs.scores[n].rouge:.3f} | {len(ours.got[n].body.split())} "
                f"| {len(cases[n].body.split())} | {ours.scores[n].error} |"
            )
    return "\n".join(lines)


def misses(name: str, view: str, cases: list[Case], runs) -> str:
    """Return, for diagnosis, every dev page's wrong title, date or authors with the truth."""
    ours, theirs = runs[0], runs[-1]
    lines = [f"## misses: {name}, {view} (dev pages only)"]
    for n, case in enumerate(cases):
        if case.held_out:
            continue
        s, g, t = ours.scores[n], ours.got[n], theirs.got[n]
        if s.title is False:
            lines.append(f"{case.key} TITLE {g.title!r} want {case.title!r} (traf {t.title!r})")
        if s.day is False or s.minute is False:
            lines.append(
                f"{case.key} DATE {g.published} want {case.published} (traf {t.published!r})"
            )
        if s.authors is False:
            lines.append(f"{case.key} AUTHORS {g.authors} want {case.authors} (traf {t.authors})")
    return "\n".join(lines)
