"""Checks of single config values: each returns True or raises ValueError with the reason.

A regex is compiled by `re` (which the scrapers apply), vetted by the check the topic rules get
(bot/text/patterns.py: no nested quantifiers), and then tried on a few repetitive strings under
the `regex` module's timeout, which catches the backtracking shapes the vetting cannot see, such
as overlapping alternatives `(a|aa)+$`. URLs must parse the way the fetcher will parse them, and
the archive may not be a device, a directory or a file of a kernel pseudo-filesystem. The config
file and a template file are read only when they are regular files (the config of a one-shot
command may be a pipe, read once), and only so far.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.secrets import token_flaw
from bot.text.patterns import compile_regex

_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_CHAT_ID = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}|-?\d{1,16}")
DATABASE_PASSWORD_ENV = "PRESSWATCH_DATABASE_PASSWORD"
_MAX_URL = 2048
_MAX_HEADER = 512  # a User-Agent is a product and a contact; servers refuse headers of 8 KiB
# A source's language as sites write it (`en`, `pt-BR`); articles keep its first part, lower-case.
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")
_MAX_ID = 2**53  # Telegram's ids fit in 52 bits
# A regex may spend this long on a 49-character probe at load time; a sane one needs microseconds.
_PROBE_SECONDS = 0.2
_PROBE_LENGTH = 48
_PROBE_CHARS = "a1 /-._:?=&%#"
_PSEUDO_FILESYSTEMS = ("proc", "sys", "dev")
# The names /etc/hosts gives the loopback addresses on common systems (RFC 6761: *.localhost).
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_SQLITE_HEADER = b"SQLite format 3\x00"
# What a file given as `<(…)` is: load_config adds why `run` refuses one.
PIPE = "a pipe"
_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFIFO: PIPE,
    stat.S_IFSOCK: "a socket",
}
# Selectors of type, class, id, attribute and combinators only, written in ASCII: every one is
# valid CSS, so a config of such selectors is accepted without soupsieve, whose parser costs
# ~100 ms to import; any other selector, right or wrong, goes to soupsieve for the verdict.
_IDENT = r"-?[_a-zA-Z][-_a-zA-Z0-9]*"
_ATTR = rf"""\[ *{_IDENT} *(?:[~|^$*]?= *(?:{_IDENT}|"[^"\\\x00-\x1f\x7f]*"|'[^'\\\x00-\x1f\x7f]*') *)?\]"""
_COMPOUND = rf"(?:{_IDENT}|\*)(?:[.#]{_IDENT}|{_ATTR})*|(?:[.#]{_IDENT}|{_ATTR})+"
_COMPLEX = rf"(?:{_COMPOUND})(?: *[>+~] *(?:{_COMPOUND})| +(?:{_COMPOUND}))*"
_PLAIN_CSS = re.compile(rf" *{_COMPLEX} *(?:, *{_COMPLEX} *)*")


def key_name(value: str) -> bool:
    """Accept a short key of lower-case letters, digits, '-' and '_' (sources, channels)."""
    if not _KEY.fullmatch(value):
        raise ValueError(
            f"expected lower-case letters, digits, '-' or '_' (at most 64), got {value!r}"
        )
    return True


def web_url(value: str) -> bool:
    """Accept an http(s) URL with a host, a valid port and no spaces, as the fetcher reads it."""
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    if len(value) > _MAX_URL or any(c.isspace() or ord(c) < 32 or c == "\x7f" for c in value):
        raise ValueError(f"a URL has no spaces or control characters and at most {_MAX_URL}")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
        host = parts.hostname or ""
        if host and "[" not in parts.netloc:
            host.encode("idna")
    except (ValueError, UnicodeError) as exc:
        raise ValueError(f"not a valid URL ({exc}): {value!r}") from exc
    if not host:
        raise ValueError(f"the URL has no host: {value!r}")
    return True


def is_loopback_host(host: str) -> bool:
    """Tell whether a host (a name, or an address without brackets) is this machine's loopback."""
    host = host.lower()
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def user_agent(value: str) -> bool:
    """Accept a User-Agent: printable ASCII or tabs on one line, trimmed, at most 512."""
    # A CR, LF or other control character is refused by the HTTP client on every request, which
    # then reads as the site's failure ("connection failed"), never as the config's; non-ASCII
    # cannot be encoded at all.
    if not value.strip():
        raise ValueError(
            f"expected a name and a contact such as 'presswatch/0.1 (+https://example.org/contact)', "
            f"got {value!r}"
        )
    if not all(" " <= c <= "~" or c == "\t" for c in value):  # RFC 9110 allows a tab
        raise ValueError(
            "expected printable ASCII on one line, as an HTTP header holds (no line breaks, "
            f"control or non-ASCII characters), got {value[:80]!r}"
        )
    if value != value.strip(" \t"):  # h11 refuses a header value with a space or tab at either end
        raise ValueError(f"expected no space or tab at either end, got {value[:80]!r}")
    if len(value) > _MAX_HEADER:
        raise ValueError(f"expected at most {_MAX_HEADER} characters, got {len(value):,}")
    return True


def url_template(value: str) -> bool:
    """Accept a URL template containing {page} after its host."""
    if "{page}" not in value:
        raise ValueError(f"expected a URL template containing {{page}}, got {value!r}")
    web_url(value.replace("{page}", "2"))
    if (
        urlsplit(value.replace("{page}", "3")).netloc
        != urlsplit(value.replace("{page}", "2")).netloc
    ):
        # "http://{page}" passes as host "2": every page of the backfill a different site.
        raise ValueError(
            "expected {page} in the path or query after the site's host, such as "
            f"'https://example.org/news?page={{page}}', got {value!r}"
        )
    return True


def pattern(value: str, *, allow_empty: bool = False) -> bool:
    """Accept a regex that compiles, has no nested quantifiers and matches repetitive text fast."""
    try:
        re.compile(value)
    except (re.error, OverflowError, RecursionError) as exc:
        raise ValueError(f"not a valid regular expression ({exc})") from exc
    try:
        compiled = compile_regex(value, allow_empty=allow_empty)
    except (IndexError, RecursionError) as exc:  # the vetting could not read it: refuse
        raise ValueError(f"cannot vet this regular expression ({exc!r}); simplify it") from exc
    chars = dict.fromkeys(c for c in value + _PROBE_CHARS if c.isalnum() or c in _PROBE_CHARS)
    for char in list(chars)[:32]:
        try:
            compiled.search(char * _PROBE_LENGTH + "\x00", timeout=_PROBE_SECONDS)
        except TimeoutError as exc:
            raise ValueError(
                f"matching {_PROBE_LENGTH} {char!r}s took over {_PROBE_SECONDS}s: it backtracks "
                "catastrophically (overlapping alternatives or repeats); simplify it"
            ) from exc
    return True


def flexible_pattern(value: str) -> bool:
    """Accept a regex as `pattern` does, even one that can match an empty string."""
    return pattern(value, allow_empty=True)


def rewrite(pair: object) -> bool:
    """Accept ["regex", "replacement"] whose replacement names only groups the regex has."""
    if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
        raise ValueError(f'expected ["regex", "replacement"], got {pair!r}')
    find, replacement = pair
    flexible_pattern(find)
    try:
        # The empty alternative matches "" whatever `find` is, so the template is expanded once.
        re.sub(find + "|", replacement, "", count=1)
    except (re.error, IndexError) as exc:
        raise ValueError(f"replacement {replacement!r}: {exc}") from exc
    return True


def keyword(value: str) -> bool:
    """Accept a channel keyword: it must hold a word, or it would match every article."""
    if not re.search(r"\w", value):
        raise ValueError(f"expected a word or phrase, got {value!r} (it would match everything)")
    return True


def chat_id(value: str | int) -> bool:
    """Accept '@channelname' or a numeric chat id."""
    if isinstance(value, int):
        if value == 0 or abs(value) >= _MAX_ID:
            raise ValueError(f"not a Telegram chat id: {value!r}")
        return True
    if not _CHAT_ID.fullmatch(value):
        raise ValueError(f"expected '@channelname' or a numeric id, got {value!r}")
    return True


def bot_token(value: str) -> bool:
    """Accept a bot token shaped as BotFather gives it; a refusal says why, never what it is."""
    # It goes into the URL of every call: a quote, a space or a '/' would ask something else.
    if flaw := token_flaw(value):
        raise ValueError(f"not a bot token as BotFather gives it: {flaw} (the token is not shown)")
    return True


def database_url(value: str, *, given_in: str = "in the config file") -> bool:
    """Accept a password-free postgresql://user@host:port/database URL (libpq's URI form);
    `given_in` says where it was written, for the refusal of a password."""
    parts = urlsplit(value)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError("expected a PostgreSQL URL: postgresql://user@host:port/database")
    if parts.password is not None or "password=" in parts.query:
        raise ValueError(
            f"never put the database password {given_in}: set {DATABASE_PASSWORD_ENV} "
            "or use a ~/.pgpass file"
        )
    # libpq takes several hosts, `h1:5432,h2:5433`, and refuses a bad port only when it connects.
    for host in parts.netloc.rpartition("@")[2].split(","):
        if not _port_ok(host):
            raise ValueError(f"expected a port from 1 to 65535, got {parts.netloc!r}")
    if not parts.path.strip("/") and "dbname=" not in parts.query:
        raise ValueError("name the database: postgresql://user@host:port/DATABASE")
    return True


def _port_ok(host: str) -> bool:
    """Tell whether one host of a PostgreSQL URL has no port or a port from 1 to 65535."""
    try:
        port = urlsplit(f"//{host}").port  # ValueError for a port out of range, or not a number
    except ValueError:
        return False
    return port != 0


def language_tag(value: str) -> bool:
    """Accept a language tag such as 'en', 'ru' or 'pt-BR' (a source's language)."""
    if not LANGUAGE_TAG.fullmatch(value):
        raise ValueError(f"expected a language code such as 'en', 'ru' or 'pt-BR', got {value!r}")
    return True


def language_code(value: str) -> bool:
    """Accept a language as articles carry it: 'en', 'ru' (a channel's filter)."""
    if not _LANGUAGE_CODE.fullmatch(value):
        # An article's language is the tag's first part in lower case: 'en-US' would match none.
        close = value.replace("_", "-").split("-")[0].lower()
        hint = f" (did you mean {close!r}?)" if _LANGUAGE_CODE.fullmatch(close) else ""
        raise ValueError(
            f"expected a two- or three-letter language code such as 'en' or 'ru', got {value!r}"
            + hint
        )
    return True


def css(value: str) -> bool:
    """Accept a valid CSS selector."""
    if _PLAIN_CSS.fullmatch(value):
        return True
    import soupsieve  # noqa: PLC0415 - see _PLAIN_CSS

    try:
        soupsieve.compile(value)
    except soupsieve.SelectorSyntaxError as exc:
        raise ValueError(f"not a valid CSS selector ({str(exc).splitlines()[0]})") from exc
    return True


def zone(value: str) -> bool:
    """Accept a known IANA time zone name."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name such as Europe/Moscow)"
        ) from exc
    return True


def archive(path: Path, *, in_use: Path | None = None) -> bool:
    """Accept a path where an SQLite archive is, or can be created (`in_use`: this process's own,
    open archive, which is never opened again here)."""
    if "\x00" in str(path) or len(str(path)) > 4000:
        raise ValueError("not a usable path (a NUL character, or too long)")
    try:
        resolved = path.resolve()
        if resolved.parts[1:2] and resolved.parts[1] in _PSEUDO_FILESYSTEMS:
            raise ValueError(
                f"{path} is on a kernel pseudo-filesystem (/{resolved.parts[1]}), "
                "not a place for an archive"
            )
        if in_use is not None and _same_file(resolved, in_use):
            # A reload's check of the running archive: closing any descriptor of the file drops
            # every POSIX lock this process holds on it, SQLite's too, and the next sqlite3 to
            # close elsewhere then deletes the live -wal and -shm under the service.
            return True
        if resolved.exists():
            return _existing_archive(resolved)
        parent = next(p for p in resolved.parents if p.exists())
    except OSError as exc:
        raise ValueError(f"cannot use {path} ({exc.strerror or exc})") from exc
    if not parent.is_dir():
        raise ValueError(f"{parent} is not a directory")
    return True


def _same_file(path: Path, other: Path) -> bool:
    """Tell whether two paths name one existing file (compared by stat, never opened)."""
    try:
        return path.samefile(other)
    except OSError:
        return False


def _existing_archive(path: Path) -> bool:
    """Accept an existing regular file that is empty or an SQLite database."""
    if not path.is_file():
        raise ValueError(f"{path} exists and is not a regular file")
    with path.open("rb") as file:
        head = file.read(len(_SQLITE_HEADER))
    if head and head != _SQLITE_HEADER:
        raise ValueError(f"{path} exists and is not an SQLite database")
    return True


def read_text_file(path: Path, most: int, *, pipe: bool = False) -> str:
    """Return the UTF-8 text of a regular file (or, with `pipe`, a pipe) of at most `most` bytes;
    raise FileNotFoundError, or ValueError saying what it is instead."""
    try:
        raw = regular_file_head(path, most + 1, pipe=pipe)
    except FileNotFoundError:
        raise  # each caller says where a missing one is looked for
    except OSError as exc:
        raise ValueError(f"{path}: cannot read it ({exc.strerror or exc})") from exc
    if isinstance(raw, str):  # never read: /dev/zero would be read for ever
        raise ValueError(f"{path} is {raw}")
    if not raw and not path.is_file():  # a pipe nobody writes to, or one read already
        raise ValueError(f"{path}: a pipe that gave nothing")
    if len(raw) > most:
        size = f"{most // 2**20} MiB" if most >= 2**20 else f"{most // 1024} KiB"
        raise ValueError(f"{path}: over {size}")
    try:
        # An editor's byte-order mark: no content, so nothing is lost.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def regular_file_head(path: Path, size: int, *, pipe: bool = False) -> bytes | str:
    """Return up to `size` bytes of a regular file (or, with `pipe`, of a pipe such as
    `<(cat x)` or /dev/stdin), or what else it is ("a folder", "a device")."""
    # Looked at before it is opened (opening some devices does something), and again on the
    # descriptor, opened without blocking: a FIFO's open waits for a writer, /dev/zero never ends.
    if (kind := _not_regular(os.stat(path).st_mode, pipe)) and kind != "pipe":
        return kind
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as file:
        if (kind := _not_regular(os.fstat(fd).st_mode, pipe)) == "pipe":
            # Open now, so a read waits for the writer's text, and ends at once if none has it open.
            os.set_blocking(fd, True)
        return file.read(size) if kind in ("", "pipe") else kind


def _not_regular(mode: int, pipe: bool = False) -> str:
    """Say what a file that is not a regular one is ("": a regular file; "pipe": a pipe allowed)."""
    if stat.S_ISREG(mode) or (pipe and stat.S_ISFIFO(mode)):
        return "" if stat.S_ISREG(mode) else "pipe"
    return _KINDS.get(stat.S_IFMT(mode), "no regular file")


def filled(what: str):
    """Return a check that refuses a blank string, saying what is expected instead."""

    def check(value: str) -> bool:
        if not value.strip():
            raise ValueError(f"expected {what}, got {value!r}")
        return True

    return check
