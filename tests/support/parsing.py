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
    """Run `await work(sandbox)` with a fresh sandbox (deadline 10 s, 512 MB, no Finish unless
    given)."""

    async def go():
        sandbox = Sandbox(
            deadline=limits.get("deadline", 10.0),
            memory_mb=limits.get("memory_mb", 512),
            workers=limits.get("workers", 2),
            server=server,
            finish=limits.get("finish"),
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


def finished(article, *, finish=None):
    """Return the article given, finished when the job is given a Finish."""
    return article if finish is None else finish(article)


def warn(text: str) -> str:
    """Log a warning in the worker and return the text."""
    logging.getLogger("scrapers.extract").warning("odd page: %s", text)
    return text


# Finishes for the sandbox (scrapers/sandbox.py): module-level classes, pickled by name.


class Tagged:
    """A Finish that returns (its name, the article's title): tells which Finish a worker has."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, article):
        return self.name, article.title

    def warm(self) -> None:
        """Nothing to load."""


class FailingOn:
    """A Finish that fails on articles whose URL contains `bad`, else finishes as `inner` does."""

    def __init__(self, inner, bad: str) -> None:
        self.inner, self.bad = inner, bad

    def __call__(self, article):
        if self.bad in article.url:
            raise ValueError(f"cannot finish {article.url}")
        return self.inner(article)

    def warm(self) -> None:
        """Warm the inner Finish."""
        self.inner.warm()


class Unbuildable:
    """A Finish whose warm-up fails (the fork server must go on without it)."""

    def __call__(self, article):
        return article

    def warm(self) -> None:
        """Fail as a Finish with a missing dependency would."""
        raise RuntimeError("no taxonomy here")
