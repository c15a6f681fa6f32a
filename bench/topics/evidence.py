"""Diagnostic: title + 600 scored only on labels the short view shows any evidence of.

Labels are given from the whole text; two audits (`lead_evidence.jsonl`, annotator A, and
`lead_evidence_c.jsonl`, annotator C, judged blind to A's outcome) say, for each tuning label,
whether the title and the body's first 600 characters say anything about the topic (judged by hand,
by the rule in the data README, before any model output was read). A label without evidence there is
left out of this diagnostic (neither a hit nor a miss, also when the model gives it anyway); "A and
C" leaves out only the labels that both annotators found missing from the view.
The goal's figure stays the standard one: this only tells how much of the gap the view explains.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bench.topics.data import ROOT, TOPICS, Record
from bench.topics.scoring import count, micro, prf

EVIDENCE = ROOT / "bench" / "data" / "topics_real" / "lead_evidence.jsonl"
EVIDENCE_C = ROOT / "bench" / "data" / "topics_real" / "lead_evidence_c.jsonl"
LANGS = ("en", "ru")

Evidence = dict[tuple[str, str], bool]


def load_rows(path: Path = EVIDENCE) -> dict[tuple[str, str], dict]:
    """Read an audit's rows as stored: (id, topic) -> {id, topic, evident, quote}."""
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return {(row["id"], row["topic"]): row for row in rows}


def load_evidence(path: Path = EVIDENCE) -> Evidence:
    """Read the audit: (id, topic) -> whether title + 600 shows evidence of the label."""
    return {key: row["evident"] for key, row in load_rows(path).items()}


def both_missing(first: Evidence, second: Evidence) -> Evidence:
    """Combine two audits: a label lacks evidence only when both annotators found none."""
    return {key: first.get(key, True) or second.get(key, True) for key in first.keys() | second}


def audits() -> dict[str, Evidence]:
    """Return the audits the diagnostic reports: annotator A, annotator C and both together."""
    first, second = load_evidence(EVIDENCE), load_evidence(EVIDENCE_C)
    return {"A": first, "C": second, "A and C": both_missing(first, second)}


def kappa(pairs: Sequence[tuple[bool, bool]]) -> float | None:
    """Cohen's kappa of two annotators' yes/no verdicts; None when chance agreement is total."""
    n = len(pairs)
    seen = sum(a == b for a, b in pairs) / n
    first, second = sum(a for a, _ in pairs) / n, sum(b for _, b in pairs) / n
    chance = first * second + (1 - first) * (1 - second)
    return None if chance == 1 else (seen - chance) / (1 - chance)


def _agree_cells(pairs: Sequence[tuple[bool, bool]]) -> str:
    """Format pairs, agreements, kappa and each annotator's count without evidence."""
    same = sum(a == b for a, b in pairs)
    k = kappa(pairs)
    lacks = " / ".join(str(sum(not v[i] for v in pairs)) for i in (0, 1))
    return f"{len(pairs)} | {same} ({same / len(pairs):.1%}) | {'–' if k is None else f'{k:.3f}'} | {lacks}"


def agreement_rows(first: dict, second: dict, names: tuple[str, str] = ("A", "C")) -> list[str]:
    """Markdown: two audits' agreement per language and topic, and every pair they disagree on.

    first and second are `load_rows` results over the same pairs; kappa is "–" where both
    annotators found every pair of a group evident (chance agreement is then total).
    """
    a, c = names
    groups: dict[tuple[str, str], list[tuple[bool, bool]]] = {}
    for key in sorted(first, key=lambda k: (k[0][:2], k[1], k[0])):
        pair = (first[key]["evident"], second[key]["evident"])
        for group in ((key[0][:2], ""), ("all", ""), (key[0][:2], key[1])):
            groups.setdefault(group, []).append(pair)
    out = [
        f"#### agreement of the lead evidence audits {a} and {c}",
        "",
        f"| language | topic | pairs | agree | Cohen's κ | without evidence {a} / {c} |",
        "|---|---|---:|---:|---:|---:|",
    ]
    order = [(lang, "") for lang in (*LANGS, "all")] + [g for g in groups if g[1]]
    out += [
        f"| {lang} | {topic or 'all'} | {_agree_cells(groups[lang, topic])} |"
        for lang, topic in order
    ]
    out += [
        "",
        f"| id | topic | {a} | {c} | {a}'s quote | {c}'s quote |",
        "|---|---|---|---|---|---|",
    ]
    for key in sorted(first):
        one, two = first[key], second[key]
        if one["evident"] != two["evident"]:
            quotes = " | ".join(f'"{q}"' if q else "–" for q in (one["quote"], two["quote"]))
            out.append(f"| {key[0]} | {key[1]} | {one['evident']} | {two['evident']} | {quotes} |")
    return out + [""]


