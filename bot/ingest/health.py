"""Source health: failing and silent sources are noticed, alerted once, and their recovery told.

`assess` decides from plain facts (pure); `record_health` reads those facts from the archive after
each recorded run and writes the decision with its alert in one transaction.

    ok ─(alert_after_failures failed polls in a row)──────► failing ─┐
    ok ─(alert_after_empty_polls polls finding no links)──► silent   ├─(a poll works)─► ok
    ok ─(newest article older than max_silence)───────────► silent  ─┘
    One alert on leaving ok, one on coming back; moves between failing and silent stay quiet.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.config import HealthConfig
from scrapers.models import Source
from storage import Health, RunRecord, RunStatus, SourceState, Store
from storage.alerts import HealthState

log = logging.getLogger(__name__)

# What an operator can do about each kind of failure, first match wins.
_ADVICE = (
    (
        r"HTTP (?:404|410)\b",
        "the address no longer exists: open the site, find where its news "
        "moved and update url (`presswatch add URL` proposes a new block).",
    ),
    (
        r"HTTP (?:401|403)\b",
        "the site refuses our requests: it may block automated readers or our "
        "address; check from a browser on this machine and set fetch.user_agent to name you.",
    ),
    (
        r"disallowed by robots\.txt",
        "the site's robots.txt now forbids this URL for our user agent: ask the site, "
        "or set robots = false for the source only if you have permission.",
    ),
    (
        # A robots.txt that answers 5xx is the site's temporary trouble, not a refusal (RFC 9309
        # says to treat the site as disallowed meanwhile), so robots = false is the wrong advice.
        r"robots\.txt unavailable",
        "the site's robots.txt answers with a server error, so the site is treated as closed to "
        "robots until it answers again: usually a passing outage; nothing to do unless it lasts, "
        "then check the site in a browser.",
    ),
    (r"HTTP 429\b", "the site asks us to slow down: raise `every` for this source."),
    (
        # Before the outage advice: a refused handshake that lasts does not pass by waiting.
        r"TLS handshake failed",
        "the secure (TLS) connection keeps failing, which seldom passes by itself: check the "
        "address's "
        "scheme and port (https:// to a plain-HTTP port, or the reverse), the site's certificate "
        "(expired, or for another name: open the address in a browser on this machine) and this "
        "machine's CA certificates.",
    ),
    (
        # EAI_AGAIN / EAI_FAIL: this machine's resolver did not answer, which hits every source at
        # once and usually passes; the spelling advice is for a name that does not exist.
        r"name not resolved \([^)]*(?:Temporary|Non-recoverable) failure",
        "this machine's DNS resolver did not answer: usually passes; if it lasts, check the "
        "resolver (/etc/resolv.conf) and the network.",
    ),
    (
        r"name not resolved",
        "the host name does not resolve: check its spelling in url and whether the site moved to "
        "another domain; if the name is right, check this machine's DNS.",
    ),
    (
        r"HTTP 5\d\d|timed out|no complete answer|connection failed",
        "the site is down, slow or unreachable: usually nothing to do; if it lasts, check the site "
        "in a browser and this machine's network.",
    ),
    (
        r"not (?:a valid )?(?:an )?RSS",
        "the feed URL now returns something else (often an error "
        'page): find the site\'s current feed, or switch the source to kind = "html".',
    ),
    (r"non-public address", "the host resolves to a private address: check the URL's host name."),
    (r"larger than", "the page is larger than fetch.max_bytes: raise it if the page is genuine."),
    (
        r"redirects",
        "the URL redirects too often (a loop?): open it in a browser and use the final address.",
    ),
)


@dataclass(frozen=True, slots=True)
class Change:
    """A source's new health and empty-poll count, with the alert that tells the operator, if any."""

    health: Health
    empty_polls: int
    alert_kind: str | None = None
    alert_text: str | None = None


def next_try(
    exc: BaseException, *, finished: datetime, backoff: timedelta, failures: int, most: int
) -> datetime | None:
    """Return when a failed source is tried again (None: when next due): after `backoff` once
    it failed before, and never before the Retry-After its site asked for, up to `most` s."""
    # The first failure waits only the normal interval.
    later = finished + backoff if failures else None
    # A 429 or 503's Retry-After only (scrapers/errors.py): another status's is no request.
    asked = getattr(exc, "asked_wait", None)
    # A first failure too: `once` under a one-minute cron would otherwise ask every minute a
    # site that asked for two minutes of peace.
    if asked is None:
        return later
    # A Retry-After of years (a misconfigured site) waits no longer than the longest backoff.
    wanted = finished + timedelta(seconds=min(asked, most))
    return max(wanted, later) if later else wanted


