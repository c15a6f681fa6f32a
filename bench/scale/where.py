"""Where the PostgreSQL server's CPU per article goes: statements, backends, WAL and round trips.

Runs N workers on the scale bench's loopback feeds (as `python -m bench.scale`, one mode, one
run) on a server with pg_stat_statements (nested statements too, planning timed), and over the
window prints per new article: each statement's calls, execution and planning time (a
statement's time includes the statements and triggers it runs), the server's processes' CPU by
role (the archive's connection, procrastinate's pool and its LISTEN connection, the WAL writer,
the rest; from /proc, a backend named by the last statement it ran), the WAL written, and the
transactions committed. Not a timing bench: its figures are shares, to see what to cut.

With `--idle` no source falls due in the window (each is due every hour, after its first poll):
the figures are per second, of the worker (its own process), the server's processes and
statements, beside the SQLite service on the same sources (its process alone): what a worker
spends on its clock (heartbeats, dispatches, fetches, wake-ups) whether or not anything is due.

    python -m bench.scale.where --workers 1 --sources 300 --window 15 [--every S] [--root DIR]
    python -m bench.scale.where --idle --sources 300 --window 30
"""

from __future__ import annotations

import argparse
import collections
import shutil
import tempfile
import time
from pathlib import Path

import psycopg

from bench.scale import measure
from bench.scale.feeds import GrowingFeeds
from tests.fakes.postgres import Server, admin

_STATEMENTS = (
    "select calls, plans, total_exec_time, total_plan_time, "
    "regexp_replace(query, '\\s+', ' ', 'g') from pg_stat_statements "
    "order by total_exec_time + total_plan_time desc limit %s"
)
_BACKENDS = "select pid, backend_type, coalesce(query, '') from pg_stat_activity"


def role(backend_type: str, query: str) -> str:
    """Name a server process by its type and, for a client's backend, the last statement it ran."""
    if backend_type != "client backend":
        return backend_type or "postmaster"
    if query.lower().startswith("listen"):
        return "procrastinate's LISTEN connection"
    if "procrastinate" in query.lower():
        return "procrastinate's pool"
    return "the archive's connection"


class Snapshot:
    """The server's counters at one moment: CPU by process, WAL position, commits, roles."""

    def __init__(self, url: str, server: Server) -> None:
        self.cpu = measure.server_processes(server)
        with psycopg.connect(url, autocommit=True) as conn:
            self.roles = {pid: role(kind, q) for pid, kind, q in conn.execute(_BACKENDS)}
            self.wal, self.commits = conn.execute(
                "select pg_current_wal_lsn(), xact_commit from pg_stat_database "
                "where datname = current_database()"
            ).fetchone()
        self.articles = measure.articles(url)


def report(url: str, first: Snapshot, last: Snapshot, top: int, *, per: float = 0) -> list[str]:
    """Return the window's figures per new article (or per second over `per` seconds), as lines."""
    new = per or max(last.articles - first.articles, 1)
    unit = "second" if per else "article"
    by_role: collections.Counter[str] = collections.Counter()
    for pid, seconds in last.cpu.items():
        name = last.roles.get(pid) or first.roles.get(pid) or "postmaster or a gone process"
        by_role[name] += seconds - first.cpu.get(pid, 0.0)
    with psycopg.connect(url, autocommit=True) as conn:
        wal = conn.execute("select %s::pg_lsn - %s::pg_lsn", (last.wal, first.wal)).fetchone()[0]
        rows = conn.execute(_STATEMENTS, (top,)).fetchall()
    lines = [
        f"{last.articles - first.articles} new articles; WAL {float(wal) / new:.0f} bytes and "
        f"{(last.commits - first.commits) / new:.2f} commits per {unit}",
        f"server CPU ms per {unit} by process:",
        *(f"  {1000 * s / new:6.3f}  {name}" for name, s in by_role.most_common()),
        f"  {1000 * sum(by_role.values()) / new:6.3f}  in all",
        f"statements per {unit}: calls, plans, execution ms, planning ms, statement",
    ]
    for calls, plans, run, plan, query in rows:
        lines.append(
            f"  {calls / new:5.2f} {plans / new:5.2f} {run / new:6.3f} {plan / new:6.3f}  {query[:160]}"
        )
    return lines


