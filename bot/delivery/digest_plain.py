"""A digest as plain text that keeps its links, for when Telegram refuses its HTML or its length.

A digest's plain text (`DigestPart.plain`) has titles only, its links being in the HTML; its
console form (`DigestPart.console`) writes each entry's address on the line under it. That form
is what goes out as plain text, and when it is too long, whole entries are left out from its end
(and a source left without entries with them) and "+N more" says how many: every address sent
is its own entry's, none is cut. The relay sends those left out in a next message.
"""

from __future__ import annotations

from bot.delivery.render import shorten, utf16_len

_ENTRY = "• "  # how digest.py opens an entry's line; the lines under it (its address) are its own


def fit_digest(console: str, budget: int, *, more: str = "more") -> tuple[str, int | None]:
    """Return a digest's console text within `budget` UTF-16 units, whole entries left out from
    its end, and how many entries it keeps (None: all of them)."""
    if utf16_len(console) <= budget:
        return console, None
    head, *blocks = console.split("\n\n")
    groups = [_entries(block) for block in blocks]
    total = sum(len(entries) for _, entries in groups)
    keep = total - 1
    while keep > 0 and utf16_len(_joined(head, groups, keep, f"+{total - keep} {more}")) > budget:
        keep -= 1
    if keep < 1:  # not one entry fits (or none is there): the text cut short, as any other
        return shorten(console, budget), None
    return _joined(head, groups, keep, f"+{total - keep} {more}"), keep


def _entries(block: str) -> tuple[str, list[str]]:
    """Split a source's block into its name line ("" without one) and its entries (with their
    address lines)."""
    name, entries = "", []
    for line in block.split("\n"):
        if line.startswith(_ENTRY):
            entries.append(line)
        elif entries:
            entries[-1] += "\n" + line
        else:
            name = line
    return name, entries


def _joined(head: str, groups: list[tuple[str, list[str]]], keep: int, tail: str) -> str:
    """Join the heading, the first `keep` entries under their sources' names, and `tail`."""
    blocks = [head]
    for name, entries in groups:
        kept, keep = entries[:keep], keep - len(entries[:keep])
        if kept:
            blocks.append("\n".join([name, *kept] if name else kept))
    return "\n\n".join([*blocks, tail])
