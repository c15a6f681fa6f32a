"""The `status` command: the service's health at a glance; and `reload`, which asks it to re-read
its config.

`status` reads through a read-only connection, so it works while `presswatch run` writes (WAL
readers don't block the writer; on PostgreSQL, one read-only snapshot), and asks the running
service's /healthz at `status --http` or `[service] http`, when either is given (else, on
PostgreSQL, each live worker's at the address it recorded, all at once; on SQLite, it says whether
`presswatch run` holds the archive's lock). Exit status 1 when a source is failing, a
channel has failed posts, posts wait for the operator (as `once` counts them, with those a stop
left `sending` that no process sends), Telegram refuses the token or does not answer, or the
service is down or does not answer its /healthz.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3

from bot.archive import open_backend
from bot.cli.common import EXIT_FAILED, EXIT_OK, Command, CommandError, address, table
from bot.config import Config, UncertainPolicy, load_config
from bot.config.checks import is_loopback_host
from bot.config.fields import authority
from bot.service.address import reachable
from bot.service.overview import (
    held_count,
    held_line,
    items_left_out,
    note,
    selectors_missing,
    when,
)
from bot.text.plural import counted
from storage import OutboxState, OutdatedArchive, RunStatus, StorageError, lock_holder
from storage.status import Snapshot, read_snapshot

_COLUMNS = (
    OutboxState.SENT,
    OutboxState.PENDING,
    OutboxState.SENDING,
    OutboxState.UNCERTAIN,
    OutboxState.FAILED,
)
# The roles of the processes that send (bot/cli/core.py): a row `sending` while one holds the
# SQLite archive is sent now; with none, a stop cut it (kill -9, a SIGTERM's 4.5 s run out).
_SENDERS = ("run", "once")


def _cmd_status(args: argparse.Namespace) -> int:
    """Print sources, channels and the service's state; exit 1 when something failed."""
    config = load_config(args.config)
    with open_backend(config) as backend:
        if not backend.exists():
            print(f"no archive at {backend} yet: run `presswatch once` or `presswatch run` first")
            return EXIT_FAILED
        try:
            # One read-only open: it checks the migrations, then reads.
            snapshot = read_snapshot(backend, full=True, deadline=10.0, current=True)
        except OutdatedArchive:
            raise  # told as the other commands tell it, by bot/cli/main.py: "presswatch: …"
        except (sqlite3.Error, StorageError) as exc:
            print(f"cannot read {backend}: {exc}")
            return EXIT_FAILED
    asked = args.http or config.service.http
    served = _served(snapshot) if asked is None and config.storage_url is not None else []
    if served:
        service, from_service = _ask_workers(config, served)
    else:
        service, from_service, answered = _ask_service(config, asked)
        if not answered:
            service += elsewhere_hint(snapshot, asked)
    print(f"archive: {backend}\nservice: {service}")
    for warning in config.warnings:
        print(f"warning: {warning}")
    print()
    print(source_table(config, snapshot) + "\n\n" + channel_table(config, snapshot))
    if config.storage_url is not None:
        print("\n" + worker_table(snapshot))
    problems = snapshot.failing(s.key for s in config.sources) + [
        f"channel {c}" for c in snapshot.failed_channels()
    ]
    if snapshot.token_refused and not any(p.startswith("Telegram") for p in from_service):
        problems.append(f"Telegram ({snapshot.token_refused} post(s) wait: the token was refused)")
    problems += from_service
    # An uncertain post held for the operator waits for good: `once` names it too.
    uncertain, sending = (
        sum(n for (_, state), n in snapshot.outbox.items() if state == wanted)
        for wanted in (OutboxState.UNCERTAIN, OutboxState.SENDING)
    )
    # Rows left `sending` with no process sending are what the next round marks uncertain.
    senders = len(snapshot.workers) + snapshot.once_running
    # An edit among them goes back to pending (made twice is harmless), no post held.
    cut = 0 if sends_now(config, live_workers=senders) else sending - snapshot.sending_edits
    policy = config.telegram.uncertain
    held = held_count(uncertain, snapshot.undecided, policy, cut=cut)
    holding = policy == UncertainPolicy.HOLD
    if held:
        problems.append(held_line(held, cut=cut if holding else 0))
    if cut and not holding:  # probed or sent again by that round: not the operator's
        print(f"\n{cut_line(cut, policy)}")
    if problems:
        print(f"\nneeds attention: {', '.join(problems)}")
    return EXIT_FAILED if problems else EXIT_OK


