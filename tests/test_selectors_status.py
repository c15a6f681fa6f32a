"""A source's selector that stops matching shows in `presswatch status`' note column once it
missed on LASTED_PAGES new pages in a row over an hour, "since" the first of them, and clears
once a new page matches it (bot/ingest/misses.py); one that matches some pages does not show.

Polls of a synthetic press site on a loopback server through the real poll path (its pages read
in the parsing sandbox's workers), each poll a process of its own as a restarted service or
another worker would be (the note lives in the archive), or all in one process where what the
process remembers matters; and SelectorMisses alone, fed synthetic pages. The clock is injected.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import AsyncMock, patch

import pytest

from bot.app import poll_context
from bot.chat.phrases import EN, RU
from bot.chat.status import status_lines
from bot.config import load_config
from bot.ingest.misses import LASTED_PAGES, SAY_AGAIN_AFTER, SelectorMisses
from bot.ingest.poll import poll_source, record_failure
from bot.service.overview import selectors_missing
from scrapers import Selectors, Source
from scrapers.fetch import Fetcher, make_client
from scrapers.sandbox import Sandbox
from storage import SelectorMiss, SelectorRun, SourceState, Store
from storage.sources import Sources
from storage.status import Snapshot
from tests.fakes.sites import FakeSites
from tests.support.ministry import (
    page,
    selector_config,
    status_note,
    synthetic_listing,
    synthetic_story,
)

START = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def _poll(
    config_path: Path,
    fork_server,
    *,
    hours: float,
    process: SelectorMisses | None = None,
    cut: bool = False,
) -> str:
    """Poll the source once, `hours` after the first poll, with a poll context of its own (its
    selectors' memory `process`'s, when given: the same process as other polls); return the run's
    status. `cut`: the poll is stopped at its deadline once its pages are stored, and recorded as
    the scheduler records it."""
    config = load_config(config_path)
    source = config.sources[0]

    async def go() -> str:
        store = Store.open(config.storage_path)
        sandbox = Sandbox(deadline=10.0, memory_mb=512, server=fork_server)
        try:
            async with make_client(config.fetch) as client:
                ctx = poll_context(
                    config,
                    fetcher=Fetcher(client, config.fetch),
                    store=store,
                    parser=sandbox,
                    clock=lambda: START + timedelta(hours=hours),
                )
                ctx.selector_misses = process or ctx.selector_misses
                if not cut:
                    return (await poll_source(source, ctx)).status
                with (
                    patch(
                        "bot.ingest.poll.recheck_known",
                        AsyncMock(side_effect=asyncio.CancelledError),
                    ),
                    pytest.raises(asyncio.CancelledError),
                ):
                    await poll_source(source, ctx)
                stopped = TimeoutError(f"{source.url}: poll took longer than 60s and was stopped")
                return record_failure(source, ctx, started=ctx.clock(), exc=stopped).status
        finally:
            sandbox.close()
            store.close()

    return asyncio.run(go())


@pytest.fixture
def site():
    with FakeSites() as sites:
        for n in (1, 2, 4, 5, 6):
            sites.add(f"/press/{n}", page(n))  # the story is in a bare <p>: the selector misses
        sites.add("/press/3", synthetic_story(3))
        yield sites


def test_a_selector_that_stops_matching_shows_in_status_until_it_matches_again(
    site, tmp_path, fork_server, capsys, monkeypatch, restore_logging
) -> None:
    """One process polls three times; a restarted service reads the page that matches."""
    writes = _writes(monkeypatch)
    config = selector_config(tmp_path, site)
    process = SelectorMisses()
    said = "selectors.body matched nothing since 2026-11-28 09:00 UTC"
    site.add("/press/", synthetic_listing(2, 1))
    assert _poll(config, fork_server, hours=0, process=process) == "ok"
    assert "selectors.body" not in status_note(config, capsys)  # two pages: not yet LASTED_PAGES
    site.add("/press/", synthetic_listing(4, 2, 1))
    assert _poll(config, fork_server, hours=0.5, process=process) == "ok"
    assert "selectors.body" not in status_note(config, capsys)  # three pages, but in half an hour
    site.add("/press/", synthetic_listing(5, 4, 2, 1))
    assert _poll(config, fork_server, hours=1, process=process) == "ok"
    assert status_note(config, capsys).endswith(said)  # since the first page of the run
    site.add("/press/", synthetic_listing(3, 5, 4, 2, 1))
    assert _poll(config, fork_server, hours=1.5) == "ok"
    assert "selectors.body" not in status_note(config, capsys)
    # Written when it changed, once a poll: the run's pages (2, then 3 in half an hour), the note
    # once it lasted, and none once a page matched it.
    assert writes == [((), (2,)), ((), (3,)), (("body",), ()), ((), ())]


def test_a_poll_stopped_at_its_deadline_leaves_its_pages_out_of_the_next_poll_s_note(
    site, tmp_path, fork_server, monkeypatch
) -> None:
    """The note stands after three polls of one process; the fourth reads a page that misses
    and is stopped at its deadline; another worker clears the note (a page matched there); the
    fifth poll of the process reads no new page: it writes nothing, from memory or otherwise."""
    config = selector_config(tmp_path, site)
    process = SelectorMisses()
    for hours, listing in ((0, (2, 1)), (0.5, (4, 2, 1)), (1, (5, 4, 2, 1))):
        site.add("/press/", synthetic_listing(*listing))
        assert _poll(config, fork_server, hours=hours, process=process) == "ok"
    site.add("/press/", synthetic_listing(6, 5, 4, 2, 1))
    assert _poll(config, fork_server, hours=1.5, process=process, cut=True) == "error"
    store = Store.open(tmp_path / "archive.db")
    try:
        assert [m.name for m in store.sources.state("ministry").selectors_missed] == ["body"]
        store.sources.note_selector_misses("ministry", ())  # as another worker that read a match
    finally:
        store.close()
    writes = _writes(monkeypatch)
    assert _poll(config, fork_server, hours=2, process=process) == "ok"
    assert writes == []


def test_a_note_that_cannot_be_stored_leaves_the_recorded_poll_ok(
    site, tmp_path, fork_server, monkeypatch, caplog
) -> None:
    """The note's write is a transaction after the run's: its failure is said as what it is."""
    config = selector_config(tmp_path, site)
    process = SelectorMisses()

    def locked(self, key, misses, runs=()) -> None:
        raise sqlite3.OperationalError("database is locked")

    for hours, listing in ((0, (2, 1)), (0.5, (4, 2, 1))):
        site.add("/press/", synthetic_listing(*listing))
        assert _poll(config, fork_server, hours=hours, process=process) == "ok"
    monkeypatch.setattr(Sources, "note_selector_misses", locked)
    site.add("/press/", synthetic_listing(5, 4, 2, 1))
    with caplog.at_level(logging.ERROR, logger="bot.ingest"):
        assert _poll(config, fork_server, hours=1, process=process) == "ok"
    assert "ministry: could not store its selectors' note for status" in caplog.messages
    assert not [m for m in caplog.messages if "could not record the run" in m]


def _writes(monkeypatch) -> list[tuple[tuple[str, ...], tuple[int, ...]]]:
    """Record each note the archive is asked to store, as its shown selectors' names and its
    runs' pages (and store it)."""
    writes: list[tuple[tuple[str, ...], tuple[int, ...]]] = []
    note = Sources.note_selector_misses

    def write(self, key, misses, runs=()) -> None:
        writes.append((tuple(m.name for m in misses), tuple(r.pages for r in runs)))
        note(self, key, misses, runs)

    monkeypatch.setattr(Sources, "note_selector_misses", write)
    return writes


