"""A throw-away PostgreSQL server from the machine's binaries, on a Unix socket in a temporary
folder: the archive's database for the tests and the benchmarks.

`initdb` into a temporary folder, `pg_ctl start` with the socket in that folder and no TCP at
all, durability off (a throw-away database never outlives its run). The server refuses to run as
root, so as root every server command runs as the `postgres` user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

SEARCHED = ("17", "16", "15")
# The server's settings, the tests' and the benchmarks' alike (bench/archive/postgres.py starts
# its kept cluster with them, changing only what a run asks for): no TCP, durability off.
SETTINGS = {
    "listen_addresses": "''",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "60",
    "shared_buffers": "64MB",
}


def binaries() -> Path | None:
    """Return the folder of initdb and pg_ctl ($PRESSWATCH_PG_BIN, else Debian's), or None."""
    given = os.environ.get("PRESSWATCH_PG_BIN")
    folders = [Path(given)] if given else [Path(f"/usr/lib/postgresql/{v}/bin") for v in SEARCHED]
    return next((f for f in folders if (f / "initdb").exists() and (f / "pg_ctl").exists()), None)


class Server:
    """One PostgreSQL server in a temporary folder, reached through a socket in that folder."""

    def __init__(self, bindir: Path, *, folder: Path | None = None) -> None:
        # `folder`: a cluster to keep (the million-article bench's): made once, started again later.
        self.bindir, self.kept = bindir, folder is not None
        # Absolute: the socket folder given by -k is read relative to the data folder, and libpq
        # takes a relative host for a host name.
        self.folder = (folder or Path(tempfile.mkdtemp(prefix="presswatch-pg-"))).absolute()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.data = self.folder / "data"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            account = pwd.getpwnam("postgres")
            os.chown(self.folder, account.pw_uid, account.pw_gid)

    def start(self, *, settings: Mapping[str, str] | None = None) -> None:
        """Create the cluster (unless kept from before) and start the server with SETTINGS, those
        named in `settings` changed; pg_ctl waits until it accepts connections."""
        if not (self.data / "PG_VERSION").exists():
            self._run(
                "initdb",
                *("-D", str(self.data), "-U", "postgres", "--auth=trust"),
                *("-E", "UTF8", "--locale=C.UTF-8"),  # a UTF-8 locale: Cyrillic case folding
            )
        log = str(self.folder / "server.log")
        given = {**SETTINGS, **(settings or {})}
        options = " ".join([f"-k {self.folder}", *(f"-c {k}={v}" for k, v in given.items())])
        try:
            self._run(
                "pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "-t", "60", "start"
            )
        except RuntimeError as exc:
            # pg_ctl only says "Examine the log output": the reason is the log's last lines.
            tail = "\n".join(self.log().splitlines()[-10:])
            raise RuntimeError(f"{exc}server.log ends:\n{tail}") from None

    def url(self, database: str) -> str:
        """Return the URL of a database on this server (the socket's folder as the host)."""
        return f"postgresql://postgres@/{database}?host={self.folder}"

    def stop(self) -> None:
        """Stop the server and remove its folder (a kept cluster is shut down cleanly and kept)."""
        try:
            mode = "fast" if self.kept else "immediate"
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        finally:
            if not self.kept:
                shutil.rmtree(self.folder, ignore_errors=True)

    def log(self) -> str:
        """Return the server's log (for a failure message)."""
        path = self.folder / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _run(self, program: str, *args: str) -> None:
        """Run a server program (as postgres when we are root); raise with its output on failure."""
        command = [str(self.bindir / program), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def admin(server: Server, sql: str) -> None:
    """Run one statement in the server's `postgres` database (CREATE/DROP DATABASE)."""
    import psycopg

    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(sql)


def create_database(server: Server, name: str, *, template: str = "template1") -> str:
    """Create a fresh database (dropping one of that name) copied from `template`; return its URL."""
    admin(server, f"drop database if exists {name} with (force)")
    admin(server, f"create database {name} template {template}")
    return server.url(name)
