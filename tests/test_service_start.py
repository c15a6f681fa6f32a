"""A SIGTERM that arrives while the service binds its `[service] http` address stops it: the
handlers of the command line's start-up end when the service's begin, with no gap between."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from bot.app import open_app
from bot.config import load_config
from bot.service import endpoint
from bot.service.scheduler import Service
from tests.support.service import free_port
from tests.support.world import write_config


def test_a_sigterm_during_the_bind_stops_the_service(world, tmp_path: Path, monkeypatch) -> None:
    path = write_config(tmp_path, world)
    path.write_text(path.read_text() + f'\n[service]\nhttp = "127.0.0.1:{free_port()}"\n')
    config = load_config(path, environ={})
    early = asyncio.Event()
    bind = endpoint.MonitorServer.start

    async def start(server) -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # systemctl stop, while the socket is being made
        while not (early.is_set() or service._stop.is_set()):
            await asyncio.sleep(0)  # until the loop has run whichever handler it has
        await bind(server)

    monkeypatch.setattr(endpoint.MonitorServer, "start", start)

    async def go() -> bool:
        nonlocal service
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, early.set)  # as `presswatch run` starts up
        async with open_app(config) as app:
            service = Service(app)
            running = asyncio.create_task(service.run())
            await asyncio.wait(
                [running, asyncio.create_task(service.started.wait())],
                return_when=asyncio.FIRST_COMPLETED,
            )
            stopping = service._stop.is_set()
            service.stop()  # ends the test's service either way
            await running
            return stopping

    service: Service | None = None
    # It was not: run() set its handlers after the bind's await, the start-up's caught the
    # SIGTERM, and the service ran on until systemd's SIGKILL 30 s later.
    assert asyncio.run(go()) and not early.is_set()
