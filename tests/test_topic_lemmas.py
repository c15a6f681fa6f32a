"""The shipped model's form table: scoring without simplemma, and exactly as simplemma would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.text.lemmas import lemma_features
from bot.text.topic_model import shipped_model

ROOT = Path(__file__).resolve().parents[1]


def test_every_weighted_lemma_has_its_forms_in_the_table():
    model = shipped_model()
    lemmas = {name[2:] for name in model.vocabulary if name.startswith("w:")}
    assert lemmas == set(model.forms.values())
    assert model.forms["миротворцев"] == model.forms["миротворцы"] == "миротворец"
    assert model.forms["peacekeepers"] == "peacekeeper"


def test_scoring_never_loads_simplemma():
    code = (
        "import sys, tomllib\n"
        "from bot.text.classify import classify, taxonomy_from_dict\n"
        "tables = tomllib.load(open('config.example.toml', 'rb'))\n"
        "taxonomy = taxonomy_from_dict({'topics': tables['topics']})\n"
        "found = classify(title='Миротворцы ОДКБ', body='Peacekeepers', taxonomy=taxonomy)\n"
        "assert found and found[0].topic == 'peacekeeping', found\n"
        "assert 'simplemma' not in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_a_word_outside_the_table_adds_nothing():
    forms = {"border": "border"}
    assert lemma_features("Border talks", "", forms=forms) == lemma_features("Border", "")
