"""Record what Telegram said about a send: row states, channel health, operator alerts, pacing.

Each `record_*` returns True when the chat should pause for the rest of the relay round (a flood
wait, a chat that refuses us, a chat that moved).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.config import Channel, TelegramConfig, UncertainPolicy
from bot.delivery.moves import moved_hints
from bot.delivery.pacing import Pacer
from bot.delivery.telegram import (
    BadMarkup,
    ChatMoved,
    Delivered,
    Message,
    Outcome,
    PhotoRefused,
    Rejected,
    RetryLater,
    TooLong,
    Uncertain,
)
from storage import OutboxItem, OutboxKind, OutboxState, Store
from storage.alerts import Alert
from storage.outbox import CHAT_NOT_FOUND

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
_BACKOFF_FIRST, _BACKOFF_CAP = 30.0, 3600.0
_ALERT_RETRY = 60.0
_LONG_FLOOD = 3600.0  # a flood wait this long (seconds) is told to the operator


@dataclass(slots=True)
class RelayReport:
    """What one relay round did (rows, not messages: a digest counts each article), and the
    messages it delivered: new posts (a digest's among them) and edits, counted apart."""

    sent: int = 0
    retried: int = 0
    uncertain: int = 0
    failed: int = 0
    alerts: int = 0
    failed_chats: set[str] = field(default_factory=set)
    posts: int = 0  # messages posted, a digest (or a part of one) counted once
    digests: int = 0  # of those, the messages that carried several articles
    digest_articles: int = 0  # the articles those carried
    edits: int = 0  # messages edited (a correction, a story's other sources)

    def delivered(self, rows: int, *, edit: bool) -> None:
        """Count one message Telegram took, carrying `rows` outbox rows."""
        self.sent += rows
        if edit:
            self.edits += 1
            return
        self.posts += 1
        if rows > 1:
            self.digests += 1
            self.digest_articles += rows


def sent_label(items: Sequence[OutboxItem], *, url_limit: int = 100) -> str:
    """Return the rows a send carried as its log line names them, with the article behind it:
    "main <- post 7 tass-com https://tass.com/politics/1" (a digest: its first, and how many more).

    A digest names its first three rows' ids and its last ("post 1, 6, 8, … 59"), so the line
    stays one bounded line however many articles it carried."""
    first = items[0]
    shown = [str(i.id) for i in items[:3]]
    if len(items) > 4:
        shown.append(f"… {items[-1].id}")
    elif len(items) == 4:
        shown.append(str(items[-1].id))
    ids = ", ".join(shown)
    # The key and the address, as a poll's line gives them: an operator greps either to find
    # which article a failed or uncertain send was; a long address is clipped to keep one line.
    url = first.article.url
    url = url if len(url) <= url_limit else url[: url_limit - 1] + "…"
    more = f" and {len(items) - 1} more" if len(items) > 1 else ""
    return f"{first.channel} <- {first.kind} {ids} {first.source_key} {url}{more}"


def refusal_advice(reason: str) -> str:
    """Return what the operator should do about a chat that refuses posts for `reason`."""
    if CHAT_NOT_FOUND in reason.lower():
        # The bot's rights are not the problem: Telegram knows no chat by this id. Seen in the
        # ux14 walkthrough with chat_id "@pw_tpyo", where the 403 advice sent the operator astray.
        return (
            "Check this channel's chat_id in the config (a @username typo, or a channel id "
            "without its -100 prefix), reload or restart presswatch, then run: presswatch "
            "outbox retry --all-failed (the posts go to the chat_id the config names then)"
        )
    lowered = reason.lower()
    if "thread not found" in lowered or "topic_" in lowered:  # TOPIC_CLOSED, TOPIC_DELETED
        return (
            "Check this channel's message_thread_id in the config (or reopen the topic), reload "
            "or restart presswatch, then run: presswatch outbox retry --all-failed"
        )
    if "parsing the server response" in lowered:
        # Not Telegram's JSON but a web page: a proxy or firewall on the way refused the call.
        return (
            "Telegram did not say this: a web page came back (a proxy at telegram.api_base_url, "
            "a firewall?). Fix that, then run: presswatch outbox retry --all-failed"
        )
    return "Fix the bot's rights in the chat, then run: presswatch outbox retry --all-failed"


class Outcomes:
    """Apply send outcomes to the archive, following the `telegram.uncertain` policy."""

    def __init__(
        self,
        *,
        store: Store,
        telegram: TelegramConfig,
        pacer: Pacer,
        clock: Clock,
        monotonic: Callable[[], float] = time.monotonic,
        policy: UncertainPolicy | None = None,
    ) -> None:
        self._store, self._pacer, self._clock, self._monotonic = store, pacer, clock, monotonic
        # The policy in force: "probe" only when the relay can probe (else its fallback).
        self._policy = policy or telegram.uncertain
        self._admin = telegram.admin_chat_id
        # Chat ids Telegram told this process changed, old -> new: rows still queued for the old
        # id go to the new one. Not loaded from the archive's chat_moves at start: on PostgreSQL
        # a worker holding chat A's lock would then send to B beside the worker holding B's.
        self.moved: dict[str, str] = {}

    def record(
        self, items: Sequence[OutboxItem], message: Message, outcome: Outcome, report: RelayReport
    ) -> bool:
        """Record the outcome of sending `message` for `items`; True pauses the chat."""
        now, ids, first = self._clock(), [i.id for i in items], items[0]
        label = sent_label(items)
        match outcome:
            case Delivered(message_id):
                kept = (
                    message.edit_message_id if message.edit_message_id is not None else message_id
                )
                media = message.media if message.edit_message_id is None else None
                self._store.outbox.mark_sent(ids, message_id=kept, now=now, media=media)
                report.delivered(len(ids), edit=message.edit_message_id is not None)
                self._channel_ok(first, now)
                if kept is None:
                    # The console sender has no Telegram to give an id; say where the post went.
                    log.info(
                        "printed %s on the console (no Telegram token: no message id; "
                        "marked sent, not retried)",
                        label,
                    )
                else:
                    log.info("sent %s (message %s)", label, kept)
                return False
            case RetryLater(after, reason):
                return self._retry_later(first, ids, after, reason, report, now)
            case Uncertain(reason):
                self._uncertain(items, ids, reason, now)
                report.uncertain += len(ids)
                log.warning("uncertain %s: %s", label, reason)
                return False
            case ChatMoved(new_chat_id):
                self._moved(first, str(new_chat_id), now)
                report.retried += len(ids)
                return True
            case Rejected(reason, chat_problem) if chat_problem:
                self._chat_refuses(first, ids, reason, report, now)
                return True
        reason = (
            outcome.reason
            if isinstance(outcome, (Rejected, BadMarkup, TooLong, PhotoRefused))
            else str(outcome)
        )
        self._store.outbox.mark_failed(ids, error=reason, now=now)
        report.failed += len(ids)
        log.error("failed %s: %s", label, reason)
        return False

    def record_alert(self, alert: Alert, outcome: Outcome, report: RelayReport) -> bool:
        """Record the outcome of an alert; alerts are resent when unsure (a double is harmless)."""
        now = self._clock()
        match outcome:
            case Delivered():
                self._store.alerts.mark_sent(alert.id, now=now)
                report.alerts += 1
                return False
            case RetryLater(after, reason):
                self._store.alerts.mark_retry(
                    alert.id, error=reason, at=now + timedelta(seconds=after)
                )
                self._pacer.block(alert.chat_id, self._monotonic() + after)
                return True
            case Uncertain(reason):
                self._store.alerts.mark_retry(
                    alert.id, error=reason, at=now + timedelta(seconds=_ALERT_RETRY)
                )
                return False
            case ChatMoved(new_chat_id) if alert.chat_id == self._admin:
                error = f"the admin chat moved to {new_chat_id}: set telegram.admin_chat_id to it"
            case ChatMoved(new_chat_id):
                # A reader's notice: the config names no reader's chat, so no setting to change;
                # their alerts live in a private chat (`/subscribe` refuses others), never migrated.
                error = f"the chat moved to {new_chat_id}"
            case _:
                error = getattr(outcome, "reason", str(outcome))
        self._store.alerts.mark_failed(alert.id, error=error)
        log.error("alert %s to %s failed: %s", alert.id, alert.chat_id, error)
        return True

    def say_moves(self, channels: Sequence[Channel]) -> None:
        """Log each channel whose configured chat Telegram said became a supergroup (each start or
        reload: a reload builds a new relay)."""
        for hint in moved_hints(channels, self._store.outbox.channels.moves()):
            log.warning("%s", hint)

    def _retry_later(
        self,
        first: OutboxItem,
        ids: list[int],
        after: float,
        reason: str,
        report: RelayReport,
        now: datetime,
    ) -> bool:
        """Put the rows back and hold the whole chat: a flood wait applies to every post."""
        at = now + timedelta(seconds=after)
        self._store.outbox.mark_retry(ids, error=reason, at=at, now=now)
        self._store.outbox.defer_chat(first.chat_id, until=at, now=now)
        self._pacer.block(first.chat_id, self._monotonic() + after)
        report.retried += len(ids)
        log.warning("retry %s in %s in %.0fs: %s", first.channel, first.chat_id, after, reason)
        if after >= _LONG_FLOOD:  # a wait of hours is news: the channel is silent meanwhile
            self._alert(
                first,
                "channel_flood_wait",
                now,
                f"presswatch: Telegram holds channel {first.channel} ({first.chat_id}) until "
                f"{at:%Y-%m-%d %H:%M} UTC: {reason}. Its posts wait and then go out, oldest "
                "first; nothing to do unless another process sends with the same bot token.",
            )
        return True

    def _uncertain(
        self, items: Sequence[OutboxItem], ids: list[int], reason: str, now: datetime
    ) -> None:
        """Hold, re-queue or leave for a probe rows that may have arrived; repeat an edit."""
        delay = min(_BACKOFF_FIRST * 2 ** max(0, items[0].attempts), _BACKOFF_CAP)
        retry_at = now + timedelta(seconds=delay)
        if all(item.kind == OutboxKind.EDIT for item in items):
            # Editing twice to the same text is harmless ("message is not modified").
            self._store.outbox.probes.repeat(ids, error=reason, at=retry_at, now=now)
        elif self._policy == UncertainPolicy.RESEND:
            self._store.outbox.mark_uncertain(ids, error=reason, now=now, retry_at=retry_at)
        else:  # held for the operator, or (probe) for the relay to probe once it settles
            self._store.outbox.mark_uncertain(ids, error=reason, now=now)

    def _moved(self, first: OutboxItem, new_chat_id: str, now: datetime) -> None:
        """Follow a group that became a supergroup, and tell the operator what is left to do."""
        # Asked of the archive, not this process: another worker may have been told already.
        newly = self._store.outbox.channels.record_move(first.chat_id, new_chat_id, now=now)
        self.moved[first.chat_id] = new_chat_id
        moved = self._store.outbox.move_chat(first.chat_id, new_chat_id, now=now)
        if first.channel.startswith("user:"):
            # A reader's channel: the config names no reader's chat, and their alerts keep the old
            # id; this process sends each later post to the new one (a restart asks the old first).
            todo = "later posts follow it; nothing to set in the config"
        else:
            todo = f'set chat_id = "{new_chat_id}" for this channel in the config'
        log.warning(
            "chat %s of channel %r became %s: %d queued post(s) follow it; %s",
            first.chat_id,
            first.channel,
            new_chat_id,
            moved,
            todo,
        )
        if newly:  # once, by any worker: after a restart or reload the start's log says it
            self._alert(
                first,
                "channel_moved",
                now,
                f"presswatch: the chat of channel {first.channel} ({first.chat_id}) became a "
                f"supergroup, {new_chat_id}; its posts go there now. Set chat_id = "
                f'"{new_chat_id}" for this channel in the config, then reload or restart presswatch.',
            )

    def _chat_refuses(
        self, first: OutboxItem, ids: list[int], reason: str, report: RelayReport, now: datetime
    ) -> None:
        """Fail the chat's queued rows, mark the channel failing and alert the operator once."""
        self._store.outbox.mark_failed(ids, error=reason, now=now)
        others = self._store.outbox.fail_chat(first.chat_id, error=reason, now=now)
        report.failed += len(ids) + others
        report.failed_chats.add(first.channel)
        newly = self._store.outbox.channels.failing(
            first.channel, first.chat_id, reason=reason, now=now
        )
        log.error(
            "channel %s (%s) refuses posts: %s; %d queued post(s) failed",
            first.channel,
            first.chat_id,
            reason,
            len(ids) + others,
        )
        if newly:
            self._alert(
                first,
                "channel_failing",
                now,
                f"presswatch: channel {first.channel} ({first.chat_id}) refuses posts: "
                f"{reason}. Its posts are marked failed. {refusal_advice(reason)}",
            )

    def _channel_ok(self, first: OutboxItem, now: datetime) -> None:
        """Mark the channel working; tell the operator when it recovered."""
        if self._store.outbox.channels.ok(first.channel, first.chat_id, now=now):
            # Its posts failed while it refused stay failed: say how to send them after all.
            failed = self._store.outbox.counts().get((first.channel, OutboxState.FAILED), 0)
            retry = (
                f" {failed} of its posts failed meanwhile: `presswatch outbox retry "
                "--all-failed` sends them."
                if failed
                else ""
            )
            log.info("channel %s (%s) takes posts again.%s", first.channel, first.chat_id, retry)
            self._alert(
                first,
                "channel_recovered",
                now,
                f"presswatch: channel {first.channel} ({first.chat_id}) takes posts again.{retry}",
            )

    def _alert(self, first: OutboxItem, kind: str, now: datetime, text: str) -> None:
        """Queue an alert for the admin chat, unless there is none or it is the chat in trouble."""
        # A reader who blocked the bot ("user:42") is no news for the operator.
        if not self._admin or self._admin == first.chat_id or first.channel.startswith("user:"):
            return
        self._store.alerts.enqueue(
            chat_id=self._admin, subject=f"channel:{first.channel}", kind=kind, text=text, now=now
        )
