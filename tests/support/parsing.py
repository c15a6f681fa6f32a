"""The parsing sandbox in tests: one fork server per test session, and jobs that misbehave."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from scrapers.sandbox import Sandbox
from scrapers.workers import ForkServer


@contextmanager
def fork_server() -> Iterator[ForkServer]:
    """Start a fork server (its first worker imports the parsers), and stop it afterwards."""
    server = ForkServer()
    try:
        yield server
    finally:
        server.stop()


def run_in_sandbox(server: ForkServer, work: Callable[[Sandbox], Any], **limits: Any) -> Any:
    """Run `await work(sandbox)` with a fresh sandbox (deadline 10 s, 512 MB unless given)."""

    async def go():
        sandbox = Sandbox(
            deadline=limits.get("deadline", 10.0),
            memory_mb=limits.get("memory_mb", 512),
            workers=limits.get("workers", 2),
            server=server,
        )
        try:
            return await work(sandbox)
        finally:
            sandbox.close()

    return asyncio.run(go())


# Jobs for the sandbox's workers: module-level, so a worker imports them by name.


def spin() -> None:
    """Never return, holding the worker's interpreter as a backtracking regex would."""
    while True:
        pass


def hog() -> None:
    """Allocate until the worker's memory limit stops it."""
    grown = []
    while True:
        grown.append(bytearray(10**7))


def crash() -> None:
    """Fail as a bug would."""
    raise KeyError("no such field")


def warn(text: str) -> str:
    """Log a warning in the worker and return the text."""
    logging.getLogger("scrapers.extract").warning("odd page: %s", text)
    return text
