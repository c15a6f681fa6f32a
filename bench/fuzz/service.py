"""`presswatch run` while a hostile page parses: how fast /healthz answers and SIGTERM stops it.

A loopback site lists one page of 1.67 million empty paragraphs (5 MB, the fetch cap: about a
minute in the parsers) beside a healthy loopback source (synthetic: two press releases); the parse deadline is set to 600 s so
the page is still in its worker throughout. Once the service has fetched the page (and a second
more, for it to reach a worker), /healthz is asked `asks` times, then SIGTERM is sent.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.fakes.hostile import PAGE, SLOW_PAGE
from tests.fakes.sites import FakeSites

ROOT = Path(__file__).resolve().parents[2]


def _feed(site: FakeSites, *paths: str) -> str:
    """Return an RSS feed listing pages of the site."""
    items = "".join(
        f"<item><title>Release {n}</title><link>{site.base_url}{path}</link></item>"
        for n, path in enumerate(paths, start=1)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>S</title>{items}</channel></rss>'
    )


def _config(folder: Path, good: FakeSites, bad: FakeSites, port: int) -> Path:
    """Write the config: a healthy source, the hostile one, /healthz, a 600 s parse deadline."""
    sources = "".join(
        f'[[sources]]\nkey = "{key}"\nkind = "feed"\nurl = "{site.base_url}/rss"\n'
        'link_pattern = "/news/"\ntimezone = "UTC"\nrobots = false\n\n'
        for key, site in (("good", good), ("bad", bad))
    )
    config = folder / "presswatch.toml"
    config.write_text(
        f'[storage]\npath = "{folder / "archive.db"}"\n\n'
        "[fetch]\nallow_private_addresses = true\nmin_delay_per_host = 0\nretries = 0\n"
        "parse_timeout = 600\n\n"
        '[[channels]]\nname = "main"\nchat_id = "@presswatch_bench"\n\n'
        f'{sources}[service]\nhttp = "127.0.0.1:{port}"\n',
        encoding="utf-8",
    )
    return config


def _free_port() -> int:
    """Return a loopback port free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ask(port: int) -> float:
    """Return the seconds /healthz took to answer."""
    began = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as answer:
        answer.read()
    return time.perf_counter() - began


def one_run(asks: int) -> dict:
    """Start the service, ask /healthz while the page parses, stop it; return the timings."""
    with tempfile.TemporaryDirectory() as folder, FakeSites() as good, FakeSites() as bad:
        good.add("/rss", _feed(good, "/news/1", "/news/2"), content_type="application/rss+xml")
        for path in ("/news/1", "/news/2"):
            good.add(path, PAGE)
        bad.add("/rss", _feed(bad, "/news/1"), content_type="application/rss+xml")
        bad.add("/news/1", SLOW_PAGE)
        port, log = _free_port(), Path(folder) / "service.log"
        env = {k: v for k, v in os.environ.items() if k != "PRESSWATCH_TELEGRAM_TOKEN"}
        with log.open("w") as stderr:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bot",
                    "run",
                    "--config",
                    str(_config(Path(folder), good, bad, port)),
                ],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
            try:
                if not bad.wait_for_hit("/news/1", 120):
                    raise RuntimeError("the service never fetched the page:\n" + log.read_text())
                time.sleep(1)  # the 5 MB body reaches a worker (a bench may wait; a test may not)
                answers = [_ask(port) for _ in range(asks)]
                began = time.perf_counter()
                proc.send_signal(signal.SIGTERM)
                code = proc.wait(timeout=120)
                stopped = time.perf_counter() - began
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        lines = log.read_text().splitlines()
    cut = any("poll bad" in line and "cancelled at shutdown" in line for line in lines)
    return {"answers": answers, "stop": stopped, "code": code, "cut": cut}


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
