"""The operator's chat replies (/status, /pause, /resume, /retry) in the operator's language (pure).

`presswatch status` prints the same facts in English (bot/cli/status.py); here each line is
written through the chat's phrase table, so a Russian Telegram app gets it in Russian. A source's
last error stays as the site or the library wrote it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

from bot.chat.answers import fit
from bot.chat.phrases import count_of, one_of, say
from bot.config.model import closest_names
from bot.delivery.render import escape_html
from bot.service.overview import MARKS, failing, selectors_missing, when
from scrapers import Source
from storage import OutboxState, RunStatus, SourceCondition
from storage.status import PERSONAL, Snapshot

_COUNTED = (OutboxState.SENT, OutboxState.PENDING, OutboxState.UNCERTAIN, OutboxState.FAILED)
_CONDITIONS = {
    SourceCondition.OK: "ok",
    SourceCondition.FAILING: "failing",
    SourceCondition.SILENT: "silent",
    SourceCondition.PAUSED: "paused",
    SourceCondition.NEW: "new",
}


def status_lines(
    snapshot: Snapshot,
    *,
    sources: Sequence[str],
    channels: Sequence[str],
    missed: dict[str, float] | None = None,
    configured: Mapping[str, Source] | None = None,
    lang: str,
) -> list[str]:
    """Return one short line per source and per channel; `missed` counts missed or skipped polls,
    `configured` is each source's config (its selectors that match nothing are noted)."""
    lines = []
    in_lang = {"say": functools.partial(say, lang), "count": functools.partial(count_of, lang)}
    for key in sources:
        row = snapshot.source(key)
        state = row.condition
        # "last success -" reads as a typo; a source that never worked says so in words.
        success = (
            say(lang, "last success {when}", when=when(row.last_success_at))
            if row.last_success_at
            else say(lang, "last success none yet")
        )
        # A paused source's state says it already: only a failing one gets a note.
        extra = failing(row, **in_lang) or success
        source = (configured or {}).get(key)
        if source is not None and (lost := selectors_missing(source, row, say=in_lang["say"])):
            extra += f"; {lost}"
        late = (missed or {}).get(key)
        partial = snapshot.polls.get((key, RunStatus.PARTIAL), 0)
        polls = count_of(lang, partial, "poll")
        missed_polls = count_of(lang, round(late or 0), "poll")
        lines.append(
            f"{MARKS[state]} {key}: {say(lang, _CONDITIONS[state])}, "
            f"{count_of(lang, snapshot.articles.get(key, 0), 'article')}; {extra}"
            + (f"; {say(lang, '{polls} missed or skipped', polls=missed_polls)}" if late else "")
            + (f"; {say(lang, '{polls} in 24h left an item out', polls=polls)}" if partial else "")
        )
    names = [*channels] + ([PERSONAL] if any(ch == PERSONAL for ch, _ in snapshot.outbox) else [])
    for name in names:
        sent, pending, unsure, failed = (snapshot.outbox.get((name, st), 0) for st in _COUNTED)
        mark = "❌" if failed and name != PERSONAL else "✅"
        counts = say(
            lang,
            "{sent} sent, {pending} pending, {unsure} uncertain, {failed} failed",
            sent=sent,
            pending=pending,
            unsure=unsure,
            failed=failed,
        )
        shown = (
            say(lang, PERSONAL) if name == PERSONAL else name
        )  # a channel's name is the config's
        held = snapshot.held.get(name, 0)  # waiting for a digest hour or quiet hours' end
        if held:
            counts += " " + say(lang, "({held} of them held for their time)", held=held)
        lines.append(f"{mark} {shown}: {counts}")
    return lines


def status_text(lines: Sequence[str], lang: str) -> str:
    """Answer /status with its lines."""
    return fit(
        say(lang, "<b>Status</b>"), [escape_html(line) for line in lines], sep="\n", lang=lang
    )


def unreachable(error: object, lang: str) -> str:
    """Answer /status when the archive does not answer."""
    return say(lang, "The archive does not answer: {error}", error=escape_html(error))


def pause_text(
    key: str | None,
    *,
    paused: bool,
    keys: Sequence[str],
    lang: str,
    asked: str = "",
    already: bool = False,
) -> str:
    """Answer /pause or /resume: what was done (`already`: nothing, the source was so), or which
    keys it takes (`asked`: a word that names no source, told as such with the closest key)."""
    if key is None:
        command = "/pause" if paused else "/resume"
        shown = escape_html(", ".join(keys))
        usage = say(
            lang, "Name a source: {command} KEY (one of {keys}).", command=command, keys=shown
        )
        if not asked:
            return usage
        # The rule `presswatch` uses: "tass" names tass-com or tass-ru, "csto" both of its sources.
        close = closest_names(asked.casefold(), keys)
        phrase = (
            "No source is called “{word}” (did you mean {key}?)."
            if close
            else "No source is called “{word}”."
        )
        word = escape_html(asked[:64])  # a whole message may follow /pause: the reply stays short
        key = escape_html(one_of(lang, close)) if close else ""
        return say(lang, phrase, word=word, key=key) + " " + usage
    key = escape_html(key)
    if already and paused:
        return say(lang, "{key} is already paused: no polls until /resume {key}.", key=key)
    if already:
        return say(lang, "{key} is not paused: it is polled as usual.", key=key)
    if paused:
        return say(lang, "Paused {key}: no polls until /resume {key}.", key=key)
    return say(lang, "Resumed {key}: it is polled at its next turn.", key=key)


def retry_text(count: int | None, lang: str) -> str:
    """Answer /retry: how many posts were queued again (None: it was given words it takes none
    of, and did nothing)."""
    if count is None:
        return say(
            lang,
            "/retry takes no argument: it queues every failed and uncertain post again. For one "
            "post: <code>presswatch outbox retry ID</code>.",
        )
    if not count:
        return say(lang, "Nothing to retry: no failed or uncertain posts.")
    return say(
        lang,
        "Queued {posts} again. Uncertain ones may arrive twice.",
        posts=count_of(lang, count, "post"),
    )
