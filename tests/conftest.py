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
def store(tmp_path: Path):
    """An archive in a fresh SQLite file, closed after the test."""
    from storage import Store

    archive = Store.open(tmp_path / "archive.db")
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
