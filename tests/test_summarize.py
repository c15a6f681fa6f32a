"""Tests for bot.text.summarize: lead choice and the length budget (sentences: test_summarize_sentences)."""

import re
from functools import partial

import pytest

from bot.config.model import Config
from bot.text.summarize import is_real_lead
from bot.text.summarize import summarize as summarize_to

# The product's default length (config key summary.max_chars) unless a test sets its own.
summarize = partial(summarize_to, max_chars=Config.__dataclass_fields__["summary_chars"].default)

# --- lead choice -------------------------------------------------------------------------------

TITLE = "CSTO Secretary General meets Ambassador of Armenia"
BODY = (
    "On 12 March, CSTO Secretary General Imangali Tasmagambetov met the Ambassador of Armenia "
    "to Russia. The parties discussed preparations for the Collective Security Council "
    "session."
)

LEAD_CASES = [
    pytest.param(
        "The parties discussed preparations for the session of the Collective Security "
        "Council in Minsk.",
        True,
        id="real-lead",
    ),
    pytest.param("Zas arrived in Minsk.", True, id="short-full-sentence"),
    pytest.param(
        "MOSCOW, May 16. /TASS/. The parties discussed the CSTO agenda for next year.",
        True,
        id="real-lead-after-dateline",
    ),
    pytest.param(BODY.split(". ")[0] + ".", True, id="first-body-sentence"),
    pytest.param("  csto secretary general MEETS ambassador of armenia. ", False, id="title-again"),
    pytest.param(TITLE + " 12.03.2024", False, id="title-with-date"),
    pytest.param(
        "TASS is Russia's leading news agency, covering events in Russia and abroad.",
        False,
        id="tass-site-description",
    ),
    pytest.param(
        "ТАСС — крупнейшее информационное агентство России и одно из ведущих в мире.",
        False,
        id="tass-ru-site-description",
    ),
    pytest.param(
        "Sputnik — международное информационное агентство и радио.",
        False,
        id="any-agency-self-description",
    ),
    pytest.param(
        "The CSTO Secretary General gave an interview to the TASS news agency in Moscow.",
        True,
        id="a-lead-that-names-an-agency",
    ),
    pytest.param("Read more in our Telegram channel about the CSTO summit.", False, id="read-more"),
    pytest.param("Subscribe to our newsletter to get the latest CSTO news.", False, id="subscribe"),
    pytest.param(
        "Подписывайтесь на ТАСС в Telegram, чтобы не пропустить главное.", False, id="podpisyvaytes"
    ),
    pytest.param(
        "Official website of the Ministry of Foreign Affairs of the Russian Federation",
        False,
        id="mfa-site-description",
    ),
    pytest.param(
        "The full text of the statement is at https://en.odkb-csto.org/documents/.",
        False,
        id="link",
    ),
    pytest.param("MOSCOW, May 16. /TASS/.", False, id="only-dateline"),
    pytest.param("Politics", False, id="short-fragment"),
    pytest.param("", False, id="empty"),
    pytest.param(
        "On 12 March, CSTO Secretary General Imangali Tasmagambetov met the Ambas...",
        False,
        id="cut-excerpt-of-body",
    ),
    pytest.param(
        "On 12 March, CSTO Secretary General Imangali Tasmagambetov met the Ambassador",
        False,
        id="unfinished-excerpt-of-body",
    ),
]


@pytest.mark.parametrize(("lead", "expected"), LEAD_CASES)
def test_is_real_lead(lead, expected):
    assert is_real_lead(lead, title=TITLE, body=BODY) is expected


def test_cut_excerpt_counts_as_lead_without_a_body_to_compare():
    lead = "On 12 March, CSTO Secretary General Imangali Tasmagambetov met the Ambassador"
    assert is_real_lead(lead, title=TITLE)


# --- summaries ---------------------------------------------------------------------------------


def _assert_clean_cut(summary: str, source: str, max_chars: int) -> None:
    """Assert the summary fits and is a prefix of source ending at a word boundary."""
    assert 0 < len(summary) <= max_chars
    core = summary.removesuffix("…")
    assert source.startswith(core), (summary, source)
    following = source[len(core) : len(core) + 1]
    assert not following.isalnum(), f"cut inside a word: {summary!r}"
    if not summary.endswith("…"):
        assert re.search(r"[.!?…][»”\"']?$", summary), f"not whole sentences: {summary!r}"


def test_real_lead_is_the_summary():
    lead = (
        "MOSCOW, May 16. /TASS/. The parties discussed preparations for the  session of the "
        "Collective Security Council in Minsk."
    )
    got = summarize(title=TITLE, lead=lead, body=BODY, lang="en")
    assert got == (
        "The parties discussed preparations for the session of the Collective Security "
        "Council in Minsk."
    )


@pytest.mark.parametrize(
    "lead",
    [
        pytest.param("TASS is Russia's leading news agency.", id="boilerplate"),
        pytest.param(TITLE, id="title"),
        pytest.param("", id="empty"),
    ],
)
def test_body_is_used_when_lead_is_not_real(lead):
    assert summarize(title=TITLE, lead=lead, body=BODY) == BODY


def test_body_dateline_and_title_sentence_are_skipped():
    body = "MOSCOW, May 16. /TASS/. CSTO Secretary General meets Ambassador of Armenia. " + BODY
    assert summarize(title=TITLE, lead="", body=body) == BODY


def test_title_line_with_glued_date_is_skipped():
    # CSTO pages repeat the title with the publication date on its own line.
    body = f"{TITLE} 12.03.2024\n{BODY}"
    assert summarize(title=TITLE, lead="", body=body) == BODY


