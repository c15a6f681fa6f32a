"""Turn a digest channel's outbox rows into messages, each part of a split digest with its mark."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial

from bot.config import Channel
from bot.delivery.digest import (
    DigestEntry,
    DigestHead,
    DigestPart,
    digest_entry,
    digest_head,
    digest_part,
    digest_period,
    pack_digest,
)
from bot.delivery.telegram import Message
from scrapers import Source
from storage import DigestMark, OutboxItem

DigestParts = list[tuple[tuple[OutboxItem, ...], Message, DigestMark | None]]


def digest_messages(
    items: Sequence[OutboxItem],
    *,
    channel: Channel | None,
    sources: Mapping[str, Source],
    part: DigestMark | None = None,
    continued: bool = False,
) -> DigestParts:
    """Pack a digest channel's rows into messages, splitting between articles; each part of a
    split digest comes with its mark (to keep, so a retry sends it as it was). Rows packed in
    a part before (`part`) go out as that part again: its heading, number and order (in
    several messages when its entries now read longer: `digest_part`); the rest of a part
    that went out already (`continued`) says "(2/2, continued)"."""
    if part is not None:
        order = {row: n for n, row in enumerate(part.rows)}
        items = sorted(items, key=lambda i: order.get(i.id, len(order)))
        entries = _entries(items, part.lang, channel=channel, sources=sources)
        head = DigestHead(part.head_html, part.head_plain)
        number, lang = (part.number, part.of), part.lang
        again = digest_part(entries, head=head, number=number, lang=lang, continued=continued)
        # Its rows keep their mark whatever messages they take now: a rest retried later is
        # still that part's.
        message = partial(_message, items[0], channel)
        return [(tuple(items[i] for i in p.indexes), message(p), part) for p in again]
    langs = {i.article.lang.split("-")[0] for i in items}
    lang = langs.pop() if len(langs) == 1 else ""  # a mixed digest is in English
    entries = _entries(items, lang, channel=channel, sources=sources)
    head = _head(items, entries, channel, lang)
    packed = pack_digest(entries, head=head)
    parts = []
    for number, packed_part in enumerate(packed, start=1):
        rows = tuple(items[i] for i in packed_part.indexes)
        ids = tuple(r.id for r in rows)
        mark = DigestMark(head.html, head.plain, lang, number, len(packed), ids)
        message = _message(items[0], channel, packed_part)
        parts.append((rows, message, mark if len(packed) > 1 else None))
    return parts


def _entries(
    items: Sequence[OutboxItem],
    lang: str,
    *,
    channel: Channel | None,
    sources: Mapping[str, Source],
) -> list[DigestEntry]:
    """Render each row's article as a digest entry under its source's name, its time in the
    channel's zone, as the heading's period (one digest, one zone)."""
    entries = []
    for item in items:
        source = sources.get(item.source_key)
        entries.append(
            digest_entry(
                item.article,
                source_name=source.display_name if source else item.source_key,
                zone=channel.timezone if channel else "UTC",
                lang=lang,  # one message, one way of naming zones ("MSK" or "МСК")
                source_zone=source.timezone if source else "UTC",
            )
        )
    return entries


def _message(first: OutboxItem, channel: Channel | None, part: DigestPart) -> Message:
    """Return one digest message: its text, in the channel's thread, without a preview."""
    return Message(
        chat_id=first.chat_id,
        text=part.html,
        plain=part.plain,
        console=part.console,
        html=True,
        thread_id=channel.message_thread_id if channel else None,
        silent=channel.disable_notification if channel else False,
        no_preview=True,
    )


def _head(
    items: Sequence[OutboxItem],
    entries: list[DigestEntry],
    channel: Channel | None,
    lang: str,
) -> DigestHead:
    """Return a new digest's heading: its period (from the rows), articles and sources."""
    zone = channel.timezone if channel else "UTC"
    created = [i.created_at for i in items if i.created_at]
    # From the rows, not the clock: a digest composed again (after "message is too long")
    # must read the same.
    period = (
        digest_period(created, channel.digest_seconds, zone)
        if channel and channel.digest_seconds and len(created) == len(items)
        else None
    )
    return digest_head(
        len(items),
        sources=len({e.group for e in entries}),
        period=period,
        zone=zone,
        lang=lang,
    )
