"""`presswatch run` in a child process, as an operator starts it: its log, its /healthz, its stop."""

from __future__ import annotations

import json
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.cli import child_environment

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """Return a loopback port free right now, below the kernel's ephemeral range.

    A port the kernel hands out for bind(0) is in the range it also takes outgoing connections'
    source ports from, so another test's connection could take it before the service binds it
    ("Address already in use"); below that range only another bind can.
    """
    lowest = _ephemeral_start()
    for _ in range(50):
        port = random.randrange(max(1024, lowest - 12000), lowest)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue  # taken: try another
            return port
    with socket.socket() as s:  # every try taken: whatever the kernel gives
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ephemeral_start() -> int:
    """Return the first port of the kernel's ephemeral range (Linux; 32768 elsewhere)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def start_child(command: str, config: Path, *args: str, token: str | None) -> subprocess.Popen:
    """Start `presswatch COMMAND ARGS --config CONFIG` as an operator would, its output piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", command, *args, "--config", str(config)],
        cwd=ROOT,
        env=child_environment(token),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class RunningService:
    """A `presswatch run` child; its stderr and stdout lines are collected as they come."""

    def __init__(self, config: Path, *, port: int, token: str | None = None) -> None:
        self.port, self.config = port, config
        self.proc = start_child("run", config, token=token)
        self.log: list[str] = []
        self.out: list[str] = []
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._collect, args=(stream, lines), daemon=True)
            for stream, lines in ((self.proc.stderr, self.log), (self.proc.stdout, self.out))
        ]
        for reader in self._readers:
            reader.start()

    def _collect(self, stream, lines: list[str]) -> None:
        for line in stream:
            with self._changed:
                lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for_line(self, text: str, *, after: int = 0, timeout: float = 30) -> int:
        """Wait for a log line containing `text` (from line `after` on); return its index."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: self._find(text, after) is not None or self.proc.poll() is not None,
                timeout,
            )
            index = self._find(text, after)
        assert found and index is not None, f"no log line with {text!r}:\n" + "\n".join(self.log)
        return index

    def _find(self, text: str, after: int) -> int | None:
        return next((i for i, line in enumerate(self.log[after:], after) if text in line), None)

    def healthz(self) -> tuple[int, dict]:
        """Return /healthz's status and body."""
        url = f"http://127.0.0.1:{self.port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)

    def wait_for_health(self, check, *, timeout: float = 30) -> dict:
        """Ask /healthz until `check(body)` holds; return that body."""
        deadline = time.monotonic() + timeout
        body: dict = {}
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                body = self.healthz()[1]
            except OSError:  # not listening yet
                body = {}
            if body and check(body):
                return body
            with self._changed:  # woken by any new log line, or after a short while
                self._changed.wait(0.2)
        raise AssertionError(
            f"/healthz never satisfied the check; last: {body}\n" + "\n".join(self.log)
        )

    def stop(self) -> int:
        """SIGTERM, wait, and return the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=15)
        self._close()
        return code

    def _close(self) -> None:
        """Let the readers reach the end of the pipes, then close them."""
        for reader in self._readers:
            reader.join(timeout=5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()

    def __enter__(self) -> RunningService:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._close()
