"""Give articles topics and entity tags by bilingual rules kept as data.

A taxonomy is plain TOML (see ``taxonomy.example.toml``) turned into frozen
values by :func:`taxonomy_from_dict`, which compiles every pattern once.

Errors::

    ValueError  a bad taxonomy; the message starts with the key path,
                e.g. "topics.peacekeeping.regex[0]: not a valid regular expression"
"""

from __future__ import annotations

import re
import re._casefix as _casefix  # private: the extra case pairs re.IGNORECASE treats as equal
import re._parser as _sre  # private, but the only stdlib regex parser; used to vet regexes
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

TITLE_HIT = 1.5  # a hit in the title counts for this many body hits
DECAY = 0.5  # each further hit of one rule is worth this much of the one before
MAX_HITS = 6  # later hits add less than 2% each; stop counting
TOPIC_THRESHOLD = 2.0
ENTITY_THRESHOLD = 1.0
_SECTIONS = {"topics": TOPIC_THRESHOLD, "entities": ENTITY_THRESHOLD}
_KEYS = {
    "label",
    "hashtag",
    "description",
    "threshold",
    "phrases",
    "regex",
    "weights",
    "exclude",
    "exclude_regex",
}
_KEY_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")
_SEPARATORS = re.compile(r"[\s\-]+")
_GAP = r"[\s-]+"  # what a space or hyphen inside a phrase matches in the text
_REPEATS = {_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", None)}
_WIDE = 10  # a repeat allowing more than this many rounds counts as unbounded
_FOLD_MAP = str.maketrans(
    # re.IGNORECASE also equates pairs such as s/ſ and i/ı that lower() keeps apart; send each
    # pair to one letter, and drop the dot lower() leaves on İ, so folded text finds what re finds.
    {chr(code): chr(min(code, *others)) for code, others in _casefix._EXTRA_CASES.items()}
    | {"\u0307": None}
)
_CHAR_MAP = str.maketrans(
    {
        "ё": "е",
        "Ё": "Е",
        "\u00ad": None,
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
    }
)


@dataclass(frozen=True, slots=True)
class Rule:
    """One phrase or regular expression and what a match of it is worth."""

    kind: str  # 'phrase' | 'regex'
    pattern: str
    weight: float = 1.0
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)
    # Text every match contains, looked up in Text.exact or Text.folded before the regex runs.
    needle: str = field(init=False, repr=False, compare=False, default="")
    needle_folded: bool = field(init=False, repr=False, compare=False, default=True)

    def __post_init__(self) -> None:
        if self.kind == "phrase":
            compiled = _compile_phrase(self.pattern)
            first = _phrase_words(self.pattern)[0]
            exact = not compiled.flags & re.IGNORECASE
            object.__setattr__(self, "needle", first if exact else fold(first))
            object.__setattr__(self, "needle_folded", not exact)
        elif self.kind == "regex":
            compiled = _compile_regex(self.pattern)
        else:
            raise ValueError(f"unknown rule kind {self.kind!r}")
        object.__setattr__(self, "compiled", compiled)

    def may_match(self, text: Text) -> bool:
        """Tell cheaply whether the regex could match: False only when its needle is absent."""
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


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """The topics and the named entities an article is checked against."""

    topics: tuple[Topic, ...]
    entities: tuple[Topic, ...] = ()


@dataclass(frozen=True, slots=True)
class Match:
    """A topic or entity given to an article, with the rules that earned it."""

    topic: str
    label: str
    hashtag: str
    score: float
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Text:
    """A normalised title or body, and its case-folded copy for needle look-ups."""

    exact: str
    folded: str

    @classmethod
    def of(cls, raw: str) -> Text:
        """Normalise raw text once for all the rules that read it."""
        exact = normalize(raw)
        return cls(exact, fold(exact))

    @property
    def aligned(self) -> bool:
        """Tell whether a position in the folded text is the same position in the exact one."""
        # Folding keeps every character's place except İ's (and a lone combining dot).
        return len(self.exact) == len(self.folded)


def normalize(text: str) -> str:
    """Fold ё into е, unify dashes and collapse whitespace; case is kept for acronyms."""
    return " ".join(text.translate(_CHAR_MAP).split())


def fold(text: str) -> str:
    """Lower-case text the way re.IGNORECASE compares it, so a substring test agrees with re."""
    return text.lower().translate(_FOLD_MAP)


def _phrase_words(phrase: str) -> list[str]:
    """Split a phrase into its words, refusing an empty one."""
    words = [w for w in _SEPARATORS.split(normalize(phrase)) if w]
    if not words:
        raise ValueError("empty phrase")
    return words


def _compile_phrase(phrase: str) -> re.Pattern[str]:
    """Compile a phrase whose every word matches the start of a word."""
    words = _phrase_words(phrase)
    # An all-capitals phrase is an acronym: exact case, whole word, so "UN" never
    # matches "un-" or "UNESCO", and "ЕС" never matches the syllable "ес".
    if phrase.upper() == phrase and phrase.lower() != phrase:
        return re.compile(rf"(?<!\w){_GAP.join(map(re.escape, words))}(?!\w)")
    # Otherwise each word is a stem: "государственн границ" finds "государственной границы".
    body = (r"\w*" + _GAP).join(map(re.escape, words))
    return re.compile(rf"(?<!\w){body}", re.IGNORECASE)


