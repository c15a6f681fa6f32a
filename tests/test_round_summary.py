"""The summary line of `once` and of the service's first round says how many sources were polled
fine and, of the others, which answered with an error (a 404, a pattern that found nothing) and
which gave no answer at all, rather than calling every failure "unreachable"."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config import UncertainPolicy
from bot.service.reachability import TelegramCheck, TelegramState, held_for_you, round_summary
from storage import RunRecord, RunStatus, SourceState

AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
CONSOLE = TelegramCheck(TelegramState.CONSOLE)


def _run(key: str, status: RunStatus, kind: str | None = None, new: int = 0) -> RunRecord:
    """Return one poll's record, failed with `kind` when given."""
    return RunRecord(key, AT, AT, status, new_articles=new, error=kind and "why", error_kind=kind)


def test_a_site_that_answered_with_an_error_is_not_called_unreachable() -> None:
    runs = [
        _run("ok", RunStatus.OK, new=3),
        _run("same", RunStatus.NOT_MODIFIED),
        _run("pattern", RunStatus.ERROR, "NoLinksFound"),
        _run("gone", RunStatus.ERROR, "HTTPStatusError"),
        _run("down", RunStatus.ERROR, "FetchError"),
        _run("slow", RunStatus.ERROR, "DeadlineExceeded"),
        _run("paused", RunStatus.SKIPPED),
    ]
    waiting = [SourceState("paused", paused=True)]
    line = round_summary(runs, sources=7, telegram=CONSOLE, waiting=waiting)
    assert line.split("; Telegram")[0] == (
        "2 of 7 sources polled fine (2 answered with an error, 2 gave no answer, 1 not polled: "
        "1 paused: paused (/resume KEY)); 3 new articles"
    )


def test_when_every_source_worked_the_line_says_only_that() -> None:
    line = round_summary([_run("ok", RunStatus.OK, new=1)], sources=1, telegram=CONSOLE)
    assert line == (
        "1 of 1 sources polled fine; 1 new article; "
        "Telegram: off (no PRESSWATCH_TELEGRAM_TOKEN: posts go to the console)"
    )


def test_a_failure_of_ours_is_not_a_site_that_gave_no_answer() -> None:
    # An address we refused to ask, the archive, a bug: every kind but an HTTP status or a parse
    # error used to be counted as "gave no answer".
    runs = [
        _run("down", RunStatus.ERROR, "FetchError"),
        _run("slow", RunStatus.ERROR, "DeadlineExceeded"),
        _run("private", RunStatus.ERROR, "BlockedAddress"),
        _run("archive", RunStatus.ERROR, "OperationalError"),
        _run("bug", RunStatus.ERROR, "KeyError"),
        _run("robots", RunStatus.ERROR, "RobotsDisallowed"),
    ]
    line = round_summary(runs, sources=6, telegram=CONSOLE)
    assert line.split("; Telegram")[0] == (
        "0 of 6 sources polled fine (1 answered with an error, 2 gave no answer, "
        "3 failed otherwise); 0 new articles"
    )


def test_a_next_try_already_past_when_the_line_is_written_says_now() -> None:
    # The walkthrough read "next try … 19:23 UTC" printed after 19:23 (a long round).
    past = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    waiting = [SourceState("down", consecutive_failures=2, next_poll_at=past)]
    line = round_summary([], sources=1, telegram=CONSOLE, waiting=waiting)
    assert line.startswith(
        "0 of 1 sources polled fine (1 not polled: 1 backing off after failures, next try now)"
    )


def test_posts_held_for_the_operator_are_counted_by_the_uncertain_policy() -> None:
    rows = [
        {"state": "uncertain", "settlement": None},  # cut mid-send, not probed yet
        {"state": "uncertain", "settlement": "held"},  # a probe could not tell
        {"state": "pending", "settlement": None},
    ]
    assert held_for_you(rows, UncertainPolicy.HOLD) == 2
    assert held_for_you(rows, UncertainPolicy.PROBE) == 1  # the other waits for its probe
    assert held_for_you(rows, UncertainPolicy.RESEND) == 0  # sent again by itself
    line = round_summary([], sources=0, telegram=CONSOLE, held=2)
    assert line.endswith("; 2 posts held for you: presswatch outbox list --state uncertain")
