"""Command lines a sweep (conf15) found taken in silence, shown in Python's words, or ending in a
traceback: each is now one line naming the argument and what it wants."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.cli.main import build_parser, main
from tests.support.cli import ROOT, presswatch

EXAMPLE = str(ROOT / "config.example.toml")


def _refused(capsys, *args: str) -> tuple[int, list[str]]:
    """Run the command line in-process; return its exit status and stderr lines."""
    try:
        status = main(list(args))
    except SystemExit as exited:  # argparse's own refusals
        status = exited.code
    return status, capsys.readouterr().err.splitlines()


def test_version_takes_nothing_more(capsys) -> None:
    assert _refused(capsys, "--version", "extra") == (
        2,
        ["presswatch: error: --version takes nothing more, got extra (see presswatch --help)"],
    )


def test_outbox_states_are_offered_as_typed(capsys) -> None:
    status, lines = _refused(capsys, "outbox", "--state", "bogus", "--config", EXAMPLE)
    assert status == 2
    assert "(choose from 'pending', 'sending', 'uncertain', 'failed')" in lines[0], lines


@pytest.mark.parametrize(
    ("args", "told"),
    [
        (["list", "5"], "list takes no row ids (5): say what to do, 'outbox retry 5' or 'outbox drop 5'"),
        (["list", "5", "7"], "list takes no row ids (5 7): say what to do, 'outbox retry 5 7' or 'outbox drop 5 7'"),
        (["--all-failed"], "list takes no --all-failed: it goes with retry, 'outbox retry --all-failed'"),
        (["retry", "5", "--state", "failed"], "--state goes with `outbox list`, not with retry"),
    ],
)  # fmt: skip
def test_outbox_rows_without_an_action_are_refused_not_listed(
    tmp_path, capsys, restore_logging, args, told
) -> None:
    # `outbox list 5` printed the list and ignored 5, as if it had been retried or dropped.
    config = tmp_path / "presswatch.toml"  # never read: the command line alone is wrong
    assert _refused(capsys, "outbox", *args, "--config", str(config)) == (
        2,
        [f"presswatch outbox: {told}"],
    )


def test_migrate_archive_says_a_password_came_from_the_command_line(capsys) -> None:
    url = "postgresql://u:pw@127.0.0.1:1/db"
    status, lines = _refused(capsys, "migrate-archive", "--to", url, "--config", EXAMPLE)
    assert status == 2 and len(lines) == 1
    assert "argument --to: never put the database password on the command line" in lines[0]
    assert "pw@" not in lines[0] and "config file" not in lines[0]


def test_classify_needs_a_title(monkeypatch, capsys, restore_logging) -> None:
    lines = '{"body": "CSTO drills"}\n{"title": "t", "lang": 5}\n{"title": "CSTO drills"}\n'
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    assert main(["classify", "--config", EXAMPLE]) == 1
    out, err = capsys.readouterr()
    told = (
        'expected an object with a string "title" (and optional string "body" and "lang"), '
        'such as {"title": "CSTO drills", "body": "..."}'
    )
    assert err.splitlines() == [f"presswatch: line 1: {told}", f"presswatch: line 2: {told}"]
    assert [json.loads(line)["title"] for line in out.splitlines()] == ["CSTO drills"]


@pytest.mark.parametrize("where", ["folder", "missing folder"])
def test_export_opml_says_it_cannot_write_as_export_does(
    tmp_path: Path, capsys, restore_logging, where
) -> None:
    # Both ended in a traceback (IsADirectoryError, FileNotFoundError).
    target = tmp_path if where == "folder" else tmp_path / "nowhere" / "feeds.opml"
    status, lines = _refused(capsys, "export-opml", "--output", str(target), "--config", EXAMPLE)
    assert (status, lines) == (
        (
            2,
            [
                f"presswatch export-opml: error: argument --output: expected a file name, got "
                f"'{target}' (a folder) (see presswatch export-opml --help)"
            ],
        )
        if where == "folder"
        else (1, [f"presswatch: export-opml: cannot write {target} (No such file or directory)"])
    )


def test_extract_says_a_folder_is_a_folder(tmp_path: Path) -> None:
    result = presswatch("extract", str(tmp_path), "--config", EXAMPLE)
    assert (result.returncode, result.stderr.splitlines()) == (
        1,
        [f"presswatch: {tmp_path}: a folder (give a URL or a saved HTML file)"],
    )


def test_migrate_archive_takes_several_hosts_and_checks_each_port(capsys) -> None:
    good = "postgresql://u@h1:5432,h2:5433/db?target_session_attrs=read-write"
    args = build_parser().parse_args(["migrate-archive", "--to", good, "--config", EXAMPLE])
    assert args.to == good
    bad = good.replace("h2:5433", "h2:99999")
    status, lines = _refused(capsys, "migrate-archive", "--to", bad, "--config", EXAMPLE)
    assert (status, len(lines)) == (2, 1)
    assert "argument --to: expected a port from 1 to 65535, got 'u@h1:5432,h2:99999'" in lines[0]
