"""Crash test: SIGKILL `presswatch run` while it posts, restart it each time, then compare what the
fake Telegram received with what the archive says: posts lost, posts doubled, rows left for the
operator.

Loopback servers play two feed sources (Atom with full text, so no article pages are fetched)
and the Bot API (flood limits matching the config: 60 a minute per chat; a 40 ms round trip per
send, half of it after the message is in the chat; by default 5% of sends answered 500 before
the fake takes them and 5% taken and then cut off without an answer). The service runs as a real
child process (`python -m bot run`). Kills alternate: one at a random moment after a send
starts, the next aimed at a send Telegram has carried out but not yet answered (the case only
the archive's `uncertain` state can cover). The fake says, for every kill, whether a send was in
flight. After the kills a last run finishes the work. Nobody plays the operator: a row left
`uncertain` is counted as left for the operator, and `presswatch outbox` must list it. With
policy "probe" a private channel of the fake is the probe chat; copies left in it are counted.

    python -m bench.crash                      # full form: 200 articles, 2 channels, 20 kills, all policies
    python -m bench.crash --articles 20 --kills 4 --policy probe
    python -m bench.crash --json ...           # the reports as JSON (tests/test_crash.py reads them)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

from bench.crash_report import CrashReport, goals_met, table
from tests.fakes.feeds import atom_feed
from tests.fakes.sites import FakeSites
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram, RateLimit

ROOT = Path(__file__).resolve().parent.parent
CHATS = ("-1001000000001", "-1001000000002")
PROBE_CHAT = "-1001000000099"  # a private channel only the bot posts in
POLICIES = ("hold", "resend", "probe")
SOURCES = ("wire-a", "wire-b")
_POST = re.compile(r"/(wire-[ab])/(\d+)")


def write_config(folder: Path, *, sites: FakeSites, telegram: FakeTelegram, policy: str) -> Path:
    """Write a config: two feed sources, two channels, fast pacing, the chosen uncertain policy."""
    sources = "".join(
        f'[[sources]]\nkey = "{key}"\nname = "Wire {key[-1].upper()}"\nkind = "feed"\n'
        f'url = "{sites.base_url}/{key}.xml"\nlang = "en"\nevery = "1h"\nbackfill = 1000\n'
        f"fetch_pages = false\nrobots = false\n\n"
        for key in SOURCES
    )
    channels = "".join(
        f'[[channels]]\nname = "ch{i}"\nchat_id = "{chat}"\n\n' for i, chat in enumerate(CHATS)
    )
    probe = f'probe_chat_id = "{PROBE_CHAT}"\n' if policy == "probe" else ""
    path = folder / "presswatch.toml"
    path.write_text(
        f'[storage]\npath = "{folder / "archive.db"}"\n\n'
        "[fetch]\nmin_delay_per_host = 0\nallow_private_addresses = true\nretries = 0\ntimeout = 10\n\n"
        f'[telegram]\napi_base_url = "{telegram.base_url}"\nuncertain = "{policy}"\n'
        f"{probe}"
        # Below the fake's 60 a minute: a restarted relay cannot know of sends it was killed in.
        "per_chat_per_minute = 50\nper_chat_interval = 0\nrequest_timeout = 5\n\n"
        + channels
        + sources,
        encoding="utf-8",
    )
    return path


def presswatch(*args: str) -> subprocess.CompletedProcess:
    """Run a short `presswatch` command as the operator would."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=ROOT,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def start_service(config: Path, log: Path) -> subprocess.Popen:
    """Start `presswatch run` as a child process, its log appended to `log`."""
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            env=_env(),
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )


def _env() -> dict[str, str]:
    """Return the child's environment: the fake's token, PTB's timedelta opt-in."""
    env = dict(os.environ, PRESSWATCH_TELEGRAM_TOKEN=DEFAULT_TOKEN, PTB_TIMEDELTA="true")
    env.pop("PRESSWATCH_CONFIG", None)
    return env


def _query(db: Path, sql: str) -> list[tuple]:
    """Read the archive as a second process would; nothing before the first migration."""
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # not migrated yet
        return []
    finally:
        conn.close()


def outbox_states(db: Path) -> Counter:
    """Count outbox rows per state."""
    return Counter(dict(_query(db, "select state, count(*) from outbox group by state")))


