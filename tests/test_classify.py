"""Tests of topic classification, entity tags and the default taxonomy's quality."""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from bot.text.classify import (
    Match,
    Rule,
    Taxonomy,
    classify,
    hashtags,
    normalize,
    tag_entities,
    taxonomy_from_dict,
    taxonomy_from_toml,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "config.example.toml"
EVAL_SET = ROOT / "tests" / "data" / "topics_eval.jsonl"
REAL_SET = ROOT / "bench" / "data" / "topics_real" / "dev.jsonl"
DEFAULT_TOPICS = {
    "military-cooperation",
    "peacekeeping",
    "terrorism-extremism",
    "pandemic-health",
    "international-cooperation",
    "border-security",
    "drugs-crime",
    "politics-diplomacy",
    "economy",
    "cyber-information-security",
}
# The written set guards against regressions only: it was written beside the first rules, so it
# measures nothing. Accuracy is measured on real texts by bench/topics.py (BENCHMARKS.md).
FLOORS = {"all": 0.80, "holdout": 0.75}


@pytest.fixture(scope="module")
def default() -> Taxonomy:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    return taxonomy_from_dict({key: data[key] for key in ("topics", "entities")})


def small(**topic) -> Taxonomy:
    """Build a one-topic taxonomy from keyword arguments of its table."""
    return taxonomy_from_dict({"topics": {"t": topic}})


def topics_of(taxonomy: Taxonomy, title: str = "", body: str = "") -> list[str]:
    return [m.topic for m in classify(title=title, body=body, taxonomy=taxonomy)]


def entities_of(taxonomy: Taxonomy, text: str) -> set[str]:
    return {m.topic for m in tag_entities(title="", body=text, taxonomy=taxonomy)}


# --- loading and validation -------------------------------------------------


def test_example_taxonomy_has_the_default_topics_and_entities(default):
    assert {t.key for t in default.topics} == DEFAULT_TOPICS
    assert {
        "armenia",
        "belarus",
        "kazakhstan",
        "kyrgyzstan",
        "russia",
        "tajikistan",
        "csto",
        "un",
        "osce",
        "cis",
        "sco",
        "nato",
        "eaeu",
        "eu",
        "brics",
    } <= {e.key for e in default.entities}
    assert all(t.label and t.threshold > 0 for t in default.topics)


def test_example_config_carries_topic_and_entity_tables():
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert {"topics", "entities"} <= set(data)


@pytest.mark.parametrize(
    ("topic", "message"),
    [
        (
            {"phrases": ["x"], "regex": ["(unclosed"]},
            "topics.t.regex[0]: not a valid regular expression",
        ),
        ({"regex": ["ok", "(a+)+b"]}, "topics.t.regex[1]: nested quantifiers"),
        ({"regex": [r"(?:\w+\s?)*end"]}, "topics.t.regex[0]: nested quantifiers"),
        ({"regex": [r"\b"]}, "topics.t.regex[0]: the regular expression can match an empty string"),
        ({"phrases": ["x"], "colour": "red"}, "topics.t.colour: unknown key"),
        ({"phrases": ["x"], "threshold": "high"}, "topics.t.threshold: expected a positive number"),
        ({"phrases": ["x"], "threshold": True}, "topics.t.threshold: expected a positive number"),
        ({"phrases": ["x"], "threshold": 0}, "topics.t.threshold: expected a positive number"),
        ({"phrases": "x"}, "topics.t.phrases: expected a list of strings"),
        ({"phrases": ["x", 3]}, "topics.t.phrases[1]: expected a string"),
        ({"phrases": ["  "]}, "topics.t.phrases[0]: empty phrase"),
        ({"phrases": ["x"], "weights": {"y": 2}}, "topics.t.weights.y: no such phrase or regex"),
        (
            {"phrases": ["x"], "weights": {"x": -1}},
            "topics.t.weights.x: expected a positive number",
        ),
        (
            {"phrases": ["x"], "hashtag": "two words"},
            "topics.t.hashtag: 'two words' is not a usable",
        ),
        ({"phrases": ["x"], "hashtag": "2024"}, "topics.t.hashtag: '2024' is not a usable"),
        ({"label": "Nothing"}, "topics.t: needs at least one of phrases, regex"),
        ({"phrases": ["x"], "exclude_regex": ["[z"]}, "topics.t.exclude_regex[0]: not a valid"),
        ("not a table", "topics.t: expected a table"),
    ],
)
def test_a_bad_topic_is_an_error_naming_its_path(topic, message):
    with pytest.raises(ValueError) as info:
        taxonomy_from_dict({"topics": {"t": topic}})
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"topics": {}, "rules": {}}, "rules: unknown key"),
        ({"entities": {}}, "topics: missing"),
        ({"topics": []}, "topics: expected a table"),
        ({"topics": {"Bad Key": {"phrases": ["x"]}}}, "topics.Bad Key: key must be"),
    ],
)
def test_a_bad_taxonomy_is_an_error_naming_its_path(data, message):
    with pytest.raises(ValueError, match=f"^{message}"):
        taxonomy_from_dict(data)


