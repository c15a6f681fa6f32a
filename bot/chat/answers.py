"""Chat answers: the text of each command's reply, from data already read from the archive (pure).

Every string a user typed or a site wrote is escaped for Telegram HTML, and every list is cut to
stay under Telegram's 4096-unit message limit, saying how many items were left out.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.chat.naming import QUOTES, find_named
from bot.chat.phrases import EN, RU, count_of, say
from bot.delivery.render import escape_html, shorten, shown_time, utf16_len, word
from bot.delivery.templates import visible_text
from bot.ingest.routing import alert_name, dormant_alerts, noun
from bot.text.classify import Topic
from scrapers.models import Source
from scrapers.normalize import without_trackers
from storage.search import marked
from storage.subscriptions import SubscriptionKind

if TYPE_CHECKING:  # types only: answers never touch the archive themselves
    from storage.search import SearchHit
    from storage.subscriptions import Subscription

# UTF-16 units of the text a reader sees: Telegram allows 4096 after entity parsing (tags and
# links' addresses do not count); the rest is a margin.
MAX_UNITS = 4000
MAX_PHRASE, MAX_LATEST = 100, 10


def help_text(
    commands: Sequence[tuple[str, str]],
    operator_commands: Sequence[tuple[str, str]] = (),
    lang: str = EN,
) -> str:
    """Answer /help: the commands, and the operator's when given."""
    lines = [f"/{name} — {escape_html(say(lang, text))}" for name, text in commands]
    if operator_commands:
        lines += [
            "",
            say(lang, "<b>Operator</b>"),
            *(f"/{name} — {escape_html(say(lang, text))}" for name, text in operator_commands),
        ]
    intro = say(lang, "<b>presswatch</b> follows official press releases and keeps an archive.")
    return intro + "\n\n" + "\n".join(lines)


def latest_request(
    words: str, topics: Sequence[Topic], lang: str = EN, *, entities: Sequence[Topic] = ()
) -> tuple[int, Topic | None, str] | str:
    """Return (count, topic or entity, its kind) asked of /latest, or the reply to a name that
    is neither."""
    terms = words.split()
    # "/latest 0" once showed 1 article and "/latest -3" called -3 a topic: say what N may be.
    if any(_is_count(t.removeprefix("-")) and _count(t) < 1 for t in terms):
        return say(lang, "N is 1 to {n}: /latest 3 shows the newest 3.", n=MAX_LATEST)
    # "/latest 3 Border security" or "/latest Border security 3": one count, the rest one label.
    ends = [i for i in (0, len(terms) - 1) if terms and _is_count(terms[i])]
    rest = terms[1:] if ends[:1] == [0] else terms[:-1] if ends else terms
    if len(rest) > 1 and (found := find_named(" ".join(rest), topics=topics, entities=entities)):
        return _count(terms[ends[0]]) if ends else 5, found[1], found[0]
    count, topic, kind = 5, None, ""
    for term in terms[:3]:
        if _is_count(term):
            count = _count(term)
            continue
        found = find_named(term, topics=topics, entities=entities)
        if found is None:
            # Several words that are no label are named whole: the reader meant one name.
            name = " ".join(rest) if len(rest) > 1 else term
            return say(
                lang, "No topic or tag is called “{word}”. /topics lists them.", word=echo(name)
            )
        kind, topic = found
    return count, topic, kind


def _is_count(term: str) -> bool:
    """Tell whether a /latest term is the number of stories asked for."""
    return term.isascii() and term.isdigit()


def _count(term: str) -> int:
    """Return the number of stories a count term asks for, signed as typed (latest_text caps it)."""
    # Past 9 digits it is only "more than the cap"; int() refuses over 4,300 digits anyway.
    digits = term.removeprefix("-")
    n = int(digits) if len(digits) <= 9 else 10**9
    return -n if term.startswith("-") else n


