"""What README tells an operator exists: every config key, environment variable and command line.

The config has no schema file: its loader asks each table for its keys (`Table.take`), so the
keys it knows are recorded while it loads config.example.toml, which has a table of every kind.
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from bot.cli.main import build_parser
from bot.config import fields
from bot.config.load import load_config

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
# Read to be refused with advice (the token belongs in the environment), never to be set.
REFUSED = {"telegram.token"}


def known_keys(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Return every key path the loader reads, as `sources[].selectors.title`."""
    seen: set[str] = set()
    take = fields.Table.take

    def recording(table: fields.Table, key: str):
        path = re.sub(r"\[\d+\]", "[]", table.path)
        seen.add(f"{path}.{key}" if path else key)
        return take(table, key)

    monkeypatch.setattr(fields.Table, "take", recording)
    load_config(ROOT / "config.example.toml", environ={})
    tables = {key.rsplit(".", 1)[0] for key in seen if "." in key}
    tables |= {table.removesuffix("[]") for table in tables}
    # A table's own name is no key to document: `fetch`, `sources`, `sources[].selectors`.
    return {k for k in seen if k not in tables and k not in {"topics", "entities"}} - REFUSED


def documented_keys() -> set[str]:
    """Return the keys README's configuration tables (`| key | default | meaning |`) name."""
    keys: set[str] = set()
    rows = "\n".join(re.findall(r"^\| key \| default \| meaning \|\n((?:\|.*\n)+)", README, re.M))
    for first_cell in re.findall(r"^\| (`[^|]+)\|", rows, re.M):
        names = re.findall(r"`([^`]+)`", first_cell)
        parent = names[0].rsplit(".", 1)[0]
        # "`sources[].selectors.title`, `.date`" and "`channels[].include` / `exclude`".
        keys |= {names[0]} | {f"{parent}.{n.lstrip('.')}" for n in names[1:]}
    return {k for k in keys if re.fullmatch(r"[a-z_]+(\[\])?(\.[a-z_]+)*", k)}


def test_the_loader_is_seen_reading_every_kind_of_table(monkeypatch) -> None:
    keys = known_keys(monkeypatch)
    assert {"storage.path", "channels[].chat_id", "sources[].selectors.body"} <= keys


def test_every_key_the_config_accepts_is_documented(monkeypatch) -> None:
    assert sorted(known_keys(monkeypatch) - documented_keys()) == []


def test_every_documented_key_is_accepted(monkeypatch) -> None:
    assert sorted(documented_keys() - known_keys(monkeypatch)) == []


def _environment_names(text: str) -> set[str]:
    """Return the PRESSWATCH_* names a text mentions."""
    # Not the start of a name a sed command rewrites (`s/PRESSWATCH_DATABASE/POSTGRES/`).
    return set(re.findall(r"\bPRESSWATCH_[A-Z_]*[A-Z]\b(?!/)", text))


def test_every_environment_variable_is_read_by_the_code_and_documented() -> None:
    code = "\n".join(
        p.read_text(encoding="utf-8")
        for package in ("bot", "storage", "scrapers")
        for p in (ROOT / package).rglob("*.py")
    )
    deploy = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "deploy").iterdir())
    tests = (ROOT / "tests" / "fakes" / "postgres.py").read_text(encoding="utf-8")
    read = _environment_names(code)
    assert read == {
        "PRESSWATCH_CONFIG",
        "PRESSWATCH_TELEGRAM_TOKEN",
        "PRESSWATCH_DATABASE_PASSWORD",
    }
    assert read <= _environment_names(README)
    # README and deploy/ name only what presswatch reads, or the tests' own (README: Development).
    assert _environment_names(README) | _environment_names(deploy) <= read | _environment_names(
        tests
    )


def _readme_calls() -> list[list[str]]:
    """Return every presswatch command line in README's code blocks, as a shell splits it."""
    lines, inside = [], False
    for line in README.splitlines():
        if line.lstrip().startswith("```"):
            inside = not inside
        elif inside:
            lines.append(line.strip())
    calls = []
    for line in "\n".join(lines).replace("\\\n", " ").splitlines():
        if "presswatch" not in line or line.startswith(("presswatch:", "|", "#")):
            continue
        words = shlex.split(line, comments=True)
        while words:
            end = next(
                (i for i, w in enumerate(words) if w in {"|", ">>", ">", "&&", ";"}), len(words)
            )
            if words[0].rsplit("/", 1)[-1] == "presswatch":
                calls.append(words[1:end])
            words = words[end + 1 :]
    return calls


def test_every_presswatch_line_in_readme_parses() -> None:
    calls = _readme_calls()
    assert len(calls) >= 20 and ["run", "--config", "config.example.toml"] in calls
    for call in calls:
        args = build_parser().parse_args(call)
        assert args.handler, call


def test_readme_names_every_option_of_every_command_and_no_other() -> None:
    parser = build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    shared = {"--config", "--verbose", "--quiet", "--log-json", "--help"}
    for name, sub in commands.choices.items():
        options = {o for a in sub._actions for o in a.option_strings if o.startswith("--")}
        # The first cell of the command's row in README's table of commands.
        row = re.findall(rf"^\| `presswatch {re.escape(name)}(?: [^`]*)?` \|", README, re.M)
        assert row, f"README: no row for {name}"
        assert set(re.findall(r"--[a-z][a-z-]*", row[0])) == options - shared, name