def sends_now(config: Config, *, live_workers: int) -> bool:
    """Return True when a presswatch process may be sending now: on SQLite one holding the
    archive as `run` or `once`; on PostgreSQL `live_workers` (a `once` counted among them)."""
    if config.storage_url is not None:
        return live_workers > 0
    holder = lock_holder(config.storage_path)
    return holder is not None and holder[1] in _SENDERS


def cut_line(cut: int, policy: UncertainPolicy) -> str:
    """Say that `cut` posts a stop left `sending` become uncertain at the next round, and then what."""
    then = {
        UncertainPolicy.HOLD: "held for you",
        UncertainPolicy.PROBE: "settled by a probe of their chat",
        UncertainPolicy.RESEND: "sent again",
    }[policy]
    return (
        f"{counted(cut, 'post')} cut mid-send by a stop: the next `once` or `run` marks "
        f"{'it' if cut == 1 else 'them'} uncertain, then {then}"
    )


def _args_status(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--http",
        type=address(any_port=False),
        metavar="HOST:PORT",
        help="ask the /healthz here instead of [service] http (a worker started with `run --http`)",
    )


def source_table(config: Config, snapshot: Snapshot) -> str:
    """Return one aligned row per configured source."""
    rows = [
        (
            "SOURCE",
            "STATE",
            "LAST POLL",
            "LAST SUCCESS",
            "POLLS/24H",
            "ERRORS/24H",
            "ARTICLES",
            "NOTE",
        )
    ]
    for source in config.sources:
        row = snapshot.source(source.key)
        polls = sum(n for (key, _), n in snapshot.polls.items() if key == source.key)
        notes = (note(row) or _items_note(snapshot, source.key), selectors_missing(source, row))
        rows.append(
            (
                source.key,
                row.condition,
                when(row.last_poll_at),
                when(row.last_success_at),
                str(polls),
                str(snapshot.polls.get((source.key, RunStatus.ERROR), 0)),
                str(snapshot.articles.get(source.key, 0)),
                "; ".join(n for n in notes if n),
            )
        )
    return table(rows)


def _items_note(snapshot: Snapshot, key: str) -> str:
    """Say that polls of the last day left items out, and where to read why."""
    left_out = items_left_out(snapshot, key)
    return f"{left_out}: `presswatch sources` says why" if left_out else ""


def channel_table(config: Config, snapshot: Snapshot) -> str:
    """Return one aligned row per channel (personal alerts folded into one row)."""
    names = [c.name for c in config.channels]
    names += sorted({ch for ch, _ in snapshot.outbox} - set(names))
    rows = [
        ("CHANNEL", "SENT", "PENDING", "SENDING", "UNCERTAIN", "FAILED", "FLOOD WAITING", "HELD")
    ]
    for name in names:
        counts = [str(snapshot.outbox.get((name, st), 0)) for st in _COLUMNS]
        # HELD: pending rows waiting for their time (digest hour, quiet hours), not late ones.
        waits = (snapshot.flood_waiting.get(name, 0), snapshot.held.get(name, 0))
        rows.append((name, *counts, *map(str, waits)))
    return table(rows)


def worker_table(snapshot: Snapshot) -> str:
    """Return one aligned row per live worker (PostgreSQL: each `presswatch run` beats every 5 s)."""
    if not snapshot.workers:
        return "workers: none live (no `presswatch run` has beaten in the last 30 s)"
    rows = [("WORKER", "HTTP", "STARTED", "LAST SEEN")]
    # HTTP: the address its /healthz answers at (`status --http` asks it); "-": none served.
    rows += [
        (worker, http or "-", started, seen) for worker, started, seen, http in snapshot.workers
    ]
    return f"workers: {len(snapshot.workers)} live\n" + table(rows)


