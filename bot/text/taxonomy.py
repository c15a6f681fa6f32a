"""Read a taxonomy of topics and entity tags from TOML tables into frozen, compiled values.

Errors::

    ValueError  a bad taxonomy; the message starts with the key path,
                e.g. "topics.peacekeeping.regex[0]: not a valid regular expression"
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import regex

from bot.text.patterns import (
    compile_regex,
    fold,
    normalize,
    phrase_regex,
    phrase_words,
    regex_needles,
)
from bot.text.shipped import shipped_topics
from scrapers.language import primary_code

if TYPE_CHECKING:
    from bot.text.topic_model import TopicModel

TOPIC_THRESHOLD = 2.0
ENTITY_THRESHOLD = 1.0
SHIPPED = "shipped"  # a taxonomy's model: the one shipped with presswatch, loaded on first use
_SECTIONS = {"topics": TOPIC_THRESHOLD, "entities": ENTITY_THRESHOLD}
_KEYS = {
    "label",
    "labels",
    "hashtag",
    "description",
    "threshold",
    "phrases",
    "regex",
    "weights",
    "exclude",
    "exclude_regex",
    "model",
}
_KEY_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")
_LANG_RE = re.compile(r"[a-z]{2,3}")
_NOT_WORD = re.compile(r"[\W_]+")
_WORD = re.compile(r"\w+")
_START = 7  # the longest word beginning kept in Text.starts: enough to tell stems apart
_LENGTHS = range(1, _START + 1)


@dataclass(frozen=True, slots=True)
class Rule:
    """One phrase or regular expression and what a match of it is worth."""

    kind: str  # 'phrase' | 'regex'
    pattern: str
    weight: float = 1.0
    # A phrase's regex and flags, compiled on first use (`compiled`): a taxonomy has hundreds,
    # compiling them all took ~0.1 s of every command's start, and a command that classifies
    # nothing (or a text without the phrase's needle) never needs one. A regex rule is compiled,
    # and vetted, at once.
    expression: tuple[str, int] = field(init=False, repr=False, compare=False, default=("", 0))
    built: re.Pattern[str] | regex.Pattern[str] | None = field(
        init=False, repr=False, compare=False, default=None
    )
    # Text every match contains, looked up in Text.exact or Text.folded before the regex runs.
    needle: str = field(init=False, repr=False, compare=False, default="")
    needle_folded: bool = field(init=False, repr=False, compare=False, default=True)
    # The folded needle's start when it is one word: a match needs a word of the text that
    # starts with it (Text.starts).
    word: str = field(init=False, repr=False, compare=False, default="")
    # A regex's folded literals, one of which every match contains (none: always try it).
    needles: tuple[str, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        if self.kind == "phrase":
            expression = phrase_regex(self.pattern)
            first = phrase_words(self.pattern)[0]
            exact = not expression[1] & re.IGNORECASE
            object.__setattr__(self, "needle", first if exact else fold(first))
            object.__setattr__(self, "needle_folded", not exact)
            if _WORD.fullmatch(fold(first)):
                object.__setattr__(self, "word", fold(first)[:_START])
            object.__setattr__(self, "expression", expression)
        elif self.kind == "regex":
            compiled = compile_regex(self.pattern)
            object.__setattr__(self, "needles", regex_needles(compiled))
            object.__setattr__(self, "built", compiled)
        else:
            raise ValueError(f"unknown rule kind {self.kind!r}")

    def __reduce__(self) -> tuple:
        """Pickle the rule as its definition, the same whatever was compiled since (the parsing
        sandbox tells one taxonomy from another by its pickle)."""
        return (Rule, (self.kind, self.pattern, self.weight))

    @property
    def compiled(self) -> re.Pattern[str] | regex.Pattern[str]:
        """Return the compiled pattern, compiling a phrase's the first time."""
        if self.built is None:  # two threads may both compile it: the same pattern either way
            object.__setattr__(self, "built", re.compile(*self.expression))
        return self.built

    def may_match(self, text: Text) -> bool:
        """Tell cheaply whether the regex could match: False only when its needle is absent."""
        if self.word and self.word not in text.starts:
            return False
        if self.needles:
            return any(needle in text.folded for needle in self.needles)
        return self.needle in (text.folded if self.needle_folded else text.exact)

    def describe(self) -> str:
        """Name the rule for the archive's record of why a topic was given."""
        return f"{self.kind}:{self.pattern}"


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic or an entity: rules that add up to a score, and vetoes."""

    key: str
    label: str
    hashtag: str
    threshold: float
    rules: tuple[Rule, ...]
    exclude: tuple[Rule, ...] = ()
    model: bool = False  # the shipped topic model decides, with these rules among its inputs
    # Display labels per language code ("ru" -> "Миротворчество"): what readers of posts in
    # that language see, as the topic's name and, made hashtag-safe, as its hashtag.
    labels: tuple[tuple[str, str], ...] = ()
    # Which rules a word beginning of the text can wake (indices into rules, in order), and
    # the rules with no such word, tried on every text.
    by_word: Mapping[str, tuple[int, ...]] = field(init=False, repr=False, compare=False)
    always: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_word: dict[str, list[int]] = {}
        for i, rule in enumerate(self.rules):
            if rule.word:
                by_word.setdefault(rule.word, []).append(i)
        object.__setattr__(self, "by_word", {w: tuple(at) for w, at in by_word.items()})
        always = tuple(i for i, rule in enumerate(self.rules) if not rule.word)
        object.__setattr__(self, "always", always)

    def label_in(self, lang: str) -> str:
        """Return the topic's name for readers of `lang`: its label there, else `label`."""
        return dict(self.labels).get(primary_code(lang), self.label)

    def hashtag_in(self, lang: str) -> str:
        """Return the hashtag (no '#') for a post in `lang`: its label there, else `hashtag`."""
        label = dict(self.labels).get(primary_code(lang))
        return as_hashtag(label) if label else self.hashtag

    def names(self) -> tuple[str, ...]:
        """Return every name a reader may call the topic by: key, labels and hashtags."""
        shown = (label for _, label in self.labels)
        return (self.key, self.label, self.hashtag, *shown)

    def words(self) -> set[str]:
        """Return the word beginnings of all its rules and exclusions."""
        return {rule.word for rule in (*self.rules, *self.exclude) if rule.word}


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """The topics and the named entities an article is checked against."""

    topics: tuple[Topic, ...]
    entities: tuple[Topic, ...] = ()
    # The model that decides the modelled topics: one given, or SHIPPED, whose weights (and
    # numpy) load when a text is first classified, never for a command that classifies nothing.
    decider: TopicModel | str | None = field(default=None, compare=False, repr=False)
    # Every rule's word beginning: all that Text.starts needs to hold for this taxonomy.
    words: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        found = set().union(*(topic.words() for topic in (*self.topics, *self.entities)))
        object.__setattr__(self, "words", frozenset(found))

    @property
    def model(self) -> TopicModel | None:
        """Return the model that decides the modelled topics, if any, loading the shipped one."""
        if self.decider != SHIPPED:
            return self.decider
        from bot.text.topic_model import shipped_model  # noqa: PLC0415 - numpy: see `decider`

        return shipped_model()


