"""Crashes, restarts and the operator's tools: SIGKILL mid-send loses nothing, a second instance
refuses to start, and `presswatch outbox` lists, retries and drops rows."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from scrapers.models import Article
from storage import Delivery, InstanceLock, OutboxState, Store
from tests.fakes.feeds import atom_feed
from tests.fakes.sites import FakeSites
from tests.fakes.telegram import DEFAULT_TOKEN
from tests.support.cli import ROOT
from tests.support.cli import presswatch as run_presswatch
from tests.support.postgres import storage_setting

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
presswatch = partial(run_presswatch, token=DEFAULT_TOKEN)


def crash_bench(*args: str) -> subprocess.CompletedProcess:
    """Run the crash benchmark as a program (tests never import bench) and return its run."""
    return subprocess.run(
        [sys.executable, "-m", "bench.crash", *args, "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("policy", "faults"),
    # 5% 500s and 5% dropped sends with a probe chat (the goal of issue 14). Without one the
    # short form stays as it was: "resend" backs off exponentially per attempt, and under random
    # faults its last rows can wait many minutes.
    [("hold", "0"), ("resend", "0"), ("probe", "0.05")],
)
def test_sigkill_mid_send_loses_no_post(policy, faults) -> None:
    run = crash_bench(
        *("--articles", "40", "--kills", "3", "--policy", policy, "--seed", "7"),
        *("--max-delay", "0.3", "--timeout", "300", "--fail", faults, "--drop", faults),
    )
    assert run.stdout, run.stderr
    [report] = json.loads(run.stdout)
    # Without a kill inside a send this run shows nothing about sends cut short.
    assert report["kills_in_send"] >= 1, report
    assert report["expected"] == 80 and report["lost"] == 0, report
    # Every row left for the operator is listed for the operator.
    assert report["listed_uncertain"] == report["left_for_operator"], report
    if policy == "hold":
        assert report["doubled"] == 0, report
        assert report["delivered"] + report["left_for_operator"] - report["left_arrived"] == 80
    elif policy == "resend":
        assert report["left_for_operator"] == 0 and report["delivered"] == 80, report
        assert report["doubled"] <= report["interrupted"] + report["dropped"], report
    else:  # exactly once, with nobody watching, and nothing left in the probe chat
        assert report["left_for_operator"] == 0 and report["delivered"] == 80, report
        assert report["doubled"] == 0 and report["copies_left"] == 0, report
        assert report["settled"].get("found", 0) >= 1, report
    assert run.returncode == 0, run.stderr


def _config(
    tmp_path: Path, feed_url: str = "http://127.0.0.1:9/feed.xml", *, storage: str = ""
) -> Path:
    path = tmp_path / "presswatch.toml"
    storage = storage or f'path = "{tmp_path / "archive.db"}"'
    path.write_text(
        f"[storage]\n{storage}\n\n"
        "[fetch]\nallow_private_addresses = true\nmin_delay_per_host = 0\nretries = 0\n\n"
        '[[channels]]\nname = "main"\nchat_id = "@presswatch_test"\n\n'
        f'[[sources]]\nkey = "wire-a"\nkind = "feed"\nurl = "{feed_url}"\nfetch_pages = false\n'
        "robots = false\n",
        encoding="utf-8",
    )
    return path


def test_a_second_instance_refuses_while_one_runs(tmp_path) -> None:
    with FakeSites() as sites:
        sites.add(
            "/wire-a.xml",
            atom_feed(sites.base_url, "wire-a", 2, random.Random(1)),
            content_type="application/atom+xml",
        )
        config = _config(tmp_path, f"{sites.base_url}/wire-a.xml")
        with InstanceLock(tmp_path / "archive.db"):
            refused = presswatch("once", "--config", str(config))
        allowed = presswatch("once", "--config", str(config))
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1] == (
        f"presswatch: another presswatch process (pid {os.getpid()}) is using "
        f"{tmp_path / 'archive.db'}; stop it first"
    )
    # Once the lock is free it polls (Telegram itself is out of reach here, which `once` reports).
    assert allowed.stderr.strip().splitlines()[-1].startswith("1 of 1 sources polled fine")


def _queue(store, titles: list[str]) -> None:
    """Archive an article of each title (ids 1, 2, …), each queued for the main channel."""
    for n, title in enumerate(titles):
        store.add_article(
            Article(
                url=f"https://tass.com/{n}", canonical_url=f"https://tass.com/{n}", title=title
            ),
            source_key="wire-a",
            now=NOW,
            deliveries=[Delivery("main", "@presswatch_test")],
        )


@pytest.fixture
def outbox_rows(tmp_path, store):
    """A config and an archive (conftest's, either backend) with one row in each state."""
    config = _config(tmp_path, storage=storage_setting(store, tmp_path / "archive.db"))
    _queue(store, ["Waiting", "Unsure", "Refused", "Done"])
    store.outbox.mark_uncertain(2, error="TimedOut: timed out", now=NOW)
    store.outbox.mark_failed(3, error="Forbidden: bot was kicked from the channel chat", now=NOW)
    store.outbox.mark_sent(4, message_id=8, now=NOW)
    return config, store


def _states(store: Store) -> dict[int, str]:
    return {r["id"]: r["state"] for r in store.db.query("select id, state from outbox")}


def test_outbox_lists_what_waits_is_unsure_or_failed(outbox_rows) -> None:
    config, _ = outbox_rows
    result = presswatch("outbox", "--config", str(config))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "ID",
        "CHANNEL",
        "KIND",
        "STATE",
        "ATTEMPTS",
        "NEXT",
        "ATTEMPT",
        "LAST",
        "ERROR",
        "TITLE",
    ]
    rows = {line.split()[0]: line for line in lines[1:4]}
    assert set(rows) == {"1", "2", "3"}
    assert "uncertain" in rows["2"] and "TimedOut" in rows["2"] and rows["2"].endswith("Unsure")
    assert "failed" in rows["3"] and "bot was kicked" in rows["3"]
    assert "1 pending, 1 uncertain, 1 failed" in result.stdout
    assert "outbox drop ID" in result.stdout