def test_error_paths_take_a_prefix_for_the_main_config():
    with pytest.raises(ValueError, match=r"^classify\.topics\.t\.regex\[0\]: "):
        taxonomy_from_dict({"topics": {"t": {"regex": ["("]}}}, path="classify")


def test_bad_toml_text_is_a_value_error():
    with pytest.raises(ValueError, match="not valid TOML"):
        taxonomy_from_toml("[topics.x\nphrases = 1")


def test_bounded_repeats_inside_groups_are_allowed():
    rule = Rule("regex", r"(?:\d{1,3}\.){3}\d{1,3}")
    assert rule.compiled.search("10.0.0.1")


def test_taxonomy_values_are_frozen(default):
    with pytest.raises(dataclasses.FrozenInstanceError):
        default.topics[0].threshold = 0.1  # type: ignore[misc]


# --- matching and scoring ---------------------------------------------------


def test_phrase_words_are_stems_and_yo_is_e():
    taxonomy = small(phrases=["государственн границ", "ёлк"], threshold=1.0)
    assert topics_of(taxonomy, body="пересек государственную  границу") == ["t"]
    assert topics_of(taxonomy, body="Новогодняя Ёлка") == ["t"]
    assert topics_of(taxonomy, body="негосударственные границы") == []  # only word starts


def test_a_phrase_hyphen_matches_a_space():
    taxonomy = small(phrases=["counter-terror"], threshold=1.0)
    assert topics_of(taxonomy, body="Counter terrorism week") == ["t"]


def test_exclusion_vetoes_the_topic():
    taxonomy = small(phrases=["border"], exclude=["beyond borders"], threshold=1.0)
    assert topics_of(taxonomy, body="Border guards patrol the border.") == ["t"]
    assert topics_of(taxonomy, body="The border guards' fame spread beyond borders.") == []


def test_title_hits_weigh_more_than_body_hits():
    taxonomy = small(phrases=["peacekeep"], threshold=1.5)
    in_title = classify(title="Peacekeepers arrive", body="", taxonomy=taxonomy)
    assert in_title[0].score == 1.5
    assert topics_of(taxonomy, body="Peacekeepers arrive") == []


def test_repeated_hits_have_diminishing_returns():
    taxonomy = small(phrases=["drill"], threshold=0.5)
    (once,) = classify(title="", body="drill", taxonomy=taxonomy)
    (thrice,) = classify(title="", body="drill drill drill", taxonomy=taxonomy)
    assert (once.score, thrice.score) == (1.0, 1.75)


def test_weights_and_why_are_recorded():
    taxonomy = small(
        phrases=["cyber", "virus"],
        regex=[r"\bhack(?:er|ers|ed)\b"],
        weights={"cyber": 2.0},
        threshold=2.5,
    )
    (match,) = classify(title="", body="Hackers used a cyber weapon", taxonomy=taxonomy)
    assert match.score == 3.0
    assert match.rules == ("phrase:cyber", r"regex:\bhack(?:er|ers|ed)\b")


def test_matches_are_sorted_by_score(default):
    matches = classify(
        title="Terrorist attack foiled",
        body="Counter-terrorism units and border guards stopped the terrorists "
        "at the state border.",
        taxonomy=default,
    )
    assert [m.topic for m in matches] == ["terrorism-extremism", "border-security"]
    assert matches[0].score >= matches[1].score


def test_near_miss_vocabulary_stays_out(default):
    assert topics_of(default, body="A new computer virus encrypts files on servers.") == [
        "cyber-information-security"
    ]
    assert "peacekeeping" not in topics_of(
        default, body="The peace formula has nothing to do with peace, the spokeswoman said."
    )
    assert "border-security" not in topics_of(
        default, body="Cooperation beyond borders and across borders of the EAEU."
    )


def test_greetings_get_no_topic(default):
    assert (
        topics_of(
            default,
            title="Putin congratulates Tokayev on his birthday",
            body="The President wished his colleague good health and success.",
        )
        == []
    )


def test_normalize_collapses_space_and_unifies_dashes():
    assert normalize("Ёж\u00a0 и\n\tёлка \u2013 всё") == "Еж и елка - все"


# --- entities and hashtags --------------------------------------------------


def test_acronyms_are_exact_whole_words(default):
    assert entities_of(default, "An un-precedented UNESCO decision, un-called") == set()
    assert entities_of(default, "The UN's role; a UN-led mission") == {"un"}
    assert entities_of(default, "если ЕСЛИ") == set()
    assert entities_of(default, "санкции ЕС") == {"eu"}


