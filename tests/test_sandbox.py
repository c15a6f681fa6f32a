"""The parsing sandbox: jobs in worker processes, a deadline, a memory limit, documented errors only."""

from __future__ import annotations

import asyncio
import logging
import os
import select
from datetime import UTC, datetime

import pytest

from scrapers import Link, NotAFeed, ParserFailed, Source, TooLargeToParse, TooSlowToParse
from scrapers.jobs import page_article, source_links
from scrapers.sandbox import InProcess
from tests.fakes.hostile import PAGE
from tests.support import parsing
from tests.support.parsing import run_in_sandbox

NOW = datetime(2026, 6, 1, tzinfo=UTC)
LINK = Link(url="https://ministry.example/news/1", canonical_url="https://ministry.example/news/1")
SOURCE = Source(key="ministry", url="https://ministry.example/news/")


async def extract(sandbox, html: str = PAGE):
    """Extract the test page in the sandbox."""
    read = await sandbox.run(
        LINK.url, page_article, LINK, source=SOURCE, now=NOW, html=html, url=LINK.url
    )
    return read.value


def test_a_page_is_extracted_in_a_worker_process(fork_server) -> None:
    async def work(sandbox):
        article = await extract(sandbox)
        return article, sandbox.size, {w.pid for w in sandbox._all}

    article, size, pids = run_in_sandbox(fork_server, work)
    assert article.title == "Statement by the Ministry" and "Geneva" in article.body
    assert size == 2 and len(pids) == 2 and os.getpid() not in pids


def test_a_documented_error_crosses_as_its_own_class(fork_server) -> None:
    feed = Source(key="feed", url="https://ministry.example/rss", kind="feed")

    async def work(sandbox):
        return await sandbox.run(
            feed.url, source_links, feed, content=b"plain text", text="", base_url=feed.url
        )

    with pytest.raises(NotAFeed, match="not an RSS or Atom feed"):
        run_in_sandbox(fork_server, work)


def test_a_job_past_its_deadline_is_killed_and_the_next_one_runs(fork_server) -> None:
    async def work(sandbox):
        with pytest.raises(TooSlowToParse, match="too slow to parse"):
            await sandbox.run("https://ministry.example/slow", parsing.spin)
        # The two workers are busy with one stuck job and one fresh one at a time: the pool
        # replaced the killed worker and still answers.
        return await asyncio.gather(*(extract(sandbox) for _ in range(4)))

    articles = run_in_sandbox(fork_server, work, deadline=1.0)
    assert [a.title for a in articles] == ["Statement by the Ministry"] * 4


def test_a_job_past_the_memory_limit_is_too_large_to_parse(fork_server) -> None:
    async def work(sandbox):
        with pytest.raises(TooLargeToParse, match="too large to parse"):
            await sandbox.run("https://ministry.example/huge", parsing.hog)
        return await extract(sandbox)

    assert run_in_sandbox(fork_server, work, memory_mb=128).title == "Statement by the Ministry"


def test_a_bug_in_a_job_is_logged_and_raised_as_parser_failed(fork_server, caplog) -> None:
    async def work(sandbox):
        await sandbox.run("https://ministry.example/bug", parsing.crash)

    with pytest.raises(ParserFailed, match="the parser failed .KeyError"):
        run_in_sandbox(fork_server, work)
    [record] = [r for r in caplog.records if r.name == "scrapers.sandbox"]
    assert record.levelno == logging.ERROR and "no such field" in record.getMessage()


def test_in_process_parsing_raises_the_same_errors() -> None:
    with pytest.raises(ParserFailed, match="KeyError"):
        asyncio.run(InProcess().run("https://ministry.example/bug", parsing.crash))


def test_warnings_a_job_logs_are_logged_in_the_parent(fork_server, caplog) -> None:
    async def work(sandbox):
        return await sandbox.run("https://ministry.example/odd", parsing.warn, "no body")

    assert run_in_sandbox(fork_server, work) == "no body"
    [record] = [r for r in caplog.records if r.name == "scrapers.extract"]
    assert record.levelno == logging.WARNING and record.getMessage() == "odd page: no body"


def test_closing_the_sandbox_kills_a_stuck_worker_and_cancels_its_job(fork_server) -> None:
    async def work(sandbox):
        await sandbox.start()
        stuck = asyncio.create_task(sandbox.run("https://ministry.example/slow", parsing.spin))
        waiting = [asyncio.create_task(extract(sandbox)) for _ in range(3)]
        while not sandbox._answers:  # the stuck job is with its worker
            await asyncio.sleep(0)
        exits = [os.pidfd_open(w.pid) for w in sandbox._all]  # readable once the process ends
        sandbox.close()
        results = await asyncio.gather(stuck, *waiting, return_exceptions=True)
        return exits, results

    exits, results = run_in_sandbox(fork_server, work, deadline=600.0)
    assert isinstance(results[0], asyncio.CancelledError)
    assert len(exits) == 2
    for fd in exits:  # killed, not waited for by close(): each ends soon after
        assert select.select([fd], [], [], 30)[0] == [fd]
        os.close(fd)
