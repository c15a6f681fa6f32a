"""Each command's --help example does what it says when pasted into a shell as written."""

from __future__ import annotations

import argparse
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from bot.cli.main import all_commands, build_parser

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_SOURCES = {
    s["key"]: s
    for s in tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))["sources"]
}


def _invocations(example: str) -> list[list[str]]:
    """Return each `presswatch …` command line of an example as a shell splits it."""
    found = []
    for line in example.splitlines():
        words = shlex.split(line, comments=True)
        while "presswatch" in words:
            words = words[words.index("presswatch") + 1 :]
            end = next((i for i, w in enumerate(words) if w in {"|", ">>", ">", "&&"}), len(words))
            found.append(words[:end])
            words = words[end:]
    return found


def _command(name: str):
    """Return the command called `name`."""
    return next(c for c in all_commands() if c.name == name)


def _parsed(name: str):
    """Return the parsed arguments of every presswatch call in a command's example."""
    return [build_parser().parse_args(words) for words in _invocations(_command(name).example)]


@pytest.mark.parametrize("name", [c.name for c in all_commands()])
def test_every_example_parses_with_its_own_command(name: str) -> None:
    calls = _parsed(name)
    assert calls, f"{name}: no presswatch call in its example"
    assert all(args.handler is _command(name).handler for args in calls)


def test_backfill_example_names_a_source_that_has_older_pages() -> None:
    (args,) = _parsed("backfill")
    # A source without `pages` makes backfill refuse to start: the example must not be one.
    assert EXAMPLE_SOURCES[args.key].get("pages"), f"{args.key} has no pages in the example config"


def test_search_example_keeps_its_phrase_quoted_through_the_shell() -> None:
    (args,) = _parsed("search")
    # The shell eats one level of quotes; a phrase reaches presswatch only inside a second one.
    phrases = [word for word in args.query if word.startswith('"') and word.endswith('"')]
    assert phrases == ['"collective security"']


def test_presswatch_help_itself_shows_examples_that_parse() -> None:
    text = build_parser().format_help()
    assert "\nexample:\n" in text
    calls = _invocations(text.split("\nexample:\n", 1)[1])
    assert len(calls) >= 2, text
    assert all(build_parser().parse_args(words).handler for words in calls)


@pytest.mark.parametrize("name", [c.name for c in all_commands()])
def test_readme_shows_every_command_in_an_example(name: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = "\n".join(re.findall(r"```[a-z]*\n(.*?)```", readme, re.S))
    assert re.search(rf"presswatch {re.escape(name)}\b", blocks), f"README: no example of {name}"


def _options() -> list[tuple[str, argparse.Action]]:
    """Return every command's own arguments and options, beside the command's name."""
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return [
        (name, action)
        for name, parser in commands.choices.items()
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction)
    ]


def test_every_option_of_every_command_says_what_it_does() -> None:
    bare = [
        (name, action.option_strings or action.dest)
        for name, action in _options()
        if not action.help
    ]
    assert bare == []  # `stats --format` had none


def test_every_example_names_its_config_as_readme_asks() -> None:
    missing = [
        (c.name, words)
        for c in all_commands()
        for words in _invocations(c.example)
        if "--config" not in words
    ]
    assert missing == []  # migrate-archive's lacked it


def test_help_names_arguments_as_the_usage_line_shows_them() -> None:
    # extract's --url and --item spoke of TARGET, which its usage line calls URL_OR_FILE.
    shown = {action.metavar for _, action in _options() if action.metavar}
    # Capitals that are no argument: formats, a terminal, and environment variables ($COLUMNS).
    words = {"CSV", "HTML", "JSON", "OPML", "TTY", "UTF", "COLUMNS"}
    for name, action in _options():
        for word in re.findall(r"\b[A-Z][A-Z_]{2,}\b", action.help or ""):
            assert word in shown | words or word.startswith("PRESSWATCH_"), (name, action.help)


def test_run_says_that_ctrl_c_stops_it_too() -> None:
    assert "Ctrl-C" in _command("run").summary and "SIGTERM" in _command("run").summary
