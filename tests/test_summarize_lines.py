"""A body line without end punctuation is no start of the next line's sentence (synthetic texts).

Each body here is synthetic, shaped like a real page's lines that summaries once glued together
(../shared/data/fundus-news-pages: de_WDR, de_RBB24, se_Aftonbladet, za_TimesLive, ...).
"""

from __future__ import annotations

import pytest

from bot.text.summarize import summarize

PROSE = (
    "Schon im vergangenen Herbst hatte das Vorhaben für Empörung gesorgt: Die Landesregierung "
    "will das Rentenalter für Feuerwehrleute anheben. Heute wird im Landtag darüber diskutiert."
)


def _summary(body: str, *, title: str = "Feuerwehrleute sollen später in Pension") -> str:
    """Return the summary of a body without a lead, in a 600-character budget."""
    return summarize(title=title, lead="", body=body, max_chars=600)


def test_synthetic_player_lines_before_the_prose_are_left_out() -> None:
    # de_WDR: the video's title, its running time, the page's date, then prose and a byline.
    body = (
        "Feuerwehrleute sollen später in Pension | wdr aktuell\n\n"
        "02:57 Min.. Verfügbar bis 06.05.2024.\n\nStand: 22.04.2024, 06:00 Uhr\n\n"
        f"{PROSE}\n\nVon Nina Beispiel\n\nBislang gehen Beamte der Feuerwehr mit 60 in den Ruhestand."
    )
    assert _summary(body) == PROSE


@pytest.mark.parametrize(
    "opening",
    [
        pytest.param("Hauptinhalt", id="skip-link"),
        pytest.param("von Anna Beispiel", id="byline"),
        pytest.param("10.11.2025 17:59\n\nAA", id="date-and-agency"),
        pytest.param("Lesedauer: 4 Minuten", id="reading-time"),
        pytest.param("Die wichtigsten Neuigkeiten zum Gaza-Krieg im Überblick", id="heading"),
        pytest.param("…as villagers cry foul over lost livelihoods", id="kicker-fragment"),
        pytest.param("- Mehrere Kinder bei Angriffen getötet (11.39 Uhr)", id="key-point"),
    ],
)
def test_synthetic_unpunctuated_opening_lines_are_left_out(opening: str) -> None:
    assert _summary(f"{opening}\n\n{PROSE}") == PROSE


@pytest.mark.parametrize(
    "after",
    [
        pytest.param("Von Eva Beispiel", id="byline"),
        pytest.param("Lesedauer: 4 Minuten", id="reading-time"),
        pytest.param("Kreislauf-Probleme und Klinik-Transporte beim Marathon", id="subheading"),
    ],
)
def test_synthetic_unpunctuated_line_after_the_prose_ends_the_summary(after: str) -> None:
    body = f"{PROSE}\n\n{after}\n\nDas Hotel gehört zur Stadt wie das Stahlwerk."
    assert _summary(body) == PROSE


def test_synthetic_unpunctuated_tail_of_a_paragraph_ends_the_summary() -> None:
    # de_RBB24: the standfirst's paragraph ends with its byline, the story follows.
    body = f"{PROSE} Von Eva Beispiel\n\nDas Hotel gehört zur Stadt wie das Stahlwerk."
    assert _summary(body) == PROSE


def test_synthetic_long_standfirst_without_full_stop_is_the_summary_alone() -> None:
    # za_TimesLive: a 22-word standfirst with no full stop, then the story.
    standfirst = (
        "Tax agency will hire more than 1,000 debt collectors to claw back up to R50bn per year "
        "in revenue owed to it"
    )
    body = f"{standfirst}\n\nThe finance minister has allocated R4bn to the revenue service."
    assert _summary(body, title="Sars gets R4bn") == standfirst


def test_synthetic_short_real_sentences_are_kept() -> None:
    # se_Aftonbladet: a kicker and a time line, then short sentences, each its own paragraph.
    body = (
        "Polisen ber om tips\n\nUppdaterad 15.59 | Publicerad 14.14\n\n"
        "18-åriga Hanna försvann i Uddevalla i tisdags.\n\n"
        "Polisen har nu inlett en särskild händelse."
    )
    assert _summary(body, title="Hanna, 18, försvunnen") == (
        "18-åriga Hanna försvann i Uddevalla i tisdags. Polisen har nu inlett en särskild händelse."
    )


def test_synthetic_paragraph_ending_in_a_german_closing_quote_ends_a_sentence() -> None:
    body = "Bennett sagte: „Ich werde nicht gehen.“\n\nEr sprach am Samstag."
    assert _summary(body, title="Bennett") == (
        "Bennett sagte: „Ich werde nicht gehen.“ Er sprach am Samstag."
    )


def test_synthetic_japanese_paragraphs_ending_in_a_full_stop_are_joined() -> None:
    body = "気象庁は地震があったと発表した。\n\n各地の震度は次のとおり。"
    assert summarize(title="地震", lead="", body=body, max_chars=600, lang="ja") == (
        "気象庁は地震があったと発表した。 各地の震度は次のとおり。"
    )