@dataclass(frozen=True, slots=True)
class Text:
    """A normalised title or body, and its case-folded copy for needle look-ups."""

    exact: str
    folded: str
    starts: frozenset[str] = frozenset()  # the beginnings of the folded text's words

    @classmethod
    def of(cls, raw: str, *, words: frozenset[str] | None = None) -> Text:
        """Normalise raw text once for all the rules that read it (those with the given words)."""
        exact = normalize(raw)
        folded = fold(exact)
        # Hundreds of phrases are tried on each text and few occur: a set look-up of a
        # phrase's first word rules most out faster than a substring search could. Given the
        # taxonomy's words, only those are kept, which looks up instead of storing every
        # beginning of every word.
        found = set(_WORD.findall(folded))
        if words is None:
            starts = frozenset(w[:k] for w in found for k in _LENGTHS)
        else:
            starts = frozenset(p for w in found for k in _LENGTHS if (p := w[:k]) in words)
        return cls(exact, folded, starts)

    @property
    def aligned(self) -> bool:
        """Tell whether a position in the folded text is the same position in the exact one."""
        # Folding keeps every character's place except İ's (and a lone combining dot).
        return len(self.exact) == len(self.folded)


def taxonomy_from_dict(
    data: Mapping, *, path: str = "", model: TopicModel | None = None
) -> Taxonomy:
    """Validate a mapping of "topics" and "entities" tables and compile it."""
    for key in data:
        if key not in _SECTIONS:
            raise ValueError(f"{_join(path, key)}: unknown key (expected topics, entities)")
    if "topics" not in data:
        raise ValueError(f"{_join(path, 'topics')}: missing")
    modelled = model.topics if model else shipped_topics()
    built = {}
    for section, threshold in _SECTIONS.items():
        where = _join(path, section)
        tables = _expect(data.get(section, {}), dict, where, "a table")
        known = modelled if section == "topics" else ()
        built[section] = tuple(
            _topic(key, table, path=_join(where, key), threshold=threshold, modelled=known)
            for key, table in tables.items()
        )
    # One key names one tag: an article keeps one row per key (article_topics), and /latest and
    # /subscribe read a word as a topic before an entity.
    topic_keys = {t.key for t in built["topics"]}
    for entity in built["entities"]:
        if entity.key in topic_keys:
            raise ValueError(
                f"{_join(path, 'entities')}.{entity.key}: also a topic's key "
                f"({_join(path, 'topics')}.{entity.key}); give the entity another key"
            )
    used = any(t.model for t in built["topics"])
    return Taxonomy(built["topics"], built["entities"], (model or SHIPPED) if used else None)


