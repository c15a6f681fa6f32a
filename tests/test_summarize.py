"""Tests for bot.text.summarize: sentence splitting, datelines, lead choice and the length budget."""

import re

import pytest

from bot.text.summarize import is_real_lead, strip_dateline, summarize

# --- sentence splitting ------------------------------------------------------------------------

SPLIT_CASES = [
    pytest.param(
        "Lt. Gen. Anatoly Sidorov, Chief of the CSTO Joint Staff, arrived in Minsk. "
        "The consultations will last two days.",
        "en",
        [
            "Lt. Gen. Anatoly Sidorov, Chief of the CSTO Joint Staff, arrived in Minsk.",
            "The consultations will last two days.",
        ],
        id="en-military-ranks",
    ),
    pytest.param(
        "Col. Ivanov and Maj. Petrova briefed Mr. Smith, Mrs. Brown, Ms. Lee, Dr. Khan and "
        "Prof. Orlov in St. Petersburg. They discussed peacekeeping training.",
        "",
        [
            "Col. Ivanov and Maj. Petrova briefed Mr. Smith, Mrs. Brown, Ms. Lee, Dr. Khan and "
            "Prof. Orlov in St. Petersburg.",
            "They discussed peacekeeping training.",
        ],
        id="en-titles-detected-language",
    ),
    pytest.param(
        "The U.S. Department of State and the U.N. Security Council were notified. No reply came.",
        "en",
        [
            "The U.S. Department of State and the U.N. Security Council were notified.",
            "No reply came.",
        ],
        id="en-us-un",
    ),
    pytest.param(
        "The delegation was led by K. I. Kosachev. CSTO Secretary General S. Zas also attended.",
        "en",
        [
            "The delegation was led by K. I. Kosachev.",
            "CSTO Secretary General S. Zas also attended.",
        ],
        id="en-initials",
    ),
    pytest.param(
        "Trade grew 1.5 times in 2021. Settlements in national currencies reached 80.5 percent.",
        "en",
        [
            "Trade grew 1.5 times in 2021.",
            "Settlements in national currencies reached 80.5 percent.",
        ],
        id="en-decimals",
    ),
    pytest.param(
        "Member states, e.g. Armenia and Kazakhstan, i.e. two of six, agreed. Drills, staff "
        "talks, etc. will follow in Jan. 2022. The agenda covers drones, cyber threats, etc. "
        "The next session is in May.",
        "en",
        [
            "Member states, e.g. Armenia and Kazakhstan, i.e. two of six, agreed.",
            "Drills, staff talks, etc. will follow in Jan. 2022.",
            "The agenda covers drones, cyber threats, etc.",
            "The next session is in May.",
        ],
        id="en-eg-ie-etc-month",
    ),
    pytest.param(
        "Resolution No. 2254 was cited. The vote was 13 vs. 2. The session ended at 5 p.m. local "
        "time.",
        "en",
        [
            "Resolution No. 2254 was cited.",
            "The vote was 13 vs. 2.",
            "The session ended at 5 p.m. local time.",
        ],
        id="en-no-vs-pm",
    ),
    pytest.param(
        'The Secretary General said: "The situation is stable." He thanked the peacekeepers.',
        "en",
        ['The Secretary General said: "The situation is stable."', "He thanked the peacekeepers."],
        id="en-closing-quote",
    ),
    pytest.param(
        "Is the CSTO ready? Yes! The answer came at once… Then the briefing ended. We waited… "
        "and waited.",
        "en",
        [
            "Is the CSTO ready?",
            "Yes!",
            "The answer came at once…",
            "Then the briefing ended.",
            "We waited… and waited.",
        ],
        id="en-question-exclamation-ellipsis",
    ),
    pytest.param(
        "Об этом сообщил генеральный секретарь ОДКБ С. Зас. Он прибыл в Минск.",
        "ru",
        ["Об этом сообщил генеральный секретарь ОДКБ С. Зас.", "Он прибыл в Минск."],
        id="ru-initial",
    ),
    pytest.param(
        "Президент России В.В. Путин провел переговоры. "
        "Стороны обсудили коллективную безопасность.",
        "",
        [
            "Президент России В.В. Путин провел переговоры.",
            "Стороны обсудили коллективную безопасность.",
        ],
        id="ru-joined-initials-detected-language",
    ),
    pytest.param(
        "В 2021 г. было проведено пять учений. Штаб находится в г. Москве. Учения прошли в 2021 г. "
        "Следующие запланированы на осень.",
        "",
        [
            "В 2021 г. было проведено пять учений.",
            "Штаб находится в г. Москве.",
            "Учения прошли в 2021 г.",
            "Следующие запланированы на осень.",
        ],
        id="ru-god-gorod",
    ),
    pytest.param(
        "Обсуждались угрозы, т.е. терроризм, наркотрафик и т.д. Итоги подведут в декабре, т.к. "
        "Совет соберется позже. Учения проводились в 2019–2021 гг. Теперь их будет больше.",
        "ru",
        [
            "Обсуждались угрозы, т.е. терроризм, наркотрафик и т.д.",
            "Итоги подведут в декабре, т.к. Совет соберется позже.",
            "Учения проводились в 2019–2021 гг.",
            "Теперь их будет больше.",
        ],
        id="ru-te-td-tk-gg",
    ),
    pytest.param(
        "Выделено 300 тыс. руб. и 2 млн. долл. для миссии. Бюджет составил 1,5 млрд. руб. "
        "На эти средства закупят технику.",
        "ru",
        [
            "Выделено 300 тыс. руб. и 2 млн. долл. для миссии.",
            "Бюджет составил 1,5 млрд. руб.",
            "На эти средства закупят технику.",
        ],
        id="ru-money",
    ),
    pytest.param(
        "Встреча прошла в здании им. М. В. Ломоносова на ул. Ильинка. Подробности см. в докладе, "
        "напр. у проф. Иванова и ген. Сидорова. Доклад опубликован.",
        "",
        [
            "Встреча прошла в здании им. М. В. Ломоносова на ул. Ильинка.",
            "Подробности см. в докладе, напр. у проф. Иванова и ген. Сидорова.",
            "Доклад опубликован.",
        ],
        id="ru-im-ul-sm-prof-gen",
    ),
    pytest.param(
        "«Ситуация стабильна», — сказал он. «Мы готовы помочь.» — заявил генсек. Он сказал: "
        "«Все под контролем.» Затем начался брифинг. Что дальше? Ответ даст саммит.",
        "ru",
        [
            "«Ситуация стабильна», — сказал он.",
            "«Мы готовы помочь.» — заявил генсек.",
            "Он сказал: «Все под контролем.»",
            "Затем начался брифинг.",
            "Что дальше?",
            "Ответ даст саммит.",
        ],
        id="ru-quotes-question",
    ),
    pytest.param(
        "  The Council\nmet in\u00a0Moscow.\n\nIt adopted   a statement. ",
        "en",
        ["The Council met in Moscow.", "It adopted a statement."],
        id="whitespace-collapsed",
    ),
]


