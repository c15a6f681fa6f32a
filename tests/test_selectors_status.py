"""A source's selector that stops matching shows in `presswatch status`' note column, "since" the
first new page it missed on, and clears once a new page matches it (bot/ingest/misses.py).

Polls of a synthetic press site on a loopback server through the real poll path (its pages read
in the parsing sandbox's workers), each poll a process of its own as a restarted service or
another worker would be: the note lives in the archive. The poll's clock is injected.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import poll_context
from bot.chat.phrases import EN, RU
from bot.chat.status import status_lines
from bot.cli.main import main
from bot.config import load_config
from bot.ingest.poll import poll_source
from bot.service.overview import selectors_missing
from scrapers import Selectors, Source
from scrapers.fetch import Fetcher, make_client
from scrapers.sandbox import Sandbox
from storage import SelectorMiss, SourceState, Store
from storage.sources import Sources
from storage.status import Snapshot
from tests.fakes.sites import FakeSites
from tests.support.ministry import page, synthetic_listing, synthetic_story

START = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
CONFIG = """[storage]
path = "{db}"
[fetch]
min_delay_per_host = 0
allow_private_addresses = true
retries = 0
[[channels]]
name = "main"
chat_id = "@main"
[[sources]]
key = "ministry"
url = "{base}/press/"
robots = false
link_pattern = '/press/\\d+$'
recheck = "0"
[sources.selectors]
body = "{body}"
"""


def _config(tmp_path: Path, sites: FakeSites, body: str = "div.story") -> Path:
    """Write the one-source config the polls and `status` read."""
    path = tmp_path / "presswatch.toml"
    text = CONFIG.format(db=tmp_path / "archive.db", base=sites.base_url, body=body)
    path.write_text(text, encoding="utf-8")
    return path


def _poll(config_path: Path, fork_server, *, hours: float) -> None:
    """Poll the source once, `hours` after the first poll, with a poll context of its own."""
    config = load_config(config_path)

    async def go() -> None:
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
                run = await poll_source(config.sources[0], ctx)
                assert run.status == "ok", run.error
        finally:
            sandbox.close()
            store.close()

    asyncio.run(go())


def _note(config_path: Path, capsys) -> str:
    """Return what `presswatch status` prints in the source's row after its poll times."""
    main(["status", "--config", str(config_path)])  # its exit status: the service is not up
    [row] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("ministry ")]
    return row.split(" UTC  ", 2)[-1]


@pytest.fixture
def site():
    with FakeSites() as sites:
        for n in (1, 2, 4):
            sites.add(f"/press/{n}", page(n))  # the story is in a bare <p>: the selector misses
        sites.add("/press/3", synthetic_story(3))
        yield sites


def test_a_selector_that_stops_matching_shows_in_status_until_it_matches_again(
    site, tmp_path, fork_server, capsys, monkeypatch, restore_logging
) -> None:
    writes = []
    note = Sources.note_selector_misses
    monkeypatch.setattr(
        Sources,
        "note_selector_misses",
        lambda self, key, misses: writes.append(misses) or note(self, key, misses),
    )
    config = _config(tmp_path, site)
    said = "selectors.body matched nothing since 2026-11-28 09:00 UTC"
    site.add("/press/", synthetic_listing(2, 1))
    _poll(config, fork_server, hours=0)
    assert _note(config, capsys).endswith(said)
    site.add("/press/", synthetic_listing(4, 2, 1))
    _poll(config, fork_server, hours=0.5)
    assert _note(config, capsys).endswith(said)  # still since the first page it missed on
    site.add("/press/", synthetic_listing(3, 4, 2, 1))
    _poll(config, fork_server, hours=1)
    assert "selectors.body" not in _note(config, capsys)
    # Written when it changed (two pages missed in the first poll, one more in the second): twice.
    assert [[m.name for m in w] for w in writes] == [["body"], []]


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
    [english] = status_lines(snapshot, sources=["x"], channels=[], read={"x": source}, lang=EN)
    [russian] = status_lines(snapshot, sources=["x"], channels=[], read={"x": source}, lang=RU)
    assert english.endswith("; selectors.body matched nothing since 2026-11-28 09:00 UTC")
    assert russian.endswith("; selectors.body ничего не находит с 2026-11-28 09:00 UTC")
