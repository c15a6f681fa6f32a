"""The topics bench's split of the real set: sites kept whole, folds grouped by site."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from bench import topics as bench
from bench.topics.data import in_part_e
from bot.text.classify import classify, taxonomy_from_dict
from bot.text.topic_model import shipped_model


def test_the_split_keeps_sites_whole_and_holds_out_about_30_percent_per_language():
    records = bench.load()
    tuning, heldout = bench.split(records)
    assert bench.split(records) == (tuning, heldout)  # deterministic
    assert not {bench.site(r["source"]) for r in tuning} & {
        bench.site(r["source"]) for r in heldout
    }
    total, held = Counter(r["lang"] for r in records), Counter(r["lang"] for r in heldout)
    for lang in ("en", "ru"):
        assert 0.25 * total[lang] <= held[lang] <= 0.30 * total[lang] + 1
    assert all(any(t in r["topics"] for r in heldout) for t in bench.TOPICS)


def test_folds_are_grouped_by_site_and_cover_every_record_once():
    tuning, _ = bench.split(bench.load())
    dealt = bench.folds(tuning)
    assert sorted(r["id"] for fold in dealt for r in fold) == sorted(r["id"] for r in tuning)
    sites = [{bench.site(r["source"]) for r in fold} for fold in dealt]
    assert all(not a & b for i, a in enumerate(sites) for b in sites[i + 1 :])
    assert max(map(len, dealt)) - min(map(len, dealt)) <= 3


def test_part_e_is_the_english_texts_from_en_0315_and_moved_no_tuning_text_to_held_out():
    records = bench.load()
    part_e = [r for r in records if in_part_e(r)]
    assert part_e and all(r["lang"] == "en" and r["id"] >= "en-0315" for r in part_e)
    assert not any(in_part_e(r) for r in records if r["id"] < "en-0315" or r["lang"] == "ru")
    before, _ = bench.split([r for r in records if not in_part_e(r)])
    _, heldout = bench.split(records)
    # Adding part E may move held-out sites to tuning (its quota grows), never the other way.
    assert not {r["id"] for r in before} & {r["id"] for r in heldout}


def test_site_groups_subdomains_of_one_publisher():
    assert bench.site("en.odkb-csto.org") == bench.site("odkb-csto.org") == "odkb-csto.org"
    assert bench.site("www.dailymail.co.uk") == "dailymail.co.uk"


@pytest.mark.parametrize("chars", [None, 600, 300])
def test_the_form_table_decides_as_simplemma_on_every_real_text(chars):
    pytest.importorskip("simplemma")
    model = shipped_model()
    tables = bench.example_tables()
    fast = taxonomy_from_dict(tables, model=model)
    reference = taxonomy_from_dict(tables, model=dataclasses.replace(model, forms=None))
    for record in bench.load():
        title, body = bench.view(record, chars)
        assert classify(title=title, body=body, taxonomy=fast) == classify(
            title=title, body=body, taxonomy=reference
        ), record["id"]


def test_an_unknown_argument_prints_the_usage_and_never_runs_the_bench(capsys) -> None:
    # The full run scores the held-out part: `--help` must not start it.
    from bench.topics.__main__ import main

    assert main(["--help"]) == 0
    assert main(["trian"]) == 2
    assert capsys.readouterr().err.count("usage: python -m bench.topics") == 2
