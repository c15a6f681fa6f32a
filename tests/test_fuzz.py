"""A bounded, seeded fuzz of parsing and polling runs clean: `python -m bench.fuzz` in short form.

Mutated real pages and feeds go through the parsing sandbox, and fuzzed polls through a loopback
site (bench/fuzz/). PRESSWATCH_FUZZ_CASES=10000 makes it the long run: that many pages, three in
ten as many feeds, one poll per 250 pages; PRESSWATCH_FUZZ_SEED picks other mutations.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.cli import ROOT

PAGES = int(os.environ.get("PRESSWATCH_FUZZ_CASES", "40"))
SEED = os.environ.get("PRESSWATCH_FUZZ_SEED", "16")


def test_mutated_pages_feeds_and_polls_raise_nothing_undocumented() -> None:
    polls = max(2, PAGES // 250)
    run = subprocess.run(
        [sys.executable, "-m", "bench.fuzz", "--pages", str(PAGES), "--feeds", str(3 * PAGES // 10)]
        + ["--polls", str(polls), "--seed", SEED, "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60 + PAGES,
        stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    for kind in ("pages", "feeds"):
        assert result[kind]["undocumented"] == [], result["report"]
        # The deadline is the backstop for crafted documents, not for mutated real ones.
        assert result[kind]["too_slow"] == 0, result["report"]
    assert result["pages"]["cases"] == PAGES
    polls_result = result["polls"]
    assert polls_result["cases"] == polls
    assert polls_result["raised"] == [], result["report"]
    assert polls_result["lost_baselines"] == [] and polls_result["missed_posts"] == []