def latest_text(
    hits: Sequence[SearchHit],
    *,
    topic: Topic | None,
    sources: Sequence[Source],
    count: int = MAX_LATEST,
    lang: str = EN,
    kind: str = SubscriptionKind.TOPIC,
) -> str:
    """Answer /latest with the newest `count` stories, of one topic or entity when given."""
    label = escape_html(topic.label_in(lang)) if topic else ""
    # "по теме «ОДКБ»" would call an organisation a topic: an entity is a tag, as in /topics.
    on = " about {label}" if kind == SubscriptionKind.ENTITY else " on {label}"
    about = say(lang, on, label=label) if topic else ""
    if not hits:
        return say(lang, "No articles{about} yet.", about=about)
    names, zones = _names(sources), _zones(sources)
    stories = fold_reprints(hits)[: min(count, MAX_LATEST)]
    heading = say(lang, "<b>Latest{about}</b>", about=about)
    if count > MAX_LATEST:  # a reader who asked for 100 is told why there are 10
        heading += " " + say(lang, "(the newest {n}: {n} at most at a time)", n=MAX_LATEST)
    return fit(
        heading,
        [
            hit_text(h, names, zones, also=[names.get(k, k) for k in also], lang=lang)
            for h, also in stories
        ],
        lang=lang,
    )


def fold_reprints(hits: Sequence[SearchHit]) -> list[tuple[SearchHit, list[str]]]:
    """Return each story of `hits` once, in order, with the keys of its other listed sources.

    A story is shown by its original when listed (as a channel posts it once, naming the
    reprints' sources), else by its newest reprint.
    """
    stories: dict[int, list[SearchHit]] = {}
    for h in hits:
        stories.setdefault(h.duplicate_of or h.id, []).append(h)
    place = {h.id: i for i, h in enumerate(hits)}
    shown = []
    for key, members in stories.items():
        lead = next((m for m in members if m.id == key), members[0])
        # Named in the order they carried it, as a post's "Also:" names them (hits are newest first).
        others = [m.source_key for m in reversed(members) if m.source_key != lead.source_key]
        shown.append((lead, list(dict.fromkeys(others))))
    return sorted(shown, key=lambda story: place[story[0].id])


def search_text(
    query: str, hits: Sequence[SearchHit] | None, *, sources: Sequence[Source], lang: str = EN
) -> str:
    """Answer /search with its hits; `hits` is None when the query holds no word to look for."""
    if hits is None:
        return say(
            lang,
            (
                "Tell me what to look for, e.g. <code>/search CSTO summit</code>; "
                "<code>A OR B</code> finds either, <code>-word</code> leaves it out."
            ),
        )
    if not hits:
        return say(lang, "Nothing found for “{query}”.", query=echo(query))
    names, zones = _names(sources), _zones(sources)
    return fit(
        say(lang, "<b>Found for “{query}”</b>", query=echo(query)),
        [hit_text(h, names, zones, lang=lang) for h in hits],
        lang=lang,
    )


def topics_text(topics: Sequence[Topic], lang: str = EN, *, entities: Sequence[Topic] = ()) -> str:
    """Answer /topics: the topics, then the entities (as tags), each with its key to type."""
    items = [
        f"• <code>{escape_html(t.key)}</code> — {escape_html(_shown(t, lang))}" for t in topics
    ]
    if not items and not entities:
        return say(lang, "No topics are configured.")
    if entities:  # a heading among the items: a long list is cut with the tags, not before them
        items += [
            "",
            say(
                lang,
                "<b>Tags</b> (organisations, countries, people; also for /latest and /subscribe)",
            ),
        ]
        items += [
            f"• <code>{escape_html(e.key)}</code> — {escape_html(_shown(e, lang))}"
            for e in entities
        ]
    return fit(say(lang, "<b>Topics</b> (for /latest and /subscribe)"), items, sep="\n", lang=lang)