def assess(
    source: Source, run: RunRecord, facts: HealthState, policy: HealthConfig, *, now: datetime
) -> Change | None:
    """Decide a source's health after one run; None when nothing changes.

    `facts` is what the archive holds after the run was recorded but before health is updated.
    """
    empty = is_empty(run)
    # Another kind of failure says nothing about the link pattern: it neither adds nor resets.
    empty_polls = (
        facts.empty_polls + 1
        if empty
        else facts.empty_polls
        if run.status == RunStatus.ERROR
        else 0
    )
    health, why = _diagnose(source, run, facts, policy, empty_polls=empty_polls, now=now)
    if health == facts.health and empty_polls == facts.empty_polls:
        return None
    if (facts.health == Health.OK) == (health == Health.OK):
        return Change(health, empty_polls)  # Still well, or still unwell: nothing new to say.
    if health == Health.OK:
        return Change(health, empty_polls, "source_recovered", _recovered_text(source, run, facts))
    texts = {"failing": _failing_text, "empty": _empty_text, "stale": _stale_text}
    kind = "source_failing" if health == Health.FAILING else "source_silent"
    return Change(health, empty_polls, kind, texts[why](source, run, facts, policy, now=now))


def is_empty(run: RunRecord) -> bool:
    """Return True when a run failed because the page or feed yielded no article links."""
    # NoLinksFound: the site answered, but the link pattern or the feed found nothing.
    return run.status == RunStatus.ERROR and run.error_kind == "NoLinksFound"


def advice(error: str) -> str:
    """Return what an operator can do about a poll error."""
    for pattern, text in _ADVICE:
        if re.search(pattern, error):
            return text
    return "open the source's URL in a browser and compare it with what presswatch expects."


def steady(source: Source, run: RunRecord, state: SourceState) -> bool:
    """Return True when a run leaves a healthy source's health as it was (no facts to read)."""
    # Healthy, no empty polls, a run that worked: `assess` finds no change, unless silence is
    # watched and the run brought nothing new (then the newest article's age decides).
    return (
        state.health == Health.OK
        and state.empty_polls == 0
        and run.status != RunStatus.ERROR
        and (run.new_articles > 0 or not source.max_silence_seconds)
    )


def record_health(
    source: Source,
    run: RunRecord,
    *,
    store: Store,
    policy: HealthConfig,
    admin_chat_id: str | None,
) -> None:
    """Update the source's health after a poll and queue an alert when it changes."""
    try:
        # Inside the run's own transaction this is a savepoint: a failure here undoes only the
        # health update (and leaves PostgreSQL's transaction usable), never the run.
        with store.transaction():
            facts = store.health.read(source.key)
            change = assess(source, run, facts, policy, now=run.finished_at)
            new_at = run.finished_at if run.new_articles else None
            if change is None and new_at is None:
                return
            change = change or Change(facts.health, facts.empty_polls)
            store.health.save(
                source.key,
                health=change.health,
                empty_polls=change.empty_polls,
                new_at=new_at,
                alert=_alert(source, change, admin_chat_id),
                now=run.finished_at,
            )
    except Exception:  # noqa: BLE001 - health bookkeeping must never fail the poll it follows
        log.exception("%s: could not update source health", source.key)


def _alert(
    source: Source, change: Change, admin_chat_id: str | None
) -> tuple[str, str, str] | None:
    """Return the alert a change queues for the admin chat; without that chat, log it instead."""
    if not change.alert_kind:
        return None
    if admin_chat_id:
        log.info("%s: %s; alert queued for the admin chat", source.key, change.health)
        return (admin_chat_id, change.alert_kind, change.alert_text)
    # A recovery is good news: INFO, so a WARNING filter shows only what needs a person.
    level = logging.INFO if change.health == Health.OK else logging.WARNING
    log.log(level, "%s (no telegram.admin_chat_id to send this to)", change.alert_text)
    return None


