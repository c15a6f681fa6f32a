"""Redact secrets (the bot token) from any text before it is logged, stored, shown or sent.

One function, `redact`, serves every boundary: the log formatter, Telegram's error texts as the
sender maps them, the archive's error columns and alerts (storage receives it as `scrub`), the
`outbox` command and `/healthz`. A secret is found however an error text has bent it:
python-telegram-bot lower-cases API descriptions, a proxy echoes the request path with ':'
URL-encoded (once or twice, either case) or an HTML page quotes it as an entity.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache, partial

REDACTED = "[redacted]"
# Characters that URL encoding leaves alone; every other one may also arrive as %XX or %25XX.
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]")
# A Telegram token: the bot's numeric id, a colon, and the secret half.
_TOKEN = re.compile(r"(\d+):([A-Za-z0-9_-]+)")
# The secret half alone is redacted too (whatever spells the colon) once it is this long: real
# ones have 35 characters, so a short test token cannot blank out ordinary words.
_SECRET_HALF_MIN = 8

Scrub = Callable[[str], str]


def redact(text: str, *, secrets: Iterable[str]) -> str:
    """Return `text` with every spelling of every secret replaced by '[redacted]'."""
    pattern = _pattern(tuple(sorted({s.strip() for s in secrets} - {""})))
    return pattern.sub(REDACTED, text) if pattern is not None and text else text


def scrubber(*secrets: str) -> Scrub:
    """Return `redact` bound to these secrets, for collaborators that take a `scrub` callable."""
    return partial(redact, secrets=secrets)


@lru_cache(maxsize=16)
def _pattern(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    """Compile one case-insensitive pattern for every spelling of the secrets, longest first."""
    forms = []
    for secret in secrets:
        token = _TOKEN.fullmatch(secret)
        forms.append("".join(map(_spellings, secret)))
        if token and len(token.group(2)) >= _SECRET_HALF_MIN:
            forms.append(re.escape(token.group(2)))
    if not forms:
        return None
    forms.sort(key=len, reverse=True)
    return re.compile("|".join(f"(?:{form})" for form in forms), re.IGNORECASE)


def _spellings(char: str) -> str:
    """Return a regex for one character of a secret as plain text, a URL or HTML may write it."""
    if _UNRESERVED.fullmatch(char):
        return re.escape(char)
    code = ord(char)
    if code > 0x7F:
        return re.escape(char)
    plus = "|\\+" if char == " " else ""  # a form body writes a space as '+'
    return (
        f"(?:{re.escape(char)}|%(?:25)?{code:02x}|&#0*{code};|&#x0*{code:x};"
        f"|\\\\u00{code:02x}|\\\\x{code:02x}{plus})"
    )


# The secret part of the token in deploy/presswatch.env.example: shaped as a token, and no bot's.
PLACEHOLDER = "replace-with-the-token-from-BotFather"


def token_flaw(token: str) -> str:
    """Return what makes `token` unlike any token BotFather gives, or "" when it could be one."""
    if shaped := _TOKEN.fullmatch(token):
        # Only `once` would find it out, by asking Telegram; `check` and `run` would take it.
        if shaped.group(2).lower() == PLACEHOLDER.lower():
            return (
                "it is the placeholder of deploy/presswatch.env.example; put the token "
                "BotFather gave your bot"
            )
        return ""
    if len(token) > 1 and token[0] in "'\"" and token[-1] == token[0]:
        # docker's --env-file and some compose versions pass an env file's quotes on as they are.
        return "it is wrapped in quotes, which an env file may pass on as part of the value"
    if token.lower().startswith("bot") and _TOKEN.fullmatch(token[3:]):
        return "it starts with 'bot', which belongs to the API's address, not to the token"
    if any(c.isspace() for c in token):
        return "it holds a space or a line break"
    return "it is not shaped as BotFather gives one: digits, ':', then letters, digits, - and _"
