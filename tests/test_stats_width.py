"""`presswatch stats`'s tables fit the terminal (or $COLUMNS), long names cut with "…"; a pipe
without $COLUMNS gets whole rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.counts import stats_text
from storage import Store
from tests.support.archive import add
from tests.support.cli import presswatch

# Synthetic: a source key and a topic longer than an 80-column terminal leaves them.
LONG_SOURCE = "ministry-of-foreign-affairs-of-the-republic-of-belarus-press-service-english"
LONG_TOPIC = "international-security-and-arms-control-in-the-collective-security-treaty-area"


@pytest.fixture
def config(tmp_path) -> Path:
    """A config whose archive holds two articles of a long-named source and topic (synthetic)."""
    store = Store.open(tmp_path / "archive.db")
    add(store, "Statement on the anniversary", source=LONG_SOURCE, topics=(LONG_TOPIC,))
    add(store, "Briefing on the summit", source="tass-com")
    store.close()
    path = tmp_path / "presswatch.toml"
    path.write_text(f'[storage]\npath = "{tmp_path / "archive.db"}"\n', encoding="utf-8")
    return path


def _rows(text: str) -> list[str]:
    return [line for line in text.replace("\r\n", "\n").splitlines() if line]


def test_with_columns_80_every_row_fits_and_long_names_end_in_an_ellipsis(config) -> None:
    result = presswatch("stats", "--config", str(config), env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    rows = _rows(result.stdout)
    assert max(len(row) for row in rows) <= 80, result.stdout
    [source] = [row for row in rows if row.startswith("ministry-of-")]
    assert "…" in source and source.split()[1:3] == ["1", "0"]  # the counts kept whole
    [topic] = [row for row in rows if row.startswith("international-security")]
    assert topic.split()[0].endswith("…") and topic.split()[-1] == "1"
    assert any(row.startswith("tass-com ") for row in rows)  # a short name stays whole


def test_a_pipe_without_columns_gets_whole_names(config) -> None:
    result = presswatch("stats", "--config", str(config), env={"COLUMNS": ""})
    assert result.returncode == 0, result.stderr
    assert "…" not in result.stdout
    assert any(row.startswith(LONG_SOURCE + " ") for row in _rows(result.stdout))
    assert any(row.startswith(LONG_TOPIC + " ") for row in _rows(result.stdout))


def test_a_terminal_narrower_than_the_counts_keeps_a_dozen_letters_of_each_name() -> None:
    report = {
        "sources": [
            {"key": LONG_SOURCE, "articles": 1, "reprints": 0, "first": None, "last": None}
        ],
        "topics": [{"key": LONG_TOPIC, "articles": 1}],
        "entities": [],
        "months": [{"key": None, "articles": 1}],
    }
    text = stats_text(1, report, width=10)
    assert f"\n{LONG_SOURCE[:11]}…  1 " in text  # rows wrap rather than lose the name
    assert f"\n{LONG_TOPIC[:11]}…  1\n" in text
    assert "\n(unknown)  1" in text
