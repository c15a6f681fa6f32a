"""What every command module shares: exit codes, errors, argument types, a command record, tables.

CommandError     a command cannot do what was asked (exit 1)
  UsageError     what was asked makes no sense, e.g. a search without words (exit 2)
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import signal
import sys
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from scrapers import Source

from bot.config.checks import LANGUAGE_TAG
from bot.config.fields import listen_address
from scrapers.language import primary_code

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
# `run` cannot start here as configured (`[service] http` taken, an SQLite archive it cannot
# open): restarting cannot fix it, so the systemd unit does not (RestartPreventExitStatus).
EXIT_SETUP = 3
_INVALID_CHOICE = re.compile(
    r"invalid choice: '(?P<given>[^']*)' (?P<list>\(choose from (?P<all>.*)\))$"
)
EXIT_PIPE = 128 + signal.SIGPIPE  # what a shell reports for a writer killed by SIGPIPE
# Dates a press archive may hold; beyond them a date is a typo (and 9999-12-31 + 1 day overflows).
FIRST_DAY, LAST_DAY = datetime(1900, 1, 1, tzinfo=UTC), datetime(2199, 12, 31, tzinfo=UTC)


class CommandError(Exception):
    """A command cannot do what was asked; the message is shown as is."""


class UsageError(CommandError):
    """The command line asks for something that makes no sense; exit 2 like argparse."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line ending in a pointer to --help."""

    def error(self, message: str) -> NoReturn:
        """Print the problem on one line and exit 2."""
        message = _closest_choice(message)
        self.exit(EXIT_CONFIG, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _closest_choice(message: str) -> str:
    """Put the closest choice in place of argparse's list of all when one is near (a typo)."""
    wrong = _INVALID_CHOICE.search(message)
    if not wrong:
        return message
    close = difflib.get_close_matches(wrong["given"], re.findall(r"'([^']*)'", wrong["all"]), n=1)
    return message[: wrong.start("list")] + f"(did you mean {close[0]!r}?)" if close else message


def one_line(error: BaseException) -> str:
    """Return an error's text on one line (libpq's hints come on lines of their own)."""
    # A journal shows a second line of stderr without the unit's prefix, as if it were another.
    return "; ".join(part.strip() for part in str(error).splitlines() if part.strip())


def reader_gone() -> int:
    """End quietly when standard output's reader closed it, as `head` does (the Unix way)."""
    # Output still buffered would fail again when Python flushes it at exit: send it nowhere.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_PIPE


def package_version() -> str:
    """Return the installed package's version."""
    # importlib.metadata (and the email package it reads metadata with) is ~30 ms to import:
    # only --version needs it, so it loads then, not for every command (see ShowVersion).
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("presswatch")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


class ShowVersion(argparse.Action):
    """--version: print the program's name and version, and exit (argparse's, read when asked)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs) -> None:
        kwargs.setdefault("help", "show program's version number and exit")
        super().__init__(option_strings, dest=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> NoReturn:
        print(f"{parser.prog} {package_version()}")  # to standard output, as argparse's own
        parser.exit()


def whole(low: int, high: int) -> Callable[[str], int]:
    """Return an argparse type for a whole number from `low` to `high`."""

    def parse(text: str) -> int:
        text = text.strip()
        if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(
                f"expected a whole number from {low} to {high:,}, got {text!r}"
            )
        return int(text)

    return parse


def address(*, any_port: bool) -> Callable[[str], tuple[str, int]]:
    """Return an argparse type for HOST:PORT of /healthz and /metrics; with `any_port`, port 0
    (the system picks a free one) too."""

    def parse(text: str) -> tuple[str, int]:
        try:
            return listen_address(text.strip(), any_port=any_port)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def day(text: str) -> datetime:
    """Parse YYYY-MM-DD as midnight UTC, within the years an archive may hold (argparse type)."""
    try:
        moment = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None
    if not FIRST_DAY <= moment <= LAST_DAY:
        raise argparse.ArgumentTypeError(
            f"expected a date from {FIRST_DAY:%Y-%m-%d} to {LAST_DAY:%Y-%m-%d}, got {text!r}"
        )
    return moment


def file_name(text: str) -> Path:
    """Parse a file to write (argparse type): refuse, before any work, what names no file."""
    path = Path(text)
    folder = text.endswith(("/", os.sep)) or path.name in (".", "..") or path.is_dir()
    if not text.strip() or folder:
        shown = f"{text!r} (a folder)" if text.strip() else repr(text)
        raise argparse.ArgumentTypeError(f"expected a file name, got {shown}")
    return path


def named(what: str) -> Callable[[str], str]:
    """Return an argparse type for a filter's value: a blank one (`--source "$KEY"` with KEY
    unset) would filter nothing, silently."""

    def parse(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return text.strip()

    return parse


def language(text: str) -> str:
    """Parse --lang as articles keep their language: the code alone, lower case."""
    # A language's name ('english') is refused: as a filter it matched no article, silently.
    if not LANGUAGE_TAG.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(f"expected a language code (en, ru, …), got {text!r}")
    return primary_code(text)


def local_days(midnight: datetime, sources: Iterable[Source]) -> dict[str, datetime]:
    """Return a day's start (given as midnight UTC) in each source's own zone, key -> moment ("":
    UTC, for sources the config no longer has): a day-only date is its source's local midnight."""
    day = midnight.replace(tzinfo=None)
    return {"": midnight} | {
        s.key: day.replace(tzinfo=ZoneInfo(s.timezone)).astimezone(UTC) for s in sources
    }