def _topic(
    key: str, table: object, *, path: str, threshold: float, modelled: tuple[str, ...]
) -> Topic:
    """Build one topic from its TOML table, naming the path of any error."""
    if not _KEY_RE.fullmatch(key):
        raise ValueError(f"{path}: key must be lower-case letters, digits, '-' or '_'")
    table = _expect(table, dict, path, "a table")
    for name in table:
        if name not in _KEYS:
            raise ValueError(f"{path}.{name}: unknown key")
    label = _expect(table.get("label", key), str, f"{path}.label", "a string")
    _expect(table.get("description", ""), str, f"{path}.description", "a string")
    threshold = _number(table.get("threshold", threshold), f"{path}.threshold")
    weights = _weights(table, path)
    rules = _rules(table, ("phrases", "regex"), path, weights)
    if not rules:
        raise ValueError(f"{path}: needs at least one of phrases, regex")
    return Topic(
        key=key,
        label=label,
        hashtag=_hashtag(table, label, key, path),
        threshold=threshold,
        rules=rules,
        exclude=_rules(table, ("exclude", "exclude_regex"), path, {}),
        model=_uses_model(table, key, path, modelled),
        labels=_labels(table, path),
    )


def _uses_model(table: dict, key: str, path: str, modelled: tuple[str, ...]) -> bool:
    """Say whether the shipped model decides this topic: by default when it knows the key."""
    use = _expect(table.get("model", key in modelled), bool, f"{path}.model", "true or false")
    if use and key not in modelled:
        known = ", ".join(modelled) or "none"
        raise ValueError(f"{path}.model: the shipped model has no topic {key!r} (it has {known})")
    return use