def test_synthetic_sentence_broken_over_lines_is_still_one_sentence() -> None:
    body = "The Council said:\n\n«We will meet again.»\n\nIt adopted\na statement."
    assert _summary(body, title="Council") == (
        "The Council said: «We will meet again.» It adopted a statement."
    )


@pytest.mark.parametrize(
    ("standfirst", "title"),
    [
        pytest.param(
            "С 1 января 2025 г. Минобороны начнет призыв граждан на военную службу по новым "
            "правилам в двадцати регионах страны",
            "Призыв по новым правилам",
            id="ru-year-abbreviation",
        ),
        pytest.param(
            # de_BoersenZeitung: a football club's "1. FC" in an unpunctuated standfirst.
            "Kreditgenossen wickeln erfolgreich Transaktionen mit Onlineshop des 1. FC "
            "Kaiserslautern ab – Anbindung des Handels im Sommer geplant",
            "Wero besteht Praxistest",
            id="de-club-number",
        ),
        pytest.param(
            # es_ABC: a standfirst of two sentences, the second without its full stop.
            "El agente trabajaba en la seguridad del Parlamento. Habría obligado también a su "
            "mujer a cometer los mismos delitos bajo sus amenazas",
            "Detenido un policía",
            id="es-second-sentence",
        ),
    ],
)
def test_synthetic_unpunctuated_standfirst_is_kept_whole(standfirst: str, title: str) -> None:
    body = f"{standfirst}\n\nVon Anna Beispiel, Frankfurt\n\n{PROSE}"
    assert _summary(body, title=title) == standfirst


def test_synthetic_standfirst_longer_than_the_budget_keeps_its_whole_sentences() -> None:
    standfirst = (
        "Der Landtag berät heute über das Rentenalter. Die Feuerwehr protestiert. Schon im "
        "Herbst hatte das Vorhaben für Empörung bei vielen Beamten gesorgt"
    )
    got = summarize(title="Pension", lead="", body=f"{standfirst}\n\n{PROSE}", max_chars=100)
    assert got == "Der Landtag berät heute über das Rentenalter. Die Feuerwehr protestiert."


@pytest.mark.parametrize(
    ("opening", "title"),
    [
        pytest.param(
            # BelTA: a question, the author and agency, then the dateline and the lead.
            "Что ждет рынок в 2025 году?\n\nАлександр Иванов, БЕЛТА\n\nМИНСК, 2 февраля (БЕЛТА) - ",
            "Рынок жилья: прогноз",
            id="question-then-byline",
        ),
        pytest.param(
            # de_ZDF: a kicker, a heading unlike the title, a byline and a lone bar.
            "FAQ\n\nDeutscher Handel mit Teheran:Druck durch Wirtschaftssanktionen auf Iran?"
            "\n\nvon Katja Beispiel\n\n|\n\n",
            "Deutscher Handel mit Iran: Druck mit Wirtschaftssanktionen?",
            id="heading-then-byline",
        ),
        pytest.param(
            # kr_HankookIlbo: a pull quote and who said it.
            '"Wir bleiben hier, was auch geschieht."\n\nAnna Beispiel, Bürgermeisterin\n\n',
            "Feuerwehr",
            id="pull-quote",
        ),
        pytest.param(
            # mid.ru: a long unpunctuated heading ending in where and when it was given.
            "Заявление для СМИ Министра иностранных дел Российской Федерации С.В.Лаврова по "
            "итогам переговоров с Министром иностранных дел Республики Казахстан М.Нуртлеу, "
            "Москва, 12 марта 2024 года\n\n",
            "С.В.Лавров провел переговоры с М.Нуртлеу",
            id="place-and-date-heading",
        ),
        pytest.param(
            "Press statement by Foreign Minister Sergey Lavrov following talks with Foreign "
            "Minister of Kazakhstan Murat Nurtleu, Moscow, March 12, 2024\n\n",
            "Lavrov and Nurtleu hold talks",
            id="place-and-date-heading-en",
        ),
    ],
)
def test_synthetic_heading_before_a_byline_is_no_summary(opening: str, title: str) -> None:
    assert _summary(f"{opening}{PROSE}", title=title) == PROSE


def test_synthetic_lone_short_sentence_before_a_byline_is_still_a_summary() -> None:
    assert _summary("Was bleibt vom Streik?\n\nVon Eva Beispiel", title="Streik") == (
        "Was bleibt vom Streik?"
    )


@pytest.mark.parametrize(
    "after",
    [
        pytest.param("Фото: БЕЛТА", id="photo-credit"),
        pytest.param("Главные решения", id="crosshead"),
        pytest.param(
            "Стороны обсудили ход выполнения решений саммита и планы на следующий год без точки",
            id="unpunctuated-paragraph",
        ),
    ],
)
def test_synthetic_lone_short_statement_before_an_unpunctuated_line_is_the_lead(after: str) -> None:
    lead = "Совет министров иностранных дел ОДКБ прошёл в Алматы."
    body = f"{lead}\n\n{after}\n\nТретий абзац о другом: делегации вернулись домой."
    assert _summary(body, title="СМИД ОДКБ") == lead


