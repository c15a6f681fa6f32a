"""A worker on PostgreSQL dispatches on `[workers] dispatch_every`: built with it (procrastinate's
periodic registry), kept by a reload until a restart, and run by `presswatch run` on that period.
Synthetic configs with no sources on the test's PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.app import open_app
from bot.config import load_config
from bot.service.fleet import FleetService
from tests.support.postgres import new_database, rows
from tests.support.service import RunningService, free_port

pytestmark = pytest.mark.postgres
START = 1_796_601_600.0  # 2026-12-07 00:00:00 UTC, a whole minute


def _write(path: Path, url: str, every: str, *, http: str = "") -> Path:
    """Write a worker's config: the archive, the dispatcher's period, no sources or channels."""
    service = f'[service]\nhttp = "{http}"\n' if http else ""
    path.write_text(
        f'sources = []\nchannels = []\n[storage]\nurl = "{url}"\n{service}'
        f'[workers]\ndispatch_every = "{every}"\n',
        encoding="utf-8",
    )
    return path


def _period(service: FleetService) -> float:
    """Return the seconds between two runs of the worker's one periodic job, as procrastinate
    schedules it."""
    (periodic,) = service.jobs.periodic_registry.periodic_tasks.values()
    assert periodic.task.name == "presswatch.dispatch"
    first = periodic.croniter.get_next(float, start_time=START)
    return periodic.croniter.get_next(float, start_time=first) - first


@pytest.mark.parametrize("every", [1, 5])
def test_a_worker_registers_the_configured_period(postgres_archive, tmp_path, every) -> None:
    config = load_config(_write(tmp_path / "w.toml", postgres_archive.url, f"{every}s"), environ={})

    async def go() -> float:
        async with open_app(config, deliver=False) as app:
            return _period(FleetService(app))

    assert asyncio.run(go()) == every


def test_a_reload_keeps_the_period_until_a_restart_and_says_so(
    postgres_archive, tmp_path, caplog
) -> None:
    path = _write(tmp_path / "w.toml", postgres_archive.url, "5s")
    config = load_config(path, environ={})

    async def go() -> tuple[bool, float]:
        async with open_app(config, deliver=False) as app:
            service = FleetService(app)
            _write(path, postgres_archive.url, "1s")
            with caplog.at_level(logging.WARNING, logger="bot.service.scheduler"):
                return await service.reload(), _period(service), app.config.workers.dispatch_every

    # The running config keeps the period in use, as it keeps every setting built at start.
    assert asyncio.run(go()) == (True, 5, 5)
    assert (
        "reload: workers.dispatch_every changed; that takes effect at the next restart"
        in caplog.messages
    )


def test_a_running_worker_dispatches_on_the_configured_period(postgres, tmp_path) -> None:
    """procrastinate records each run's scheduled second (it keeps the latest): every 3 s, on
    seconds divisible by 3, where the default would give runs 2 s apart."""
    url = new_database(postgres, "presswatch_dispatch_period")
    port = free_port()
    config = _write(tmp_path / "w.toml", url, "3s", http=f"127.0.0.1:{port}")
    latest = "select max(defer_timestamp) from procrastinate_periodic_defers"
    seen: set[int] = set()
    with RunningService(config, port=port) as service:
        service.wait_for_line("taking jobs")

        def three_runs(body: dict) -> bool:
            """Note the latest run's second; hold once three were seen."""
            (stamp,) = rows(url, latest)[0]
            seen.update([stamp] if stamp is not None else [])
            return len(seen) >= 3

        service.wait_for_health(three_runs, timeout=30)
        assert service.stop() == 0
    stamps = sorted(seen)
    assert all(stamp % 3 == 0 for stamp in stamps), stamps
    assert min(b - a for a, b in zip(stamps, stamps[1:])) == 3, stamps
