"""`presswatch run --http HOST:PORT`: several workers of one config on one machine, each with its
own /healthz and /metrics (port 0: any free one, named in the log), and `status --http` to ask
one of them, and `status` lists each live worker with its address; an address that is taken still
stops the start with exit 3."""

from __future__ import annotations

import argparse
import random
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.common import address
from tests.fakes.feeds import atom_feed
from tests.fakes.sites import FakeSites
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.support.cli import child_environment, presswatch
from tests.support.offline import closed_port, offline_config
from tests.support.postgres import new_database
from tests.support.service import ROOT, RunningService, free_port

_SERVING = re.compile(r"health and metrics on http://127\.0\.0\.1:(\d+)/healthz")


class Worker(RunningService):
    """A `presswatch run` child started with extra arguments (`--http …`)."""

    def __init__(self, config: Path, *args: str, port: int = 0) -> None:
        popen = subprocess.Popen

        def with_args(argv, **kwargs):  # the parent class starts `run --config PATH` only
            return popen([*argv, *args], **kwargs)

        subprocess.Popen = with_args
        try:
            super().__init__(config, port=port, token=DEFAULT_TOKEN)
        finally:
            subprocess.Popen = popen

    def serving(self) -> int:
        """Wait for the line naming where /healthz is served; return its port."""
        line = self.log[self.wait_for_line("health and metrics on")]
        self.port = int(_SERVING.search(line).group(1))
        return self.port


def _config(folder: Path, *, url: str, sites: FakeSites, telegram: FakeTelegram, port: int):
    """Write the one config every worker reads: a PostgreSQL archive, one feed, one channel."""
    sites.add("/wire.xml", atom_feed(sites.base_url, "wire", 2, random.Random(1)),
              content_type="application/atom+xml")  # fmt: skip
    path = folder / "presswatch.toml"
    path.write_text(
        f'[storage]\nurl = "{url}"\n\n[service]\nhttp = "127.0.0.1:{port}"\n\n'
        "[fetch]\nmin_delay_per_host = 0\nallow_private_addresses = true\nretries = 0\n\n"
        f'[telegram]\napi_base_url = "{telegram.base_url}"\n\n'
        '[[channels]]\nname = "main"\nchat_id = "-1001000000001"\n\n'
        f'[[sources]]\nkey = "wire"\nkind = "feed"\nurl = "{sites.base_url}/wire.xml"\n'
        'lang = "en"\nevery = "1h"\nrobots = false\nfetch_pages = false\n',
        encoding="utf-8",
    )
    return path


@pytest.mark.postgres
def test_two_workers_of_one_config_serve_health_on_one_machine(postgres, tmp_path) -> None:
    url = new_database(postgres, "presswatch_http")
    port = free_port()
    with FakeSites() as sites, FakeTelegram(rate_limit=None) as telegram:
        config = _config(tmp_path, url=url, sites=sites, telegram=telegram, port=port)
        with Worker(config) as first, Worker(config, "--http", "127.0.0.1:0") as second:
            try:
                assert first.serving() == port  # [service] http
                other = second.serving()  # --http 127.0.0.1:0: a free port, named in the log
                assert other not in (0, port)
                first.wait_for_line("taking jobs")
                second.wait_for_line("taking jobs")
                answers = [first.healthz()[1], second.healthz()[1]]
                names = {answer["worker"] for answer in answers}
                assert len(names) == 2  # two workers, each answering for itself
                # Each names the address it serves at, the port actually bound for port 0.
                bound = {answer["worker"]: answer["http"] for answer in answers}
                assert sorted(bound.values()) == sorted([f"127.0.0.1:{port}", f"127.0.0.1:{other}"])
                asked = presswatch(
                    "status", "--http", f"127.0.0.1:{other}", "--config", str(config),
                    token=DEFAULT_TOKEN,
                )  # fmt: skip
                assert f"(http://127.0.0.1:{other}/healthz)" in asked.stdout, asked.stdout
                assert "workers: 2 live" in asked.stdout
                # The registry's live-workers list: each worker's row names its own address.
                rows = {line.split()[0]: line.split()[1] for line in asked.stdout.splitlines()
                        if line.split() and line.split()[0] in names}  # fmt: skip
                assert rows == bound, asked.stdout
                second.proc.send_signal(signal.SIGHUP)  # a reload keeps the --http address
                second.wait_for_line("config reloaded")
                assert second.healthz()[1]["worker"] in names
                assert not any("[service] changed" in line for line in second.log)
                # [service] http answers no more: status names where the live worker answers.
                assert first.stop() == 0
                asked = presswatch("status", "--config", str(config), token=DEFAULT_TOKEN)
                assert asked.returncode == 1  # the configured address is still silent
                assert (
                    f"not answering at http://127.0.0.1:{port}/healthz" in asked.stdout
                    and f"; live workers serve /healthz at 127.0.0.1:{other} (" in asked.stdout
                ), asked.stdout
            except AssertionError:
                for worker in (first, second):
                    print("\n".join(worker.log[-30:]))
                raise
            assert second.stop() == 0


def test_run_whose_http_option_names_a_taken_address_exits_3_naming_the_option(
    tmp_path,
) -> None:
    config = offline_config(tmp_path, telegram=f"http://127.0.0.1:{closed_port()}/bot")
    with socket.socket() as other:  # another worker's endpoint
        other.bind(("127.0.0.1", 0))
        other.listen()
        taken = other.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "bot", "run", "--http", f"127.0.0.1:{taken}",
             "--config", str(config)],
            cwd=ROOT, env=child_environment(DEFAULT_TOKEN), capture_output=True, text=True,
            timeout=60, check=False,
        )  # fmt: skip
    assert result.returncode == 3, result.stderr
    told = [line for line in result.stderr.splitlines() if line.startswith("presswatch: ")]
    assert told == [
        f"presswatch: --http: cannot listen on 127.0.0.1:{taken} (Address already in use); "
        "whatever answers /healthz there is not this service: stop the other process or choose "
        "another --http; not started"
    ]


@pytest.mark.parametrize(
    ("text", "any_port", "parsed"),
    [
        ("127.0.0.1:9109", False, ("127.0.0.1", 9109)),
        ("[::1]:9109", False, ("::1", 9109)),
        ("127.0.0.1:0", True, ("127.0.0.1", 0)),
        ("127.0.0.1:0", False, "expected a port from 1 to 65535, got '127.0.0.1:0'"),
        ("127.0.0.1:65536", True, "expected a port from 0 to 65535, got '127.0.0.1:65536'"),
        ("9109", True, "expected 'host:port' such as '127.0.0.1:9108', got '9109'"),
        ("localhost:http", True, "expected 'host:port' such as '127.0.0.1:9108', got 'localhost:http'"),
    ],
)  # fmt: skip
def test_the_http_option_reads_host_and_port(text, any_port, parsed) -> None:
    if isinstance(parsed, tuple):
        assert address(any_port=any_port)(text) == parsed
    else:
        with pytest.raises(argparse.ArgumentTypeError, match=re.escape(parsed)):
            address(any_port=any_port)(text)