def where(args: argparse.Namespace, server: Server, feeds: GrowingFeeds, folder: Path) -> str:
    """Run the workers, snapshot the server around the window, and return the report's lines."""
    url, procs = measure.warmed_workers(
        server, folder, name="looked_at", feeds=feeds.base_url, sources=args.sources,
        workers=args.workers, root=args.root, every=args.every,
    )  # fmt: skip
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("create extension if not exists pg_stat_statements")
            conn.execute("select pg_stat_statements_reset()")
        first = Snapshot(url, server)
        before = measure.sample(url, procs, server)
        time.sleep(args.window)  # the measuring window itself
        rate = measure.rate(before, measure.sample(url, procs, server))
        last = Snapshot(url, server)
    finally:
        measure.stop(procs)
    head = (
        f"{args.workers} worker(s), {args.sources} sources: {rate.per_second:.1f} articles/s, "
        f"workers {rate.cpu_ms:.2f} ms and server {rate.all_cpu_ms - rate.cpu_ms:.2f} ms per article"
    )
    return "\n".join([head, *report(url, first, last, args.top)])


def idle(args: argparse.Namespace, server: Server, feeds: GrowingFeeds, folder: Path) -> str:
    """Run the SQLite service, then the workers, on sources none of which falls due in the
    window; return their CPU per second, and the server's by process and statement."""
    lines = [f"{args.sources} sources due every hour, none due in the {args.window:.0f} s window"]
    for mode in (None, server):
        where_, procs = measure.warmed_workers(
            mode, folder, name="idle_pg" if mode else "idle_sqlite", feeds=feeds.base_url,
            sources=args.sources, workers=args.workers if mode else 1, root=args.root,
            every=3600, per_source=3,
        )  # fmt: skip
        try:
            if mode is None:
                before = measure.sample(where_, procs, None)
                time.sleep(args.window)
                after = measure.sample(where_, procs, None)
                seconds = after.at - before.at
                cpu = 1000 * (after.workers_cpu - before.workers_cpu) / seconds
                lines.append(f"SQLite service: {cpu:.2f} ms of CPU per second")
                continue
            with psycopg.connect(where_, autocommit=True) as conn:
                conn.execute("create extension if not exists pg_stat_statements")
                conn.execute("select pg_stat_statements_reset()")
            first, before = Snapshot(where_, server), measure.sample(where_, procs, server)
            time.sleep(args.window)
            after, last = measure.sample(where_, procs, server), Snapshot(where_, server)
        finally:
            measure.stop(procs)
        seconds = after.at - before.at
        cpu = 1000 * (after.workers_cpu - before.workers_cpu) / seconds
        parsers = 1000 * (after.parsers_cpu - before.parsers_cpu) / seconds
        lines.append(
            f"{args.workers} worker(s): {cpu:.2f} ms of CPU per second (parsers {parsers:.2f})"
        )
        lines += report(where_, first, last, args.top, per=seconds)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse the options, start a server with pg_stat_statements and the feeds, look, print."""
    parser = argparse.ArgumentParser(prog="python -m bench.scale.where", description=__doc__)
    parser.add_argument("--workers", type=int, default=1, help="PostgreSQL workers (default 1)")
    measure.load_options(parser)
    parser.add_argument("--top", type=int, default=30, help="statements listed (default 30)")
    parser.add_argument(
        "--idle", action="store_true", help="no source due: CPU per second, SQLite's beside"
    )
    args = parser.parse_args(argv)
    bindir = measure.server_binaries(parser)
    folder = Path(tempfile.mkdtemp(prefix="presswatch-where-"))
    server = Server(bindir, folder=folder)  # kept across the restart that loads the extension
    try:
        server.start()
        admin(server, "alter system set shared_preload_libraries = 'pg_stat_statements'")
        server.stop()
        server.start()
        # The extension's settings exist once it is loaded; a reload applies them.
        admin(server, "alter system set pg_stat_statements.track = 'all'")
        admin(server, "alter system set pg_stat_statements.track_planning = on")
        admin(server, "select pg_reload_conf()")
        with tempfile.TemporaryDirectory() as tmp, GrowingFeeds() as feeds:
            print((idle if args.idle else where)(args, server, feeds, Path(tmp)))
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
