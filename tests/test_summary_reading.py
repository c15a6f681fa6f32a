"""A summary's length counts what a reader reads: a Han, kana or Hangul character as three."""

from __future__ import annotations

from bot.text.reading import cut_words, width
from bot.text.summarize import summarize

# Synthetic Chinese body after cn_People (fundus): three paragraphs of two sentences each.
ZH_SENTENCE = "国家航天局表示，双方将在卫星研制和发射服务领域继续深化合作并共同推动技术交流。"
ZH_BODY = "\n\n".join(ZH_SENTENCE * 2 for _ in range(3))
# Synthetic English body of the same shape.
EN_SENTENCE = (
    "The space agency said both sides would deepen cooperation on satellites and launches."
)


def test_width_counts_cjk_characters_three_times_and_other_scripts_once() -> None:
    assert width("Ngày 22/10, bác sĩ cho biết.") == len("Ngày 22/10, bác sĩ cho biết.")
    assert width("Москва, 12 марта.") == len("Москва, 12 марта.")
    assert width("発表した。") == 13 and width("확정했다.") == 13 and width("4月") == 4


def test_a_chinese_summary_is_a_few_sentences_not_600_characters() -> None:
    summary = summarize(title="航天合作", lead="", body=ZH_BODY, max_chars=600, lang="zh")
    # Two paragraphs of two sentences (a third would pass 600 Latin characters' worth); counted
    # as characters, all three paragraphs fitted.
    assert summary == f"{ZH_SENTENCE * 2} {ZH_SENTENCE * 2}"
    assert width(summary) <= 600 < width(f"{summary} {ZH_SENTENCE * 2}") and len(ZH_BODY) < 600


def test_an_english_summary_fills_the_budget_in_characters_as_before() -> None:
    body = "\n\n".join(f"{EN_SENTENCE} {EN_SENTENCE}" for _ in range(4))
    summary = summarize(title="Space", lead="", body=body, max_chars=600, lang="en")
    assert summary == " ".join([EN_SENTENCE] * 6) and width(summary) == len(summary) == 515


def test_an_unspaced_sentence_longer_than_the_budget_is_cut_after_a_comma() -> None:
    sentence = "将继续深化合作" * 4 + "，" + "将继续深化合作" * 40 + "。"
    assert cut_words(sentence, 100) == "将继续深化合作" * 4 + "…"
    # A comma near the start would leave a stub: cut at the last character that fits instead.
    sentence = "双方表示，" + "将继续深化合作" * 40 + "。"
    assert cut_words(sentence, 100) == "双方表示，" + "将继续深化合作" * 4 + "…"
    assert cut_words("将继续深化合作" * 40, 31) == "将继续深化合作将继续…"  # 10 × 3 + "…"
    assert cut_words("The talks go on next week.", 15) == "The talks go…"


def test_a_dateline_or_a_latin_name_before_unspaced_text_leaves_no_stub() -> None:
    """review14c: the last space sat in the dateline, so 200 Han characters became '…記者…'."""
    dateline = "新华社北京12月7日电（记者 张三）" + "双方将继续深化合作" * 30 + "。"
    cut = cut_words(dateline, 300)
    assert cut.startswith("新华社北京12月7日电（记者 张三）双方将继续")
    assert width(cut) <= 300 and width(cut) > 250
    nhk = "NHK によると" + "地震の被害は広い範囲に及んでいる" * 20 + "。"
    assert width(cut_words(nhk, 300)) > 250


def test_a_cut_never_splits_a_latin_word_in_mixed_text() -> None:
    sentence = "会谈在 " + "Kazakhstan " * 3 + "举行" * 100
    assert cut_words(sentence, 24) == "会谈在 Kazakhstan…"  # the limit falls in the second one
    # The only space is near the start and the limit falls inside a long Latin word: the cut
    # stays at the space rather than split the word.
    assert cut_words("会 " + "Kazakhstanrepublic" * 2 + "举行" * 100, 24) == "会…"
