"""Where a summary may end and where it starts: sentence boundaries, and agency datelines cut."""

from functools import partial

import pytest

from bot.config.model import Config
from bot.text.summarize import strip_dateline
from bot.text.summarize import summarize as summarize_to

# The product's default length (config key summary.max_chars) unless a test sets its own.
summarize = partial(summarize_to, max_chars=Config.__dataclass_fields__["summary_chars"].default)

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
