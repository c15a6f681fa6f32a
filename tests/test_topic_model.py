"""The topic model, lemma features and regex vetting through public APIs."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path

import pytest

from bot.text import classify as module
from bot.text.classify import Rule, Text, classify, taxonomy_from_dict
from bot.text.lemmas import lemma_features, lemmas
from bot.text.topic_model import TopicModel, shipped_model

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))


def default(**changes: dict) -> module.Taxonomy:
    tables = {key: dict(table) for key, table in EXAMPLE["topics"].items()}
    for key, change in changes.items():
        tables.setdefault(key, {}).update(change)
    return taxonomy_from_dict({"topics": tables})


def test_no_private_re_module_is_used():
    for path in (ROOT / "bot" / "text").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "re._" not in text and "sre_" not in text, path.name


@pytest.mark.parametrize(
    "pattern, message",
    [
        (r"(?x)a b", "verbose"),
        (r"(?=a)", "empty string"),
        (r"x|", "empty string"),
        (r"(?:a|b*)+c", "nested quantifiers"),
        (r"(a{1,3})*x", "nested quantifiers"),
    ],
)
def test_dangerous_or_empty_regexes_are_refused(pattern, message):
    with pytest.raises(ValueError, match=message):
        Rule("regex", pattern)


@pytest.mark.parametrize("pattern", [r"(a+){1,5}", r"[]a]+", r"(?P<x>a)(?P=x)", r"\p{L}+x"])
def test_bounded_and_plain_regexes_are_accepted(pattern):
    Rule("regex", pattern)


def test_a_regex_that_runs_out_of_time_counts_nothing(caplog):
    class Slow:
        """Spends its whole timeout computing, as a backtracking pattern does, then gives up."""

        def finditer(self, text, timeout):
            began = time.thread_time()
            while time.thread_time() - began < timeout:
                pass
            raise TimeoutError("regex timed out")

    rule = Rule("regex", "border")
    object.__setattr__(rule, "built", Slow())  # what `compiled` returns
    assert module._count(rule, Text.of("border border")) == 0
    assert "counts nothing in this text" in caplog.text


def test_lemmas_meet_inflected_forms_in_both_languages():
    assert lemmas("миротворцев миротворцы Peacekeepers peacekeeper") == [
        "миротворец",
        "миротворец",
        "peacekeeper",
        "peacekeeper",
    ]
    assert "w:and" not in lemma_features("Peace and war", "")


def test_title_words_weigh_more_than_body_words():
    assert lemma_features("Border", "")["w:border"] > lemma_features("", "Border")["w:border"]


def test_the_shipped_model_knows_the_default_topics():
    model = shipped_model()
    assert set(model.topics) == set(EXAMPLE["topics"])
    assert 0 < model.threshold < 1
    with pytest.raises(ValueError, match="format"):
        TopicModel.from_dict({"format": 99})


def test_default_topics_are_decided_by_the_model_and_explained():
    taxonomy = default()
    assert all(topic.model for topic in taxonomy.topics) and taxonomy.model is not None
    (best, *_) = classify(
        title="ОДКБ завершила миротворческую операцию",
        body="Миротворцы ОДКБ покинули Казахстан.",
        taxonomy=taxonomy,
    )
    assert best.topic == "peacekeeping" and 0.5 < best.score <= 1
    assert best.rules[0].startswith("model:p=")
    assert "phrase:миротвор" in best.rules


def test_a_short_lead_gets_the_topic_of_the_whole_release():
    body = (
        "Servicemen of the CSTO Collective Rapid Reaction Forces will practise the defence of a"
        " border area at the training ground. The exercise involves 2,000 troops and aviation,"
        " the Joint Staff said. Units from all member states take part."
    )
    title = "CSTO forces to hold joint exercise"
    taxonomy = default()
    whole = {m.topic for m in classify(title=title, body=body, taxonomy=taxonomy)}
    lead = {m.topic for m in classify(title=title, body=body[:300], taxonomy=taxonomy)}
    assert "military-cooperation" in whole & lead


def test_model_false_hands_a_default_topic_back_to_its_rules():
    taxonomy = default(peacekeeping={"model": False, "threshold": 1.0})
    (match,) = [
        m
        for m in classify(title="", body="peacekeepers", taxonomy=taxonomy)
        if m.topic == "peacekeeping"
    ]
    assert match.score == 2.0 and match.rules == ("phrase:peacekeep",)


def test_a_users_own_topic_beside_the_default_ones_uses_its_rules():
    taxonomy = default(sport={"phrases": ["football"], "threshold": 1.0})
    sport = [
        m for m in classify(title="Football", body="", taxonomy=taxonomy) if m.topic == "sport"
    ]
    assert sport and sport[0].rules == ("phrase:football",)
    assert not next(t for t in taxonomy.topics if t.key == "sport").model


def test_model_true_on_a_topic_the_model_does_not_know_is_an_error():
    with pytest.raises(ValueError, match=r"^topics\.sport\.model: the shipped model has no topic"):
        taxonomy_from_dict({"topics": {"sport": {"phrases": ["football"], "model": True}}})


def test_an_exclusion_vetoes_a_topic_the_model_decides():
    taxonomy = default()
    title = "Putin congratulated Tokayev on his birthday"
    topics = {m.topic for m in classify(title=title, body="", taxonomy=taxonomy)}
    assert "politics-diplomacy" not in topics
