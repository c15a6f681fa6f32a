"""The `classify` command: try the taxonomy on JSON Lines text before deploying it."""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli.common import EXIT_FAILED, EXIT_OK, Command
from bot.config import load_config
from bot.text.classify import Match, Taxonomy, classify, tag_entities


def explain(title: str, body: str, taxonomy: Taxonomy, *, lang: str = "") -> dict:
    """Return topics, entity tags and the rules behind each, as JSON-ready data."""
    topics = classify(title=title, body=body, taxonomy=taxonomy, lang=lang)
    entities = tag_entities(title=title, body=body, taxonomy=taxonomy)
    return {
        "topics": [m.topic for m in topics],
        "entities": [m.topic for m in entities],
        "explain": {m.topic: _why(m) for m in (*topics, *entities)},
    }


def _why(match: Match) -> dict:
    """Return one match's score and rules."""
    return {"score": round(match.score, 2), "rules": list(match.rules)}


def _cmd_classify(args: argparse.Namespace) -> int:
    """Read JSON Lines on stdin; write each object with its topics and the reasons."""
    taxonomy = load_config(args.config).taxonomy
    bad = 0
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            # A title is what every article has; a body may be empty (a headline alone).
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("title"), str)
                or not isinstance(item.get("body", ""), str)
                or not isinstance(item.get("lang", ""), str)
            ):
                raise ValueError(
                    'expected an object with a string "title" (and optional string "body" and '
                    '"lang"), such as {"title": "CSTO drills", "body": "..."}'
                )
        except ValueError as exc:
            print(f"presswatch: line {number}: {exc}", file=sys.stderr)
            bad += 1
            continue
        result = explain(item["title"], item.get("body", ""), taxonomy, lang=item.get("lang", ""))
        print(json.dumps({**item, **result}, ensure_ascii=False), flush=True)
    return EXIT_FAILED if bad else EXIT_OK


COMMANDS: list[Command] = [
    Command(
        "classify",
        "read JSON Lines (title; optional body, lang) on stdin; print each with its topics and why",
        'echo \'{"title": "CSTO peacekeepers", "body": "..."}\' | presswatch classify '
        "--config presswatch.toml",
        _cmd_classify,
    ),
]