def _rules(
    table: dict, names: tuple[str, str], path: str, weights: dict[str, float]
) -> tuple[Rule, ...]:
    """Build the phrase rules, then the regex rules, of one topic."""
    rules = []
    for name, kind in zip(names, ("phrase", "regex")):
        patterns = _expect(table.get(name, []), list, f"{path}.{name}", "a list of strings")
        for i, pattern in enumerate(patterns):
            where = f"{path}.{name}[{i}]"
            _expect(pattern, str, where, "a string")
            try:
                rules.append(Rule(kind, pattern, weights.get(pattern, 1.0)))
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from exc
    unused = set(weights) - {rule.pattern for rule in rules}
    if unused:
        raise ValueError(f"{path}.weights.{sorted(unused)[0]}: no such phrase or regex")
    return tuple(rules)


def _weights(table: dict, path: str) -> dict[str, float]:
    """Read the optional per-rule weights, each a positive number."""
    weights = _expect(table.get("weights", {}), dict, f"{path}.weights", "a table")
    return {key: _number(value, f"{path}.weights.{key}") for key, value in weights.items()}


def _hashtag(table: dict, label: str, key: str, path: str) -> str:
    """Return the hashtag text; Telegram allows only letters, digits and '_'."""
    # By default the label, as a post in its language shows it (#Politics_and_diplomacy beside
    # the Russian #Политика_и_дипломатия), not the key: "#politics_diplomacy" reads as code.
    # A label with no letter ("2026") makes no hashtag Telegram reads: the key then, as before.
    made = as_hashtag(label)
    default = made if made and not made.replace("_", "").isdigit() else key
    raw = _expect(table.get("hashtag", default), str, f"{path}.hashtag", "a string")
    tag = raw.lstrip("#").replace("-", "_")
    if not re.fullmatch(r"\w+", tag) or tag.isdigit():
        raise ValueError(f"{path}.hashtag: {raw!r} is not a usable Telegram hashtag")
    return tag


def _labels(table: dict, path: str) -> tuple[tuple[str, str], ...]:
    """Read the per-language display labels, each usable as a hashtag once made safe."""
    where = f"{path}.labels"
    labels = _expect(table.get("labels", {}), dict, where, 'a table such as { ru = "Экономика" }')
    for lang, label in labels.items():
        if not _LANG_RE.fullmatch(lang):
            raise ValueError(f"{where}.{lang}: not a language code (two or three letters: ru, en)")
        _expect(label, str, f"{where}.{lang}", "a string")
        tag = as_hashtag(label)
        if not tag or tag.replace("_", "").isdigit():
            raise ValueError(f"{where}.{lang}: {label!r} has no letters to make a hashtag of")
    return tuple(labels.items())


def find_topic(topics: Iterable[Topic], name: str) -> Topic | None:
    """Return the topic `name` calls by key, label in any language or hashtag, or None."""
    # Compared as hashtags, case-folded: '#', quotes, '_', '-', spaces and punctuation between
    # words all alike, so "#Политика_и_дипломатия" finds "Политика и дипломатия".
    wanted = as_hashtag(name).casefold()
    if not wanted:
        return None
    return next(
        (t for t in topics if wanted in {as_hashtag(n).casefold() for n in t.names()}), None
    )


def as_hashtag(label: str) -> str:
    """Return a label as Telegram hashtag text: runs of spaces and punctuation become one '_'."""
    return _NOT_WORD.sub("_", label).strip("_")


def _number(value: object, path: str) -> float:
    """Check that a value is a positive number (TOML booleans are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{path}: expected a positive number, got {value!r}")
    return float(value)


def _expect(value: object, kind: type, path: str, what: str):
    """Return the value if it has the expected type, else name the path."""
    if not isinstance(value, kind):
        raise ValueError(f"{path}: expected {what}, got {type(value).__name__}")
    return value


def _join(path: str, key: str) -> str:
    """Extend a dotted key path."""
    return f"{path}.{key}" if path else key
