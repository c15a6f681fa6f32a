"""`presswatch search`'s table fits the terminal (or $COLUMNS), and keeps whole rows in a pipe."""

from __future__ import annotations

import fcntl
import os
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from bot.cli.common import clip, columns, fit_widths, table, within
from storage import Store
from tests.support.archive import add, archive_config
from tests.support.cli import ROOT, child_environment, presswatch

LONG_TITLE = "CSTO summit participants adopt statement on the thirtieth anniversary of the Treaty"
LONG_BODY = (
    "The leaders of the member states of the Collective Security Treaty Organization, the CSTO, "
    "adopted a statement on the occasion of the thirtieth anniversary of the Treaty and of the "
    "twentieth anniversary of the Organization itself, meeting in Moscow."
)


@pytest.fixture
def config(tmp_path) -> Path:
    """A config whose archive holds ARTICLES and two articles with long titles (synthetic)."""
    path = archive_config(tmp_path)
    store = Store.open(tmp_path / "archive.db")
    add(store, LONG_TITLE, LONG_BODY, source="interaffairs-en")
    add(store, "Briefing by CSTO Secretary General on the situation", LONG_BODY)
    store.close()
    return path


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").splitlines()


def test_with_columns_80_every_row_fits_and_keeps_id_date_source_and_title(config) -> None:
    result = presswatch("search", "CSTO", "--config", str(config), env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    header, *rows = _lines(result.stdout)
    assert header.split() == ["ID", "PUBLISHED", "SOURCE", "TITLE"]  # no room for MATCH
    assert len(rows) == 2 and max(len(line) for line in (header, *rows)) <= 80
    [long] = [r for r in rows if "interaffairs-en" in r]
    assert "UTC  interaffairs-en  CSTO summit participants adopt" in long and long.endswith("…")


def test_a_wider_terminal_shows_the_matched_word_in_its_cut_context(config) -> None:
    result = presswatch("search", "anniversary", "--config", str(config), env={"COLUMNS": "130"})
    header, *rows = _lines(result.stdout)
    assert header.split() == ["ID", "PUBLISHED", "SOURCE", "TITLE", "MATCH"]
    assert max(len(line) for line in (header, *rows)) <= 130
    # The body's match lies 130 characters in: the cell is cut around it, not at its start.
    assert all("[anniversary]" in row and "…" in row for row in rows)


@pytest.mark.parametrize("columns", [None, "0", "wide", " "])
def test_a_pipe_without_columns_gets_whole_rows_for_grep(config, columns) -> None:
    # A $COLUMNS that is no positive number is no width: shutil would fall back to 80.
    env = None if columns is None else {"COLUMNS": columns}
    result = presswatch("search", "CSTO", "--config", str(config), env=env)
    header, *rows = _lines(result.stdout)
    assert header.split() == ["ID", "PUBLISHED", "SOURCE", "TITLE", "MATCH"]
    assert any(LONG_TITLE in row for row in rows)  # whole, not the terminal's 70-column cap
    assert max(len(row) for row in rows) > 150


def test_a_wide_terminal_still_caps_the_title_so_the_match_gets_room(config) -> None:
    result = presswatch("search", "CSTO", "--config", str(config), env={"COLUMNS": "400"})
    [long] = [r for r in _lines(result.stdout) if "interaffairs-en" in r]
    assert LONG_TITLE[:60] in long and LONG_TITLE not in long and "[CSTO]" in long


def test_a_terminal_s_own_width_is_fitted_without_columns(config) -> None:
    """stty cols 72: the window size of the terminal, no $COLUMNS."""
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 72, 0, 0))
    child = subprocess.Popen(
        [sys.executable, "-m", "bot", "search", "CSTO", "--config", str(config)],
        stdout=follower,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=child_environment(),
        cwd=ROOT,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # Linux: EIO once the child's end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert child.wait(timeout=120) == 0, child.stderr.read()
    child.stderr.close()
    lines = _lines(b"".join(chunks).decode())
    assert lines[0].split() == ["ID", "PUBLISHED", "SOURCE", "TITLE"]
    assert len(lines) == 3 and max(len(line) for line in lines) <= 72


def test_fit_widths_narrows_the_cut_columns_evenly_and_keeps_a_narrow_one_whole() -> None:
    assert fit_widths([3, 20, 15, 70, 150], 120, cut=(3, 4)) == [3, 20, 15, 41, 41]
    assert fit_widths([3, 20, 15, 10, 150], 120, cut=(3, 4)) == [3, 20, 15, 10, 72]
    assert fit_widths([3, 20, 15, 10, 15], 120, cut=(3, 4)) == [3, 20, 15, 10, 15]
    assert fit_widths([30, 30], 20, cut=(1,)) == [30, 1]  # nothing left: one character


def test_wide_letters_take_two_columns_and_accents_none() -> None:
    assert columns("ОДКБ") == 4 and columns("集体安全") == 8 and columns("e\u0301") == 1
    assert within("集体安全条约", 5) == "集体"  # a third letter would take columns 5 and 6


def test_a_chinese_title_is_cut_and_aligned_by_the_columns_it_takes() -> None:
    # Synthetic rows: a title of wide letters cut to 20 columns, and the next column still aligned.
    title = clip("集体安全条约组织秘书长会见白俄罗斯外交部长并讨论合作", 20)
    assert title.endswith("…") and columns(title) <= 20
    lines = table([("TITLE", "SOURCE"), (title, "xinhua"), ("CSTO", "tass")]).splitlines()
    assert len({columns(line[: line.rindex("  ") + 2]) for line in lines}) == 1
