"""SQLite search names only the word forms its index holds: the same hits, ranks and snippets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import storage.search
from storage.backends import SqliteBackend
from storage.match import terms
from storage.search import search
from tests.support.archive import add

FEB = datetime(2024, 2, 10, 12, 0, tzinfo=UTC)
QUERIES = [
    "санкциях",
    "безопасности",
    "учения OR exercises",
    "санкции -минске",  # a minus word none of whose forms is indexed
    "санкции -россии",
    "отчётом",  # ё/е respellings
    "sanctions",
    "zzzyzx OR санкции",
    "санкционный",  # no form indexed: nothing
]


@pytest.fixture
def archive(tmp_path: Path):
    """A small synthetic Russian and English archive (SQLite)."""
    store = SqliteBackend(tmp_path / "archive.db").open()
    add(store, "Новые санкции против России", "Санкции продлены.", lang="ru")
    add(store, "Встреча министров", "Обсудили вопросы, связанные с санкциями.", lang="ru")
    add(store, "Совет безопасности", "Вопросы безопасности и санкций.", lang="ru", published=FEB)
    add(store, "Учения ОДКБ", "Итоги учений и безопасность.", lang="ru", source="mid-ru")
    add(store, "Годовой отчёт", "Отчет о санкциях.", lang="ru", published=FEB)
    add(store, "EU extends sanctions", "Joint exercises were held.", published=FEB)
    add(store, "A sanction lifted", "Sanctioned banks.", source="mid-en")
    yield store
    store.close()


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("source", [None, "tass-com", "mid-ru"])
def test_the_same_hits_as_naming_every_form(archive, monkeypatch, query, source) -> None:
    pruned = search(archive.db, query, source=source)
    # Every form named, as before the index was asked which it holds.
    monkeypatch.setattr(storage.search, "_indexed", lambda db, words: words)
    assert pruned == search(archive.db, query, source=source)


def test_only_forms_the_index_holds_are_named(archive) -> None:
    [term] = storage.search._inflected(archive.db, terms("безопасности"))
    assert sorted(form for form, _ in term) == ["безопасности", "безопасность"]
    [term] = storage.search._inflected(archive.db, terms("санкционный"))
    assert term == (("санкционный", False),)  # none held: the word alone, which finds nothing
    assert search(archive.db, "санкционный") == []


@pytest.mark.parametrize(
    ("start", "held"),
    [("санкц", True), ("санкцз", False), ("бёзопасн", False), ("отчёт", True), ("sanction", True)],
)
def test_a_start_is_held_only_when_some_indexed_word_begins_with_it(archive, start, held) -> None:
    assert storage.search._holds_start(archive.db, start) is held