def answering_elsewhere(snapshot: Snapshot, asked: tuple[str, int] | None) -> str:
    """Name the /healthz addresses of live workers other than the one asked, if any."""
    # Workers started with `run --http` each serve at their own address, not at [service] http.
    # A worker bound to 0.0.0.0 records this machine's name: asking 0.0.0.0:PORT asks it too.
    here = {authority(*asked), reachable(*asked)} if asked else set()
    others = [
        http
        for worker, *_, http in snapshot.workers
        if http and http not in here and not _elsewhere_on_loopback(worker, _host(http))
    ]
    return ", ".join(others)


def elsewhere_hint(snapshot: Snapshot, asked: tuple[str, int] | None) -> str:
    """Return the service line's hint naming where live workers answer, when any other does."""
    elsewhere = answering_elsewhere(snapshot, asked)
    return (
        f"; live workers serve /healthz at {elsewhere} (`status --http HOST:PORT` asks one)"
        if asked and elsewhere
        else ""
    )


_ASKED = 10  # live workers asked at most, all at once, within _ask_service's _TIMEOUT
_TIMEOUT = 5.0  # a busy service (a backfill, a slow disk) still answers; a dead one fails at once


def _served(snapshot: Snapshot) -> list[tuple[str, tuple[str, int]]]:
    """Return each live worker that serves /healthz, with the address it recorded."""
    served = []
    for worker, _, _, http in snapshot.workers:
        host, _, port = (http or "").rpartition(":")
        if host and port.isdigit():
            served.append((worker, (host.strip("[]"), int(port))))
    return served


def _ask_workers(
    config: Config, served: list[tuple[str, tuple[str, int]]]
) -> tuple[str, list[str]]:
    """Ask each live worker that serves /healthz at the address it recorded (PostgreSQL, none
    configured): a line each, and their problems, each naming its worker."""
    shown = served[:_ASKED]
    # Its loopback is its own machine's: asked from here it would be this machine's.
    away = [_elsewhere_on_loopback(worker, http[0]) for worker, http in shown]
    answers = iter(_ask_all(config, [http for (_, http), far in zip(shown, away) if not far]))
    lines, problems = [], []
    for (worker, _), far in zip(shown, away):
        if far:
            lines.append(f"\n  {worker}: serves /healthz on its own machine's loopback; ask there")
            continue
        line, theirs, _ = next(answers)
        lines.append(f"\n  {worker}: {line}")
        problems += [f"{worker}: {problem}" for problem in theirs]
    more = len(served) - _ASKED
    tail = f"\n  {more} more: `status --http HOST:PORT` asks one" if more > 0 else ""
    return f"{away.count(False)} live worker(s) asked" + "".join(lines) + tail, problems


def _ask_all(config: Config, addresses: list[tuple[str, int]]) -> list[tuple[str, list[str], bool]]:
    """Ask the /healthz at each address at once: their answers in order, ten dead workers
    costing one timeout in all rather than one each."""
    if not addresses:
        return []
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - PostgreSQL status only

    # A thread each: urllib blocks, and at most _ASKED of them wait on the network at once.
    with ThreadPoolExecutor(max_workers=len(addresses)) as pool:
        return list(pool.map(lambda http: _ask_service(config, http), addresses))


def _host(http: str) -> str:
    """Return the host of a recorded "host:port" address, without an IPv6 address's brackets."""
    return http.rpartition(":")[0].strip("[]")


def _elsewhere_on_loopback(worker: str, host: str) -> bool:
    """Return True for a worker ("host:pid") of another machine that serves on a loopback address."""
    import socket  # noqa: PLC0415 - only a PostgreSQL status asking its workers needs it

    # A host name of no loopback is reachable from here, as recorded.
    return is_loopback_host(host) and worker.rpartition(":")[0] != socket.gethostname()


