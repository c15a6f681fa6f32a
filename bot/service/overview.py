"""The service at a glance, as `presswatch status` and the chat's /status write it (pure)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from bot.config import UncertainPolicy
from bot.text.plural import counted
from scrapers import Source
from storage import RunStatus, SourceCondition, SourceState
from storage.status import Snapshot

Say = Callable[..., str]  # an English phrase and its {fields} -> the text a reader reads
Count = Callable[[int, str], str]  # a count and its English noun -> "2 polls", "2 опроса"

MARKS = {
    SourceCondition.OK: "✅",
    SourceCondition.FAILING: "❌",
    SourceCondition.SILENT: "🔇",
    SourceCondition.PAUSED: "⏸",
    SourceCondition.NEW: "🆕",
}


def _english(phrase: str, **fields: object) -> str:
    """Return an English phrase with its {fields} filled in (the command line's language)."""
    return phrase.format(**fields)


def when(moment: datetime | str | None) -> str:
    """Return a UTC time (or stored ISO text) as 'YYYY-MM-DD HH:MM UTC', or '-'."""
    if not moment:
        return "-"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def note(row: SourceState) -> str:
    """Return why a source needs attention, or ''."""
    return "paused" if row.paused else failing(row)


def failing(row: SourceState, *, say: Say = _english, count: Count = counted) -> str:
    """Return how a source fails and when it is tried next, or '' when its last poll worked
    (`say` and `count` put the English phrases and counts in a reader's language)."""
    if not row.consecutive_failures:
        return ""
    until = say("; next try {when}", when=when(row.next_poll_at)) if row.next_poll_at else ""
    return f"{failures(row, say=say, count=count)}: {row.last_error}{until}"


def selectors_missing(source: Source, row: SourceState, *, say: Say = _english) -> str:
    """Say which of the source's selectors match nothing on its new pages since when, or ''."""
    # A note about a selector the config changed or dropped since is about another one.
    return "; ".join(
        say(
            "{selector} matched nothing since {when}",
            selector=f"selectors.{m.name}",
            when=when(m.since),
        )
        for m in row.selectors_missed
        if m.css == source.selectors.css_of(m.name)
    )


def items_left_out(snapshot: Snapshot, key: str) -> str:
    """Say that a source's polls of the last day left items out (a page given up, an unreadable
    item), or nothing."""
    partial = snapshot.polls.get((key, RunStatus.PARTIAL), 0)
    return f"{counted(partial, 'poll')} in 24h left an item out" if partial else ""


def failures(row: SourceState, *, say: Say = _english, count: Count = counted) -> str:
    """Say how a source has been failing: 'never worked (2 polls so far)', 'failed 3 times…'."""
    n = row.consecutive_failures
    if row.never_worked:
        return say("never worked ({polls} so far)", polls=count(n, "poll"))
    return say("failed once") if n == 1 else say("failed {n} times in a row", n=n)


# The exact command that lists them, as `outbox` spells it.
LIST_HELD = "presswatch outbox list --state uncertain"
# With posts cut mid-send (still `sending`, no process sending them) it lists those too.
LIST_HELD_AND_CUT = f"{LIST_HELD} --state sending"


def held_count(uncertain: int, undecided: int, policy: UncertainPolicy, *, cut: int = 0) -> int:
    """Count the uncertain posts that wait for the operator, of `uncertain` rows (`undecided`
    of them left so by a probe): every one under "hold", the undecided under "probe" (the others
    wait for a probe, seconds), none under "resend". `cut`: rows a stop left `sending`, which the
    next round marks uncertain, not yet probed: held as such under "hold"."""
    if policy == UncertainPolicy.RESEND:
        return 0
    return uncertain + cut if policy == UncertainPolicy.HOLD else undecided


def held_line(held: int, *, cut: int = 0) -> str:
    """Say how many uncertain posts wait for the operator (`cut` of them still `sending`, cut by
    a stop), and the command that lists them."""
    if not cut:
        return f"{counted(held, 'post')} held for you: {LIST_HELD}"
    return (
        f"{counted(held, 'post')} held for you ({cut} cut mid-send by a stop, marked uncertain "
        f"at the next round): {LIST_HELD_AND_CUT}"
    )