def test_a_note_on_a_selector_the_config_changed_since_is_not_shown() -> None:
    """Synthetic state: the note was of `div.old`; the source now reads `div.new`."""
    row = SourceState("x", selectors_missed=(SelectorMiss("body", "div.old", START),))
    old = Source(key="x", url="https://x.example/", selectors=Selectors(body="div.old"))
    new = Source(key="x", url="https://x.example/", selectors=Selectors(body="div.new"))
    assert selectors_missing(old, row) == (
        "selectors.body matched nothing since 2026-11-28 09:00 UTC"
    )
    assert selectors_missing(new, row) == ""


def test_the_note_is_kept_and_cleared_on_both_archives(store: Store) -> None:
    misses = (
        SelectorMiss("body", "div.story", START),
        SelectorMiss("date", "time.pub", START + timedelta(hours=1)),
    )
    store.sources.note_selector_misses("ministry", misses)
    assert store.sources.state("ministry").selectors_missed == misses
    store.sources.note_selector_misses("ministry", ())
    assert store.sources.state("ministry").selectors_missed == ()


def test_the_chat_s_status_notes_it_in_the_reader_s_language() -> None:
    """Synthetic state: /status says what `presswatch status` says, in English or Russian."""
    row = SourceState(
        "x",
        last_poll_at=START,
        last_success_at=START,
        selectors_missed=(SelectorMiss("body", "div.story", START),),
    )
    source = Source(key="x", url="https://x.example/", selectors=Selectors(body="div.story"))
    snapshot = Snapshot(sources={"x": row})
    [english] = status_lines(
        snapshot, sources=["x"], channels=[], configured={"x": source}, lang=EN
    )
    [russian] = status_lines(
        snapshot, sources=["x"], channels=[], configured={"x": source}, lang=RU
    )
    assert english.endswith("; selectors.body matched nothing since 2026-11-28 09:00 UTC")
    assert russian.endswith("; selectors.body ничего не находит с 2026-11-28 09:00 UTC")