def test_title_prefix_that_continues_the_sentence_is_kept():
    body = "Putin arrives in Minsk for talks with Lukashenko on Friday. The agenda is long."
    got = summarize(title="Putin arrives in Minsk", lead="", body=body)
    assert got == body


def test_russian_body_with_correspondent_dateline():
    body = (
        "МОСКВА, 27 декабря. /Корр. ТАСС Михаил Тимофеев/. Генеральный секретарь ОДКБ С. Зас "
        "подвел итоги года. По его словам, в 2021 г. было проведено 12 учений, т.е. больше, "
        "чем годом ранее. «Организация готова к новым вызовам», — подчеркнул он."
    )
    got = summarize(title="Зас подвел итоги года", lead="", body=body, max_chars=160)
    assert got == (
        "Генеральный секретарь ОДКБ С. Зас подвел итоги года. По его словам, в 2021 г. "
        "было проведено 12 учений, т.е. больше, чем годом ранее."
    )


def test_belta_body_in_english_without_unpunctuated_trailer():
    body = (
        "MOSCOW, 1 July (BelTA) - The arrival of CSTO peacekeepers helped turn the tide, CSTO "
        "Secretary General Stanislav Zas told BelTA.\nFollow us on: X"
    )
    got = summarize(
        title="Zas: CSTO peacekeepers helped turn the tide", lead="", body=body, max_chars=200
    )
    assert got == (
        "The arrival of CSTO peacekeepers helped turn the tide, CSTO Secretary General "
        "Stanislav Zas told BelTA."
    )


LONG_BODY = (
    "The Collective Security Treaty Organization held a meeting of the Committee of "
    "Secretaries of Security Councils in Moscow on Tuesday. Lt. Gen. Anatoly Sidorov "
    "reported on the situation on the Tajik-Afghan border, which remains tense, and "
    "proposed strengthening the border with additional equipment. The Committee approved "
    "a joint statement. The next meeting will be held in Yerevan in 2022."
)
LONG_SENTENCES = [
    "The Collective Security Treaty Organization held a meeting of the Committee of "
    "Secretaries of Security Councils in Moscow on Tuesday.",
    "Lt. Gen. Anatoly Sidorov reported on the situation on the Tajik-Afghan border, which "
    "remains tense, and proposed strengthening the border with additional equipment.",
    "The Committee approved a joint statement.",
    "The next meeting will be held in Yerevan in 2022.",
]
assert " ".join(LONG_SENTENCES) == LONG_BODY


@pytest.mark.parametrize(
    ("max_chars", "expected_sentences"),
    [
        (len(LONG_SENTENCES[0]), 1),
        (len(LONG_SENTENCES[0]) + 1 + len(LONG_SENTENCES[1]) - 1, 1),
        (len(LONG_SENTENCES[0]) + 1 + len(LONG_SENTENCES[1]), 2),
        (len(LONG_BODY), 4),
        (600, 4),
    ],
)
def test_budget_keeps_whole_sentences(max_chars, expected_sentences):
    got = summarize(
        title="CSTO security council secretaries meet", lead="", body=LONG_BODY, max_chars=max_chars
    )
    assert got == " ".join(LONG_SENTENCES[:expected_sentences])
    _assert_clean_cut(got, LONG_BODY, max_chars)


@pytest.mark.parametrize("max_chars", [5, 10, 25, 40, 57, 80, 100, 120])
def test_budget_cuts_a_long_first_sentence_at_a_word(max_chars):
    got = summarize(title="", lead="", body=LONG_BODY, max_chars=max_chars)
    assert got.endswith("…")
    _assert_clean_cut(got, LONG_BODY, max_chars)


def test_budget_cut_exact_text():
    got = summarize(title="", lead="", body=LONG_BODY, max_chars=40)
    assert got == "The Collective Security Treaty…"


def test_budget_cut_drops_trailing_comma():
    body = "In Minsk, Dushanbe, Yerevan, Bishkek and Nur-Sultan the drills continued for weeks."
    assert summarize(title="", lead="", body=body, max_chars=22) == "In Minsk, Dushanbe…"


def test_budget_applies_to_a_real_lead():
    lead = (
        "The parties discussed preparations for the session in Minsk. They also agreed to hold "
        "joint exercises in Tajikistan next autumn."
    )
    got = summarize(title=TITLE, lead=lead, body=BODY, max_chars=70)
    assert got == "The parties discussed preparations for the session in Minsk."


def test_budget_below_the_first_word_gives_empty_summary():
    assert summarize(title="", lead="", body=LONG_BODY, max_chars=3) == ""


def test_word_longer_than_budget_gives_empty_summary():
    body = "https://en.odkb-csto.org/" + "x" * 80
    assert summarize(title="", lead="", body=body, max_chars=30) == ""


@pytest.mark.parametrize(
    ("title", "lead", "body"),
    [
        pytest.param("CSTO statement", "", "", id="nothing"),
        pytest.param("CSTO statement", " \n ", "\t", id="whitespace"),
        pytest.param("CSTO statement", "CSTO statement", "CSTO statement.", id="only-title"),
        pytest.param("", "", "MOSCOW, May 16. /TASS/.", id="only-dateline"),
    ],
)
def test_nothing_to_summarise_gives_empty_string(title, lead, body):
    assert summarize(title=title, lead=lead, body=body) == ""


def test_summary_is_one_paragraph():
    body = "The Council met.\n\nIt adopted\na statement   on Afghanistan."
    got = summarize(title="", lead="", body=body)
    assert got == "The Council met. It adopted a statement on Afghanistan."


def test_non_positive_budget_is_rejected():
    with pytest.raises(ValueError, match="max_chars"):
        summarize(title="", lead="", body=BODY, max_chars=0)
