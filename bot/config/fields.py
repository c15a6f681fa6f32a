"""Reading TOML tables: typed getters that gather every problem, so that all are reported at once.

A getter returns ABSENT for a key the file leaves out, or whose value is wrong (the problem is
recorded under the key's path), so the dataclass a section becomes keeps its own default: every
default is written once, on the dataclass field. A section whose table has a problem is not
built; the loader raises one ConfigError listing every problem, one line each.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.IGNORECASE)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_ITEM_NAMES = {str: "strings", int: "numbers", list: "lists"}
# A type as the TOML file's author knows it (never Python's "int" or "str").
_KIND_NAMES = {
    str: "a string",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "a table",
}
_QUIET_HOURS = re.compile(r"\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)\s*")
YEAR = 366 * 86400  # the longest any duration may be unless a key says less
# Five or six fields of digits, '*', ',', '-' and '/': a cron line written where an interval goes.
_CRON = re.compile(r"\s*[\d*/,-]+(?:\s+[\d*/,A-Za-z-]+){4,5}\s*")
_AT_LINE = re.compile(r"\(at line (\d+), column \d+\)$")
_KEY_LINE = re.compile(
    r"\s*((?:[A-Za-z0-9_-]+|\"[^\"\n]*\"|'[^'\n]*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"\n]*\"|'[^'\n]*'))*)\s*="
)
_HEADER = re.compile(r"\s*(\[\[?)\s*([^\]#]*)")


def shown(value: Any) -> str:
    """Return a value as the TOML file writes it (`true`, not Python's `True`), for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table {…}"
    return repr(value)


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid; each line names one key."""

    def __init__(self, *problems: str) -> None:
        # One line, as a log line must be (a journal shows a second line without its prefix).
        super().__init__("; ".join(problems))
        self.problems = problems


class _Absent:
    """The value of a key the file leaves out (the dataclass default applies)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


def present(**values: Any) -> dict[str, Any]:
    """Return the keyword arguments the file gave, so that absent ones keep their defaults."""
    return {name: value for name, value in values.items() if value is not ABSENT}


@dataclass(frozen=True, slots=True)
class _Problem:
    where: str
    message: str
    missing: bool  # a required key left out: an unknown key may be its misspelling


class Problems:
    """Every problem found in one config file, in the order they were found."""

    def __init__(self) -> None:
        self._found: list[_Problem] = []
        self._names: dict[str, str] = {}  # an entry's path -> the key it gives
        self.warnings: list[str] = []  # what loads but will not do as written, one line each

    def name(self, path: str, item: Any) -> None:
        """Remember the key an array's entry gives (sources[2] is tass-ru) to name it by."""
        key = item.get("key") if isinstance(item, dict) else None
        if isinstance(key, str) and key:
            self._names[path] = key

    def shown(self, where: str) -> str:
        """Return a path as messages give it: an entry's key beside its index, which an operator
        would have to count to (`sources[2] (tass-ru).every`)."""
        for path, key in self._names.items():
            if where == path or where.startswith((path + ".", path + "[")):
                return f"{path} ({key}){where[len(path) :]}"
        return where

    def add(self, where: str, message: str, *, missing: bool = False) -> None:
        """Record a problem with the key at `where`."""
        self._found.append(_Problem(where or "(top level)", message, missing))

    def warn(self, where: str, message: str) -> None:
        """Record a warning about the key at `where`: the config still loads."""
        self.warnings.append(f"{self.shown(where)}: {message}")

    def under(self, path: str) -> bool:
        """Tell whether any problem concerns `path` or a key inside it."""
        return any(
            not path or p.where == path or p.where.startswith((path + ".", path + "["))
            for p in self._found
        )

    def forgive_missing(self, where: str) -> None:
        """Drop "missing" problems of a key an unknown key was probably meant to be."""
        self._found = [p for p in self._found if not (p.missing and p.where == where)]

    def raise_any(self) -> None:
        """Raise one ConfigError with every problem, one line each."""
        if self._found:
            raise ConfigError(*(f"{self.shown(p.where)}: {p.message}" for p in self._found))


class Table:
    """A TOML table being read: typed getters, and a problem for every key nobody asked for."""

    def __init__(self, data: Any, path: str, problems: Problems) -> None:
        self.path, self.problems = path, problems
        self.known: set[str] = set()
        if not isinstance(data, dict):
            problems.add(path, f"expected a table, got {shown(data)}")
            data = {}
        self.data = dict(data)

    @classmethod
    def root(cls, data: dict) -> Table:
        """Return the top-level table of a file, with a fresh list of problems."""
        return cls(data, "", Problems())

    @property
    def ok(self) -> bool:
        """Tell whether no problem was found in this table or inside it."""
        return not self.problems.under(self.path)

    def where(self, key: str) -> str:
        """Return the key's path for messages, e.g. `sources[2].link_pattern`."""
        return f"{self.path}.{key}" if self.path else key

    def report(self, key: str, message: str, *, missing: bool = False) -> None:
        """Record a problem with one key."""
        self.problems.add(self.where(key), message, missing=missing)

    def warn(self, key: str, message: str) -> None:
        """Record a warning about one key."""
        self.problems.warn(self.where(key), message)

    def error(self, key: str, message: str) -> ConfigError:
        """Return an error about one key, to raise when reading cannot go on (else use report)."""
        return ConfigError(f"{self.problems.shown(self.where(key))}: {message}")

    def take(self, key: str) -> Any:
        """Pop a key's raw value (ABSENT when left out); the key counts as known."""
        self.known.add(key)
        return self.data.pop(key, ABSENT)

    def get(self, key: str, kind, *, check=None, items: type = str) -> Any:
        """Pop and type-check one key, ABSENT when left out or wrong; `check` may raise ValueError."""
        value = self.take(key)
        if value is ABSENT:
            return ABSENT
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join(_KIND_NAMES.get(k, k.__name__) for k in kinds)
            return self._wrong(key, f"expected {names}, got {shown(value)}")
        if kind is list and not all(
            isinstance(v, items) and not isinstance(v, bool) for v in value
        ):
            return self._wrong(key, f"expected a list of {_ITEM_NAMES.get(items, items.__name__)}")
        try:
            ok = check(value) if check else True
        except ValueError as exc:
            return self._wrong(key, str(exc))
        return value if ok else self._wrong(key, f"invalid value {shown(value)}")

    def _wrong(self, key: str, message: str) -> Any:
        """Record a problem and return ABSENT."""
        self.report(key, message)
        return ABSENT

    def require(self, key: str, kind, *, check=None) -> Any:
        """Pop and type-check a key the file must give."""
        if key not in self.data:
            self.report(key, "required key is missing", missing=True)
        return self.get(key, kind, check=check)

    def choice(self, key: str, allowed: type[StrEnum]) -> Any:
        """Pop one of an enumeration's values as its member, ABSENT when left out."""
        # The values as the file writes them: a member's repr reads <ImageMode.LINK: 'link'>.
        value = self.get(key, str, check=one_of(*(member.value for member in allowed)))
        return value if value is ABSENT else allowed(value)

    def strings(self, key: str, *, check=None) -> Any:
        """Pop a list of strings as a tuple, ABSENT when left out; `check` vets each item."""
        value = self.get(key, list)
        if value is ABSENT or check is None:
            return value if value is ABSENT else tuple(value)
        wrong = False
        for i, item in enumerate(value):
            try:
                check(item)
            except ValueError as exc:
                self.report(f"{key}[{i}]", str(exc))
                wrong = True
        return ABSENT if wrong else tuple(value)

    def duration(self, key: str, *, most: int = YEAR) -> Any:
        """Pop a duration ('10m', '1h30m' or seconds) as seconds, ABSENT when left out."""
        value = self.take(key)
        if value is ABSENT:
            return ABSENT
        try:
            return seconds(value, most=most)
        except ValueError as exc:
            return self._wrong(key, str(exc))

    def table(self, key: str) -> Table:
        """Pop a sub-table (empty when absent)."""
        value = self.take(key)
        return Table({} if value is ABSENT else value, self.where(key), self.problems)

    def tables(self, key: str) -> list[Table]:
        """Pop an array of tables."""
        items = self.take(key)
        if items is ABSENT:
            return []
        if not isinstance(items, list):
            self.report(key, f"expected [[{key}]] entries, got {shown(items)}")
            return []
        for i, item in enumerate(items):
            self.problems.name(f"{self.where(key)}[{i}]", item)
        return [
            Table(item, f"{self.where(key)}[{i}]", self.problems) for i, item in enumerate(items)
        ]

    def finish(self) -> None:
        """Record every key nobody read, with the known key it most resembles."""
        for key in self.data:
            close = difflib.get_close_matches(str(key), sorted(self.known), n=1, cutoff=0.6)
            if close:
                # A misspelt required key is one problem, not two.
                self.problems.forgive_missing(self.where(close[0]))
            hint = f" (did you mean {close[0]}?)" if close else ""
            self.report(str(key), f"unknown key{hint}")
        self.data.clear()


def seconds(value: Any, *, most: int = YEAR) -> int:
    """Return seconds from an int or a string like '10m', '1h30m', '45s', '2d'; ValueError if not."""
    total: float | None = None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        total = value
    elif isinstance(value, str):
        text = value.replace(" ", "")
        parts = _DURATION.findall(text)
        if parts and "".join(n + u for n, u in parts).lower() == text.lower():
            total = sum(float(n) * _UNIT_SECONDS[u.lower()] for n, u in parts)
    if total is None or total < 1:
        raise ValueError(
            f"expected a duration such as '10m', '1h' or '30s', got {shown(value)}"
            + (
                " (sources are polled at an interval, not on a cron schedule)"
                if _CRON.fullmatch(str(value))
                else ""
            )
        )
    if total > most:
        raise ValueError(f"at most {span(most)}, got {shown(value)}")
    return int(total)


def parse_duration(value: Any, where: str, *, most: int = YEAR) -> int:
    """Return seconds from a duration, or raise ConfigError naming `where`."""
    try:
        return seconds(value, most=most)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def listen_address(value: str, *, any_port: bool = False) -> tuple[str, int]:
    """Parse 'host:port' ('[::1]:9108' too) into its host and port; ValueError if malformed.
    Port 0 (the system picks a free one) only with `any_port`."""
    host, _, port = value.rpartition(":")
    low = 0 if any_port else 1
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not bare or not port.isascii() or not port.isdigit():
        raise ValueError(f"expected 'host:port' such as '127.0.0.1:9108', got {value!r}")
    if "[" in bare or "]" in bare or (":" in bare and bare == host):
        # '[::1:9108' or '::1:9108': which colon ends the address is a guess; brackets say it.
        raise ValueError(
            f"expected an IPv6 address in brackets such as '[::1]:9108', got {value!r}"
        )
    if not low <= int(port) < 65536:
        raise ValueError(f"expected a port from {low} to 65535, got {value!r}")
    return bare, int(port)


def authority(host: str, port: int) -> str:
    """Return host and port as 'host:port' (an IPv6 address in brackets): listen_address's inverse."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def span(total: int) -> str:
    """Return seconds in the largest unit that divides them ('7d', '90m')."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if total % size == 0:
            return f"{total // size}{unit}"
    return f"{total}s"


def quiet_hours(value: Any) -> Any:
    """Parse 'HH:MM-HH:MM' into a pair of times (ABSENT stays ABSENT); ValueError if malformed."""
    if value is ABSENT:
        return ABSENT
    match = _QUIET_HOURS.fullmatch(value)
    if not match:
        raise ValueError(f"expected 'HH:MM-HH:MM' such as '23:00-07:00', got {value!r}")
    h1, m1, h2, m2 = match.groups()
    start, end = f"{int(h1):02d}:{m1}", f"{int(h2):02d}:{m2}"
    if start == end:
        # Read as a span of no minutes, it is never quiet; a day-long one is no channel at all.
        raise ValueError(
            f"starts and ends at {start}, so it would never be quiet: expected two different "
            f"times such as '23:00-07:00', got {value!r}"
        )
    return start, end


def one_of(*allowed: str):
    """Return a check that accepts only the given strings."""

    def check(value: str) -> bool:
        if value not in allowed:
            raise ValueError(f"expected {' or '.join(map(repr, allowed))}, got {value!r}")
        return True

    return check


def within(low: float, high: float):
    """Return a check that accepts numbers from `low` to `high`, saying so when refused."""

    def check(value: float) -> bool:
        if not low <= value <= high:
            raise ValueError(f"expected a number from {low:g} to {high:g}, got {value!r}")
        return True

    return check


def toml_problem(text: str, message: str) -> str:
    """Return where tomllib's `message` about `text` is (line and key), then what it says."""
    lines = text.splitlines()
    at = _AT_LINE.search(message)
    what = (message[: at.start()] if at else message.replace("(at end of document)", "")).rstrip()
    # A key given twice may be found only at the document's end: find the second one here.
    number = int(at[1]) if at else _repeated_key(lines)
    if not number or number > len(lines):
        return f"at the end of the file: {what}"
    line = lines[number - 1]
    # Only the key or the table's name: the value may be a secret pasted in the wrong place.
    if key := _KEY_LINE.match(line):
        return f"at line {number} ({key[1].strip()} = …): {what}"
    if _HEADER.match(line):
        return f"at line {number} ({line.strip()[:60]}): {what}"
    return f"at line {number}: {what}"


def _repeated_key(lines: list[str]) -> int | None:
    """Return the line that sets a key its table already set, if one does (None: not found)."""
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if _HEADER.match(line):
            seen = set()  # a new table, or a new entry of an array of tables
        elif key := _KEY_LINE.match(line):
            name = re.sub(r"\s+", "", key[1])
            if name in seen:
                return number
            seen.add(name)
    return None
