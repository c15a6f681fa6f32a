"""`presswatch run` while a hostile page parses: how fast /healthz answers and SIGTERM stops it.

A loopback site lists one page of 1.67 million empty paragraphs (5 MB, the fetch cap: about a
minute in the parsers) beside a healthy loopback source; the parse deadline is set to 600 s so
the page is still in its worker throughout. Once the service has fetched the page (and a second
more, for it to reach a worker), /healthz is asked `asks` times, then SIGTERM is sent.
"""

from __future__ import annotations

import re
import signal
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from tests.fakes.hostile import SLOW_PAGE
from tests.fakes.sites import FakeSites
from tests.support.service import RunningService, free_port
from tests.support.world import World, write_config

GOOD = "interaffairs-en"


class _Site(FakeSites):
    """A loopback site that can be waited on until a path is requested."""

    def __init__(self) -> None:
        super().__init__()
        self._seen = threading.Condition()

    def record(self, seen) -> None:
        super().record(seen)
        with self._seen:
            self._seen.notify_all()

    def wait_for_hit(self, path: str, timeout: float) -> bool:
        """Block until `path` was requested; False on timeout."""
        with self._seen:
            return self._seen.wait_for(lambda: self.hits(path) > 0, timeout)


def _config(folder: Path, world: World, bad: _Site, port: int) -> Path:
    """Write the config: the healthy source, the hostile one, /healthz, a 600 s parse deadline."""
    config = write_config(folder, world)
    block = (
        f'\n[[sources]]\nkey = "bad"\nkind = "feed"\nurl = "{bad.base_url}/rss"\n'
        'link_pattern = "/news/"\ntimezone = "UTC"\nrobots = false\n'
    )
    text = config.read_text(encoding="utf-8").replace("\n# ----", block + "\n# ----", 1)
    text = re.sub(r"(?m)^parse_timeout = .*$", "parse_timeout = 600", text)
    config.write_text(text + f'\n[service]\nhttp = "127.0.0.1:{port}"\n', encoding="utf-8")
    return config


def _ask(port: int) -> float:
    """Return the seconds /healthz took to answer."""
    began = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as answer:
        answer.read()
    return time.perf_counter() - began


def one_run(asks: int) -> dict:
    """Start the service, ask /healthz while the page parses, stop it; return the timings."""
    with tempfile.TemporaryDirectory() as folder, World(keys=(GOOD,)) as world, _Site() as bad:
        bad.add(
            "/rss",
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Bad</title><item>'
            f"<title>Hostile</title><link>{bad.base_url}/news/1</link></item></channel></rss>",
            content_type="application/rss+xml",
        )
        bad.add("/news/1", SLOW_PAGE)
        port = free_port()
        with RunningService(_config(Path(folder), world, bad, port), port=port) as service:
            if not bad.wait_for_hit("/news/1", 120):
                raise RuntimeError("the service never fetched the page:\n" + "\n".join(service.log))
            time.sleep(1)  # the 5 MB body reaches a worker (a bench may wait; a test may not)
            answers = [_ask(port) for _ in range(asks)]
            began = time.perf_counter()
            service.proc.send_signal(signal.SIGTERM)
            code = service.proc.wait(timeout=120)
            stopped = time.perf_counter() - began
        cancelled = any(
            "poll bad" in line and "cancelled at shutdown" in line for line in service.log
        )
    return {"answers": answers, "stop": stopped, "code": code, "cut": cancelled}


def service_report(runs: list[dict], command: str) -> str:
    """Render the runs as Markdown."""
    answers = [a for run in runs for a in run["answers"]]
    stops = [run["stop"] for run in runs]
    rows = [
        f"| {n} | {statistics.median(r['answers']) * 1000:.1f} | {max(r['answers']) * 1000:.1f} | "
        f"{r['stop']:.2f} | {r['code']} | {'yes' if r['cut'] else 'no'} |"
        for n, r in enumerate(runs, start=1)
    ]
    return "\n".join(
        [
            "`presswatch run` while a 5 MB page of empty paragraphs parses (deadline 600 s):",
            "",
            "| run | /healthz median ms | /healthz max ms | SIGTERM to exit s | exit code | "
            "hostile poll cut at the stop |",
            "|---:|---:|---:|---:|---:|---|",
            *rows,
            "",
            f"All {len(answers)} answers: median {statistics.median(answers) * 1000:.1f} ms, max "
            f"{max(answers) * 1000:.1f} ms (goal 1 s); stop: median {statistics.median(stops):.2f}"
            f" s, max {max(stops):.2f} s (goal 6 s).",
            "",
            f"Command: `{command}`",
        ]
    )
