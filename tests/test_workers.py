"""Many `presswatch run` workers on one PostgreSQL archive: three real workers on synthetic
loopback feeds and the fake Bot API; one SIGKILLed and one stopped mid-run; every article archived
once and posted once, and the survivor polls every source."""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.fakes.feeds import atom_feed
from tests.fakes.sites import FakeSites
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram, RateLimit
from tests.support.cli import presswatch
from tests.support.postgres import new_database, rows
from tests.support.service import RunningService, free_port

pytestmark = pytest.mark.postgres

SOURCES = [f"wire-{n}" for n in range(6)]
CHATS = ("-1001000000001", "-1001000000002")
PROBE = "-1001000000099"


def write_config(folder: Path, name: str, *, url: str, sites: FakeSites, telegram, port: int):
    """Write one worker's config: the shared archive and sources, its own /healthz port."""
    sources = "".join(
        f'[[sources]]\nkey = "{key}"\nkind = "feed"\nurl = "{sites.base_url}/{key}.xml"\n'
        'lang = "en"\nevery = "2s"\nbackfill = 1000\nfetch_pages = false\nrobots = false\n\n'
        for key in SOURCES
    )
    channels = "".join(
        f'[[channels]]\nname = "ch{i}"\nchat_id = "{c}"\n\n' for i, c in enumerate(CHATS)
    )
    path = folder / f"{name}.toml"
    path.write_text(
        f'[storage]\nurl = "{url}"\n\n[service]\nhttp = "127.0.0.1:{port}"\n\n'
        "[fetch]\nmin_delay_per_host = 0\nallow_private_addresses = true\nretries = 0\ntimeout = 5\n\n"
        f'[telegram]\napi_base_url = "{telegram.base_url}"\nuncertain = "probe"\n'
        f'probe_chat_id = "{PROBE}"\nper_chat_per_minute = 55\nper_chat_interval = 0.05\n'
        "request_timeout = 5\n\n" + channels + sources,
        encoding="utf-8",
    )
    return path


def publish(sites: FakeSites, count: int) -> None:
    """Serve every synthetic feed with its first `count` entries."""
    for key in SOURCES:
        sites.add(f"/{key}.xml", atom_feed(sites.base_url, key, count, random.Random(key)),
                  content_type="application/atom+xml")  # fmt: skip


def wait_until(predicate, *, timeout: float, what: str, every: float = 0.2) -> None:
    """Poll an observable condition until it holds, or fail naming it past `timeout`."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)  # the interval between looks, not a guess at when it will hold


def posted(telegram: FakeTelegram) -> Counter:
    """Count the messages per (chat, article link) the fake accepted."""
    return Counter(
        (chat, link)
        for chat in CHATS
        for message in telegram.messages_for(int(chat))
        for link in {part.split('"')[0] for part in message.text.split('href="')[1:]}
        if "/wire-" in link
    )


def test_three_workers_survive_a_sigkill_and_a_sigterm(postgres, tmp_path) -> None:
    url = new_database(postgres, "presswatch_workers")
    limits = RateLimit(per_chat_per_minute=60, per_chat_min_interval=0.04, global_per_second=30)
    with FakeSites() as sites, FakeTelegram(rate_limit=limits) as telegram:
        publish(sites, 3)
        ports = [free_port() for _ in range(3)]
        configs = [
            write_config(tmp_path, f"w{n}", url=url, sites=sites, telegram=telegram, port=p)
            for n, p in enumerate(ports)
        ]
        workers = [RunningService(c, port=p, token=DEFAULT_TOKEN) for c, p in zip(configs, ports)]
        try:
            for worker in workers:
                worker.wait_for_line("taking jobs")
            articles = lambda: rows(url, "select count(*) from articles")[0][0]  # noqa: E731
            wait_until(lambda: articles() == 18, timeout=30, what="the first 18 articles")
            health = [w.healthz()[1] for w in workers]
            assert len({h["worker"] for h in health}) == 3  # each names itself
            status = presswatch("status", "--config", str(configs[0]), token=DEFAULT_TOKEN)
            assert "workers: 3 live" in status.stdout, status.stdout + status.stderr
            assert all(h["worker"] in status.stdout for h in health)

            publish(sites, 6)  # new articles appear while the workers run
            doomed, stopped, survivor = workers
            doomed.proc.kill()  # SIGKILL: whatever it holds is taken over by the others
            assert stopped.stop() == 0  # SIGTERM drains and exits cleanly
            killed_at = rows(url, "select now()")[0][0]
            wait_until(lambda: articles() == 36, timeout=40, what="the 18 new articles")
            publish(sites, 8)  # and more after the kill: only the survivor can fetch them
            expected = {(c, f"{sites.base_url}/{k}/{n}") for c in CHATS for k in SOURCES for n in range(8)}  # fmt: skip
            wait_until(lambda: set(posted(telegram)) >= expected, timeout=40, what="every post")
            settled = "select count(*) from outbox where state not in ('sent')"
            wait_until(lambda: rows(url, settled)[0][0] == 0, timeout=30, what="a settled outbox")
            assert survivor.healthz()[1]["scheduler"] == "running"
        except AssertionError:
            for worker in workers:  # what each worker said, for the failure's report
                print("\n".join(worker.log[-40:]))
            raise
        finally:
            codes = [w.stop() for w in workers[2:]]
            for worker in workers:
                worker.__exit__(None, None, None)
        assert codes == [0]
        copies = posted(telegram)
        assert set(copies) == expected and max(copies.values()) == 1  # posted once, each
        assert rows(url, "select count(*), count(distinct url_key) from articles")[0] == (48, 48)
        late = rows(
            url, "select count(distinct source_key) from runs where started_at > %s", killed_at
        )
        assert late[0][0] == len(SOURCES)  # every source, the killed worker's too, kept polling
        assert telegram.throttled == {}  # Telegram's limits held across the workers together
