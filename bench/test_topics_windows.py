"""Round 11's window-max variant: the window split, the decision and the adoption check.

Every text here is synthetic (written for the test), as is the tiny model.
"""

from __future__ import annotations

import pytest

from bench.topics.data import DEALS
from bench.topics.paired import adoption, paired_rows
from bot.text.topic_model import FORMAT, TopicModel
from bot.text.topic_windows import sentences, windows


def test_synthetic_sentences_end_at_stops_with_closing_quotes_and_keep_a_cut_tail():
    text = (
        'Troops drilled. Was it "planned?" Yes!\nThe summit… met «here». Talks went on to the even'
    )
    assert sentences(text) == [
        "Troops drilled.",
        'Was it "planned?"',
        "Yes!",
        "The summit…",
        "met «here».",
        "Talks went on to the even",
    ]


def test_synthetic_stops_inside_a_word_or_number_do_not_end_a_sentence():
    assert sentences("Version 2.5 of the plan, see csto.org/news, was adopted.") == [
        "Version 2.5 of the plan, see csto.org/news, was adopted."
    ]
    assert sentences("  ") == []


def test_synthetic_windows_are_the_title_and_each_pair_of_consecutive_sentences():
    body = "Один. Два. Три."
    assert windows("Заголовок", body) == ("Заголовок", "Один. Два.", "Два. Три.")
    assert windows("", "Only one sentence here") == ("Only one sentence here",)
    assert windows(" Title ", "") == ("Title",)
    assert windows("", "") == ()


def _model(*, windows: bool, bias: float = -1.0) -> TopicModel:
    """A synthetic one-topic model: troops raise it, a summit lowers it."""
    return TopicModel.from_dict(
        {
            "format": FORMAT,
            "source": "synthetic",
            "threshold": 0.5,
            "windows": windows,
            "topics": {"military": {"bias": bias, "weights": {"w:troop": 2.0, "w:summit": -1.5}}},
            "lemmas": {"troop": "troop troops", "summit": "summit"},
        }
    )


TITLE = "Summit in the capital"
BODY = "Leaders met at the summit. They talked. Troops held drills."


def test_synthetic_window_max_gives_a_topic_its_best_window_reaches_and_names_it():
    model = _model(windows=True)
    assert model.decide(TITLE, BODY, {}, only={"military"}) == []  # no window points: whole text
    [decision] = model.decide(TITLE, BODY, {}, only={"military"}, window_points=_none)
    assert decision.topic == "military" and decision.probability > 0.5
    assert decision.reasons[0] == "window:They talked. Troops held drills."
    assert decision.reasons[1].startswith("lemma:troop+")
    assert model.decide(TITLE, BODY, {}, only=set(), window_points=_none) == []


def test_synthetic_a_model_tuned_without_windows_scores_the_whole_text_only():
    model = _model(windows=False)
    assert model.decide(TITLE, BODY, {}, only={"military"}, window_points=_none) == []


def test_synthetic_a_window_without_a_known_word_is_not_scored():
    # The bias alone would pass (p = 0.73): a text or window with nothing the model knows never does.
    model = _model(windows=True, bias=1.0)
    assert model.decide("Hello", "Nothing here. Nor here.", {}, only={"military"}) == []
    got = model.decide("Hello", "Nothing. Nor here.", {}, only={"military"}, window_points=_none)
    assert got == []


def _none(_: str) -> dict[str, float]:
    """Synthetic rule points of a window: none."""
    return {}


def _runs(per_deal: tuple[int, int, int, int]) -> dict:
    """Synthetic runs, the same each deal: English hits and misses, Russian hits and misses."""
    pooled, got = [], []
    en_hits, en_misses, ru_hits, ru_misses = per_deal
    for _ in DEALS:
        for lang, hits, misses in (("en", en_hits, en_misses), ("ru", ru_hits, ru_misses)):
            for i in range(hits + misses):
                pooled.append({"id": f"{lang}-{i}", "lang": lang, "topics": ["economy"]})
                got.append({"economy"} if i < hits else set())
    return {label: ([], pooled, got) for label in ("short", "full")}


def test_synthetic_adoption_needs_a_pooled_rise_in_three_deals_and_a_held_full_text():
    base, better = _runs((3, 2, 5, 0)), _runs((5, 0, 5, 0))  # English recall 0.6, then 1.0
    assert [held for _, held in adoption(base, better, "short", "full")] == [True] * 4
    assert [held for _, held in adoption(better, base, "short", "full")] == [False] * 4
    assert [held for _, held in adoption(base, base, "short", "full")] == [False] * 3 + [True]


def test_synthetic_paired_rows_show_each_deal_and_the_pool(monkeypatch):
    monkeypatch.setattr("bench.topics.paired.VIEWS", {"short": 600})
    rows = paired_rows(_runs((3, 2, 5, 0)), _runs((5, 0, 5, 0)))
    assert len(rows) == 2 + len(DEALS) + 1
    assert rows[2].startswith("| short | 0 | 0.889 → 1.000 | +0.111 | 0.750 → 1.000 | +0.250 |")
    assert rows[-1].startswith("| short | pooled | 0.889 → 1.000 | +0.111 |")


def test_windows_is_an_ablation_and_time_option_only(capsys):
    from bench.topics.__main__ import main

    assert main(["train", "--windows"]) == 2
    assert main(["--windows"]) == 2
    assert "--windows" in capsys.readouterr().err


def test_training_with_windows_changes_thresholds_only_never_the_weights():
    pytest.importorskip("sklearn")
    from bench.topics.scoring import rules_taxonomy
    from bot.text.topic_training import Recipe, train

    troops = "Troops of the member states held a joint exercise. Soldiers drilled near the border."
    summit = "The presidents met at a summit. They signed a declaration on trade and the economy."
    both = f"{summit} {troops}"
    samples = [
        (f"Synthetic {i}", text, gold)
        for i in range(6)
        for text, gold in [
            (troops, ["military-cooperation"]),
            (summit, ["politics-diplomacy"]),
            (both, ["politics-diplomacy", "military-cooperation"]),
        ]
    ]
    topics = ("military-cooperation", "politics-diplomacy")
    kwargs = {
        "taxonomy": rules_taxonomy(),
        "topics": topics,
        "groups": [str(i % 6) for i in range(18)],
    }
    plain = train(samples, recipe=Recipe(min_texts=1), **kwargs)
    windowed = train(samples, recipe=Recipe(min_texts=1, windows=True), **kwargs)
    assert windowed.pop("windows") is True and "windows" not in plain
    for topic in topics:
        for key in ("bias", "weights", "c"):
            assert windowed["topics"][topic][key] == plain["topics"][topic][key]