def sources_text(sources: Sequence[Source], counts: Mapping[str, int], lang: str = EN) -> str:
    """Answer /sources with each source's article count."""
    items = [
        f"• <b>{escape_html(s.display_name)}</b> <code>{escape_html(s.key)}</code> — "
        f"{count_of(lang, counts.get(s.key, 0), 'article')}"
        for s in sources
    ]
    if not items:
        return say(lang, "No sources are configured.")
    return fit(say(lang, "<b>Sources</b>"), items, sep="\n", lang=lang)


def mysubs_text(
    subs: Sequence[Subscription],
    *,
    topics: Sequence[Topic] = (),
    sources: Sequence[Source] = (),
    lang: str = EN,
    entities: Sequence[Topic] = (),
) -> str:
    """Answer /mysubs: each alert by the name a reader knows (a topic's or entity's label in the
    chat's language, a source's name) and the command that stops it."""
    if not subs:
        # The same examples as /subscribe's: this bot's own topic, tag and source, to copy.
        follow = subscription_target(
            "", topics=topics, sources=sources, entities=entities, lang=lang
        )
        return f"{say(lang, 'You have no alerts.')} {follow}"
    # The word before a name ("topic", "тема") is the reader's, as the rest of the reply.
    kit = {"topics": topics, "sources": sources, "entities": entities}
    # An alert on a key the config dropped is kept, paused until it comes back (delivery.readers),
    # and called so in the words its reader was told.
    gone = f" {say(lang, '(paused: I no longer follow it)')}"
    paused = {s.id for s in dormant_alerts(subs, **kit)}
    items = [
        f"• {escape_html(alert_name(s, lang=lang, words=lang, **kit))}"
        f"{gone if s.id in paused else ''}"
        f" — {_stop(s)}"
        for s in subs
    ]
    stop_all = say(lang, "To stop them all: /unsubscribe all")
    return fit(say(lang, "<b>Your alerts</b>"), items, sep="\n", lang=lang) + "\n\n" + stop_all


def _stop(sub: Subscription) -> str:
    """Return the command that stops one alert, to copy with a tap."""
    # By key: what /unsubscribe is sure to find, whatever the label's language.
    words = f'"{sub.value}"' if sub.kind == SubscriptionKind.PHRASE else sub.value
    return f"<code>/unsubscribe {escape_html(words)}</code>"


def subscription_target(
    words: str,
    *,
    topics: Sequence[Topic],
    sources: Sequence[Source],
    lang: str = EN,
    entities: Sequence[Topic] = (),
) -> tuple[str, str, str] | str:
    """Return (kind, value, label) for a topic, an entity, a source or a quoted phrase; or a
    helpful error."""
    text = " ".join(words.split())
    if not text:
        # The examples are this bot's own topic, tag and source: a reader may copy them as they are
        examples = [t.key for t in (*topics[:1], *entities[:1])] + [s.key for s in sources[:1]]
        shown = [f"<code>/subscribe {escape_html(e)}</code>" for e in examples]
        shown.append(say(lang, '<code>/subscribe "border guards"</code>'))
        return say(
            lang,
            "Follow a topic, a tag, a source or a phrase: {examples}.",
            examples=", ".join(shown),
        )
    if text[0] in QUOTES:
        phrase = visible(text.strip(QUOTES))
        if not 2 <= len(phrase) <= MAX_PHRASE:
            return say(lang, "A phrase needs 2 to {n} characters, in quotes.", n=MAX_PHRASE)
        return SubscriptionKind.PHRASE, phrase, target_label(SubscriptionKind.PHRASE, phrase, lang)
    if found := find_named(text, topics=topics, entities=entities, sources=sources):
        kind, named = found
        name = named.label_in(lang) if isinstance(named, Topic) else named.display_name
        return kind, named.key, target_label(kind, name, lang)
    return say(
        lang,
        "I know no topic, tag or source called “{text}”. /topics and /sources list them; put a "
        'phrase in quotes: <code>/subscribe "{text}"</code>.',
        text=echo(text),
    )


