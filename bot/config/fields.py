"""Reading TOML tables: typed getters, validators, and an error for every key nobody read.

A getter returns ABSENT for a key the file leaves out, so the dataclass a section becomes keeps
its own default: every default is written once, on the dataclass field.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import soupsieve

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.IGNORECASE)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_ITEM_NAMES = {str: "strings", int: "numbers", list: "lists"}
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_QUIET_HOURS = re.compile(r"\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)\s*")


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid; the message names the key."""


class _Absent:
    """The value of a key the file leaves out (the dataclass default applies)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


def present(**values: Any) -> dict[str, Any]:
    """Return the keyword arguments the file gave, so that absent ones keep their defaults."""
    return {name: value for name, value in values.items() if value is not ABSENT}


class Table:
    """A TOML table being read: typed getters, and an error for every key nobody asked for."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a table")
        self.data, self.path = dict(data), path

    def where(self, key: str) -> str:
        """Return the key's path for messages, e.g. `sources[2].link_pattern`."""
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, message: str) -> ConfigError:
        """Return the error about one key (one place to change how errors are gathered)."""
        return ConfigError(f"{self.where(key)}: {message}")

    def get(self, key: str, kind, *, check=None, items: type = str) -> Any:
        """Pop and type-check one key, ABSENT when left out; `check` returns falsy or raises ValueError."""
        if key not in self.data:
            return ABSENT
        value = self.data.pop(key)
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise self.error(key, f"expected {names}, got {value!r}")
        if kind is list and not all(
            isinstance(v, items) and not isinstance(v, bool) for v in value
        ):
            raise self.error(key, f"expected a list of {_ITEM_NAMES.get(items, items.__name__)}")
        try:
            ok = check(value) if check else True
        except ValueError as exc:
            raise self.error(key, str(exc)) from exc
        if not ok:
            raise self.error(key, f"invalid value {value!r}")
        return value

    def require(self, key: str, kind, *, check=None) -> Any:
        """Pop and type-check a key the file must give."""
        value = self.get(key, kind, check=check)
        if value is ABSENT:
            raise self.error(key, "required key is missing")
        return value

    def choice(self, key: str, allowed: type[StrEnum]) -> Any:
        """Pop one of an enumeration's values as its member, ABSENT when left out."""
        value = self.get(key, str, check=one_of(*allowed))
        return value if value is ABSENT else allowed(value)

    def strings(self, key: str, *, check=None) -> Any:
        """Pop a list of strings as a tuple, ABSENT when left out."""
        value = self.get(key, list, check=check)
        return value if value is ABSENT else tuple(value)

    def duration(self, key: str) -> Any:
        """Pop a duration ('10m', '1h30m' or seconds) as seconds, ABSENT when left out."""
        if key not in self.data:
            return ABSENT
        return parse_duration(self.data.pop(key), self.where(key))

    def table(self, key: str) -> Table:
        """Pop a sub-table (empty when absent)."""
        return Table(self.data.pop(key, {}), self.where(key))

    def tables(self, key: str) -> list[Table]:
        """Pop an array of tables."""
        items = self.data.pop(key, [])
        if not isinstance(items, list):
            raise self.error(key, f"expected [[{key}]] entries")
        return [Table(item, f"{self.where(key)}[{i}]") for i, item in enumerate(items)]

    def finish(self) -> None:
        """Raise for the first key nobody read."""
        for key in self.data:
            raise self.error(key, "unknown key")


def parse_duration(value: Any, where: str) -> int:
    """Return seconds from an int or a string like '10m', '1h30m', '45s', '2d'."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str):
        text = value.replace(" ", "")
        parts = _DURATION.findall(text)
        if parts and "".join(n + u for n, u in parts).lower() == text.lower():
            seconds = sum(float(n) * _UNIT_SECONDS[u.lower()] for n, u in parts)
            if seconds >= 1:
                return int(seconds)
    raise ConfigError(f"{where}: expected a duration such as '10m', '1h' or '30s', got {value!r}")


def quiet_hours(value: Any, where: str) -> Any:
    """Parse 'HH:MM-HH:MM' into a pair of times (ABSENT stays ABSENT)."""
    if value is ABSENT:
        return ABSENT
    match = _QUIET_HOURS.fullmatch(value)
    if not match:
        raise ConfigError(f"{where}: expected 'HH:MM-HH:MM' such as '23:00-07:00', got {value!r}")
    h1, m1, h2, m2 = match.groups()
    return f"{int(h1):02d}:{m1}", f"{int(h2):02d}:{m2}"


def key_name(value: str) -> bool:
    """Return True for a short key of letters, digits, '-' and '_' (sources, channels)."""
    return bool(_KEY.match(value))


def web_url(value: str) -> bool:
    """Return True for an http(s) URL."""
    return value.startswith(("http://", "https://"))


def fail(message: str) -> bool:
    """Raise a ValueError (for use inside check lambdas)."""
    raise ValueError(message)


def css(value: str) -> bool:
    """Return True for a valid CSS selector, else raise a ValueError for the caller."""
    try:
        soupsieve.compile(value)
    except soupsieve.SelectorSyntaxError as exc:
        raise ValueError(f"not a valid CSS selector ({str(exc).splitlines()[0]})") from exc
    return True


def one_of(*allowed: str):
    """Return a check that accepts only the given strings."""

    def check(value: str) -> bool:
        if value not in allowed:
            raise ValueError(f"expected {' or '.join(map(repr, allowed))}, got {value!r}")
        return True

    return check


def regex(value: str) -> bool:
    """Return True for a valid regular expression, else raise a ValueError for the caller."""
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression ({exc})") from exc
    return True


def zone(value: str) -> bool:
    """Return True for a known IANA time zone name."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name such as Europe/Moscow)"
        ) from exc
    return True


def unique(values: list[str], section: str, key: str) -> None:
    """Raise when two entries of a section share a key."""
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise ConfigError(f"{section}[{i}].{key}: duplicate {key} {value!r}")
        seen.add(value)
