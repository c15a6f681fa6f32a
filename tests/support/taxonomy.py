"""The example config's taxonomy and small hand-made ones, for the classifier's tests."""

from __future__ import annotations

import tomllib
from pathlib import Path

from bot.text.classify import Taxonomy, classify, tag_entities, taxonomy_from_dict

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"
EVAL_SET = ROOT / "tests" / "data" / "topics_eval.jsonl"
REAL_SET = ROOT / "bench" / "data" / "topics_real" / "dev.jsonl"
DEFAULT_TOPICS = frozenset(
    {
        "military-cooperation",
        "peacekeeping",
        "terrorism-extremism",
        "pandemic-health",
        "international-cooperation",
        "border-security",
        "drugs-crime",
        "politics-diplomacy",
        "economy",
        "cyber-information-security",
    }
)


def example_taxonomy() -> Taxonomy:
    """Return the taxonomy config.example.toml defines."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    return taxonomy_from_dict({key: data[key] for key in ("topics", "entities")})


def small(**topic) -> Taxonomy:
    """Build a one-topic taxonomy from keyword arguments of its table."""
    return taxonomy_from_dict({"topics": {"t": topic}})


def topics_of(taxonomy: Taxonomy, title: str = "", body: str = "") -> list[str]:
    """Return the topic keys classify gives, best first."""
    return [m.topic for m in classify(title=title, body=body, taxonomy=taxonomy)]


def entities_of(taxonomy: Taxonomy, text: str) -> set[str]:
    """Return the entity keys tagged in a body."""
    return {m.topic for m in tag_entities(title="", body=text, taxonomy=taxonomy)}
