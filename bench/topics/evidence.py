"""Diagnostic: title + 600 scored only on labels the short view shows any evidence of.

Labels are given from the whole text; `lead_evidence.jsonl` says, for each tuning label, whether
the title and the body's first 600 characters say anything about the topic (judged by hand, by
the rule in the data README, before any model output was read). A label without evidence there
is left out of this diagnostic (neither a hit nor a miss, also when the model gives it anyway).
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
LANGS = ("en", "ru")


def load_evidence(path: Path = EVIDENCE) -> dict[tuple[str, str], bool]:
    """Read the audit: (id, topic) -> whether title + 600 shows evidence of the label."""
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return {(row["id"], row["topic"]): row["evident"] for row in rows}


def unseen(record: Record, evidence: dict[tuple[str, str], bool]) -> set[str]:
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


def evidence_rows(records: Sequence[Record], predicted: Sequence[set[str]], evidence: dict):
    """Markdown: standard vs evidence-only figures per language, and the share without evidence.

    records and predicted are the pooled out-of-fold title + 600 predictions of every fold deal
    (each text once per deal), so shares and ratios are those of the tuning part.
    """
    out = [
        "#### diagnostic: title + 600 counting only labels the view shows evidence of",
        "",
        "| language | labels | without evidence in title + 600 | of them given anyway (deals)"
        " | standard P / R / F1 | evidence-only P / R / F1 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for lang in (*LANGS, "both"):
        recs, got = (records, predicted) if lang == "both" else _lang(records, predicted, lang)
        once = _once(recs)
        labels = sum(len(r["topics"]) for r in once)
        missing = sum(len(unseen(r, evidence)) for r in once)
        slots = [t in p for r, p in zip(recs, got) for t in unseen(r, evidence)]
        given = f"{sum(slots) / len(slots):.0%}" if slots else "–"
        std = micro(count(recs, got))
        evi = micro(evident_counts(recs, got, evidence))
        share = missing / labels if labels else 0.0
        out.append(
            f"| {lang} | {labels} | {missing} ({share:.1%}) | {given}"
            f" | {std[0]:.3f} / {std[1]:.3f} / **{std[2]:.3f}**"
            f" | {evi[0]:.3f} / {evi[1]:.3f} / **{evi[2]:.3f}** |"
        )
    return out + [""] + _topic_rows(records, predicted, evidence)


def _topic_rows(records: Sequence[Record], predicted: Sequence[set[str]], evidence: dict):
    """Per topic and language: labels without evidence, and recall standard / evidence-only."""
    head = " | ".join(f"{lang} without evidence | {lang} R std / evid." for lang in LANGS)
    out = [f"| topic | {head} |", "|---|" + "---:|---:|" * len(LANGS)]
    columns = {}
    for lang in LANGS:
        recs, got = _lang(records, predicted, lang)
        columns[lang] = (recs, count(recs, got), evident_counts(recs, got, evidence))
    for topic in TOPICS:
        cells = []
        for lang in LANGS:
            recs, std, evi = columns[lang]
            labels = sum(topic in r["topics"] for r in _once(recs))
            gone = sum(topic in unseen(r, evidence) for r in _once(recs))
            cells.append(f"{gone}/{labels} | {_recall(std[topic])} / {_recall(evi[topic])}")
        out.append(f"| {topic} | " + " | ".join(cells) + " |")
    return out + [""]