def test_outbox_retry_and_drop_change_only_rows_that_allow_it(outbox_rows) -> None:
    config, store = outbox_rows
    retried = presswatch("outbox", "retry", "--all-failed", "--config", str(config))
    dropped = presswatch("outbox", "drop", "2", "--config", str(config))
    refused = presswatch("outbox", "retry", "4", "--config", str(config))
    missing = presswatch("outbox", "drop", "4", "99", "--config", str(config))
    codes = (retried.returncode, dropped.returncode, refused.returncode, missing.returncode)
    assert codes == (0, 0, 1, 1)
    assert "1 row queued again" in retried.stdout and "1 row dropped" in dropped.stdout
    assert "1 of 1 row not queued again (4 is sent): only failed or uncertain" in refused.stderr
    # A mistyped id is named as missing, not as a row in the wrong state.
    assert "0 rows dropped" in missing.stdout
    assert "(4 is sent; no row 99)" in missing.stderr and len(missing.stderr.splitlines()) == 1
    assert _states(store) == {
        1: OutboxState.PENDING,
        2: OutboxState.DROPPED,
        3: OutboxState.PENDING,
        4: OutboxState.SENT,
    }
    assert store.db["outbox"].get(3)["last_error"].startswith("retry requested by the operator")


@pytest.mark.parametrize("args", [["retry"], ["drop", "--all-failed"]])
def test_outbox_usage_errors_exit_2(outbox_rows, args) -> None:
    config, store = outbox_rows
    result = presswatch("outbox", *args, "--config", str(config))
    assert result.returncode == 2 and result.stderr.startswith("presswatch outbox: ")
    assert _states(store) == {
        1: OutboxState.PENDING,
        2: OutboxState.UNCERTAIN,
        3: OutboxState.FAILED,
        4: OutboxState.SENT,
    }


def test_outbox_shows_how_each_uncertain_row_was_settled(tmp_path, store) -> None:
    config = _config(tmp_path, storage=storage_setting(store, tmp_path / "archive.db"))
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "[[channels]]", '[telegram]\nprobe_chat_id = "-1001000000099"\n\n[[channels]]'
        ),
        encoding="utf-8",
    )
    _queue(store, ["Found", "Absent", "Protected", "Waiting", "Edited"])
    probes = store.outbox.probes
    store.outbox.mark_uncertain([1, 2, 3, 4, 5], error="TimedOut: timed out", now=NOW)
    probes.found([1], message_id=57, note="found as message 57", now=NOW)
    probes.absent([2], note="not in the chat (messages 58, 59, 60 not found): sent again", now=NOW)
    reason = "the chat protects its content: its messages can't be forwarded"
    probes.undecided([3], reason=reason, resend_at=None, now=NOW)
    probes.repeat([5], error="TimedOut", at=NOW, now=NOW)
    result = presswatch("outbox", "--config", str(config))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    settled = {
        line.split()[0]: line
        for line in out.split("how uncertain rows were settled")[1].splitlines()[2:]
        if line.split()[1:2] == ["main"]
    }
    assert set(settled) == {"1", "2", "3", "5"}
    assert "found in the chat" in settled["1"] and settled["1"].endswith("message 57")
    assert "not in the chat, sent again" in settled["2"] and "58, 59, 60 not found" in settled["2"]
    assert "undecided, held" in settled["3"] and settled["3"].endswith("can't be forwarded")
    assert "edit made again" in settled["5"]
    assert "1 uncertain row waits for a probe of its chat" in out  # row 4
    assert "outbox drop ID" in out  # row 3 is the operator's
