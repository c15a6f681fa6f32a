"""The archive's SQL as PostgreSQL takes it: `?` placeholders become psycopg's `%s`.

The keepers (outbox, sources, alerts…) write their SQL once, with SQLite's `?` placeholders; on
PostgreSQL each statement is rewritten once (and cached): `?` outside quotes becomes `%s`, and a
literal `%` is doubled, since psycopg reads `%` as the start of a placeholder. Pure.
"""

from __future__ import annotations

import functools
import re

# A quoted string or identifier (kept as is, with `%` doubled), or one character to translate.
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|[?%]")


@functools.lru_cache(maxsize=2048)
def pyformat(sql: str) -> str:
    """Return SQL with `?` placeholders as psycopg's `%s` and every literal `%` doubled."""
    return _TOKEN.sub(_translate, sql)


def _translate(found: re.Match[str]) -> str:
    """Translate one token: a placeholder, a percent sign, or a quoted text holding them."""
    token = found.group(0)
    if token == "?":
        return "%s"
    return token.replace("%", "%%")
