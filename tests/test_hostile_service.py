"""`presswatch run` while a page takes forever to parse: /healthz answers, other sources poll, and
SIGTERM stops the service (issue 16: a regex held the interpreter 60 s, SIGTERM took 99.6 s)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request

from tests.fakes.hostile import SLOW_PAGE
from tests.fakes.sites import FakeSites
from tests.support.cli import ROOT
from tests.support.service import free_port
from tests.support.world import World, write_config

GOOD = "interaffairs-en"
# 5 MB of empty paragraphs, the fetch limit: close to a minute of parsing, far past this test.
FOREVER = SLOW_PAGE


def test_the_service_answers_and_stops_while_a_page_takes_forever_to_parse(tmp_path) -> None:
    with World(keys=(GOOD,)) as world, FakeSites() as bad:
        bad.add(
            "/rss",
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Bad</title><item>'
            f"<title>Hostile</title><link>{bad.base_url}/news/1</link></item></channel></rss>",
            content_type="application/rss+xml",
        )
        bad.add("/news/1", FOREVER)
        port = free_port()
        proc = _start(_config(tmp_path, world, bad, port))
        try:
            assert bad.wait_for_hit("/news/1", 60), _stderr(proc)
            # The page is in a worker now, for minutes: the service still answers at once.
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                health = json.loads(answer.read())
            assert health["scheduler"] == "running"
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=30)
            _, stderr = proc.communicate()
    assert code == 0, stderr
    # The other source polled in full meanwhile; the hostile page's poll was cut at the stop.
    assert re.search(rf"poll {GOOD} \S+: ok, 3 links, 3 new", stderr), stderr
    assert re.search(r"poll bad \S+: cancelled at shutdown", stderr), stderr
    assert "service stopped" in stderr


def _config(tmp_path, world: World, bad: FakeSites, port: int):
    """Write a config with the healthy source, the hostile one, /healthz, and no parse deadline."""
    config = write_config(tmp_path, world)
    text = config.read_text(encoding="utf-8")
    block = (
        f'\n[[sources]]\nkey = "bad"\nkind = "feed"\nurl = "{bad.base_url}/rss"\n'
        'link_pattern = "/news/"\ntimezone = "UTC"\nrobots = false\n'
    )
    text = text.replace("\n# ----", block + "\n# ----", 1)
    text = re.sub(r"(?m)^parse_timeout = .*$", "parse_timeout = 600", text)
    config.write_text(text + f'\n[service]\nhttp = "127.0.0.1:{port}"\n', encoding="utf-8")
    return config


def _start(config) -> subprocess.Popen:
    """Start `presswatch run` with its log on stderr."""
    env = {k: v for k, v in os.environ.items() if k != "PRESSWATCH_TELEGRAM_TOKEN"}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stderr(proc: subprocess.Popen) -> str:
    """Return the service's log if it has ended (why it never fetched the page)."""
    return proc.communicate()[1] if proc.poll() is not None else "still running"
