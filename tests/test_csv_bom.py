"""`--bom`: CSV from `export` and `search` that Excel opens as UTF-8 (Cyrillic readable), and
the same CSV as before without it."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.archive import archive_config
from tests.support.cli import ROOT, child_environment, presswatch

MARK = b"\xef\xbb\xbf"  # UTF-8's byte-order mark


@pytest.fixture
def config(tmp_path) -> Path:
    """A config whose archive holds tests.support.archive.ARTICLES (two of them Russian)."""
    return archive_config(tmp_path)


def _raw(*args: str) -> subprocess.CompletedProcess:
    """Run presswatch and keep its standard output as bytes: the mark is what is tested."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        timeout=120,
        env=child_environment(),
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )


def _titles(content: bytes) -> list[str]:
    return [row["title"] for row in csv.DictReader(io.StringIO(content.decode("utf-8-sig")))]


def test_export_bom_to_a_file_starts_with_the_mark_once(config, tmp_path) -> None:
    out = tmp_path / "archive.csv"
    args = ("export", "--format", "csv", "--config", str(config))
    result = presswatch(*args, "--bom", "--output", str(out))
    assert result.returncode == 0, result.stderr
    content = out.read_bytes()
    assert content.startswith(MARK + b"id,") and content.count(MARK) == 1
    assert "Новые санкции против России" in _titles(content)
    plain = _raw(*args)  # without --bom the CSV is as it was, byte for byte after the mark
    assert plain.returncode == 0 and MARK + plain.stdout == content


def test_export_bom_to_standard_output(config) -> None:
    result = _raw("export", "--format", "csv", "--bom", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(MARK + b"id,")


def test_search_csv_bom(config) -> None:
    args = ("search", "санкции", "--format", "csv", "--config", str(config))
    marked, plain = _raw(*args, "--bom"), _raw(*args)
    assert marked.returncode == 0, marked.stderr
    assert marked.stdout == MARK + plain.stdout and not plain.stdout.startswith(MARK)
    assert "Новые санкции против России" in _titles(marked.stdout)


@pytest.mark.parametrize(
    ("command", "fmt"), [("export", "jsonl"), ("search", "json"), ("search", "table")]
)
def test_bom_with_another_format_is_a_usage_error(config, command, fmt) -> None:
    words = ("санкции",) if command == "search" else ()
    result = presswatch(command, *words, "--format", fmt, "--bom", "--config", str(config))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == (
        f"presswatch: {command}: --bom is for --format csv (other formats take no mark)"
    )
