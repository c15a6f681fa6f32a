"""The service run in the test's own process on the console sender, beside a scenario."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from bot.app import open_app
from bot.config import load_config
from bot.service.scheduler import Service


def serve(config_path: Path, scenario, **service_options):
    """Run a Service in-process (console sender) and `scenario(service)` beside it, then stop it."""
    config = load_config(config_path, environ={})

    async def main():
        async with open_app(config, console=io.StringIO()) as app:
            service = Service(app, **service_options)
            running = asyncio.create_task(service.run())
            try:
                await asyncio.wait_for(service.started.wait(), 10)
                return await scenario(service)
            finally:
                service.stop()
                await asyncio.wait_for(running, 15)

    return asyncio.run(main())
