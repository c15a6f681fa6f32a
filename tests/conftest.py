"""Shared fixtures; and a guard that fails any test reaching beyond the loopback interface."""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# python-telegram-bot 22 warns (an error under filterwarnings=error) when RetryAfter.retry_after
# is an int; its opt-in makes it a timedelta, which bot/delivery/telegram.py accepts too.
os.environ.setdefault("PTB_TIMEDELTA", "true")

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _loopback_only(address) -> None:
    """Raise when a socket address is not on the loopback interface (or a Unix socket)."""
    if not isinstance(address, tuple):
        return
    host = address[0]
    try:
        if ipaddress.ip_address(host.split("%", 1)[0]).is_loopback:
            return
    except ValueError:
        if host == "localhost":
            return
    raise RuntimeError(f"network access disallowed in tests: {address!r}")


def _guarded_connect(self, address):
    _loopback_only(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    _loopback_only(address)
    return _real_connect_ex(self, address)


def pytest_configure(config: pytest.Config) -> None:
    """Install the network guard for the whole session."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


@pytest.fixture
def fixtures_dir() -> Path:
    """Return the folder of saved pages."""
    return FIXTURES


@pytest.fixture
def sites():
    """A loopback server playing the source sites."""
    from tests.fakes.sites import FakeSites

    with FakeSites() as server:
        yield server


@pytest.fixture
def world():
    """A loopback copy of every shipped source's site (a module may narrow it to a few)."""
    from tests.support.world import World

    with World() as copy:
        yield copy


@pytest.fixture
def telegram(request):
    """The loopback fake Bot API, without flood control unless a `telegram` mark says otherwise.

    The mark's keywords go to FakeTelegram (e.g. `rate_limit=RateLimit()`, Telegram's limits);
    `virtual_time=True` puts its flood limits on the `time` fixture's clock.
    """
    from tests.fakes.telegram import FakeTelegram

    mark = request.node.get_closest_marker("telegram")
    options = {"rate_limit": None} | (mark.kwargs if mark else {})
    if options.pop("virtual_time", False):
        options["clock"] = request.getfixturevalue("time").monotonic
    with FakeTelegram(**options) as fake:
        yield fake


@pytest.fixture
def time():
    """Virtual time for a relay, its pacer and the fake Bot API's flood limits to share."""
    from tests.support.relay import FakeTime

    # A real millisecond per sleep lets the sends in flight over the socket get the CPU.
    return FakeTime(real=0.001)


@pytest.fixture(scope="session")
def postgres():
    """A throw-away PostgreSQL server for the session, with a migrated template database.

    Skipped when the machine has no PostgreSQL binaries, except in CI (CI=true), which must run
    them: .ci/run installs them.
    """
    from tests.support.postgres import Server, binaries, make_template

    bindir = binaries()
    if bindir is None:
        reason = "no PostgreSQL binaries (apt-get install postgresql, or set PRESSWATCH_PG_BIN)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    server = Server(bindir)
    try:
        server.start()
        make_template(server)
    except Exception:
        print(server.log())
        server.stop()
        raise
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _postgres_archive(postgres):
    """The session's PostgreSQL archive (one database, emptied before each test that uses it)."""
    from storage.postgres.backend import PostgresBackend
    from tests.support.postgres import new_database

    backend = PostgresBackend(new_database(postgres, "presswatch_test"))
    yield backend
    backend.close()


@pytest.fixture
def postgres_archive(_postgres_archive):
    """The session's PostgreSQL archive, emptied: a fresh archive for this test."""
    from tests.support.postgres import empty

    empty(_postgres_archive)
    return _postgres_archive


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request, tmp_path: Path):
    """A fresh archive's home: an SQLite file, then a PostgreSQL database (emptied)."""
    from storage.backends import SqliteBackend

    if request.param == "sqlite":
        return SqliteBackend(tmp_path / "archive.db")
    return request.getfixturevalue("postgres_archive")


@pytest.fixture
def store(backend):
    """A fresh archive, closed after the test: an SQLite file, then a PostgreSQL database."""
    archive = backend.open()
    yield archive
    archive.close()


@pytest.fixture
def restore_logging():
    """Undo the handlers and hooks an in-process main() installs."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, sys.excepthook, threading.excepthook)
    yield
    root.handlers[:], root.level = saved[0], saved[1]
    sys.excepthook, threading.excepthook = saved[2], saved[3]


@pytest.fixture(scope="session")
def fork_server():
    """One parsing fork server for the session: a sandbox's workers start from it at once."""
    from tests.support.parsing import fork_server

    with fork_server() as server:
        yield server