def _compile_regex(pattern: str) -> re.Pattern[str]:
    """Compile an operator's regex, refusing ones that could hang the matcher."""
    try:
        parsed = _sre.parse(pattern, re.IGNORECASE)
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression ({exc})") from exc
    if _nested_repeat(parsed.data, inside=False):
        raise ValueError(
            "nested quantifiers such as (a+)+ can backtrack catastrophically;"
            " use one quantifier or a bounded inner repeat"
        )
    if parsed.getwidth()[0] == 0:
        raise ValueError("the regular expression can match an empty string")
    return compiled


def _nested_repeat(items: list, *, inside: bool) -> bool:
    """Tell whether a variable repeat sits inside a wide variable repeat."""
    for op, av in items:
        grows = op in _REPEATS and av[1] > av[0]
        if grows and inside:
            return True
        wide = grows and av[1] > _WIDE
        for child in _subpatterns(av):
            if _nested_repeat(child.data, inside=inside or wide):
                return True
    return False


def _subpatterns(av: object) -> Iterable[_sre.SubPattern]:
    """Yield the sub-patterns held anywhere in a parsed node's arguments."""
    if isinstance(av, _sre.SubPattern):
        yield av
    elif isinstance(av, (tuple, list)):
        for item in av:
            yield from _subpatterns(item)


def taxonomy_from_toml(text: str, *, path: str = "") -> Taxonomy:
    """Parse TOML text with [topics.*] and [entities.*] tables into a taxonomy."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path or 'taxonomy'}: not valid TOML ({exc})") from exc
    return taxonomy_from_dict(data, path=path)


def taxonomy_from_dict(data: Mapping, *, path: str = "") -> Taxonomy:
    """Validate a mapping of "topics" and "entities" tables and compile it."""
    for key in data:
        if key not in _SECTIONS:
            raise ValueError(f"{_join(path, key)}: unknown key (expected topics, entities)")
    if "topics" not in data:
        raise ValueError(f"{_join(path, 'topics')}: missing")
    built = {}
    for section, threshold in _SECTIONS.items():
        where = _join(path, section)
        tables = _expect(data.get(section, {}), dict, where, "a table")
        built[section] = tuple(
            _topic(key, table, path=_join(where, key), threshold=threshold)
            for key, table in tables.items()
        )
    return Taxonomy(topics=built["topics"], entities=built["entities"])


def _topic(key: str, table: object, *, path: str, threshold: float) -> Topic:
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
    exclude = _rules(table, ("exclude", "exclude_regex"), path, {})
    return Topic(
        key=key,
        label=label,
        hashtag=_hashtag(table, key, path),
        threshold=threshold,
        rules=rules,
        exclude=exclude,
    )


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


def _hashtag(table: dict, key: str, path: str) -> str:
    """Return the hashtag text; Telegram allows only letters, digits and '_'."""
    raw = _expect(table.get("hashtag", key), str, f"{path}.hashtag", "a string")
    tag = raw.lstrip("#").replace("-", "_")
    if not re.fullmatch(r"\w+", tag) or tag.isdigit():
        raise ValueError(f"{path}.hashtag: {raw!r} is not a usable Telegram hashtag")
    return tag


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


def classify(*, title: str, body: str, taxonomy: Taxonomy, lang: str = "") -> tuple[Match, ...]:
    """Return the topics an article earns, best first."""
    # lang is accepted for the pipeline's convenience; the rules of both languages
    # run on every text because Russian items quote Latin acronyms (COVID-19, PROXY).
    del lang
    return _score_all(taxonomy.topics, Text.of(title), Text.of(body))


def tag_entities(*, title: str, body: str, taxonomy: Taxonomy) -> tuple[Match, ...]:
    """Return the named entities (states, organisations) an article mentions."""
    return _score_all(taxonomy.entities, Text.of(title), Text.of(body))


def hashtags(matches: Iterable[Match]) -> tuple[str, ...]:
    """Render matches as Telegram hashtags, each once, in order."""
    return tuple(dict.fromkeys(f"#{m.hashtag}" for m in matches))


def _score_all(topics: tuple[Topic, ...], title: Text, body: Text) -> tuple[Match, ...]:
    """Score every topic on normalised text and keep those over their threshold."""
    found = [m for topic in topics if (m := _score(topic, title, body)) is not None]
    return tuple(sorted(found, key=lambda m: (-m.score, m.topic)))


def _score(topic: Topic, title: Text, body: Text) -> Match | None:
    """Add up a topic's rule scores, or give nothing when an exclusion matches."""
    if any(_count(rule, title) or _count(rule, body) for rule in topic.exclude):
        return None
    score, why = 0.0, []
    for rule in topic.rules:
        points = rule.weight * _hits_value(rule, title, body)
        if points:
            score += points
            why.append(rule.describe())
    if score < topic.threshold:
        return None
    return Match(
        topic=topic.key,
        label=topic.label,
        hashtag=topic.hashtag,
        score=round(score, 3),
        rules=tuple(why),
    )


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
    count = 0
    for count, _ in enumerate(rule.compiled.finditer(text.exact), start=1):
        if count >= MAX_HITS:
            break
    return count


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
