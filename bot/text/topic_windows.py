"""Cut a text into the windows the topic model may also score alone: the title and sentence pairs.

A multi-topic text's second topic is often told in a sentence or two that its first topic's
words outweigh when the whole text is scored; scored alone, such a window may reach the
threshold (topics round 11, "window max"; see BENCHMARKS.md).
"""

from __future__ import annotations

import re

# A sentence ends at ., !, ? or … (with any closing quotes or brackets right after it) followed by
# whitespace; abbreviations ("U.S. Army") end one too: a window is only a place to look.
_END = re.compile(r"[.!?…][\"'»”’)\]]*(?=\s)")
WINDOW_SENTENCES = 2  # fixed before any run (pre-registered), never tuned on results


def sentences(text: str) -> list[str]:
    """Split a text at sentence ends; each sentence stripped, empty ones left out."""
    found, start = [], 0
    for end in _END.finditer(text):
        found.append(text[start : end.end()].strip())
        start = end.end()
    found.append(text[start:].strip())
    return [sentence for sentence in found if sentence]


def windows(title: str, body: str) -> tuple[str, ...]:
    """Return the title alone and each run of two consecutive body sentences (one, if one)."""
    parts = sentences(body)
    size = min(WINDOW_SENTENCES, len(parts))
    runs = [" ".join(parts[i : i + size]) for i in range(len(parts) - size + 1)] if parts else []
    return tuple(([title.strip()] if title.strip() else []) + runs)
