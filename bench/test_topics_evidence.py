"""The lead evidence diagnostic: its scoring (synthetic texts) and the audit file's coverage."""

from __future__ import annotations

from bench import topics as bench
from bench.topics.evidence import evidence_rows, evident_counts, load_evidence, unseen
from bench.topics.scoring import count, micro


def _synthetic() -> tuple[list[dict], list[set[str]], dict]:
    """Three synthetic texts: one label without evidence missed, one given anyway."""
    records = [
        {"id": "en-1", "lang": "en", "topics": ["economy", "politics-diplomacy"]},
        {"id": "en-2", "lang": "en", "topics": ["peacekeeping", "terrorism-extremism"]},
        {"id": "ru-1", "lang": "ru", "topics": ["economy"]},
    ]
    predicted = [{"politics-diplomacy"}, {"peacekeeping", "terrorism-extremism"}, {"drugs-crime"}]
    evidence = {
        ("en-1", "economy"): False,  # missed, and no evidence in the view: not a miss
        ("en-1", "politics-diplomacy"): True,
        ("en-2", "peacekeeping"): True,
        ("en-2", "terrorism-extremism"): False,  # given without evidence: not a hit
        ("ru-1", "economy"): True,
    }
    return records, predicted, evidence


def test_a_label_without_evidence_is_neither_a_hit_nor_a_miss():
    records, predicted, evidence = _synthetic()
    standard = micro(count(records, predicted))
    assert standard[:2] == (3 / 4, 3 / 5)  # tp 3, fp 1 (drugs-crime), fn 2
    counts = evident_counts(records, predicted, evidence)
    assert counts["economy"] == {"fn": 1}  # only ru-1's economy, which has evidence
    assert counts["terrorism-extremism"] == {}  # given, but not counted either way
    assert counts["politics-diplomacy"] == {"tp": 1}
    assert micro(counts)[:2] == (2 / 3, 2 / 3)  # tp 2, fp 1, fn 1
    assert unseen(records[1], evidence) == {"terrorism-extremism"}


def test_the_diagnostic_row_counts_each_text_once_over_several_deals():
    records, predicted, evidence = _synthetic()
    rows = "\n".join(evidence_rows(records * 4, predicted * 4, evidence))  # four deals pooled
    assert (
        "| en | 4 | 2 (50.0%) | 50% | 1.000 / 0.750 / **0.857** | 1.000 / 1.000 / **1.000** |"
        in rows
    )
    assert "| ru | 1 | 0 (0.0%) | – | 0.000 / 0.000 / **0.000** |" in rows
    assert "| economy | 1/1 | 0.00 / – | 0/1 | 0.00 / 0.00 |" in rows


def test_every_tuning_label_is_judged_once_and_each_quote_is_in_the_short_view():
    tuning, heldout = bench.split(bench.load())
    evidence = load_evidence()
    assert set(evidence) == {(r["id"], t) for r in tuning for t in r["topics"]}
    assert not {r["id"] for r in heldout} & {key[0] for key in evidence}
    rows = {(row["id"], row["topic"]): row for row in _rows()}
    by_id = {r["id"]: r for r in tuning}
    for (rid, _), row in rows.items():
        title, body = bench.view(by_id[rid], 600)
        assert row["evident"] == (row["quote"] is not None), rid
        if row["quote"]:
            assert row["quote"] in title or row["quote"] in body, (rid, row["quote"])


def _rows() -> list[dict]:
    """Read the audit file's rows as they are stored."""
    import json

    from bench.topics.evidence import EVIDENCE

    return [json.loads(line) for line in EVIDENCE.read_text(encoding="utf-8").splitlines()]