@pytest.mark.parametrize(
    "note",
    [
        "{not json",
        '{"body": {"css": "div.story"}}',  # no since
        '{"body": {"since": "2026-11-28T09:00:00+00:00"}}',  # no css
        '{"body": {"css": "div.story", "since": "at nine"}}',
        '{"body": {"css": "div.story", "since": "2026-11-28T09:00:00"}}',  # no time zone
        '["body"]',
        '{"body": 1}',
        '{"body": {"css": "div.story", "since": "2026-11-28T09:00:00+00:00", "pages": "2"}}',
        '{"body": {"css": "div.story", "since": "2026-11-28T09:00:00+00:00", "pages": 0}}',
        '{"body": {"css": 1, "since": "2026-11-28T09:00:00+00:00"}}',
    ],
)
def test_a_note_the_archive_cannot_read_is_read_as_none(store: Store, note: str) -> None:
    """Synthetic: a hand edit's or a rollback's note; the source's row is read, status says none."""
    store.sources.note_selector_misses("ministry", (SelectorMiss("body", "div.story", START),))
    store.db.execute("update sources set selectors_missed = ? where key = ?", [note, "ministry"])
    row = store.sources.state("ministry")
    assert row.selectors_missed == ()
    source = Source(key="ministry", url="https://x.example/", selectors=Selectors(body="div.story"))
    assert selectors_missing(source, row) == ""


def test_a_note_of_m026_reads_as_shown_and_a_run_as_not_yet(store: Store) -> None:
    """A note as m026 wrote it (no count of pages) was written once it lasted: it shows; an entry
    with a count is a run under way, kept but not shown."""
    note = (
        '{"body": {"css": "div.story", "since": "2026-11-28T09:00:00+00:00"}, '
        '"date": {"css": "time", "since": "2026-11-28T10:00:00+00:00", "pages": 2}}'
    )
    store.sources.note_selector_misses("ministry", ())
    store.db.execute("update sources set selectors_missed = ? where key = ?", [note, "ministry"])
    row = store.sources.state("ministry")
    assert row.selectors_missed == (SelectorMiss("body", "div.story", START),)
    later = START + timedelta(hours=1)
    assert row.selector_runs == (SelectorRun("date", "time", later, 2),)
    source = Source(key="ministry", url="https://x.example/", selectors=Selectors(body="div.story"))
    assert selectors_missing(source, row) == (
        "selectors.body matched nothing since 2026-11-28 09:00 UTC"
    )


class _Row:
    """A synthetic source row: the note SelectorMisses.keep writes, and each write asked for (its
    shown selectors)."""

    def __init__(self) -> None:
        self.state = SourceState("x")
        self.writes: list[tuple[SelectorMiss, ...]] = []

    def note_selector_misses(
        self, key: str, misses: tuple[SelectorMiss, ...], runs: tuple[SelectorRun, ...] = ()
    ) -> None:
        self.writes.append(misses)
        self.state = SourceState(key, selectors_missed=misses, selector_runs=runs)


def _source(**selectors: str) -> Source:
    return Source(key="x", url="https://x.example/", selectors=Selectors(**selectors))


