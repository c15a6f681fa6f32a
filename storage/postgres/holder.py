"""Who holds a PostgreSQL archive's instance lock, as an SQLite lock file says it.

The lock's own session names its holder in `application_name` ("presswatch once pid 4242 on
web-1": the command, its process id and machine), and that session opened just before it took
the lock, so its `backend_start` in pg_stat_activity is when the holder started. Nothing is
written to the archive: a holder killed with -9 leaves no row behind, its session ends with it.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from ..lock import AlreadyRunning
from .fragments import APPLICATION

_NAME_BYTES = 63  # PostgreSQL keeps NAMEDATALEN - 1 bytes of an application_name, cutting the rest
_NAME = re.compile(rf"^{APPLICATION} (?P<role>\S+)(?: pid (?P<pid>\d+))?(?: on (?P<host>.+))?$")


@dataclass(frozen=True, slots=True)
class Holder:
    """The session that holds the lock: its command, process, machine and start."""

    server_pid: int
    client: str  # the address it connected from, or "a local socket"
    role: str = ""  # "once", "run", "backfill"; "" for a holder that did not say
    pid: int | None = None  # the presswatch process (an older presswatch did not say)
    host: str = ""
    since: datetime | None = None


def application_name(role: str, *, pid: int | None = None, host: str | None = None) -> str:
    """Return the name a lock's session gives itself: 'presswatch once pid 4242 on web-1'."""
    if not role:
        return APPLICATION
    host = socket.gethostname() if host is None else host
    name = f"{APPLICATION} {role} pid {os.getpid() if pid is None else pid} on {host}"
    # A long host name is clipped, not refused: the pid before it is what the operator needs.
    return name.encode()[:_NAME_BYTES].decode(errors="ignore")


def read_holder(conn: psycopg.Connection, lock: tuple[int, int]) -> Holder | None:
    """Return the session holding the advisory lock `lock` (the longest held), or None if none."""
    row = conn.execute(
        "select a.pid, coalesce(host(a.client_addr), 'a local socket'), "
        "coalesce(a.application_name, ''), clock_timestamp() - a.backend_start "
        "from pg_locks l join pg_stat_activity a on a.pid = l.pid "
        "where l.locktype = 'advisory' and l.classid = %s and l.objid = %s and l.granted "
        "order by a.backend_start limit 1",
        lock,
    ).fetchone()
    if row is None:  # released between our try and this read
        return None
    server_pid, client, name, age = row
    # The server's clock measures the age, ours places it: a skew between machines (the holder's,
    # the server's, ours) must not make a fresh round look hung, or a hung one fresh.
    since = datetime.now(UTC) - age
    said = _NAME.match(name)
    if said is None:  # not a name of ours: a session of another program took the same keys
        return Holder(server_pid, client, since=since)
    pid = int(said["pid"]) if said["pid"] else None
    return Holder(server_pid, client, said["role"], pid, said["host"] or "", since)


def already_running(url: str, holder: Holder | None) -> AlreadyRunning:
    """Return the error that names the holder of `url`'s lock, as the SQLite lock file's does."""
    if holder is None:
        who = "unknown"
    else:
        process = f"pid {holder.pid}" if holder.pid is not None else "pid unknown"
        machine = f" on {holder.host}" if holder.host else ""
        server = f"server pid {holder.server_pid}, connected from {holder.client}"
        who = f"{process}{machine}; {server}"
    return AlreadyRunning(
        f"another presswatch process ({who}) is using {url}; stop it first",
        pid=holder.pid if holder else None,
        role=holder.role if holder else "",
        since=holder.since if holder else None,
        host=holder.host if holder else "",
    )
