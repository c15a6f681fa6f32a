"""CPU of a new article's write on PostgreSQL (the client's and its backend's), two checkouts compared.

Stores N bench articles (the scale bench's text, two topics, a signature) one `add_article` at a
time, in a child process per run of the code in each `--root`, on one throw-away server, and
reads the process's CPU and its server backend's (/proc) over the N; runs interleaved, medians.

    python -m bench.scale.write --baseline DIR [--articles 1500] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.scale import measure
from tests.fakes.postgres import Server, create_database

_CHILD = """
import json, os, sys, time
from datetime import UTC, datetime
from bench.scale.feeds import entry
from scrapers.models import Article
from storage import TagKind, TopicReason
from storage.neardup import shingles, signature
from storage.postgres.backend import PostgresBackend
url, count = sys.argv[1], int(sys.argv[2])
store = PostgresBackend(url).open()
now = datetime(2026, 11, 28, 9, tzinfo=UTC)
minhash = signature(shingles("one two three four five six", size=3), num_perm=128)
store.near_duplicates(now=now)
reasons = [TopicReason("energy", TagKind.TOPIC, 0.5, ("oil",)),
           TopicReason("un", TagKind.ENTITY, 1.0, ("UN",))]
body = entry("wire-1", 7, "http://x")
backend = store.db.execute("select pg_backend_pid()").fetchone()[0]
def backend_cpu():
    fields = open(f"/proc/{backend}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
def add(n):
    link = f"https://x.org/{n}"
    store.add_article(Article(url=link, canonical_url=link, title=f"T {n}", body=body,
                              lead=body[:200]), source_key="a", now=now, reasons=reasons,
                      minhash=minhash)
for n in range(-200, 0):
    add(n)  # warm: prepared statements, caches
mine, theirs = time.process_time(), backend_cpu()
for n in range(count):
    add(n)
print(json.dumps([1000 * (time.process_time() - mine) / count,
                  1000 * (backend_cpu() - theirs) / count]))
"""


def run(server: Server, root: Path, name: str, count: int) -> tuple[float, float]:
    """Return (client ms, server ms) per article of one run of the code in `root`."""
    url = create_database(server, name)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, url, str(count)],
        cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"{root}: {done.stderr[-2000:]}")
    client, backend = json.loads(done.stdout.strip().splitlines()[-1])
    return client, backend


def main(argv: list[str] | None = None) -> int:
    """Parse the options, start a server, run both checkouts interleaved, print the medians."""
    parser = argparse.ArgumentParser(prog="python -m bench.scale.write", description=__doc__)
    parser.add_argument("--baseline", type=Path, required=True, help="the checkout to compare")
    parser.add_argument("--articles", type=int, default=1500, help="articles stored per run")
    parser.add_argument("--runs", type=int, default=5, help="runs of each checkout")
    args = parser.parse_args(argv)
    bindir = measure.server_binaries(parser)
    server = Server(bindir)
    server.start()
    roots = {"this checkout": measure.ROOT, "baseline": args.baseline}
    found: dict[str, list[tuple[float, float]]] = {name: [] for name in roots}
    try:
        for n in range(args.runs):
            for i, (name, root) in enumerate(roots.items()):
                found[name].append(run(server, root, f"write_{n}_{i}", args.articles))
    finally:
        server.stop()
    print(f"ms of CPU per article written, {args.runs} runs of {args.articles}, {time.ctime()}")
    for name, rows in found.items():
        client, backend = ([round(row[k], 3) for row in rows] for k in (0, 1))
        print(
            f"{name}: client {statistics.median(client):.3f} {client}, "
            f"server {statistics.median(backend):.3f} {backend}, "
            f"both {statistics.median(c + b for c, b in rows):.3f}"
        )
    print(f"load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
