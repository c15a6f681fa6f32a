"""Time pack_digest against its version at another git revision, in one process.

By default that is main before the running sum (3e35a65); synthetic digests of 40, 200 and 1,000
entries (a look takes up to 1,000 rows of a digest chat); medians of interleaved runs, and the
two outputs compared on every run.

    flock /work/bench.lock python -m bench.digest_packing [--before REV] [--runs 7]
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.delivery import digest

ROOT = Path(__file__).resolve().parent.parent


def _reference(revision: str):
    """Import bot/delivery/digest.py as it was at `revision`, beside today's."""
    source = subprocess.run(
        ["git", "show", f"{revision}:bot/delivery/digest.py"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    path = Path(tempfile.mkdtemp()) / "digest_before.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("digest_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _synthetic(size: int) -> list[digest.DigestEntry]:
    """Return `size` synthetic entries of about 100 characters under three sources."""
    rnd = random.Random(size)
    sources = ("TASS", "BelTA", "МИД России")
    entries = []
    for n in range(size):
        title = f"Synthetic statement {n} on the talks " + "x" * rnd.randint(20, 70)
        plain = f"• {title} · 28.11.2026 12:00 MSK"
        entries.append(digest.DigestEntry(plain, plain, rnd.choice(sources)))
    return entries


def main() -> None:
    """Time both versions on each size and print the medians and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="3e35a65")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    before = _reference(args.before)
    head = digest.DigestHead("<b>Digest · 28.11.2026</b>\n1000 articles", "Digest · 28.11.2026")
    print(f"size  before (ms)  after (ms)  ratio  (medians of {args.runs}, {args.before} vs HEAD)")
    for size in (40, 200, 1000):
        entries = _synthetic(size)
        old_entries = [before.DigestEntry(e.html, e.plain, e.group) for e in entries]
        old_head = before.DigestHead(head.html, head.plain)
        timings: dict[str, list[float]] = {"before": [], "after": []}
        for _ in range(args.runs):  # interleaved: both see the same machine load
            for name, module, listed, heading in (
                ("before", before, old_entries, old_head),
                ("after", digest, entries, head),
            ):
                start = time.perf_counter()
                parts = module.pack_digest(listed, head=heading)
                timings[name].append(time.perf_counter() - start)
                texts = [(p.indexes, p.plain) for p in parts]
                if name == "before":
                    expected = texts
                elif texts != expected:
                    raise SystemExit(f"{size} entries: the parts differ")
        old, new = (statistics.median(timings[k]) * 1000 for k in ("before", "after"))
        print(f"{size:>4}  {old:>11.2f}  {new:>10.2f}  {old / new:>5.1f}×")


if __name__ == "__main__":
    main()
