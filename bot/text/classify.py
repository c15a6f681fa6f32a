"""Give articles topics and entity tags: bilingual rules kept as data, and a shipped model.

A taxonomy is plain TOML (see ``config.example.toml``) turned into frozen values by
:func:`taxonomy_from_dict` (in :mod:`bot.text.taxonomy`), which compiles every pattern once.
A topic is given when its rules' points reach its threshold; a topic of the default taxonomy
that the shipped model knows (:mod:`bot.text.topic_model`) is given when the model's
probability, computed from lemmas and every topic's rule points, reaches the model's threshold.

Errors::

    ValueError  a bad taxonomy; the message starts with the key path,
                e.g. "topics.peacekeeping.regex[0]: not a valid regular expression"
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from bot.text.patterns import fold, normalize
from bot.text.taxonomy import (
    Rule,
    Taxonomy,
    Text,
    Topic,
    taxonomy_from_dict,
)
from scrapers.errors import PatternTooSlow
from scrapers.userregex import within_budget

__all__ = [
    "Match",
    "Rule",
    "Taxonomy",
    "Text",
    "Topic",
    "classify",
    "fold",
    "hashtags",
    "normalize",
    "rule_points",
    "salient_entities",
    "tag_entities",
    "taxonomy_from_dict",
]

log = logging.getLogger(__name__)
TITLE_HIT = 1.5  # a hit in the title counts for this many body hits
DECAY = 0.5  # each further hit of one rule is worth this much of the one before
MAX_HITS = 6  # later hits add less than 2% each; stop counting
# An entity a story is about is named in its title, in its lead, or at least this many times.
SALIENT_MENTIONS = 2


@dataclass(frozen=True, slots=True)
class Match:
    """A topic or entity given to an article, with the rules that earned it."""

    topic: str
    label: str
    hashtag: str
    score: float  # rule points, or the model's probability for a topic the model decides
    rules: tuple[str, ...]


def classify(*, title: str, body: str, taxonomy: Taxonomy, lang: str = "") -> tuple[Match, ...]:
    """Return the topics an article earns, best first."""
    # lang is accepted for the pipeline's convenience; the rules of both languages
    # run on every text because Russian items quote Latin acronyms (COVID-19, PROXY).
    del lang
    head, text = Text.of(title, words=taxonomy.words), Text.of(body, words=taxonomy.words)
    points = {topic.key: _points(topic, head, text) for topic in taxonomy.topics}
    found = []
    for topic in taxonomy.topics:
        score, why = points[topic.key]
        if not topic.model and score >= topic.threshold:
            found.append(_match(topic, score, why))
    found += _modelled(taxonomy, head, text, points)
    return tuple(sorted(found, key=lambda m: (-m.score, m.topic)))


def rule_points(*, title: str, body: str, taxonomy: Taxonomy) -> dict[str, float]:
    """Return every topic's rule points, threshold or not (the model's rule inputs)."""
    head, text = Text.of(title, words=taxonomy.words), Text.of(body, words=taxonomy.words)
    return {topic.key: _points(topic, head, text)[0] for topic in taxonomy.topics}


def tag_entities(*, title: str, body: str, taxonomy: Taxonomy) -> tuple[Match, ...]:
    """Return the named entities (states, organisations) an article mentions."""
    head, text = Text.of(title, words=taxonomy.words), Text.of(body, words=taxonomy.words)
    found = []
    for entity in taxonomy.entities:
        score, why = _points(entity, head, text)
        if score >= entity.threshold:
            found.append(_match(entity, score, why))
    return tuple(sorted(found, key=lambda m: (-m.score, m.topic)))


def salient_entities(
    keys: Iterable[str], *, title: str, lead: str, body: str, taxonomy: Taxonomy
) -> tuple[str, ...]:
    """Return an article's entity keys, in order, less those it names only once, outside its
    title and lead: a passing mention tags the article but is no hashtag under its post.

    ("#Kazakhstan" under an Emirates story from one "Kazakh", "#NATO" under the King's Speech.)
    A key the text does not name at all under today's rules (tagged under an older taxonomy)
    is kept: nothing shows it was a passing mention.
    """
    named = {entity.key: entity for entity in taxonomy.entities}
    chosen = [named[key] for key in keys if key in named]
    if not chosen:
        return ()
    head = Text.of(title, words=taxonomy.words)
    text = Text.of(f"{lead}\n{body}", words=taxonomy.words)
    opening = Text.of(lead, words=taxonomy.words)
    kept = []
    for entity in chosen:
        # Mentions, not points: an operator's weights (2 for "ОДКБ") must not make one a story.
        once = 0 < _mentions(entity, text) < SALIENT_MENTIONS and not _mentions(entity, head)
        if not once or _vetoed(entity, head, text) or _mentions(entity, opening):
            kept.append(entity.key)
    return tuple(kept)


def hashtags(matches: Iterable[Match]) -> tuple[str, ...]:
    """Render matches as Telegram hashtags, each once, in order."""
    return tuple(dict.fromkeys(f"#{m.hashtag}" for m in matches))


def _modelled(
    taxonomy: Taxonomy, head: Text, text: Text, points: dict[str, tuple[float, tuple[str, ...]]]
) -> list[Match]:
    """Return the model's matches for the topics it decides, with the rules that fired."""
    by_key = {topic.key: topic for topic in taxonomy.topics if topic.model}
    if not by_key or taxonomy.model is None:
        return []
    scores = {key: score for key, (score, _) in points.items()}
    # An exclusion vetoes a topic whoever decides it.
    allowed = {key for key, topic in by_key.items() if not _vetoed(topic, head, text)}
    decisions = taxonomy.model.decide(head.exact, text.exact, scores, only=allowed)
    return [
        _match(
            by_key[d.topic],
            d.probability,
            (f"model:p={d.probability:.2f}", *d.reasons, *points[d.topic][1]),
        )
        for d in decisions
    ]


def _match(topic: Topic, score: float, why: tuple[str, ...]) -> Match:
    """Return a match of a topic with its score and reasons."""
    return Match(topic.key, topic.label, topic.hashtag, round(score, 3), why)


def _points(topic: Topic, title: Text, body: Text) -> tuple[float, tuple[str, ...]]:
    """Add up a topic's rule points, or none when an exclusion matches."""
    if _vetoed(topic, title, body):
        return 0.0, ()
    score, why = 0.0, []
    for rule in _candidates(topic, title, body):
        points = rule.weight * _hits_value(rule, title, body)
        if points:
            score += points
            why.append(rule.describe())
    return score, tuple(why)


def _mentions(topic: Topic, text: Text) -> int:
    """Count the matches in text of a topic's rules."""
    return sum(_count(rule, text) for rule in _candidates(topic, text, text))


def _candidates(topic: Topic, title: Text, body: Text) -> list[Rule]:
    """Return, in order, the rules whose first word begins a word of either text, or has none."""
    # A topic has dozens of phrases and a text wakes a few: the texts' word beginnings pick
    # them out of the index rather than each phrase being looked up in turn.
    woken = set(topic.always)
    for text in (title, body):
        for word in text.starts & topic.by_word.keys():
            woken.update(topic.by_word[word])
    return [topic.rules[i] for i in sorted(woken)]


def _vetoed(topic: Topic, title: Text, body: Text) -> bool:
    """Tell whether one of a topic's exclusions matches."""
    return any(_count(rule, title) or _count(rule, body) for rule in topic.exclude)


# The most points one rule of weight 1 can give an article: _hits_value of MAX_HITS title hits.
RULE_MOST = sum(TITLE_HIT * DECAY**i for i in range(MAX_HITS))


def _hits_value(rule: Rule, title: Text, body: Text) -> float:
    """Value a rule's hits with diminishing returns, title hits first."""
    # Repetition is evidence, but a word said ten times is not ten topics' worth.
    values = [TITLE_HIT] * _count(rule, title) + [1.0] * _count(rule, body)
    return sum(v * DECAY**i for i, v in enumerate(values[:MAX_HITS]))


def _count(rule: Rule, text: Text) -> int:
    """Count a rule's non-overlapping matches, stopping once more would not matter."""
    # Most of the hundreds of phrases are absent from any one text; a substring test says so
    # far faster than scanning the text with each phrase's regex.
    if not rule.may_match(text):
        return 0
    if rule.needle and (text.aligned or not rule.needle_folded):
        return _count_at_needles(rule, text)
    if rule.kind == "regex":
        return _count_regex(rule, text)
    count = 0
    for count, _ in enumerate(rule.compiled.finditer(text.exact), start=1):
        if count >= MAX_HITS:
            break
    return count


def _count_regex(rule: Rule, text: Text) -> int:
    """Count an operator regex's matches within its CPU budget; a slow one counts nothing."""

    def count(timeout: float) -> int:
        hits = 0
        for hits, _ in enumerate(rule.compiled.finditer(text.exact, timeout=timeout), start=1):
            if hits >= MAX_HITS:
                break
        return hits

    # Judged by the CPU it spends, as the operators' other regexes are: a wall-clock timeout
    # alone dropped a topic whenever the thread merely waited for the GIL or a core.
    try:
        return within_budget("topic regex", rule.pattern, text.exact, count)
    except PatternTooSlow as exc:
        log.warning("%s: the rule counts nothing in this text", exc)
        return 0


def _count_at_needles(rule: Rule, text: Text) -> int:
    """Count as finditer would, trying the regex only where its needle (its first word) starts."""
    # A phrase regex tried at every position costs ~30 µs on a short release (re cannot skip
    # ahead under IGNORECASE); str.find jumps to the few places where a match can begin.
    haystack = text.folded if rule.needle_folded else text.exact
    count, start = 0, 0
    while count < MAX_HITS and (at := haystack.find(rule.needle, start)) >= 0:
        found = rule.compiled.match(text.exact, at)
        count += found is not None
        start = found.end() if found else at + 1
    return count
