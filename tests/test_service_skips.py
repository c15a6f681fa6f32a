"""The service's skipped polls: a paused or backing-off source is logged once per reason."""

from __future__ import annotations

import logging

import pytest

from storage import Store
from tests.support.inprocess import serve
from tests.support.world import World, write_config

IA = "interaffairs-en"


@pytest.fixture
def config(tmp_path):
    """A config of one synthetic source whose archive row says it is paused."""
    with World(keys=(IA,)) as world:
        path = write_config(tmp_path, world)
        store = Store.open(tmp_path / "archive.db")
        store.sources.set_paused(IA, paused=True)
        store.close()
        yield path


def test_a_source_skipped_round_after_round_is_logged_once_per_reason(config, caplog) -> None:
    async def scenario(service):
        source = next(s for s in service.app.config.sources if s.key == IA)
        for _ in range(3):  # three rounds of its interval while it stays paused
            await service._poll_job(source)
        service.app.store.sources.set_paused(IA, paused=False)
        await service._poll_job(source)  # polled again: the pause is over
        service.app.store.sources.set_paused(IA, paused=True)
        await service._poll_job(source)  # paused anew: said again

    with caplog.at_level(logging.INFO, logger="bot.service.scheduler"):
        serve(config, scenario)
    skips = [r for r in caplog.records if "skipped (paused" in r.getMessage()]
    assert len(skips) == 2 and all(r.source == IA and r.event == "skip" for r in skips)


def test_a_source_the_reload_changes_is_said_skipped_again(config, caplog) -> None:
    async def scenario(service):
        await service._poll_job(next(s for s in service.app.config.sources if s.key == IA))
        # Its interval changed: the operator reloaded for it and hears it is still paused.
        config.write_text(config.read_text().replace('every = "10m"', 'every = "20m"', 1))
        assert await service.reload()
        await service._poll_job(next(s for s in service.app.config.sources if s.key == IA))

    with caplog.at_level(logging.INFO, logger="bot.service.scheduler"):
        serve(config, scenario)
    assert len([r for r in caplog.records if "skipped (paused" in r.getMessage()]) == 2
