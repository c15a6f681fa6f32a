"""The lead evidence diagnostic: scoring and agreement (synthetic), and both audit files."""

from __future__ import annotations

import json

import pytest

from bench import topics as bench
from bench.topics.evidence import (
    EVIDENCE,
    EVIDENCE_C,
    agreement_rows,
    both_missing,
    evidence_rows,
    evident_counts,
    kappa,
    load_evidence,
    unseen,
)
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


def test_both_missing_keeps_only_the_labels_neither_annotator_found_in_the_view():
    _, _, first = _synthetic()
    second = {**first, ("en-1", "economy"): True, ("ru-1", "economy"): False}
    both = both_missing(first, second)
    assert both[("en-1", "economy")] is True  # C found evidence: the label counts again
    assert both[("ru-1", "economy")] is True  # A found evidence
    assert both[("en-2", "terrorism-extremism")] is False  # neither did
    assert sorted(k for k, evident in both.items() if not evident) == [
        ("en-2", "terrorism-extremism")
    ]
    assert all(both_missing(first, {}).values())  # a pair one audit lacks is not missing by both


def test_the_diagnostic_rows_count_each_text_once_over_several_deals_for_each_audit():
    records, predicted, first = _synthetic()
    second = {**first, ("en-1", "economy"): True}
    audits = {"A": first, "C": second, "A and C": both_missing(first, second)}
    rows = "\n".join(evidence_rows(records * 4, predicted * 4, audits))  # four deals pooled
    std = "1.000 / 0.750 / **0.857**"
    assert f"| A | en | 4 | 2 (50.0%) | 50% | {std} | 1.000 / 1.000 / **1.000** |" in rows
    # C sees en-1's economy: the missed label counts again, tp 2 fn 1; the given one is left out
    assert f"| C | en | 4 | 1 (25.0%) | 100% | {std} | 1.000 / 0.667 / **0.800** |" in rows
    assert f"| A and C | en | 4 | 1 (25.0%) | 100% | {std} | 1.000 / 0.667 / **0.800** |" in rows
    assert "| A | ru | 1 | 0 (0.0%) | – | 0.000 / 0.000 / **0.000** |" in rows
    assert "| economy | 1 / 0 / 0 of 1 | 0.00 / – / 0.00 / 0.00 | 0 / 0 / 0 of 1 |" in rows


def test_kappa_is_one_for_full_agreement_lower_for_a_split_and_none_when_all_agree_yes():
    assert kappa([(True, True), (False, False)]) == 1.0
    # seen 3/4; each annotator says yes 2/4 or 3/4: chance 0.5 * 0.75 + 0.5 * 0.25 = 0.5
    assert kappa([(True, True), (True, True), (False, True), (False, False)]) == 0.5
    assert kappa([(True, True), (True, True)]) is None  # nothing to agree on beyond chance


def test_agreement_rows_count_per_language_and_topic_and_list_each_disagreement():
    def row(key, evident, quote=None):
        return {"id": key[0], "topic": key[1], "evident": evident, "quote": quote}

    keys = [("en-1", "economy"), ("en-2", "economy"), ("en-2", "peacekeeping"), ("ru-1", "economy")]
    first = {k: row(k, True, "a quote") for k in keys}
    first[keys[1]] = row(keys[1], False)
    second = {**first, keys[0]: row(keys[0], False)}  # the synthetic second annotator differs once
    text = "\n".join(agreement_rows(first, second))
    # seen 2/3; chance 2/3·1/3 + 1/3·2/3 = 4/9; kappa (2/3 - 4/9) / (5/9) = 0.4
    assert "| en | all | 3 | 2 (66.7%) | 0.400 | 1 / 2 |" in text
    assert "| en | economy | 2 | 1 (50.0%) | 0.000 | 1 / 2 |" in text
    assert "| en | peacekeeping | 1 | 1 (100.0%) | – | 0 / 0 |" in text
    assert "| all | all | 4 | 3 (75.0%) |" in text
    assert '| en-1 | economy | True | False | "a quote" | – |' in text
    assert text.count("| True | False |") + text.count("| False | True |") == 1


def _rows(path) -> list[dict]:
    """Read an audit file's rows as they are stored."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("path", [EVIDENCE, EVIDENCE_C], ids=["A", "C"])
def test_every_tuning_label_is_judged_once_and_each_quote_is_in_the_short_view(path):
    tuning, heldout = bench.split(bench.load())
    rows = _rows(path)
    keys = [(row["id"], row["topic"]) for row in rows]
    assert len(keys) == len(set(keys))  # each label judged once
    assert set(load_evidence(path)) == {(r["id"], t) for r in tuning for t in r["topics"]}
    assert not {r["id"] for r in heldout} & {key[0] for key in keys}
    by_id = {r["id"]: r for r in tuning}
    for row in rows:
        title, body = bench.view(by_id[row["id"]], 600)
        assert row["evident"] == (row["quote"] is not None), row["id"]
        if row["quote"]:
            assert row["quote"] in title or row["quote"] in body, (row["id"], row["quote"])