def test_russian_case_forms_are_tagged(default):
    assert entities_of(default, "делегация Армении встретилась с Казахстаном") == {
        "armenia",
        "kazakhstan",
    }
    assert entities_of(default, "Киргизией, Таджикистане, Белоруссии и Российской Федерацией") == {
        "kyrgyzstan",
        "tajikistan",
        "belarus",
        "russia",
    }
    assert entities_of(default, "в ООН, ОДКБ, ШОС, СНГ, ОБСЕ, ЕАЭС и НАТО, а также БРИКС") == {
        "un",
        "csto",
        "sco",
        "cis",
        "osce",
        "eaeu",
        "nato",
        "brics",
    }


def test_english_entity_names_are_tagged(default):
    text = (
        "The Collective Security Treaty Organization, the United Nations, the Commonwealth "
        "of Independent States and the Eurasian Economic Union met in Kyrgyzstan."
    )
    assert entities_of(default, text) == {"csto", "un", "cis", "eaeu", "kyrgyzstan"}


def test_hashtags_are_telegram_safe_and_unique():
    def match(key: str, tag: str) -> Match:
        return Match(topic=key, label=key, hashtag=tag, score=1.0, rules=())

    taxonomy = small(phrases=["x"], threshold=1.0)
    assert taxonomy.topics[0].hashtag == "t"
    (topic,) = taxonomy_from_dict({"topics": {"drugs-crime": {"phrases": ["x"]}}}).topics
    assert topic.hashtag == "drugs_crime"
    assert hashtags([match("a", "drugs_crime"), match("b", "UN"), match("c", "UN")]) == (
        "#drugs_crime",
        "#UN",
    )


def test_default_topics_render_as_hashtags(default):
    matches = classify(
        title="Peacekeepers and cyber attacks",
        body="The peacekeeping contingent faced cyber attacks.",
        taxonomy=default,
    )
    assert set(hashtags(matches)) == {"#peacekeeping", "#cyber_information_security"}


# --- evaluation of the default taxonomy --------------------------------------


def load_eval_set() -> list[dict]:
    with EVAL_SET.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def test_eval_set_is_well_formed():
    items = load_eval_set()
    assert len(items) >= 100
    assert len({item["id"] for item in items}) == len(items)
    langs = Counter(item["lang"] for item in items)
    assert set(langs) == {"en", "ru"} and min(langs.values()) >= 0.4 * len(items)
    holdout = sum(item["split"] == "holdout" for item in items)
    assert 0.25 * len(items) <= holdout <= 0.35 * len(items)
    for item in items:
        assert item["split"] in {"dev", "holdout"}
        assert item["title"] and item["body"]
        assert set(item["topics"]) <= DEFAULT_TOPICS, item["id"]


def score_pairs(items: list[dict], taxonomy: Taxonomy) -> dict[str, Counter]:
    """Count true positives, false positives and false negatives per topic."""
    counts: dict[str, Counter] = {topic: Counter() for topic in sorted(DEFAULT_TOPICS)}
    for item in items:
        got = {
            m.topic
            for m in classify(
                title=item["title"], body=item["body"], taxonomy=taxonomy, lang=item["lang"]
            )
        }
        gold = set(item["topics"])
        for topic in got | gold:
            counts[topic]["tp" if topic in got & gold else "fp" if topic in got else "fn"] += 1
    return counts


def prf(c: Counter) -> tuple[float, float, float]:
    precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
    recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


@pytest.mark.parametrize("split", sorted(FLOORS))
def test_default_taxonomy_meets_the_agreed_floor(default, split):
    items = [i for i in load_eval_set() if split == "all" or i["split"] == split]
    counts = score_pairs(items, default)
    total = sum(counts.values(), Counter())
    precision, recall, f1 = prf(total)
    print(f"\n{split}: {len(items)} items  micro P={precision:.3f} R={recall:.3f} F1={f1:.3f}")
    print(f"  {'topic':28} {'P':>5} {'R':>5} {'F1':>5}  tp fp fn")
    for topic, c in counts.items():
        p, r, f = prf(c)
        print(f"  {topic:28} {p:5.2f} {r:5.2f} {f:5.2f}  {c['tp']:2} {c['fp']:2} {c['fn']:2}")
    assert f1 >= FLOORS[split], f"{split} micro-F1 {f1:.3f} < {FLOORS[split]}"


# --- the needle pre-check ------------------------------------------------------


def test_folding_agrees_with_re_ignorecase_on_every_case_pair():
    # The pre-check may only skip a regex when the regex could not match; that holds when
    # every pair of characters re.IGNORECASE equates folds to one string.
    from bot.text.classify import fold

    pairs = 0
    for char in map(chr, range(0x10000)):
        if 0xD800 <= ord(char) < 0xE000:
            continue
        for other in {char.lower(), char.upper(), char.title(), char.casefold()}:
            if len(other) == 1 and re.fullmatch(re.escape(other), char, re.IGNORECASE):
                pairs += 1
                assert fold(other) == fold(char), (hex(ord(char)), hex(ord(other)))
    assert pairs > 60_000


