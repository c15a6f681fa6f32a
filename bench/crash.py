"""Crash test: SIGKILL `presswatch run` at random moments while it posts, restart it each time,
then count what the fake Telegram received: lost posts and duplicates.

Loopback servers play two feed sources (Atom with full text, so no article pages are fetched)
and the Bot API (flood limits matching the config: 60 a minute per chat). The service runs as a
real child process (`python -m bot run`). After the kills a last run finishes the work; with the
"hold" policy the operator then resolves the uncertain rows with `presswatch outbox` (drop what
arrived, retry the rest) and `presswatch once` sends the retried ones.

    python -m bench.crash                      # full form: 200 articles, 2 channels, 20 kills, both policies
    python -m bench.crash --articles 20 --kills 4 --policy hold
"""

from __future__ import annotations

import argparse
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

from fakes.sites import FakeSites
from fakes.telegram import DEFAULT_TOKEN, FakeTelegram, RateLimit

ROOT = Path(__file__).resolve().parent.parent
CHATS = ("-1001000000001", "-1001000000002")
SOURCES = ("wire-a", "wire-b")
_POST = re.compile(r"/(wire-[ab])/(\d+)")
_WORDS = (
    "ministry statement council summit treaty security cooperation defence meeting "
    "delegation agreement region border forces talks minister secretary president "
    "parliament economy trade energy grain exercise peacekeeping union assembly"
).split()


@dataclass(slots=True)
class CrashReport:
    """What one crash run found."""

    policy: str
    articles: int
    expected: int
    kills: int
    kills_in_send: int  # kills that found at least one row mid-send
    interrupted: int  # rows found mid-send after the kills (two chats send in parallel)
    delivered: int
    lost: int
    duplicates: int
    dropped: int  # uncertain rows the operator found delivered
    retried: int  # uncertain rows the operator sent again
    throttled: int
    seconds: float
    listed_uncertain: int  # uncertain rows `presswatch outbox` reported before resolution


def feed(base_url: str, key: str, count: int, rng: random.Random) -> bytes:
    """Return an Atom feed of `count` distinct full-text entries, newest first."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    entries = []
    for n in reversed(range(count)):
        words = " ".join(rng.choice(_WORDS) for _ in range(120))
        stamp = (start + timedelta(minutes=n)).isoformat()
        entries.append(
            f"<entry><id>urn:{key}:{n}</id><title>{key} release {n}: {words[:60]}</title>"
            f'<link href="{base_url}/{key}/{n}"/><updated>{stamp}</updated><published>{stamp}</published>'
            f'<content type="html">&lt;p&gt;{key} {n}. {words}.&lt;/p&gt;&lt;p&gt;{words[::-1]}.&lt;/p&gt;</content></entry>'
        )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{key}</title><id>urn:{key}</id><updated>{start.isoformat()}</updated>"
        + "".join(entries)
        + "</feed>"
    ).encode()


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
    path = folder / "presswatch.toml"
    path.write_text(
        f'[storage]\npath = "{folder / "archive.db"}"\n\n'
        "[fetch]\nmin_delay_per_host = 0\nallow_private_addresses = true\nretries = 0\ntimeout = 10\n\n"
        f'[telegram]\napi_base_url = "{telegram.base_url}"\nuncertain = "{policy}"\n'
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


def outbox_states(db: Path) -> Counter:
    """Count outbox rows per state, reading the database as a second process would."""
    if not db.exists():
        return Counter()
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return Counter(dict(conn.execute("select state, count(*) from outbox group by state")))
    except sqlite3.OperationalError:  # not migrated yet
        return Counter()
    finally:
        conn.close()


def finished(db: Path, expected: int, *, policy: str) -> bool:
    """True when every expected row exists and none is pending or sending (or, with resend, unsure)."""
    states = outbox_states(db)
    open_states = ("pending", "sending") + (("uncertain",) if policy == "resend" else ())
    return sum(states.values()) == expected and not any(states[s] for s in open_states)


def wait_until(predicate, *, timeout: float, every: float = 0.2) -> bool:
    """Poll `predicate` until it holds or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)  # polling interval of a condition, not a synchronisation guess
    return predicate()


def sends(telegram: FakeTelegram) -> int:
    """Count sendMessage calls the fake has seen."""
    return sum(1 for call in telegram.requests if call.method == "sendMessage")


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
) -> tuple[int, int, int]:
    """Start, wait for the next send, wait a random while, SIGKILL; return (kills made, kills that
    landed inside a send, rows they interrupted). Stops early once everything is delivered."""
    db, made, landed, inside = config.parent / "archive.db", 0, 0, 0
    for _ in range(kills):
        before = sends(telegram)
        proc = start_service(config, log)
        # Either a new send starts (the moment to aim at) or nothing is left to send.
        telegram.wait_for(
            lambda: sends(telegram) > before or finished(db, expected, policy=policy),  # noqa: B023
            timeout=90,  # the lambda is called within this iteration only
        )
        if sends(telegram) == before:
            proc.terminate()
            proc.wait(timeout=30)
            break
        time.sleep(rng.uniform(0, max_delay))  # the experiment: a random moment, not a wait
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        interrupted = outbox_states(db)["sending"]
        made += 1
        landed += interrupted > 0
        inside += interrupted
    return made, landed, inside


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


