"""Whether Telegram and the sources can be reached: the token check, the live word, the summary line.

A wrong token or an unreachable Telegram must never pass for "posted 0, retrying 1": `once` asks
Telegram who the bot is before it polls anything, and `run` keeps the latest word its check and
its sends gave (`TelegramWatch`), which /healthz and the log report.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from telegram import error as tg

from bot.config import TOKEN_ENV, TelegramConfig, UncertainPolicy
from bot.delivery.outcomes import RelayReport
from bot.delivery.telegram import Delivered, Outcome, RetryLater, TelegramSender
from bot.service.overview import held_count, held_line, when
from bot.text.plural import counted
from scrapers.errors import (
    BlockedAddress,
    FetchError,
    HTTPStatusError,
    ParseError,
    ResponseTooLarge,
    RobotsDisallowed,
)
from storage import OutboxState, RunRecord, RunStatus, SourceState
from storage.status import TOKEN_REFUSED, FloodWait

log = logging.getLogger(__name__)

_CHECK_TIMEOUT = 10.0  # seconds for the getMe of the check; a send has its own timeout


class TelegramState(StrEnum):
    """What is known about reaching Telegram."""

    UNKNOWN = "unknown"  # not asked yet
    OK = "ok"  # the token was accepted, or a message was delivered
    REFUSED = "refused"  # Telegram refused the bot token: nothing can be posted
    UNREACHABLE = "unreachable"  # no answer from the Bot API (network, DNS, proxy)
    CONSOLE = "console"  # no token: posts are printed, Telegram is not used


@dataclass(frozen=True, slots=True)
class TelegramCheck:
    """The latest word on Telegram, and its detail (the bot's name, or the network error)."""

    state: TelegramState = TelegramState.UNKNOWN
    detail: str = ""

    @property
    def healthy(self) -> bool:
        """Return False when posts cannot reach Telegram (refused token, no answer)."""
        return self.state not in (TelegramState.REFUSED, TelegramState.UNREACHABLE)

    def describe(self) -> str:
        """Return the state as words for a person."""
        return {
            TelegramState.UNKNOWN: "not checked yet",
            TelegramState.OK: f"ok ({self.detail})" if self.detail else "ok",
            TelegramState.REFUSED: "the bot token was refused (check PRESSWATCH_TELEGRAM_TOKEN)",
            TelegramState.UNREACHABLE: f"unreachable ({self.detail})",
            TelegramState.CONSOLE: "off (no PRESSWATCH_TELEGRAM_TOKEN: posts go to the console)",
        }[self.state]


class TelegramWatch:
    """Keep the latest word on Telegram: the start-up check, then what each send reported."""

    def __init__(self) -> None:
        self.latest = TelegramCheck()

    def saw(self, outcome: Outcome) -> None:
        """Update the word from one send's outcome (flood waits and chat refusals say nothing)."""
        if isinstance(outcome, Delivered):
            if self.latest.state != TelegramState.OK:
                self.latest = TelegramCheck(TelegramState.OK, "a message was delivered")
        elif isinstance(outcome, RetryLater) and outcome.reason.startswith(TOKEN_REFUSED):
            self.latest = TelegramCheck(TelegramState.REFUSED)
        elif isinstance(outcome, RetryLater) and outcome.reason.startswith("network:"):
            self.latest = TelegramCheck(TelegramState.UNREACHABLE, outcome.reason)


def token_refused(config: TelegramConfig) -> str:
    """Say what a refused getMe asks the operator to fix (`once`'s error and `run`'s start line)."""
    # PTB reads a 404 as a refused token too: an api_base_url of our own may be the wrong address.
    ours = config.api_base_url != TelegramConfig().api_base_url
    address = ", or telegram.api_base_url, whose wrong path is refused alike" if ours else ""
    return f"Telegram refused the bot token in {TOKEN_ENV}: fix it (BotFather's /token shows it){address}"


async def check_telegram(config: TelegramConfig) -> TelegramCheck:
    """Ask Telegram who the bot is (getMe): is the token accepted, is the Bot API reachable?"""
    if not config.token:
        return TelegramCheck(TelegramState.CONSOLE)
    sender = TelegramSender.create(
        token=config.token,
        api_base_url=config.api_base_url,
        timeout=min(config.request_timeout, _CHECK_TIMEOUT),
    )
    bot = sender.bot
    try:
        async with bot:  # initialize() calls getMe; leaving shuts the connections down
            return TelegramCheck(TelegramState.OK, f"bot @{bot.username}")
    except tg.InvalidToken:
        # Never quote the exception: python-telegram-bot puts the token in its message.
        return TelegramCheck(TelegramState.REFUSED)
    except tg.TelegramError as exc:
        detail = str(exc).replace(config.token, "[redacted]")
        return TelegramCheck(TelegramState.UNREACHABLE, f"{type(exc).__name__}: {detail}")


def polled_fine(runs: Sequence[RunRecord]) -> int:
    """Return how many of these polls worked (read their source, or were told it had not changed)."""
    return sum(run.status not in (RunStatus.ERROR, RunStatus.SKIPPED) for run in runs)


def answered(run: RunRecord) -> bool:
    """Tell whether a failed poll's site answered (an error status, a page its pattern found
    nothing in), rather than not at all (the network, a timeout)."""
    return run.error_kind in _ANSWERED


def unanswered(run: RunRecord) -> bool:
    """Tell whether a failed poll's site gave no answer at all (the network, a timeout), rather
    than an answer, or a failure of ours (an address refused, the archive, a bug)."""
    return run.error_kind in _UNANSWERED


def _subclasses(cls: type) -> set[str]:
    """Return the names of `cls` and of every class below it."""
    return {cls.__name__}.union(*(_subclasses(sub) for sub in cls.__subclasses__()))


# What the site sent decided these, so it answered; a FetchError itself is a network failure.
_ANSWERED = _subclasses(ParseError) | {
    c.__name__ for c in (HTTPStatusError, ResponseTooLarge, RobotsDisallowed)
}
# The network's failures: the rest of FetchError but BlockedAddress, where we refused to ask.
_UNANSWERED = _subclasses(FetchError) - _ANSWERED - {BlockedAddress.__name__}


def round_summary(
    runs: Sequence[RunRecord],
    *,
    sources: int,
    telegram: TelegramCheck,
    report: RelayReport | None = None,
    waiting: Sequence[SourceState] = (),
    held: int = 0,
    later: Sequence[datetime] = (),
    cut: tuple[int, str] = (0, ""),
    timed: int = 0,
    flood: FloodWait | None = None,
) -> str:
    """Return one line: how many sources were polled fine, how the others failed, what is new,
    and whether Telegram works (`waiting`: the states of the sources not polled, which say why
    and until when; `held`: uncertain posts that wait for the operator; `later`: when each source
    `once` found not due yet falls due; `cut`: how many polls a signal cut short, and its name;
    `timed`: posts held for their time; `flood`: posts waiting out a Telegram flood wait)."""
    polled = [run for run in runs if run.status != RunStatus.SKIPPED]
    failed = [run for run in polled if run.status == RunStatus.ERROR]
    told = sum(answered(run) for run in failed)
    silent = sum(unanswered(run) for run in failed)
    other = len(failed) - told - silent  # an address refused, the archive, a bug
    skipped = sources - len(polled) - len(later) - cut[0]
    new = sum(run.new_articles for run in polled)
    why = [
        f"{told} answered with an error" if told else "",
        f"{silent} gave no answer" if silent else "",
        f"{other} failed otherwise" if other else "",
        f"{skipped} not polled: {not_polled(waiting)}" if skipped else "",
        f"{len(later)} not due yet (next {_soon(min(later))})" if later else "",
        f"{cut[0]} cut short" if cut[0] else "",
    ]
    why = [part for part in why if part]
    parts = [
        f"{polled_fine(polled)} of {sources} sources polled fine"
        + (f" ({', '.join(why)})" if why else ""),
        f"{new} new article{'s' if new != 1 else ''}",
        f"Telegram: {telegram.describe()}",
    ]
    if report is not None:
        parts.append(delivery_line(report))
    if flood and flood.posts:
        parts.append(flood_line(flood))
    if timed:
        parts.append(f"{timed} held for their time (digest, quiet hours)")
    if held:
        parts.append(held_line(held))
    if cut[1]:
        parts.append(f"stopped by {cut[1]}")
    return "; ".join(parts)


def delivery_line(report: RelayReport) -> str:
    """Say what a round delivered: messages posted (the articles its digests carried beside),
    edits, and the posts left retrying, uncertain or failed."""
    posted = f"posted {report.posts}"
    if report.digests:
        posted += f" ({report.digest_articles} articles in {counted(report.digests, 'digest')})"
    # Rows a probe found delivered by an earlier send are sent without a message of this round.
    found = report.sent - (report.posts - report.digests) - report.digest_articles - report.edits
    also = [f"edited {report.edits}" if report.edits else ""]
    also.append(f"{found} found already delivered" if found > 0 else "")
    return ", ".join(
        [posted, *filter(None, also)]
        + [f"retrying {report.retried}", f"uncertain {report.uncertain}", f"failed {report.failed}"]
    )


def flood_line(flood: FloodWait) -> str:
    """Say how many posts wait out Telegram's flood wait and until when (they go by themselves)."""
    until = f" until {_soon(flood.until)}" if flood.until else ""
    return f"{counted(flood.posts, 'post')} waiting out Telegram's flood wait{until}"


def held_for_you(rows: Sequence[dict], policy: UncertainPolicy) -> int:
    """Count the uncertain outbox rows (`outbox.listing` rows) that wait for the operator, as
    `status` counts them (bot/service/overview.py `held_count`)."""
    uncertain = [row for row in rows if row["state"] == OutboxState.UNCERTAIN]
    undecided = sum(row["settlement"] is not None for row in uncertain)
    return held_count(len(uncertain), undecided, policy)


def not_polled(waiting: Sequence[SourceState]) -> str:
    """Say why sources were not polled: how many back off after failures and when the first is
    tried again, how many are paused."""
    paused = [state.key for state in waiting if state.paused]
    retries = sorted(
        state.next_poll_at for state in waiting if not state.paused and state.next_poll_at
    )
    parts = []
    if retries:
        # The states were read before the polls: a try due by now is said so, not a time past.
        soon = "now" if retries[0] <= datetime.now(UTC) else when(retries[0])
        parts.append(f"{len(retries)} backing off after failures, next try {soon}")
    if paused:
        parts.append(f"{len(paused)} paused: {', '.join(paused)} (/resume KEY)")
    return "; ".join(parts) or "paused or backing off"


def _soon(moment: datetime) -> str:
    """Return a time as 'HH:MM UTC', with its date when it is a day or more away."""
    return f"{moment:%H:%M} UTC" if moment - datetime.now(UTC) < timedelta(days=1) else when(moment)
