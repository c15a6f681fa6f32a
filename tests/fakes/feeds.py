"""Synthetic Atom feeds of distinct full-text press releases, for the fake source sites."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

_WORDS = (
    "ministry statement council summit treaty security cooperation defence meeting "
    "delegation agreement region border forces talks minister secretary president "
    "parliament economy trade energy grain exercise peacekeeping union assembly"
).split()


def atom_feed(base_url: str, key: str, count: int, rng: random.Random) -> bytes:
    """Return an Atom feed of `count` distinct full-text entries, newest first.

    Entry n links to `{base_url}/{key}/{n}`; its text is random press words from `rng`, the same
    for entry n whatever `count` is (given a fresh `rng` of one seed).
    """
    start = datetime(2026, 11, 1, tzinfo=UTC)
    # Drawn oldest first: a feed that grows keeps its older entries' texts (no edits appear).
    texts = [" ".join(rng.choice(_WORDS) for _ in range(120)) for _ in range(count)]
    entries = []
    for n in reversed(range(count)):
        words = texts[n]
        stamp = (start + timedelta(minutes=n)).isoformat()
        entries.append(
            f"<entry><id>urn:{key}:{n}</id><title>{key} release {n}: {words[:60]}</title>"
            f'<link href="{base_url}/{key}/{n}"/><updated>{stamp}</updated><published>{stamp}</published>'
            f'<content type="html">&lt;p&gt;{key} {n}. {words}.&lt;/p&gt;&lt;p&gt;{words[::-1]}.&lt;/p&gt;</content></entry>'
        )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{key}</title><id>urn:{key}</id><updated>{start.isoformat()}</updated>"
        + "".join(entries)
        + "</feed>"
    ).encode()