def resolve_uncertain(config: Path, telegram: FakeTelegram) -> tuple[int, int, int]:
    """Do what the operator does: list, drop what arrived, retry the rest, send; return counts."""
    listing = presswatch("outbox", "--state", "uncertain", "--config", str(config))
    listed = len(re.findall(r"^\d+\s+\S+\s+post\s+uncertain", listing.stdout, re.M))
    conn = sqlite3.connect(config.parent / "archive.db", timeout=10)
    rows = conn.execute(
        "select o.id, o.chat_id, a.url from outbox o join articles a "
        "on a.id = o.article_id where o.state = 'uncertain'"
    ).fetchall()
    conn.close()
    got = delivered(telegram)
    arrived = [str(i) for i, chat, url in rows if got[(chat, _key(url))]]
    missing = [str(i) for i, chat, url in rows if not got[(chat, _key(url))]]
    if arrived:
        presswatch("outbox", "drop", *arrived, "--config", str(config))
    if missing:
        presswatch("outbox", "retry", *missing, "--config", str(config))
        presswatch("once", "--config", str(config))
    return listed, len(arrived), len(missing)


def delivered(telegram: FakeTelegram) -> Counter:
    """Count messages per (chat, article) the fake accepted."""
    found = Counter()
    for chat in CHATS:
        for message in telegram.messages_for(int(chat)):
            for key in set(_POST.findall(message.text)):
                found[(chat, key)] += 1
    return found


def _key(url: str) -> tuple[str, str]:
    """Return (source, number) of an article URL."""
    match = _POST.search(url)
    return match.group(1), match.group(2)


def run_crash(
    folder: Path,
    *,
    articles: int = 200,
    kills: int = 20,
    policy: str = "hold",
    seed: int = 1,
    max_delay: float = 0.3,
    timeout: float = 600,
) -> CrashReport:
    """Run one crash experiment in `folder` and return its report."""
    rng, began = random.Random(seed), time.monotonic()
    per_source = articles // len(SOURCES)
    limits = RateLimit(per_chat_per_minute=60, per_chat_min_interval=0, global_per_second=30)
    # 40 ms per send, as from a server near Telegram: kills then land inside sends as they would.
    with FakeSites() as sites, FakeTelegram(rate_limit=limits, latency=0.04) as telegram:
        for key in SOURCES:
            sites.add(
                f"/{key}.xml",
                feed(sites.base_url, key, per_source, rng),
                content_type="application/atom+xml",
            )
        config = write_config(folder, sites=sites, telegram=telegram, policy=policy)
        log, expected = folder / "service.log", per_source * len(SOURCES) * len(CHATS)
        made, landed, inside = kill_repeatedly(
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
        listed, dropped, retried = (
            resolve_uncertain(config, telegram) if policy == "hold" else (0, 0, 0)
        )
        got = delivered(telegram)
        wanted = {
            (chat, (key, str(n))) for chat in CHATS for key in SOURCES for n in range(per_source)
        }
        return CrashReport(
            policy=policy,
            articles=per_source * len(SOURCES),
            expected=expected,
            kills=made,
            kills_in_send=landed,
            interrupted=inside,
            delivered=sum(1 for k in wanted if got[k]),
            lost=sum(1 for k in wanted if not got[k]),
            duplicates=sum(n - 1 for n in got.values() if n > 1),
            dropped=dropped,
            retried=retried,
            throttled=sum(telegram.throttled.values()),
            seconds=time.monotonic() - began,
            listed_uncertain=listed,
        )


def table(reports: list[CrashReport]) -> str:
    """Return the reports as a Markdown table."""
    head = (
        "| policy | articles | posts expected | kills | kills inside a send | sends interrupted "
        "| delivered | lost | duplicates | uncertain: dropped / retried by the operator | 429s "
        "| seconds |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"
    )
    rows = [
        f"| {r.policy} | {r.articles} | {r.expected} | {r.kills} | {r.kills_in_send} | {r.interrupted} | "
        f"{r.delivered} | {r.lost} | {r.duplicates} | {r.dropped} / {r.retried} | "
        f"{r.throttled} | {r.seconds:.0f} |"
        for r in reports
    ]
    return "\n".join([head, *rows])


def main(argv: list[str] | None = None) -> int:
    """Run the crash experiment for each policy and print a Markdown report."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.crash", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--policy", choices=("hold", "resend", "both"), default="both")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--max-delay",
        type=float,
        default=0.3,
        help="longest random wait (s) between the first send after a start and the kill",
    )
    args = parser.parse_args(argv)
    reports = []
    for policy in ("hold", "resend") if args.policy == "both" else (args.policy,):
        with TemporaryDirectory(prefix=f"crash-{policy}-") as folder:
            reports.append(
                run_crash(
                    Path(folder),
                    articles=args.articles,
                    kills=args.kills,
                    policy=policy,
                    seed=args.seed,
                    max_delay=args.max_delay,
                )
            )
        print(table(reports[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    print(
        f"`python -m bench.crash {' '.join(argv if argv is not None else sys.argv[1:])}`".replace(
            " `", "`"
        )
    )
    print()
    print(table(reports))
    return (
        0
        if all(
            r.lost == 0
            and (r.duplicates == 0 if r.policy == "hold" else r.duplicates <= r.interrupted)
            for r in reports
        )
        else 1
    )


if __name__ == "__main__":
    raise SystemExit(main())
