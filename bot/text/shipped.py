"""The shipped topic model's file: where it lies and which topics it knows, read without numpy.

Validating a config needs only the names of the topics the model decides; the weights (and
numpy, ~70 ms to import) load when a text is first classified (bot/text/topic_model.py).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

MODEL_PATH = Path(__file__).with_name("topics_model.json")
FORMAT = 2


@cache
def shipped_topics() -> tuple[str, ...]:
    """Return the topics the shipped model decides (none when there is no model file)."""
    if not MODEL_PATH.exists():
        return ()
    return tuple(checked(json.loads(MODEL_PATH.read_text(encoding="utf-8")))["topics"])


def checked(data: dict) -> dict:
    """Return a model's JSON form, refusing another format."""
    if data.get("format") != FORMAT:
        raise ValueError(f"topic model format {data.get('format')!r}, expected {FORMAT}")
    return data
