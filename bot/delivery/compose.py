"""Turn outbox rows and alerts into Telegram messages: posts, edits, replies, digests.

A channel's `image` mode decides the form of a post: a text with the article's link previewed
small (the default), no preview, a large preview of the lead image above or below the text, or
the image as a photo with the post as its caption (a text post when the article has no image,
or when Telegram refuses the photo: `message(..., text_only=True)`). A channel's template, when
it has one, renders the words; the built-in layout (render.py) otherwise, and whenever the
template's text cannot fit.

NothingToEdit    an edit or reply row whose channel has no sent post of the article
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from functools import cache

from jinja2 import Template

from bot.config import Channel, DeliveryConfig, ImageMode
from bot.delivery.digest_messages import DigestParts, digest_messages
from bot.delivery.digest_plain import fit_digest
from bot.delivery.hashtags import post_hashtags
from bot.delivery.render import (
    CAPTION,
    TEXT,
    Limits,
    Post,
    day_only,
    link_label,
    local_time,
    render_post,
    shorten,
    shorten_summary,
    shown_time,
    shown_url,
    word,
)
from bot.delivery.telegram import Message
from bot.delivery.templates import TemplateTooLong, compile_template, render_template
from bot.ingest.routing import alert_name, matching
from scrapers.normalize import without_trackers
from storage import DigestMark, OutboxItem, OutboxKind, Store
from storage.alerts import Alert

log = logging.getLogger(__name__)
MAX_ALSO = 5  # sources named under a story's post; more become "+N more"
_ALERT_BUDGET = 4000
_SHORT_SUMMARY = 300
Shorter = tuple[Message, int | None]  # a shorter message, the rows it keeps (None: all of them)


class NothingToEdit(Exception):
    """An edit or reply has no sent post of its article to refer to."""


class Composer:
    """Render rows for their channel: hashtags from the taxonomy (hashtags.py), "Also:" from the
    story."""

    def __init__(self, config: DeliveryConfig, store: Store) -> None:
        self._store = store
        self._sources = {s.key: s for s in config.sources}
        self._channels = {c.name: c for c in config.channels}
        self._topics = {t.key: t for t in config.taxonomy.topics}
        self._topic_list, self._source_list = config.taxonomy.topics, config.sources
        self._entities = {t.key: t for t in config.taxonomy.entities}
        self._taxonomy = config.taxonomy

    def channel(self, name: str) -> Channel | None:
        """Return a channel's config (None for a personal alert row such as 'user:42')."""
        return self._channels.get(name)

    def message(self, item: OutboxItem, *, level: int = 0, text_only: bool = False) -> Message:
        """Compose a row's message; level 1 and 2 are shorter (after "message is too long").

        `text_only` makes a photo channel's post a text post (Telegram refused the photo).
        """
        channel = self.channel(item.channel)
        thread = channel.message_thread_id if channel else None
        silent = channel.disable_notification if channel else False
        if item.kind == OutboxKind.REPLY:
            return self._reply(item, thread=thread, silent=silent)
        mode = channel.image if channel else ImageMode.LINK
        image = item.article.image
        if item.kind == OutboxKind.EDIT:
            target = self.target(item)  # an edit of a photo post edits its caption
            photo = self._store.posts.sent_as_photo(item.article_id, item.channel)
        else:
            photo = mode == ImageMode.PHOTO and bool(image) and not text_only
        post = self.post(item, level=level, limits=CAPTION if photo else TEXT)
        message = Message(
            chat_id=item.chat_id,
            text=post.html,
            plain=post.plain,
            html=True,
            thread_id=thread,
            silent=silent,
            media="photo" if photo else "text",
            **_preview(mode, url=post.url, image=image),
        )
        if item.kind == OutboxKind.EDIT:
            return replace(message, edit_message_id=target, thread_id=None)
        return replace(message, photo=image) if photo else message

    def target(self, item: OutboxItem) -> int:
        """Return the message an edit or reply refers to, or raise NothingToEdit."""
        target = item.target_message_id or self._store.posts.sent_post(
            item.article_id, item.channel
        )
        if target is None:
            raise NothingToEdit(f"no sent post of article {item.article_id} in {item.channel}")
        return target

    def post(self, item: OutboxItem, *, level: int = 0, limits: Limits = TEXT) -> Post:
        """Render the row's article: full, with a short summary (1), or bare (2)."""
        source = self._sources.get(item.source_key)
        summary = item.article.summary or item.article.lead
        if level == 1:
            summary = shorten_summary(summary, _SHORT_SUMMARY, item.article.lang)
        bare = level >= 2
        post = render_post(
            item.article,
            source_name=source.display_name if source else item.source_key,
            zone=source.timezone if source else "UTC",
            summary="" if bare else summary,
            hashtags=() if bare else self.hashtags(item),
            also=() if bare else self.also(item),
            alert=self.alert(item),
            limits=limits,
        )
        channel = self.channel(item.channel)
        if channel is None or channel.template is None or bare:
            return post
        values = self.values(item, channel, summary=summary, limits=limits)
        try:
            shown = render_template(_compiled(channel.template), values, limit=limits.budget)
        except TemplateTooLong as exc:
            log.warning("%s: %s; the built-in layout is used", item.channel, exc)
            return post
        # The plain fallback (after Telegram refused the HTML) keeps the built-in layout: its
        # address is written out, which a template's link label would hide.
        return replace(post, html=shown)

    def values(
        self, item: OutboxItem, channel: Channel, *, summary: str, limits: Limits = TEXT
    ) -> dict:
        """Return a template's variables for a row (README "Post templates"), each bounded."""
        article, source = item.article, self._sources.get(item.source_key)
        moment, url = article.published, without_trackers(article.url)
        zone = source.timezone if source else "UTC"
        shown = _time(moment, channel.timezone, source_zone=zone, lang=article.lang)
        return {
            "title": shorten(article.title or url, limits.title),
            "summary": summary,
            "url": url,
            "link_label": link_label(url),
            "source": shorten(source.display_name if source else item.source_key, limits.meta),
            "source_key": item.source_key,
            "time": shown,
            "date": shown[:10],
            "author": shorten(article.author, limits.meta),
            "lang": article.lang,
            "image": article.image,
            "topics": [
                t.label_in(article.lang) if (t := self._topics.get(k)) else k
                for k in article.topics
            ],
            "hashtags": list(self.hashtags(item)),
            "also": list(self.also(item)),
        }

    def hashtags(self, item: OutboxItem) -> tuple[str, ...]:
        """Return the row's article's hashtags (hashtags.post_hashtags)."""
        return post_hashtags(
            item.article, topics=self._topics, entities=self._entities, taxonomy=self._taxonomy
        )

    def alert(self, item: OutboxItem) -> str:
        """Return a personal alert's line naming the reader's subscriptions it matched, in the
        article's language ("Your alert: topic «CSTO»"); "" for a channel's row."""
        user = item.channel.removeprefix("user:")
        if user == item.channel or not user.isdigit():
            return ""
        article, lang = item.article, item.article.lang
        mine = self._store.subscriptions.of_user(int(user))
        # Asked again at send time: the rows record the reader, not the subscription; one the
        # reader has since dropped is not named.
        matched = matching(article, source_key=item.source_key, subscriptions=mine)
        if not matched:
            return ""
        names = [
            alert_name(
                s,
                topics=self._topic_list,
                sources=self._source_list,
                entities=tuple(self._entities.values()),
                lang=lang,
                words=lang,
            )
            for s in matched
        ]
        return f"{word('Your alert' if len(names) == 1 else 'Your alerts', lang)}: " + ", ".join(
            names
        )

    def also(self, item: OutboxItem) -> tuple[str, ...]:
        """Return the other sources of the article's story, at most MAX_ALSO named."""
        names: list[str] = []
        for key in self._store.story_sources(item.article_id):
            source = self._sources.get(key)
            name = source.display_name if source else key
            if key != item.source_key and name not in names:
                names.append(name)
        if len(names) > MAX_ALSO:
            more = word("more", item.article.lang)
            names = [*names[:MAX_ALSO], f"+{len(names) - MAX_ALSO} {more}"]
        return tuple(names)

    def digest(
        self,
        items: Sequence[OutboxItem],
        *,
        part: DigestMark | None = None,
        continued: bool = False,
    ) -> DigestParts:
        """Pack a digest channel's rows into messages (bot/delivery/digest_messages.py)."""
        channel = self.channel(items[0].channel)
        return digest_messages(
            items, channel=channel, sources=self._sources, part=part, continued=continued
        )

    def shorter(self, items: Sequence[OutboxItem], message: Message, level: int) -> Shorter:
        """Return a shorter form of a message found too long, and how many rows it keeps."""
        if len(items) == 1 and items[0].kind != OutboxKind.REPLY:
            text_only = message.photo is None and message.edit_message_id is None
            shorter = self.message(items[0], level=level, text_only=text_only)
            plain = replace(shorter, text=shorter.plain, html=False)
            return (shorter if message.html else plain), None
        # A digest is packed under the limit already; as a last resort its plain text with the
        # addresses written out, whole entries (its last rows: same order) left for a next one.
        more = word("more", items[0].article.lang.split("-")[0]) if items else "more"
        cut, kept = fit_digest(message.console or message.plain, _ALERT_BUDGET // level, more=more)
        return replace(message, text=cut, plain=cut, console=cut, html=False), kept

    def _reply(self, item: OutboxItem, *, thread: int | None, silent: bool) -> Message:
        """Compose the short "Updated: <title>" reply to the channel's post."""
        target = self.target(item)
        url = without_trackers(item.article.url)
        title = shorten(item.article.title, 300)
        shown = shown_url(url, room=_ALERT_BUDGET - 320)  # a huge address shows as its label
        updated = word("Updated", item.article.lang)
        link = f'<a href="{html.escape(url, quote=True)}">{html.escape(shown, quote=False)}</a>'
        # Without a title the link alone says which article: the address shows once.
        text = (
            f"{updated}: <b>{html.escape(title, quote=False)}</b>\n{link}"
            if title.strip()
            else f"{updated}: {link}"
        )
        return Message(
            chat_id=item.chat_id,
            text=text,
            plain=f"{updated}: {title}\n{shown}" if title.strip() else f"{updated}: {shown}",
            html=True,
            thread_id=thread,
            silent=silent,
            preview_url=url,
            reply_to=target,
        )


def _time(moment: datetime | None, zone: str, *, source_zone: str, lang: str) -> str:
    """Return a template's `time` in the channel's zone; a source's date alone stays that date
    (midnight in Moscow is 21:00 the day before in UTC: a day and a time nobody gave)."""
    if moment is None:
        return ""
    return (
        shown_time(moment, source_zone)
        if day_only(moment, source_zone)
        else local_time(moment, zone, lang)
    )


@cache
def _compiled(source: str) -> Template:
    """Compile a channel's template once (start-up vetted it)."""
    return compile_template(source)


def _preview(mode: ImageMode, *, url: str, image: str) -> dict:
    """Return a text post's preview settings for a channel's image mode."""
    if mode == ImageMode.NONE:
        return {"no_preview": True}
    if mode in (ImageMode.PREVIEW_ABOVE, ImageMode.PREVIEW_BELOW):
        above = mode == ImageMode.PREVIEW_ABOVE
        return {"preview_url": image or url, "large_preview": True, "preview_above": above}
    return {"preview_url": url}  # LINK, and a photo channel's text post


def alert_message(alert: Alert) -> Message:
    """Compose an alert for the admin chat: plain text, no link preview."""
    text = shorten(alert.text, _ALERT_BUDGET)
    return Message(chat_id=alert.chat_id, text=text, plain=text, html=False, no_preview=True)