def target_label(kind: str, name: str, lang: str = EN) -> str:
    """Return an alert as its replies name it, escaped: "the topic Peacekeeping" in English,
    "тема «Миротворчество»" in Russian (the case its Russian phrases are written for)."""
    if lang == RU:
        return f"{word(noun(kind), RU)} «{escape_html(name)}»"
    if kind == SubscriptionKind.PHRASE:
        return f"the phrase “{escape_html(name)}”"
    return f"the {noun(kind)} {escape_html(name)}"


def _shown(topic: Topic, lang: str = EN) -> str:
    """Return a topic's label followed by its labels in other languages ("Economy / Экономика");
    for a Russian reader its Russian label alone, the reply staying Russian throughout."""
    if lang == RU:
        return topic.label_in(RU)
    others = [label for _, label in topic.labels if label != topic.label]
    return " / ".join([topic.label, *others])


def hit_text(
    hit: SearchHit,
    names: Mapping[str, str],
    zones: Mapping[str, str] | None = None,
    *,
    also: Sequence[str] = (),
    lang: str = EN,
) -> str:
    """Format one search hit: linked title, source and date (and the story's other sources),
    snippet."""
    url = without_trackers(str(hit.url))  # a feed's utm_* stays out of the link, as in posts
    title = escape_html(shorten(hit.title or url, 200))
    link = f'<a href="{html.escape(url, quote=True)}">{title}</a>' if _web(url) else title
    meta = " · ".join(
        x
        for x in (
            names.get(hit.source_key, hit.source_key),
            _when(hit.published_at, (zones or {}).get(hit.source_key, "UTC"), lang),
            say(lang, "also {names}", names=", ".join(also)) if also else "",
        )
        if x
    )
    # Escaped before the matches are made bold: the marks are neither &, < nor >.
    snippet = escape_html(shorten(" ".join(str(hit.snippet or "").split()), 240))
    snippet = marked(snippet, "<b>", "</b>")
    return f"{link}\n<i>{escape_html(meta)}</i>" + (f"\n{snippet}" if snippet else "")


# -- text helpers ---------------------------------------------------------------------------------


def fit(
    head: str, items: list[str], *, sep: str = "\n\n", limit: int = MAX_UNITS, lang: str = EN
) -> str:
    """Join items under a head, dropping the tail (and saying how many) to stay within `limit`
    units of visible text."""
    text, used = head, utf16_len(visible_text(head))
    for i, item in enumerate(items):
        # Measured as Telegram does, on the text shown: a hit's long link once cost /latest its
        # tenth story ("the newest 10" over 9 and "…and 1 more") while 2,000 units were free.
        used += utf16_len(sep) + utf16_len(visible_text(item))
        if used > limit - 40:  # room for "…and N more"
            return f"{text}{sep}" + say(lang, "…and {n} more", n=len(items) - i)
        text = f"{text}{sep}{item}"
    return text


def visible(text: str) -> str:
    """Return text without control, format or unpaired surrogate characters, spaces collapsed."""
    kept = "".join(c for c in text if c.isspace() or unicodedata.category(c)[0] != "C")
    return " ".join(kept.split())


def echo(text: str, limit: int = 60) -> str:
    """Return user input safe to quote back: visible characters only, short, escaped."""
    return escape_html(shorten(visible(text), limit))


def _names(sources: Sequence[Source]) -> dict[str, str]:
    """Return each source's display name by key."""
    return {s.key: s.display_name for s in sources}


def _web(url: str) -> bool:
    """Return True for an http(s) URL (the only links we make clickable)."""
    return str(url).startswith(("http://", "https://"))


def _zones(sources: Sequence[Source]) -> dict[str, str]:
    """Map source keys to their time zones (dates are shown as the source's posts show them)."""
    return {s.key: s.timezone for s in sources}


def _when(value, zone: str = "UTC", lang: str = EN) -> str:
    """Return a stored UTC time (ISO text or datetime) as a post shows it in `zone`, or ''."""
    if not value:
        return ""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # "16.05.2022 15:40 MSK", or the day alone for a source that gives only its date.
    return shown_time(moment, zone, lang)