@pytest.mark.parametrize(
    "credit",
    [
        pytest.param(
            # de_BR's ticker: key points, then where the news came from, then the first entry.
            "Mit Informationen der ARD-Korrespondenten sowie der Nachrichtenagenturen AFP, AP und "
            "dpa. Zum Teil lassen sich die Angaben nicht unabhängig überprüfen.",
            id="de-agencies",
        ),
        pytest.param("This article was machine translated from German.", id="en-translated"),
        pytest.param("With reporting by Anna Example in Berlin.", id="en-reporting"),
        pytest.param("По материалам агентств.", id="ru-agencies"),
    ],
)
def test_synthetic_credit_line_is_no_summary(credit: str) -> None:
    body = f"- Mehrere Kinder bei Angriffen getötet (11.39 Uhr)\n\n{credit}\n\n{PROSE}"
    assert _summary(body) == PROSE


@pytest.mark.parametrize(
    "opening",
    [
        pytest.param(
            "По материалам дела, обвиняемый получил взятку в размере двух миллионов рублей.",
            id="ru-case-files",
        ),
        pytest.param(
            "Mit Informationen aus dem Ministerium hat die Zeitung über die Pläne berichtet.",
            id="de-ministry",
        ),
    ],
)
def test_synthetic_prose_opening_like_a_credit_is_the_summary(opening: str) -> None:
    assert _summary(f"{opening}\n\nDas Hotel gehört zur Stadt.") == (
        f"{opening} Das Hotel gehört zur Stadt."
    )


def test_synthetic_credit_line_after_the_prose_ends_the_summary() -> None:
    body = f"{PROSE}\n\nMit Material von dpa und AFP.\n\nDas Hotel gehört zur Stadt."
    assert _summary(body) == PROSE


def test_synthetic_credit_is_no_lead() -> None:
    lead = "Mit Informationen der Nachrichtenagenturen AFP, AP und dpa."
    assert summarize(title="Pension", lead=lead, body=PROSE, max_chars=600) == PROSE


HEADINGS = (
    "Als Kind in der Fabrik gearbeitet",
    "Verletzung nie richtig behandelt",
    "Über zwei Wahlkämpfe ins höchste Amt",
)


def test_synthetic_lead_running_the_bodys_headings_together_is_no_lead() -> None:
    # kr_MBN: the description is the body's headings in a row, with no sentence among them.
    lead = "Der neue Präsident " + " ".join(HEADINGS)
    body = "\n\n".join([*HEADINGS, PROSE])
    assert summarize(title="Präsident", lead=lead, body=body, max_chars=600) == PROSE


def test_synthetic_unpunctuated_lead_holding_one_body_line_is_still_the_lead() -> None:
    lead = f"{HEADINGS[0]} und wurde dennoch Präsident seines Landes nach zwei Wahlkämpfen"
    body = "\n\n".join([HEADINGS[0], PROSE])
    assert summarize(title="Präsident", lead=lead, body=body, max_chars=600) == lead


@pytest.mark.parametrize(
    ("lead", "summary"),
    [
        pytest.param(
            # jp_Yomiuri: a name's reading set apart by markup, the description cut at a length.
            "【東京＝例】首相の 山田太郎 （ やまだたろう ） 氏は３日夜、談話を出した。同氏は「国を守る」とし、共",
            "【東京＝例】首相の山田太郎（やまだたろう）氏は３日夜、談話を出した。",
            id="ja-reading-and-cut",
        ),
        pytest.param(
            # jp_Chunichi: cut with dots.
            "１３日午後９時ごろ、宮崎県で震度５弱の地震があった。気象庁によると、震源の深さは約３６キロ。"
            "地震の規模はマグニ...",
            "１３日午後９時ごろ、宮崎県で震度５弱の地震があった。気象庁によると、震源の深さは約３６キロ。",
            id="ja-cut-with-dots",
        ),
        pytest.param(
            "今天首届中国拉美航天合作论坛在北京举行，各国代表出席了会议。与会代表们表示，论坛将为促进",
            "今天首届中国拉美航天合作论坛在北京举行，各国代表出席了会议。",
            id="zh-cut",
        ),
        pytest.param(
            "今天首届中国拉美航天合作论坛在北京举行，来自三十多个国家的代表出席了会议并发表了讲话。",
            "今天首届中国拉美航天合作论坛在北京举行，来自三十多个国家的代表出席了会议并发表了讲话。",
            id="zh-whole",
        ),
    ],
)
def test_synthetic_japanese_or_chinese_lead_is_joined_and_ends_at_a_full_stop(
    lead: str, summary: str
) -> None:
    assert summarize(title="例", lead=lead, body="本文。", max_chars=600, lang="ja") == summary


def test_synthetic_korean_lead_keeps_its_spaces() -> None:
    # Hangul is written with spaces between words: they are no markup's.
    lead = "가난과 장애를 딛고 일어선 소년공이 4일 대통령 당선을 확정했다. 그는 성남시장을 지냈다."
    assert summarize(title="대통령", lead=lead, body="본문.", max_chars=600, lang="ko") == lead
