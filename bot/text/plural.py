"""Counts with their nouns in the right number: English "1 article, 2 articles", Russian forms."""

from __future__ import annotations


def counted(n: int, noun: str) -> str:
    """Return "1 article", "2,345 articles": a count with its noun in the right number."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def ru_form(n: int, one: str, few: str, many: str) -> str:
    """Return the Russian noun form for a count: 1 статья, 2 статьи, 5 статей, 21 статья."""
    if n % 10 == 1 and n % 100 != 11:
        return one
    return few if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else many


def ru_counted(n: int, one: str, few: str, many: str) -> str:
    """Return "1 статья", "2 345 статей": a count, digits grouped as Russian writes them, and
    its noun in the right form."""
    # A no-break space groups the digits, so a line break never splits a number.
    return f"{n:,}".replace(",", "\u00a0") + " " + ru_form(n, one, few, many)