def _ask_service(config: Config, http: tuple[str, int] | None) -> tuple[str, list[str], bool]:
    """Ask the running service's /healthz at `http` (when given): its line, its own problems, and
    whether it answered (an HTTP error is an answer; no /healthz asked counts as answered)."""
    if not http:
        return _from_lock(config), [], True
    import urllib.error  # noqa: PLC0415 - ~40 ms to import; only a configured /healthz needs it
    import urllib.request  # noqa: PLC0415
    from http.client import HTTPException  # noqa: PLC0415

    host, port = http
    url = f"http://{host}:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT) as answer:  # noqa: S310 - a configured local URL
            body = json.load(answer)
    except urllib.error.HTTPError as exc:
        body = json.load(exc) if exc.headers.get_content_type() == "application/json" else {}
        reasons = ", ".join(body.get("reasons", [])) or f"HTTP {exc.code}"
        return f"{reasons} ({url})", [f"service down ({reasons})"], True
    except (OSError, ValueError) as exc:
        # The config says a service answers here: silence is a service down, not a detail.
        reason = getattr(exc, "reason", exc)
        return f"not answering at {url} ({reason})", [f"service not answering ({url})"], False
    except HTTPException as exc:
        # Something listens there but does not speak HTTP (BadStatusLine); a hang-up without a
        # word (RemoteDisconnected) is an OSError as well, caught above as silence.
        reason = f"{type(exc).__name__}: {str(exc)!r}"
        return (
            f"not answering properly at {url} ({reason})",
            [f"service not answering properly ({url})"],
            False,
        )
    telegram = body.get("telegram") or {}
    problems = (
        [f"Telegram ({telegram.get('detail')})"]
        if telegram.get("state") in ("refused", "unreachable")
        else []
    )
    line = f"{body.get('status')}, scheduler {body.get('scheduler')}"
    return f"{line}, Telegram {telegram.get('detail', 'unknown')} ({url})", problems, True


def _from_lock(config: Config) -> str:
    """Say whether `presswatch run` holds the SQLite archive, when no /healthz can be asked."""
    hint = "set [service] http to let `status` ask it for its health"
    if config.storage_url is not None:
        # Workers on other machines hold no local lock; live ones that serve /healthz are asked.
        return (
            "unknown (no live worker serves /healthz: start them with `run --http HOST:PORT`, "
            "or set [service] http)"
        )
    holder = lock_holder(config.storage_path)
    if holder is None:
        return f"not running (no presswatch process holds {config.storage_path})"
    pid, role = holder
    if role != "run":
        return f"not running (`presswatch {role or '?'}`, pid {pid}, holds the archive)"
    return f"running (pid {pid}; {hint})"


def _cmd_reload(args: argparse.Namespace) -> int:
    """Ask the running service to re-read its config (SIGHUP to the process holding the lock)."""
    config = load_config(args.config)  # a config that does not load is refused here already
    if config.storage_url is not None:
        # Workers of a PostgreSQL archive may run on many machines: no local lock file names them.
        raise CommandError(
            "the archive is PostgreSQL: send SIGHUP to each worker (kill -HUP PID, "
            "systemctl reload presswatch or docker compose kill -s HUP)"
        )
    holder = lock_holder(config.storage_path)
    if holder is None:
        raise CommandError(f"no presswatch service is running on {config.storage_path}")
    pid, role = holder
    if role != "run":
        raise CommandError(
            f"the process holding {config.storage_path} (pid {pid}) is `presswatch "
            f"{role or '?'}`, not the service: nothing to reload"
        )
    os.kill(pid, signal.SIGHUP)
    print(f"asked the service (pid {pid}) to reload {config.path}; its log says what changed")
    return EXIT_OK


COMMANDS: list[Command] = [
    Command(
        "status",
        "show each source's and channel's health at a glance; exit 1 if any failed",
        "presswatch status --config presswatch.toml\n"
        "  presswatch status --http 127.0.0.1:9109 --config presswatch.toml  "
        "# ask the worker started with run --http",
        _cmd_status,
        _args_status,
    ),
    Command(
        "reload",
        "make the running service re-read its config (as SIGHUP does); the outbox and schedule stay",
        "presswatch reload --config presswatch.toml",
        _cmd_reload,
    ),
]