def unseen(record: Record, evidence: Evidence) -> set[str]:
    """Return the record's labels that the short view shows no evidence of."""
    return {t for t in record["topics"] if not evidence.get((record["id"], t), True)}


def evident_counts(
    records: Sequence[Record], predicted: Sequence[set[str]], evidence: dict
) -> dict[str, Counter]:
    """Count tp/fp/fn per topic as `count` does, leaving out every label without evidence."""
    kept, found = [], []
    for record, got in zip(records, predicted):
        gone = unseen(record, evidence)
        kept.append({**record, "topics": [t for t in record["topics"] if t not in gone]})
        found.append(set(got) - gone)
    return count(kept, found)


def _recall(counts: Counter) -> str:
    """Format a topic's recall, or a dash when it has no label left to find."""
    return f"{prf(counts)[1]:.2f}" if counts["tp"] + counts["fn"] else "–"


def _once(records: Sequence[Record]) -> list[Record]:
    """Return each text once (the pooled predictions hold it once per fold deal)."""
    return list({r["id"]: r for r in records}.values())


def _lang(records: Sequence[Record], predicted: Sequence[set[str]], lang: str) -> tuple:
    """Return the records and predictions of one language."""
    pairs = [(r, p) for r, p in zip(records, predicted) if r["lang"] == lang]
    return [r for r, _ in pairs], [p for _, p in pairs]


def evidence_rows(records: Sequence[Record], predicted: Sequence[set[str]], audits: dict):
    """Markdown: standard vs evidence-only figures per audit and language, and the share without.

    records and predicted are the pooled out-of-fold title + 600 predictions of every fold deal
    (each text once per deal), so shares and ratios are those of the tuning part; audits maps an
    audit's name to its (id, topic) -> evident verdicts.
    """
    out = [
        "#### diagnostic: title + 600 counting only labels the view shows evidence of",
        "",
        "| audit | language | labels | without evidence in title + 600"
        " | of them given anyway (deals) | standard P / R / F1 | evidence-only P / R / F1 |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, evidence in audits.items():
        for lang in (*LANGS, "both"):
            recs, got = (records, predicted) if lang == "both" else _lang(records, predicted, lang)
            out.append(f"| {name} | {lang} | " + _row(recs, got, evidence))
    return out + [""] + _topic_rows(records, predicted, audits)


def _row(records: Sequence[Record], predicted: Sequence[set[str]], evidence: Evidence) -> str:
    """Format one row's cells: labels, share without evidence, and both micro figures."""
    once = _once(records)
    labels = sum(len(r["topics"]) for r in once)
    missing = sum(len(unseen(r, evidence)) for r in once)
    slots = [t in p for r, p in zip(records, predicted) for t in unseen(r, evidence)]
    given = f"{sum(slots) / len(slots):.0%}" if slots else "–"
    std = micro(count(records, predicted))
    evi = micro(evident_counts(records, predicted, evidence))
    share = missing / labels if labels else 0.0
    return (
        f"{labels} | {missing} ({share:.1%}) | {given}"
        f" | {std[0]:.3f} / {std[1]:.3f} / **{std[2]:.3f}**"
        f" | {evi[0]:.3f} / {evi[1]:.3f} / **{evi[2]:.3f}** |"
    )


def _topic_rows(records: Sequence[Record], predicted: Sequence[set[str]], audits: dict):
    """Per topic and language: labels without evidence per audit, and recall std / per audit."""
    names = " / ".join(audits)
    head = " | ".join(f"{lang} without evidence {names} | {lang} R std / {names}" for lang in LANGS)
    out = [f"| topic | {head} |", "|---|" + "---:|---:|" * len(LANGS)]
    columns = {}
    for lang in LANGS:
        recs, got = _lang(records, predicted, lang)
        kept = [evident_counts(recs, got, evidence) for evidence in audits.values()]
        columns[lang] = (_once(recs), count(recs, got), kept)
    for topic in TOPICS:
        cells = []
        for lang in LANGS:
            once, std, kept = columns[lang]
            labels = sum(topic in r["topics"] for r in once)
            gone = [sum(topic in unseen(r, e) for r in once) for e in audits.values()]
            recalls = " / ".join(_recall(c[topic]) for c in [std, *kept])
            cells.append(" / ".join(map(str, gone)) + f" of {labels} | {recalls}")
        out.append(f"| {topic} | " + " | ".join(cells) + " |")
    return out + [""]


def audit_agreement() -> list[str]:
    """Return the agreement rows of the two stored audits, A and C."""
    return agreement_rows(load_rows(EVIDENCE), load_rows(EVIDENCE_C))
