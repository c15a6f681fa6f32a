"""`presswatch once` under cron gets what `run` gets: each poll below is a process of its own (its
own config load, archive connection, parsing sandbox and poll context, nothing carried over but
the archive), as a cron `once` every 10 minutes, a restarted service or another worker of a
fleet would be. On SQLite and on a throw-away PostgreSQL.

1. A selector that stopped matching shows in `presswatch status` once it missed on 3 new pages
   in a row over an hour, however many processes read them (bot/ingest/misses.py).
2. A listing that answers 304 to a process that never read it still has its due articles
   re-read, a correction under it kept as a new version, but never an article it no longer
   lists (bot/ingest/listed.py).

A synthetic press site on a loopback server; the clock is injected.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import poll_context
from bot.archive import open_backend
from bot.config import load_config
from bot.ingest.poll import poll_source
from scrapers.fetch import Fetcher, make_client
from scrapers.sandbox import Sandbox
from storage.sources import Sources
from tests.fakes.sites import FakeSites
from tests.support.ministry import (
    page,
    selector_config,
    status_note,
    synthetic_listing,
    synthetic_story,
)
from tests.support.postgres import new_database, point_at

START = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
CORRECTED = page(1).replace("</p>", " An earlier version misstated the round.</p>")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def archive(request) -> str | None:
    """Where the config points: None for its SQLite file, else a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return new_database(request.getfixturevalue("postgres"), "presswatch_cron")


def _config(tmp_path: Path, sites: FakeSites, archive: str | None, *, recheck: str) -> Path:
    """Write the one-source config every `once` reads (pointed at PostgreSQL when given)."""
    path = selector_config(tmp_path, sites, recheck=recheck)
    return path if archive is None else point_at(path, archive)


def _once(config_path: Path, fork_server, *, minutes: float) -> str:
    """Run one `once` poll of the source, `minutes` after START, in a context of its own; return
    the run's status."""
    config = load_config(config_path)

    async def go() -> str:
        with open_backend(config) as backend:
            store = backend.open()
            sandbox = Sandbox(deadline=10.0, memory_mb=512, server=fork_server)
            try:
                async with make_client(config.fetch) as client:
                    ctx = poll_context(
                        config,
                        fetcher=Fetcher(client, config.fetch),
                        store=store,
                        parser=sandbox,
                        clock=lambda: START + timedelta(minutes=minutes),
                    )
                    return str((await poll_source(config.sources[0], ctx)).status)
            finally:
                sandbox.close()
                store.close()

    return asyncio.run(go())


def test_a_selector_note_shows_under_cron_after_the_third_missed_page_over_an_hour(
    tmp_path, fork_server, capsys, archive, restore_logging
) -> None:
    """Every 10 minutes a `once`; new pages (their story in a bare <p>: body misses) at 0, 30
    and 60 minutes, one matching at 70. Before, each process counted its own pages: never 3."""
    said = "selectors.body matched nothing since 2026-11-28 09:00 UTC"
    with FakeSites() as site:
        for n in (1, 2, 4, 5):
            site.add(f"/press/{n}", page(n))
        site.add("/press/3", synthetic_story(3))
        config = _config(tmp_path, site, archive, recheck="0")
        listings = {0: (1,), 30: (2, 1), 60: (4, 2, 1), 70: (3, 4, 2, 1)}
        notes = {}
        for minutes in range(0, 80, 10):
            if minutes in listings:
                site.add("/press/", synthetic_listing(*listings[minutes]))
            assert _once(config, fork_server, minutes=minutes) == "ok"
            notes[minutes] = said in status_note(config, capsys)
    # Three missed pages only at 60 minutes, an hour after the first: shown from then until a
    # page matched it.
    assert notes == {0: False, 10: False, 20: False, 30: False, 40: False, 50: False,
                     60: True, 70: False}  # fmt: skip


def _listing_polls(tmp_path, fork_server, archive, steps) -> list:
    """Run a `once` per step (minutes after the first; the listing's numbers and ETag, or None:
    unchanged), release 1 corrected after the first; return per run (status, hits of
    /press/1 so far, article_versions rows)."""
    seen = []
    with FakeSites() as site:
        for n in (1, 2, 3):
            site.add(f"/press/{n}", page(n))
        config = _config(tmp_path, site, archive, recheck="6h")
        for minutes, listing in steps:
            if listing is not None:
                numbers, etag = listing
                site.add("/press/", synthetic_listing(*numbers), etag=etag)
            status = _once(config, fork_server, minutes=minutes)
            site.add("/press/1", CORRECTED)
            with open_backend(load_config(config)) as backend:
                store = backend.open()
                try:
                    (versions,) = store.db.execute(
                        "select count(*) from article_versions"
                    ).fetchone()
                finally:
                    store.close()
            seen.append((status, site.hits("/press/1"), versions))
    return seen


def test_a_304_to_a_fresh_process_re_reads_a_due_article_and_keeps_its_correction(
    tmp_path, fork_server, archive
) -> None:
    """Poll 1 reads the listing (ETag "v1") and both pages; release 1 is corrected. The `once`
    at 20 minutes gets a 304 and nothing is due yet; at 40 release 1 is due: re-read, its
    correction kept; at 50 not again. Before, a fresh process had no links on a 304."""
    steps = [(0, ((2, 1), '"v1"')), (20, None), (40, None), (50, None)]
    assert _listing_polls(tmp_path, fork_server, archive, steps) == [
        ("ok", 1, 0),
        ("not_modified", 1, 0),
        ("not_modified", 2, 1),
        ("not_modified", 2, 1),
    ]


def test_a_304_never_re_reads_links_of_another_reading_of_the_listing(
    tmp_path, fork_server, archive, monkeypatch, caplog
) -> None:
    """Release 1 leaves the listing (ETag "v2") in a poll whose links could not be kept: the
    archive still holds those of "v1", which list it. A 304 to "v2" takes none of them: release
    1, due and corrected, is not re-read (it may now be another story: a false version)."""

    def locked(self, key, listed) -> None:
        if listed.etag == '"v2"':
            raise OSError("disk full")
        keep(self, key, listed)

    keep = Sources.keep_listed_links
    monkeypatch.setattr(Sources, "keep_listed_links", locked)
    steps = [(0, ((2, 1), '"v1"')), (10, ((3, 2), '"v2"')), (40, None)]
    with caplog.at_level(logging.ERROR, logger="bot.ingest"):
        seen = _listing_polls(tmp_path, fork_server, archive, steps)
    assert seen == [("ok", 1, 0), ("ok", 1, 0), ("not_modified", 1, 0)]
    assert "ministry: could not keep its listing's links for a 304" in caplog.messages
