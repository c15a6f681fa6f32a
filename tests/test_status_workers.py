"""`presswatch status` on PostgreSQL asks its live workers' /healthz all at once (loopback fakes)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.cli.main import main
from bot.cli.status import _ask_all
from storage.status import read_snapshot
from tests.support.world import write_config

# The fakes' waits end on their own after this long, so a status asking one worker after
# another breaks the barrier (and the test) instead of hanging; no assertion is about time.
_GIVE_UP = 4.0
_OK = {"status": "ok", "scheduler": "running", "telegram": {"state": "ok", "detail": "ok"}}
_DEGRADED = {"status": "degraded", "scheduler": "running",
             "telegram": {"state": "refused", "detail": "the token was refused"}}  # fmt: skip


class _Asked:
    """What the fakes share: a barrier every worker's connection must reach before any answers
    (one asked alone waits for the others in vain), and the answers written so far."""

    def __init__(self, workers: int) -> None:
        self.barrier = threading.Barrier(workers, timeout=_GIVE_UP)
        self.answered = threading.Semaphore(0)


@contextlib.contextmanager
def _healthz(asked: _Asked, body: dict) -> Iterator[str]:
    """Serve /healthz on loopback once every worker was connected to; yield its host:port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server naming
            try:
                asked.barrier.wait()
                status, answer = 200, body
            except threading.BrokenBarrierError:  # asked before the others were: say so
                status, answer = 503, {"status": "down", "reasons": ["asked alone"]}
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
            asked.answered.release()

        def log_message(self, *args: object) -> None:
            """Keep test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def _silent(asked: _Asked, *, answering: int) -> Iterator[str]:
    """Accept one connection on loopback and say nothing; hang up only once the `answering`
    others have answered (so the test waits for no timeout); yield its host:port."""
    listener = socket.create_server(("127.0.0.1", 0))

    def hold() -> None:
        with contextlib.suppress(OSError), listener.accept()[0]:
            with contextlib.suppress(threading.BrokenBarrierError):
                asked.barrier.wait()
            for _ in range(answering):
                asked.answered.acquire(timeout=_GIVE_UP)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
        thread.join(2 * _GIVE_UP * (answering + 1))


@contextlib.contextmanager
def _garbage() -> Iterator[str]:
    """Accept one connection on loopback and answer a line that is not HTTP; yield host:port."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(_GIVE_UP)  # a status that never connects ends the fake, not the test

    def answer() -> None:
        with contextlib.suppress(OSError), listener.accept()[0] as conn:
            conn.recv(4096)
            conn.sendall(b"hello\r\n\r\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        thread.join(2 * _GIVE_UP)
        listener.close()


def test_a_worker_that_does_not_speak_http_is_named_and_the_others_still_asked() -> None:
    """Its BadStatusLine (an HTTPException, not an OSError) once escaped the pool: no status."""
    with _healthz(_Asked(1), _OK) as ok, _garbage() as garbage:
        addresses = [
            (host, int(port)) for host, _, port in (a.rpartition(":") for a in (ok, garbage))
        ]
        answers = _ask_all(None, addresses)
    assert answers[0] == (f"ok, scheduler running, Telegram ok (http://{ok}/healthz)", [], True)
    assert answers[1] == (
        f"not answering properly at http://{garbage}/healthz (BadStatusLine: 'hello\\r\\n')",
        [f"service not answering properly (http://{garbage}/healthz)"],
        False,
    )


@pytest.mark.postgres
def test_status_asks_every_live_worker_at_once_and_names_the_silent_one(
    world, tmp_path, postgres_archive, monkeypatch, capsys
) -> None:
    """Three workers on this machine: two answer only once all three were connected to, the
    third never answers. Asked one after another, the first would wait for the rest in vain."""
    from tests.support.postgres import point_at

    asked = _Asked(3)
    here = socket.gethostname()
    with (
        _healthz(asked, _OK) as ok,
        _silent(asked, answering=2) as silent,
        _healthz(asked, _DEGRADED) as degraded,
    ):
        workers = tuple(
            (f"{here}:{pid}", "t0", "t1", http)
            for pid, http in ((7, ok), (8, silent), (9, degraded))
        )
        real = read_snapshot  # the registry of live workers is PostgreSQL's: these are added
        monkeypatch.setattr(
            "bot.cli.status.read_snapshot",
            lambda *a, **k: dataclasses.replace(real(*a, **k), workers=workers),
        )
        config = point_at(write_config(tmp_path, world), postgres_archive.url)
        assert main(["status", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    lines = out.split("service: 3 live worker(s) asked\n", 1)[1].splitlines()[:3]
    assert lines[0] == f"  {here}:7: ok, scheduler running, Telegram ok (http://{ok}/healthz)"
    assert lines[1].startswith(f"  {here}:8: not answering at http://{silent}/healthz ("), out
    assert lines[2] == (
        f"  {here}:9: degraded, scheduler running, Telegram the token was refused "
        f"(http://{degraded}/healthz)"
    )
    attention = out.rstrip().rpartition("needs attention: ")[2]
    assert attention.endswith(
        f"{here}:8: service not answering (http://{silent}/healthz), "
        f"{here}:9: Telegram (the token was refused)"
    ), attention
