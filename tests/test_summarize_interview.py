"""An interview's summary never joins a question and its answer into one speaker's paragraph."""

from __future__ import annotations

import json
from pathlib import Path

from bot.text.summarize import summarize
from tests.support.cli import presswatch

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "tests" / "fixtures" / "odkb-csto-en" / "intervyu-tass.html"
URL = (
    "https://en.odkb-csto.org/news/news_odkb/"
    "intervyu-generalnogo-sekretarya-odkb-imangali-tasmagambetova-agentstvu-tass/"
)


def test_the_real_csto_interview_is_summarised_by_its_first_answer() -> None:
    done = presswatch(
        "extract", str(PAGE), "--url", URL, "--source", "odkb-csto-en",
        "--config", str(ROOT / "config.example.toml"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)["summary"]
    assert summary.startswith("The main priority remains the same: to ensure the security")
    assert "?" not in summary and " - " not in summary  # no question, no second turn


def test_synthetic_russian_interview_with_an_intro_keeps_to_the_intro() -> None:
    body = (
        "Генеральный секретарь ОДКБ ответил на вопросы агентства о планах на год.\n\n"
        "— Какие задачи стоят перед Организацией?\n\n"
        "— Главная задача прежняя: обеспечить безопасность наших государств."
    )
    got = summarize(title="Интервью", lead="", body=body, max_chars=400, lang="ru")
    assert got == "Генеральный секретарь ОДКБ ответил на вопросы агентства о планах на год."


def test_synthetic_answer_over_two_paragraphs_stops_at_the_next_question() -> None:
    body = (
        "- What comes first?\n\n- Security. We train together.\n\nThe staffs meet monthly.\n\n"
        "- And next year?\n\n- More of the same."
    )
    got = summarize(title="Interview", lead="", body=body, max_chars=400, lang="en")
    assert got == "Security. We train together. The staffs meet monthly."


def test_synthetic_dashed_quotes_without_a_question_are_prose() -> None:
    body = "The minister spoke.\n\n— We are ready, — he said.\n\nTalks go on."
    got = summarize(title="Talks", lead="", body=body, max_chars=400, lang="en")
    assert got == "The minister spoke. — We are ready, — he said. Talks go on."