@pytest.mark.parametrize(
    "title, body",
    [
        ("İstanbul talks", "Delegations met in İSTANBUL and istanbul."),
        ("ſanctions", "The ſanctions regime; SANCTIONS; ſanction relief."),
        ("ΟΔΟΣ", "σ and ς and Σ: Κελβιν with the Kelvin sign \u212a."),
    ],
)
def test_rare_case_pairs_are_found_as_re_finds_them(title, body):
    taxonomy = small(phrases=["istanbul", "sanction", "кελβιν", "σ"], threshold=0.1)
    with_check = classify(title=title, body=body, taxonomy=taxonomy)
    assert with_check == _without_precheck(classify, title=title, body=body, taxonomy=taxonomy)
    assert with_check, "the rare spellings should still earn the topic"


def test_the_precheck_never_changes_a_result_on_the_eval_and_real_sets(default):
    real = [json.loads(line) for line in REAL_SET.read_text(encoding="utf-8").splitlines()]
    for item in load_eval_set() + real:
        for tag in (classify, tag_entities):
            fast = tag(title=item["title"], body=item["body"], taxonomy=default)
            assert fast == _without_precheck(
                tag, title=item["title"], body=item["body"], taxonomy=default
            ), item["id"]


def _without_precheck(tag, **text):
    """Run a tagger counting every rule's matches with a plain finditer over the whole text."""
    import bot.text.classify as module

    def plain_count(rule, text):
        count = 0
        for count, _ in enumerate(rule.compiled.finditer(text.exact), start=1):
            if count >= module.MAX_HITS:
                break
        return count

    original = module._count, module._candidates
    module._count, module._candidates = plain_count, lambda topic, *_: list(topic.rules)
    try:
        return tag(**text)
    finally:
        module._count, module._candidates = original


@pytest.mark.parametrize(
    "pattern, needles",
    [
        (r"\bсекретариат(?:ов|ами|ы)\b", ("секретариат",)),
        (r"\b(?:Heroin|cocaine)\b", ("heroin", "cocaine")),
        (r"(?-i:\b(?:CSTO|UN)\b), x", ("csto", "un")),
        (r"(ab|cd)x|ef", ("ab", "cd", "ef")),
        (r"borders?", ("border",)),  # the optional letter is not required
        (r"ab{2}", ()),  # "a" alone: one letter is too little to look for
        (r"(?:ab)?cd", ()),  # a group that may be skipped
        (r"(?:ab|c)x", ()),
        (r"x[|]y|zz", ()),
        (r"[a-z]+ border", ()),
        (r"(?<=a)bcd", ()),
        (r"\\bab", ()),  # an escaped backslash is not a word boundary
        (r"(?:abc){e<=1}", ()),  # fuzzy matching
        (r"strasse(?f)", ()),  # full case folding: "ss" matches "ß"
    ],
)
def test_a_regex_is_tried_only_where_a_word_it_needs_occurs(pattern, needles):
    rule = Rule("regex", pattern)
    assert rule.needles == needles


@pytest.mark.parametrize(
    "pattern",
    [r"\bсекретариат(?:ов|ами|ы)\b", r"\bheroin\b", r"(?-i:\b(?:CSTO|UN)\b), x", r"(ab|cd)x|ef"],
)
def test_the_needles_of_a_regex_never_hide_a_match(pattern):
    taxonomy = small(regex=[pattern], threshold=0.1)
    texts = ["Секретариаты ОДКБ", "HEROIN seized", "CSTO, x", "the UN, x", "CDX", "İSTANBUL", ""]
    for body in texts:
        assert classify(title="", body=body, taxonomy=taxonomy) == _without_precheck(
            classify, title="", body=body, taxonomy=taxonomy
        )


@pytest.mark.parametrize(
    "phrase, text",
    [
        (
            "state",
            "statestate state, STATE-owned; the state's estate",
        ),  # repeats, hyphens, inside words
        ("state border", "state  border state-border stateborder statesborder state border"),
        ("UN", "UN UNESCO un UN-led (UN)"),  # an acronym: exact case
        ("border", "border " * 10),  # more hits than are counted
        ("state state", "state state state"),  # a match's own words cannot start the next one
    ],
)
def test_counting_at_needles_agrees_with_a_full_scan(phrase, text):
    taxonomy = small(phrases=[phrase], threshold=0.1)
    assert classify(title=text, body=text, taxonomy=taxonomy) == _without_precheck(
        classify, title=text, body=text, taxonomy=taxonomy
    )