@pytest.mark.parametrize(("text", "lang", "expected"), SPLIT_CASES)
def test_sentences_split_where_a_summary_may_end(text, lang, expected):
    # A budget of exactly the first k sentences gives those sentences (a missed boundary gives
    # less); one character less gives the first k - 1 (a boundary inside sentence k gives more).
    def summary(max_chars: int) -> str:
        return summarize(title="", lead="", body=text, lang=lang, max_chars=max_chars)

    for k in range(1, len(expected) + 1):
        first = " ".join(expected[:k])
        assert summary(len(first)) == first
        shorter = summary(len(first) - 1)
        assert shorter == " ".join(expected[: k - 1]) if k > 1 else shorter.endswith("…")


# --- datelines ---------------------------------------------------------------------------------

DATELINE_CASES = [
    pytest.param(
        "MOSCOW, May 16. /TASS/. The CSTO Secretary General held talks.",
        "The CSTO Secretary General held talks.",
        id="tass-en",
    ),
    pytest.param(
        "IGORA /Leningrad Region/, December 26. /TASS/. CIS leaders met informally.",
        "CIS leaders met informally.",
        id="tass-en-subplace",
    ),
    pytest.param(
        "МОСКВА, 27 декабря. /ТАСС/. Генсек ОДКБ провел брифинг.",
        "Генсек ОДКБ провел брифинг.",
        id="tass-ru",
    ),
    pytest.param(
        "МОСКВА, 27 декабря. /Корр. ТАСС Михаил Тимофеев/. Генсек ОДКБ провел брифинг.",
        "Генсек ОДКБ провел брифинг.",
        id="tass-ru-correspondent",
    ),
    pytest.param(
        "MOSCOW, 1 July (BelTA) - The CSTO is ready to help, Stanislav Zas said.",
        "The CSTO is ready to help, Stanislav Zas said.",
        id="belta-en",
    ),
    pytest.param(
        "2 февраля, Москва /Эдуард Пивовар - БЕЛТА/. Генсек ОДКБ дал интервью.",
        "Генсек ОДКБ дал интервью.",
        id="belta-ru-byline",
    ),
    pytest.param(
        "МИНСК, 2 февраля (БЕЛТА) - Президент встретился с генсеком ОДКБ.",
        "Президент встретился с генсеком ОДКБ.",
        id="belta-ru",
    ),
    pytest.param(
        "DUSHANBE, October 7 (Khovar) – The drills ended.",
        "The drills ended.",
        id="generic-en-dash",
    ),
    pytest.param(
        "NUR-SULTAN, Nov. 23, 2021 (Kazinform) — Talks began.",
        "Talks began.",
        id="generic-abbreviated-month-year",
    ),
]


@pytest.mark.parametrize(("text", "expected"), DATELINE_CASES)
def test_strip_dateline_removes_leading_dateline(text, expected):
    assert strip_dateline(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "MOSCOW, May 16. The talks were held behind closed doors.", id="no-agency-tag"
        ),
        pytest.param("Leaders met. MOSCOW, May 16. /TASS/. Nothing else.", id="not-at-start"),
        pytest.param(
            "The meeting in Moscow, May 16 (Monday) - was short.", id="not-upper-case-city"
        ),
        pytest.param("On 2 February, the CSTO held a briefing.", id="date-without-tag"),
    ],
)
def test_strip_dateline_leaves_other_text_alone(text):
    assert strip_dateline(text) == text


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
