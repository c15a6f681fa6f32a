"""Many `presswatch run` workers on one PostgreSQL archive: three real workers on synthetic
loopback feeds and the fake Bot API; one SIGKILLed and one stopped mid-run; every article archived
once and posted once, and the survivor polls every source."""

from __future__ import annotations

import pytest

from tests.fakes.sites import FakeSites
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram, RateLimit
from tests.support.cli import presswatch
from tests.support.postgres import new_database, rows
from tests.support.service import RunningService, free_port
from tests.support.workers import CHATS, SOURCES, posted, publish, wait_until, write_config

pytestmark = pytest.mark.postgres


def test_three_workers_survive_a_sigkill_and_a_sigterm(postgres, tmp_path) -> None:
    url = new_database(postgres, "presswatch_workers")
    limits = RateLimit(per_chat_per_minute=60, per_chat_min_interval=0.04, global_per_second=30)
    with FakeSites() as sites, FakeTelegram(rate_limit=limits) as telegram:
        publish(sites, 3)
        ports: list[int] = []
        while len(ports) < 3:  # three different ports: two random picks can be the same one
            if (port := free_port()) not in ports:
                ports.append(port)
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