def finished(db: Path, expected: int, *, policy: str) -> bool:
    """True when every expected row exists and none is pending or sending, or uncertain and still
    to be resent (resend) or probed (probe)."""
    states = outbox_states(db)
    if sum(states.values()) != expected or states["pending"] or states["sending"]:
        return False
    if policy == "resend":
        return not states["uncertain"]
    if policy == "probe":
        sql = "select count(*) from outbox where state = 'uncertain' and settlement is null"
        return not _query(db, sql)[0][0]
    return True


def wait_until(predicate, *, timeout: float, every: float = 0.2) -> bool:
    """Poll `predicate` until it holds or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)  # polling interval of a condition, not a synchronisation guess
    return predicate()


def sends(telegram: FakeTelegram) -> int:
    """Count sendMessage calls the fake has answered (or closed)."""
    return sum(1 for call in telegram.requests if call.method == "sendMessage")


@dataclass(slots=True)
class Kills:
    """What the kills did, as the fake saw it at each kill."""

    made: int = 0
    aimed: int = 0
    in_send: int = 0
    after_delivery: int = 0
    interrupted: int = 0


def kill(proc: subprocess.Popen, telegram: FakeTelegram, kills: Kills, *, aimed: bool) -> None:
    """SIGKILL the service, counting whether a send was in flight at that moment.

    Frozen, no call starts, is carried out or answered, so what the fake reports is what was in
    flight when the signal went. An aimed kill first waits (up to 30 s) for a send the fake has
    carried out and not answered: the message is in the chat, its id never reaches the relay.
    """
    with telegram.frozen():
        if aimed:
            telegram.wait_for(lambda: telegram.sends_in_flight().accepted > 0, timeout=30)
        proc.send_signal(signal.SIGKILL)
        at_kill = telegram.sends_in_flight()
    proc.wait()
    kills.made += 1
    kills.aimed += aimed
    kills.in_send += at_kill.received > 0
    kills.after_delivery += at_kill.accepted > 0


def kill_repeatedly(
    config: Path,
    telegram: FakeTelegram,
    *,
    kills: int,
    rng: random.Random,
    max_delay: float,
    log: Path,
    expected: int,
    policy: str,
) -> Kills:
    """Start, wait for the next send, kill (every second kill aimed); stop once all is delivered."""
    db, done = config.parent / "archive.db", Kills()
    for n in range(kills):
        before = sends(telegram)
        proc = start_service(config, log)
        # Either a new send is answered (the moment to aim at) or nothing is left to send.
        telegram.wait_for(
            lambda: sends(telegram) > before or finished(db, expected, policy=policy),  # noqa: B023
            timeout=90,  # the lambda is called within this iteration only
        )
        if sends(telegram) == before:
            proc.terminate()
            proc.wait(timeout=30)
            break
        aimed = n % 2 == 1
        if not aimed:
            time.sleep(rng.uniform(0, max_delay))  # the experiment: a random moment, not a wait
        kill(proc, telegram, done, aimed=aimed)
        done.interrupted += outbox_states(db)["sending"]
    return done


def finish(config: Path, *, expected: int, policy: str, log: Path, timeout: float) -> None:
    """Run the service until the outbox has no work left, then stop it with SIGTERM."""
    proc = start_service(config, log)
    try:
        if not wait_until(
            lambda: finished(config.parent / "archive.db", expected, policy=policy), timeout=timeout
        ):
            raise RuntimeError(f"the service did not finish within {timeout:.0f}s; see {log}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def received(telegram: FakeTelegram) -> Counter:
    """Count the messages the fake accepted per (chat, article)."""
    found = Counter()
    for chat in CHATS:
        for message in telegram.messages_for(int(chat)):
            for key in set(_POST.findall(message.text)):
                found[(chat, key)] += 1
    return found


def archived(db: Path) -> dict[tuple[str, tuple[str, str]], str]:
    """Return the outbox state of each post, keyed like `received`."""
    rows = _query(
        db,
        "select o.chat_id, a.url, o.state from outbox o join articles a on a.id = o.article_id "
        "where o.kind = 'post'",
    )
    return {(chat, _POST.search(url).groups()): state for chat, url, state in rows}


def run_crash(
    folder: Path,
    *,
    articles: int = 200,
    kills: int = 20,
    policy: str = "hold",
    seed: int = 1,
    max_delay: float = 0.3,
    timeout: float = 600,
    fail: float = 0.05,
    drop: float = 0.05,
) -> CrashReport:
    """Run one crash experiment in `folder` and return its report."""
    rng, began = random.Random(seed), time.monotonic()
    per_source = articles // len(SOURCES)
    limits = RateLimit(per_chat_per_minute=60, per_chat_min_interval=0, global_per_second=30)
    # 40 ms per send, as from a server near Telegram: kills then land inside sends as they would.
    with FakeSites() as sites, FakeTelegram(rate_limit=limits, latency=0.04) as telegram:
        telegram.chaos(fail=fail, drop=drop, seed=seed)
        for key in SOURCES:
            sites.add(
                f"/{key}.xml",
                atom_feed(sites.base_url, key, per_source, rng),
                content_type="application/atom+xml",
            )
        config = write_config(folder, sites=sites, telegram=telegram, policy=policy)
        log, expected = folder / "service.log", per_source * len(SOURCES) * len(CHATS)
        made = kill_repeatedly(
            config,
            telegram,
            kills=kills,
            rng=rng,
            max_delay=max_delay,
            log=log,
            expected=expected,
            policy=policy,
        )
        finish(config, expected=expected, policy=policy, log=log, timeout=timeout)
        listing = presswatch("outbox", "--state", "uncertain", "--config", str(config))
        db = config.parent / "archive.db"
        got, states = received(telegram), archived(db)
        wanted = [(c, (k, str(n))) for c in CHATS for k in SOURCES for n in range(per_source)]
        left = [post for post in wanted if states.get(post) == "uncertain"]
        return CrashReport(
            policy=policy,
            articles=per_source * len(SOURCES),
            expected=expected,
            kills=made.made,
            aimed=made.aimed,
            kills_in_send=made.in_send,
            kills_after_delivery=made.after_delivery,
            interrupted=made.interrupted,
            failed_500=telegram.chaos_counts.get("fail", 0),
            dropped=telegram.chaos_counts.get("drop", 0),
            delivered=sum(1 for post in wanted if got[post]),
            lost=sum(1 for post in wanted if not got[post] and post not in left),
            doubled=sum(n - 1 for n in got.values() if n > 1),
            left_for_operator=len(left),
            left_arrived=sum(1 for post in left if got[post]),
            listed_uncertain=len(
                re.findall(r"^\d+\s+\S+\s+post\s+uncertain", listing.stdout, re.M)
            ),
            settled=dict(
                _query(
                    db,
                    "select settlement, count(*) from outbox "
                    "where settlement is not null group by settlement",
                )
            ),
            copies_left=len(telegram.live_ids(PROBE_CHAT)),
            throttled=sum(telegram.throttled.values()),
            seconds=time.monotonic() - began,
        )


def main(argv: list[str] | None = None) -> int:
    """Run the crash experiment for each policy and print a Markdown (or JSON) report."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.crash", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--policy", choices=(*POLICIES, "all"), default="all")
    parser.add_argument("--fail", type=float, default=0.05, help="share of sends answered 500")
    parser.add_argument(
        "--drop", type=float, default=0.05, help="share of sends taken, then cut off unanswered"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--max-delay",
        type=float,
        default=0.3,
        help="longest random wait (s) between a send and an unaimed kill",
    )
    parser.add_argument("--timeout", type=float, default=600, help="for the last, finishing run")
    parser.add_argument("--json", action="store_true", help="print the reports as JSON")
    args = parser.parse_args(argv)
    reports = []
    for policy in POLICIES if args.policy == "all" else (args.policy,):
        with TemporaryDirectory(prefix=f"crash-{policy}-") as folder:
            reports.append(
                run_crash(
                    Path(folder),
                    articles=args.articles,
                    kills=args.kills,
                    policy=policy,
                    seed=args.seed,
                    max_delay=args.max_delay,
                    timeout=args.timeout,
                    fail=args.fail,
                    drop=args.drop,
                )
            )
        print(table(reports[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in reports], indent=2))
    else:
        command = " ".join(["python -m bench.crash", *(argv if argv is not None else sys.argv[1:])])
        print(f"`{command}`\n\n{table(reports)}")
    return 0 if all(map(goals_met, reports)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