def _diagnose(
    source: Source,
    run: RunRecord,
    facts: HealthState,
    policy: HealthConfig,
    *,
    empty_polls: int,
    now: datetime,
) -> tuple[Health, str]:
    """Return the health a run leads to, and why ('failing', 'empty', 'stale', 'ok' or 'kept')."""
    if run.status == RunStatus.ERROR:
        # An empty page is also a failure; "redesigned" is the more useful diagnosis.
        if empty_polls >= policy.alert_after_empty_polls:
            return Health.SILENT, "empty"
        if facts.consecutive_failures >= policy.alert_after_failures:
            return Health.FAILING, "failing"
        return facts.health, "kept"  # Too early to judge: one failure is not an outage.
    newest = max(
        filter(None, (facts.newest_at, run.finished_at if run.new_articles else None)), default=None
    )
    limit = source.max_silence_seconds
    if limit and newest and now - newest > timedelta(seconds=limit):
        return Health.SILENT, "stale"
    return Health.OK, "ok"


def _failing_text(
    source: Source, run: RunRecord, facts: HealthState, policy: HealthConfig, *, now: datetime
) -> str:
    """Say that a source keeps failing, since when, why, and what to do."""
    error = run.error or "unknown error"
    return (
        f"presswatch: source {source.key} ({source.display_name}) is failing: "
        f"{_polls(facts.consecutive_failures)} {'has' if facts.consecutive_failures == 1 else 'have'} "
        f"failed since "
        f"{_when(facts.failing_since)}.\n"
        f"Last error: {_clip(error)}\n"
        f"What to do: {advice(error)}\n"
        f"presswatch keeps trying, backing off up to {_span(policy.max_backoff_seconds)} "
        f"between polls, and will say when it recovers. "
        f"`presswatch check-source {source.key}` shows what it sees."
    )


def _empty_text(
    source: Source, run: RunRecord, facts: HealthState, policy: HealthConfig, *, now: datetime
) -> str:
    """Say that a source's page answers but yields no article links any more."""
    return (
        f"presswatch: source {source.key} ({source.display_name}) is silent: "
        f"{_polls(policy.alert_after_empty_polls)} found no article links, "
        f"since {_when(facts.failing_since)}.\n"
        f"Last error: {_clip(run.error or '')}\n"
        f"The site may have been redesigned. What to do: open {source.url} ; "
        f"`presswatch add {source.url}` proposes a new link_pattern (or finds a feed); "
        f"try the change with `presswatch check-source {source.key}`."
    )


def _stale_text(
    source: Source, run: RunRecord, facts: HealthState, policy: HealthConfig, *, now: datetime
) -> str:
    """Say that a source has brought nothing new for longer than its max_silence."""
    newest = facts.newest_at
    age = _span(int((now - newest).total_seconds())) if newest else "?"
    limit = _span(source.max_silence_seconds or 0)
    return (
        f"presswatch: source {source.key} ({source.display_name}) is silent: no new article "
        f"since {_when(newest)} ({age}; max_silence is {limit}).\n"
        f"Its polls still work, so the site may have been redesigned (new article addresses "
        f"that link_pattern misses) or moved its news elsewhere.\n"
        f"What to do: open {source.url} and compare its newest item with the archive's; "
        f"`presswatch check-source {source.key}` shows what presswatch finds there."
    )


def _recovered_text(source: Source, run: RunRecord, facts: HealthState) -> str:
    """Say that a source works again."""
    was = Health.FAILING if facts.health == Health.FAILING else Health.SILENT
    found = (
        "not modified"
        if run.status == RunStatus.NOT_MODIFIED
        else f"{run.links_found} links, {run.new_articles} new"
    )
    return (
        f"presswatch: source {source.key} ({source.display_name}) has recovered (it was {was}): "
        f"the poll at {_when(run.finished_at)} worked ({found})."
    )


def _polls(n: int) -> str:
    """Return '1 poll' or 'N polls in a row'."""
    return "1 poll" if n == 1 else f"{n} polls in a row"


def _when(moment: datetime | None) -> str:
    """Return a time as 'YYYY-MM-DD HH:MM UTC'."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if moment else "an unknown time"


def _span(seconds: int) -> str:
    """Return a duration in its largest whole unit: '6h', '3d', '45m'."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _clip(text: str, limit: int = 400) -> str:
    """Return text cut to `limit` characters (an error can quote a whole page)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
