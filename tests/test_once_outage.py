"""`once` in an outage: nothing polled because every source backs off after failures is a failure
(exit 1, as `status` says), and the summary tells backing off (next try) from paused."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.service.overview import when
from storage import RunRecord, RunStatus, Store
from tests.fakes.feeds import atom_feed
from tests.fakes.sites import FakeSites
from tests.support.cli import presswatch
from tests.support.offline import offline_config

LATER = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=2)


def backing_off(archive: Path, key: str, *, until: datetime) -> None:
    """Record a failed poll of `key` whose backoff lasts until `until`."""
    store = Store.open(archive)
    ago = datetime.now(UTC) - timedelta(minutes=1)
    failed = RunRecord(key, ago, ago, RunStatus.ERROR, error="connection failed")
    store.sources.record_run(failed, next_poll_at=until)
    store.close()


def paused(archive: Path, key: str, *, paused: bool = True) -> None:
    """Pause (or resume) `key` as /pause does."""
    store = Store.open(archive)
    store.sources.set_paused(key, paused=paused)
    store.close()


def summary(result) -> str:
    """Return the summary line `once` ends with."""
    return result.stderr.strip().splitlines()[-1]


def test_once_that_polls_nothing_while_sources_back_off_fails_and_says_when(tmp_path) -> None:
    config = offline_config(tmp_path, telegram="https://api.telegram.org/bot")
    backing_off(tmp_path / "archive.db", "alpha", until=LATER + timedelta(minutes=30))
    backing_off(tmp_path / "archive.db", "beta", until=LATER)
    result = presswatch("once", "--config", str(config))
    assert summary(result).startswith(
        f"0 of 2 sources polled fine (2 not polled: 2 backing off after failures, "
        f"next try {when(LATER)}); 0 new articles"
    )
    assert result.returncode == 1  # as `status`: a cron job must not see success
    assert presswatch("status", "--config", str(config)).returncode == 1


def test_paused_sources_are_told_apart_and_alone_fail_nothing(tmp_path) -> None:
    config = offline_config(tmp_path, telegram="https://api.telegram.org/bot")
    paused(tmp_path / "archive.db", "alpha")
    paused(tmp_path / "archive.db", "beta")
    result = presswatch("once", "--config", str(config))
    assert summary(result).startswith(
        "0 of 2 sources polled fine (2 not polled: 2 paused: alpha, beta (/resume KEY)); "
    )
    assert result.returncode == 0  # the operator paused them: nothing failed

    backing_off(tmp_path / "archive.db", "beta", until=LATER)
    paused(tmp_path / "archive.db", "beta")  # stays paused, and backs off too
    paused(tmp_path / "archive.db", "alpha", paused=False)
    backing_off(tmp_path / "archive.db", "alpha", until=LATER)
    mixed = presswatch("once", "--config", str(config))
    assert "(2 not polled: 1 backing off after failures, next try " in summary(mixed)
    assert "; 1 paused: beta (/resume KEY)); " in summary(mixed)
    assert mixed.returncode == 1


def test_a_source_backing_off_beside_one_that_answers_is_named_but_fails_no_round(
    tmp_path,
) -> None:
    with FakeSites() as sites:
        feed = atom_feed(sites.base_url, "wire", 2, random.Random(1))
        sites.add("/wire.xml", feed, content_type="application/atom+xml")
        config = tmp_path / "presswatch.toml"
        config.write_text(
            f'channels = []\n[storage]\npath = "{tmp_path / "archive.db"}"\n'
            "[fetch]\nallow_private_addresses = true\nmin_delay_per_host = 0\nretries = 0\n"
            '[[sources]]\nkey = "wire"\nkind = "feed"\n'
            f'url = "{sites.base_url}/wire.xml"\nfetch_pages = false\nrobots = false\n'
            '[[sources]]\nkey = "gone"\nkind = "feed"\nurl = "http://127.0.0.1:9/feed"\n',
            encoding="utf-8",
        )
        backing_off(tmp_path / "archive.db", "gone", until=LATER)
        result = presswatch("once", "--config", str(config))
    assert summary(result).startswith(
        f"1 of 2 sources polled fine (1 not polled: 1 backing off after failures, "
        f"next try {when(LATER)}); "
    )
    # README: exit 1 when a source failed; the poll that failed said so with its own exit 1.
    assert result.returncode == 0, result.stderr