def _poll_pages(process: SelectorMisses, source: Source, row: _Row, minutes: int, *missed) -> None:
    """One poll at START + `minutes`: a page a minute, each missing the names given for it, then
    its end (`keep`)."""
    started = START + timedelta(minutes=minutes)
    for n, names in enumerate(missed):
        now = started + timedelta(minutes=n)
        process.note(source, f"https://x.example/{minutes}/{n}", names, now=now)
    process.keep(source, row.state, SimpleNamespace(sources=row), started=started)


@pytest.mark.parametrize(
    "pattern",
    [
        [("author",), ()],  # every other page signed
        [("author",), ("author",), ()],  # runs of LASTED_PAGES - 1 over hours
    ],
)
def test_a_selector_that_matches_some_pages_never_shows(pattern) -> None:
    """Synthetic: an author element only on signed stories, a page each 40 minutes for a day."""
    process, source, row = SelectorMisses(), _source(author=".byline"), _Row()
    assert len(pattern) <= LASTED_PAGES  # each run of misses is shorter than LASTED_PAGES
    for n in range(36):
        _poll_pages(process, source, row, n * 40, pattern[n % len(pattern)])
    # Its runs are written as they start and end (a poll at most once), never a note to show.
    assert 0 < len(row.writes) <= 36 and set(row.writes) == {()}


def test_a_broken_selector_shows_once_it_lasted_in_pages_and_time_from_the_first() -> None:
    """Synthetic: a page a poll, 20 minutes apart, missing `body`; then one that matches."""
    process, source, row = SelectorMisses(), _source(body="div.story"), _Row()
    for n in range(LASTED_PAGES):
        _poll_pages(process, source, row, n * 20, ("body",))
    assert set(row.writes) == {()}  # LASTED_PAGES pages, in under an hour: a run, not shown
    assert row.state.selector_runs == (SelectorRun("body", "div.story", START, LASTED_PAGES),)
    hour = SAY_AGAIN_AFTER // timedelta(minutes=1)
    _poll_pages(process, source, row, hour, ("body",))
    assert row.writes[-1] == (SelectorMiss("body", "div.story", START),)
    assert row.state.selector_runs == ()
    written = len(row.writes)
    _poll_pages(process, source, row, hour + 20, ("body",), ("body",))
    assert len(row.writes) == written  # unchanged: not written again
    _poll_pages(process, source, row, hour + 40, ())
    assert row.writes[written:] == [()] and row.state.selector_runs == ()


def test_a_note_of_the_config_s_former_css_is_dropped_and_its_run_starts_anew() -> None:
    """Synthetic: `div.old` missed long enough and is noted; a reload makes it `div.new`."""
    process, old, row = SelectorMisses(), _source(body="div.old"), _Row()
    for n in range(4):
        _poll_pages(process, old, row, n * 20, ("body",))
    assert row.state.selectors_missed == (SelectorMiss("body", "div.old", START),)
    new = _source(body="div.new")
    _poll_pages(process, new, row, 80, ("body",))
    assert row.writes[-1] == ()  # a note of another selector, and the new one's run just began
    for n in range(5, 8):
        _poll_pages(process, new, row, n * 20, ("body",))
    later = START + timedelta(minutes=80)
    assert row.state.selectors_missed == (SelectorMiss("body", "div.new", later),)


def test_pages_read_with_a_css_text_changed_before_the_poll_s_end_do_not_count() -> None:
    """Synthetic: a poll's pages read with `div.old`, and a reload before its end."""
    process, old, new = SelectorMisses(), _source(body="div.old"), _source(body="div.new")
    noted = (SelectorMiss("body", "div.new", START),)
    for n in range(4):
        process.note(old, f"https://x.example/{n}", ("body",), now=START + timedelta(minutes=n))
    # No page read with the current CSS text: the stored note of it stands as it was.
    row = SourceState("x", selectors_missed=noted)
    assert process.standing(new, row, started=START) == (noted, ())
    for n in range(4):
        now = START + timedelta(minutes=20 * n)
        process.note(old, f"https://x.example/{n}", ("body",), now=now)
    process.note(new, "https://x.example/5", ("body",), now=START + timedelta(hours=1))
    # One page of div.new's: a run of one page, not shown.
    run = SelectorRun("body", "div.new", START + timedelta(hours=1), 1)
    assert process.standing(new, SourceState("x"), started=START) == ((), (run,))
