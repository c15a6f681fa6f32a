"""pack_digest measures parts by a running sum: the same parts as writing each part's text out."""

from __future__ import annotations

import hashlib
import random

from bot.delivery.digest import DigestEntry, DigestHead, pack_digest
from bot.delivery.render import utf16_len

# The fingerprint of every part pack_digest made of the synthetic digests below when it wrote
# out each part's text for every entry it tried (main at 3e35a65): a running sum of lengths must
# give the very same parts, texts and order.
BEFORE = "5d27bbbc85a1546c7c0bcf5522285a9991815a0242eb70e9307d142fe0fc17cb"
HEAD = DigestHead("<b>Digest</b>\n5 articles", "Digest\n5 articles")


def _synthetic_digests():
    """Yield 600 seeded synthetic digests: sizes about the limits, unnamed and named sources,
    emoji (two UTF-16 units), entries longer than a small budget, with and without a heading;
    half of them with a budget one unit either side of, or exactly, what k entries take."""
    rnd = random.Random(14)
    for case in range(600):
        n = rnd.choice([0, 1, 2, 5, 39, 40, 41, 45, 80, 81, 120, 333])
        groups = ["", "TASS", "BelTA 😀", "МИД России"][: rnd.randint(1, 4)]
        entries = []
        for _ in range(n):
            text = "• " + rnd.choice("ab😀я ") * rnd.randint(0, 320)
            entries.append(DigestEntry(text, text, rnd.choice(groups)))
        head = rnd.choice([None, HEAD])
        cap = rnd.choice([1, 3, 7, 40])
        budget = rnd.choice([400, 1000, 2500, 4000])
        if case % 2 and n:  # a budget at what the first k entries' text takes, give or take 1
            seen = {e.group: i for i, e in reversed(list(enumerate(entries)))}
            entries.sort(key=lambda e: seen[e.group])  # grouped already: packed in this order
            first = entries[: rnd.randint(1, min(n, cap))]
            (alone,) = pack_digest(first, head=head, budget=10**6, max_entries=len(first))
            budget = utf16_len(alone.plain) + rnd.choice([-1, 0, 1])
            budget += len(" (99/99)") if head else 0
        yield entries, head, budget, cap


def test_the_parts_are_those_packed_by_writing_each_text_out() -> None:
    fingerprint = hashlib.sha256()
    for entries, head, budget, cap in _synthetic_digests():
        parts = pack_digest(entries, head=head, budget=budget, max_entries=cap)
        assert sorted(i for p in parts for i in p.indexes) == list(range(len(entries)))
        room = budget - (len(" (99/99)") if head else 0)
        for part in parts:  # over budget only as a lone entry too long for any part
            number = f" ({parts.index(part) + 1}/{len(parts)})" if len(parts) > 1 else ""
            fits = utf16_len(part.plain) - len(number) <= room
            assert fits or len(part.indexes) == 1, (budget, part.plain[:80])
            fingerprint.update(repr((part.indexes, part.html, part.plain, part.console)).encode())
    assert fingerprint.hexdigest() == BEFORE