@dataclass(frozen=True, slots=True)
class Command:
    """One subcommand: its name, a one-line summary, an example, its arguments and its handler."""

    name: str
    summary: str
    example: str
    handler: Callable[[argparse.Namespace], int]
    add_arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None


def later(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """Return a handler that imports `module` when the command runs, then calls its `name`.

    A command whose work needs the composition root (HTTP, Telegram, the parsing sandbox: most
    of a second to import) keeps its arguments and summary light, for --help and the others.
    """

    def handler(args: argparse.Namespace) -> int:
        return getattr(import_module(module), name)(args)

    return handler


def table(rows: list[tuple[str, ...]]) -> str:
    """Return rows as aligned columns (the last column is not padded)."""
    widths = column_widths(rows)[:-1]
    return "\n".join(
        "  ".join([*(c + " " * (w - columns(c)) for c, w in zip(r, widths)), r[-1]]).rstrip()
        for r in rows
    )


def columns(text: str) -> int:
    """Return the terminal columns text takes: a Chinese or Japanese letter two, a combining
    accent none, any other one."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def clip(text: str, width: int) -> str:
    """Return text cut to `width` terminal columns with an ellipsis."""
    return text if columns(text) <= width else within(text, width - 1).rstrip() + "…"


def within(text: str, width: int) -> str:
    """Return the longest start of text that takes at most `width` terminal columns."""
    taken = 0
    for i, c in enumerate(text):
        taken += columns(c)
        if taken > width:
            return text[:i]
    return text


# UTF-8's byte-order mark: Excel opens a CSV as UTF-8 only when it starts with one (else as the
# system's code page: Cyrillic comes out garbled); other readers skip it (Python's utf-8-sig).
BOM = "\ufeff"


def bom_flag(sub: argparse.ArgumentParser, *, example: str) -> None:
    """Add --bom, which `csv_bom` reads; `example` is a command line that uses it."""
    sub.add_argument(
        "--bom",
        action="store_true",
        help=f"start the CSV with a UTF-8 byte-order mark, so Excel shows Cyrillic right: {example}",
    )


def csv_bom(command: str, args: argparse.Namespace) -> str:
    """Return the byte-order mark --bom asks for, or ""; refuse it for a format other than CSV."""
    if args.bom and args.format != "csv":
        raise UsageError(f"{command}: --bom is for --format csv (other formats take no mark)")
    return BOM if args.bom else ""


def cannot_write(why: str, *, outcome: str) -> str:
    """Return the line saying why the SQLite archive cannot be written, what comes of it, and
    where to point it instead (`check` foresees it, `run` meets it)."""
    return (
        f"presswatch: {why}; {outcome}: point storage.path at a folder this user can write "
        "(systemd: /var/lib/presswatch)"
    )


def terminal_width(out: TextIO) -> int | None:
    """Return the width a table should fit: $COLUMNS or the terminal's; None for a pipe or a
    file without $COLUMNS, which get whole rows (for grep, cut and awk)."""
    # shutil reads $COLUMNS only when it is a positive number: anything else is no width at all.
    columns = os.environ.get("COLUMNS", "").strip()
    if not (columns.isdigit() and int(columns) > 0) and not out.isatty():
        return None
    return shutil.get_terminal_size().columns


def column_widths(rows: list[tuple[str, ...]]) -> list[int]:
    """Return the terminal columns each column of rows takes at its widest."""
    return [max(columns(row[i]) for row in rows) for i in range(len(rows[0]))]


def widths_within(widths: list[int], width: int, *, cut: Iterable[int], least: int) -> list[int]:
    """Return column widths whose row, two spaces between columns, fits a `width` terminal: the
    `cut` columns narrowed (fit_widths), but never below `least` columns together."""
    cut = set(cut)
    kept = sum(w for i, w in enumerate(widths) if i not in cut)
    return fit_widths(widths, max(width - 2 * (len(widths) - 1), kept + least), cut=cut)


def fit_widths(widths: list[int], room: int, *, cut: Iterable[int]) -> list[int]:
    """Return column widths that add up to at most `room`: the `cut` columns are narrowed to
    one cap (the narrow ones among them kept whole), the others kept as they are."""
    cut = set(cut)
    space = room - sum(w for i, w in enumerate(widths) if i not in cut)
    narrow = sorted(widths[i] for i in cut)
    cap = max(narrow, default=0)
    for n, width in enumerate(narrow):
        # What the columns narrower than this one leave, shared by it and the wider ones.
        share = (space - sum(narrow[:n])) // (len(narrow) - n)
        if share < width:
            cap = max(share, 1)
            break
    return [min(w, cap) if i in cut else w for i, w in enumerate(widths)]


def published_utc(published: datetime | None, *, now: datetime) -> str:
    """Return a publication time in UTC, or say that the page gave none."""
    # read_article falls back to the poll's clock when a page has no date at all.
    if published is None or published == now:
        return "no date found (would be stored as the time of the poll)"
    return f"{published.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def query_text(parts: Iterable[str]) -> str:
    """Join a search's argv into its query. An argument that starts with a minus and holds a
    space is a -"phrase" whose quotes the shell ate (`-"collective security"` typed bare arrives
    as `-collective security`): it is quoted again, so it leaves out the phrase, not one word."""
    return " ".join(f'-"{p[1:]}"' if _BARE_PHRASE.fullmatch(p) else p for p in parts)


_BARE_PHRASE = re.compile(r'-[^\s"][^"]*\s[^"]*')  # -word and more, no quote of its own
