"""The parsing sandbox's worker processes, forked from a small server that imported the parsers once.

Neither the service's own process (it runs threads, so it is never forked) nor its main module
(the `presswatch` script imports the whole bot) reaches a worker: the server is a fresh
interpreter that imports `scrapers.jobs` and nothing else, and forks each worker from itself,
ready in milliseconds. A worker runs jobs from its socket under an address-space limit until
the socket closes; the parent kills it when a job passes its deadline.

A fork request may carry a pickled Finish (scrapers/sandbox.py): the server unpickles it (which
imports the caller's module that defines it) and warms it once per distinct Finish, before
forking, so its workers share what it loaded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import resource
import signal
import socket
import struct
import subprocess
import sys
import threading
import traceback
from multiprocessing.connection import Connection

from .outcomes import call

_PAGE = os.sysconf("SC_PAGE_SIZE")
_PID = struct.Struct("q")
_REQUEST = struct.Struct("qdq")  # memory limit in MB, deadline in s, size of the pickled Finish
_MAX_RECORDS = 20  # warnings of one job handed to the parent
_SERVER = (
    "import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
    "from scrapers.workers import serve_forks; serve_forks(int(sys.argv[2]))"
)


class ForkServer:
    """A server process that forks parsing workers on request (blocking calls: use a thread)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._stopped = False

    @property
    def pid(self) -> int | None:
        """Return the server's process id while it runs."""
        return self._process.pid if self._process and self._process.poll() is None else None

    def fork(
        self, *, memory_mb: int, deadline: float, finish: bytes = b""
    ) -> tuple[int, Connection]:
        """Start a worker (with the pickled Finish `finish`, if any); return its pid and our end
        of its socket. Raises OSError."""
        with self._lock:
            if self._stopped:
                raise OSError("the parsing fork server is stopped")
            if self._process is None or self._process.poll() is not None:
                self._start()
            ours, theirs = socket.socketpair()
            try:
                request = _REQUEST.pack(memory_mb, deadline, len(finish))
                socket.send_fds(self._socket, [request], [theirs.fileno()])
                self._socket.sendall(finish)
                (pid,) = _PID.unpack(_read(self._socket, _PID.size))
            finally:
                theirs.close()
            return pid, Connection(ours.detach())

    def stop(self) -> None:
        """End the server for good (its workers are the sandbox's to kill)."""
        with self._lock:
            self._stopped = True
            if self._socket is not None:
                self._socket.close()
            if self._process is not None:
                self._process.kill()
                self._process.wait()
            self._process = self._socket = None

    def _start(self) -> None:
        """Start the server process and wait until it has imported the parsers."""
        ours, theirs = socket.socketpair()
        command = [sys.executable, "-c", _SERVER, json.dumps(sys.path), str(theirs.fileno())]
        self._process = subprocess.Popen(
            command, pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, close_fds=True
        )
        theirs.close()
        self._socket = ours
        if _read(ours, 5) != b"ready":
            raise OSError("the parsing fork server did not start")


def serve_forks(control: int) -> None:
    """Fork a worker for each request on the control socket until the parent goes away."""
    import gc

    import scrapers.jobs  # noqa: F401 - what every worker needs, imported once for all

    sock = socket.socket(fileno=control)
    # Workers are reaped as they end (no zombies); Ctrl-C and SIGTERM are the parent's to handle.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    gc.freeze()  # the imported objects stay shared with every worker, untouched by collections
    sock.sendall(b"ready")
    # The last Finish received, by its digest: built once for all the workers forked with it (a
    # reload's new one replaces it; workers forked before keep their own copy).
    finishes: dict[bytes, object] = {}
    while True:
        message, fds, _, _ = socket.recv_fds(sock, _REQUEST.size, 1)
        if not message:
            return  # the parent ended
        message += _read(sock, _REQUEST.size - len(message))
        memory_mb, deadline, size = _REQUEST.unpack(message)
        payload = _read(sock, size)
        key = hashlib.sha256(payload).digest()
        if key not in finishes:
            finishes = {key: _built(payload)}
            gc.freeze()  # what it loaded stays shared with the workers, as the imports do
        pid = os.fork()
        if pid == 0:
            sock.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                serve_jobs(
                    Connection(fds[0]), memory_mb=memory_mb, deadline=deadline, finish=finishes[key]
                )
            finally:
                os._exit(0)
        os.close(fds[0])
        sock.sendall(_PID.pack(pid))


def _built(payload: bytes) -> object:
    """Return a pickled Finish, warmed (None for no Finish, or one that cannot be built)."""
    if not payload:
        return None
    try:
        finish = pickle.loads(payload)
        finish.warm()
    except Exception:  # noqa: BLE001 - the workers still parse; the caller finishes articles
        traceback.print_exc()  # to the service's stderr: the server has no log handlers
        return None
    return finish


def serve_jobs(conn: Connection, *, memory_mb: int, deadline: float, finish=None) -> None:
    """Run jobs from the socket until it closes: a worker's whole life.

    A request is (job, args, kwargs, finished); a finished one gets `finish` as its keyword
    argument of that name. Each answer is the job's outcome (see `call`), the warnings the job
    logged (the parent logs them under the same logger names) and the worker's resident size.
    """
    _limit_memory(memory_mb)
    logged = _Collector()
    logging.getLogger().addHandler(logged)
    while True:
        try:
            job, args, kwargs, finished = conn.recv()
        except (EOFError, OSError):
            return
        if finished:
            kwargs = {**kwargs, "finish": finish}
        # Orphaned (the parent killed outright), a stuck job still ends: SIGALRM's default
        # action stops the process well after the parent would have.
        signal.alarm(int(2 * deadline) + 5)
        outcome = call(job, args, kwargs)
        signal.alarm(0)
        try:
            conn.send((*outcome, logged.take(), rss()))
        except (OSError, ValueError):
            return


class _Collector(logging.Handler):
    """Keep the warnings a job logs, to hand them to the parent with its outcome."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep one record as (logger name, level, message)."""
        if len(self.records) < _MAX_RECORDS:
            self.records.append((record.name, record.levelno, record.getMessage()))

    def take(self) -> list[tuple[str, int, str]]:
        """Return the records kept since the last call, and forget them."""
        records, self.records = self.records, []
        return records


def rss() -> int:
    """Return this process's resident set size in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


def _limit_memory(memory_mb: int) -> None:
    """Cap the worker's address space at what it uses now plus `memory_mb` megabytes."""
    with open("/proc/self/statm") as f:
        size = int(f.read().split()[0]) * _PAGE
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = size + memory_mb * 2**20
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _read(sock: socket.socket, size: int) -> bytes:
    """Read exactly `size` bytes (fewer if the other end closed)."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data
