"""/healthz, and the HTTP server of /healthz and /metrics over a real loopback socket."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from bot.config import Config
from bot.service import endpoint as http_endpoint
from bot.service.endpoint import MonitorServer
from tests.support.monitor import make_config, monitor, monitored_archive


@pytest.fixture
def archive(tmp_path):
    """An archive with runs, articles and outbox rows in every interesting state."""
    with monitored_archive(tmp_path) as config_and_store:
        yield config_and_store


def test_healthz_is_200_when_running_and_the_database_answers(archive) -> None:
    config, _ = archive
    status, body = asyncio.run(monitor(config).healthz())
    assert status == 200
    assert body["scheduler"] == "running" and body["database"] == {"ok": True}
    assert body["status"] == "degraded"  # beta's last poll failed: reported, but no restart helps
    assert body["sources"]["beta"]["state"] == "failing"
    assert body["sources"]["beta"]["last_error"] == "HTTP 404"
    assert body["sources"]["alpha"]["state"] == "ok"


@pytest.mark.parametrize(
    ("state", "database", "reason"),
    [
        ("paused", True, "scheduler is paused"),
        ("running", False, "database does not answer"),
    ],
)
def test_healthz_is_503_with_the_reason(archive, tmp_path, state, database, reason) -> None:
    config, _ = archive
    if not database:
        config = make_config(tmp_path / "elsewhere")
    status, body = asyncio.run(monitor(config, state=state).healthz())
    assert status == 503 and body["status"] == "down" and reason in body["reasons"]
    assert body["database"]["ok"] is database


async def request(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read the whole answer (the server closes the connection)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def serve(config: Config, scenario, *, state: str = "running"):
    """Run `scenario(port)` against a MonitorServer on a free loopback port."""

    async def main():
        server = MonitorServer(monitor(config, state=state), host="127.0.0.1", port=0)
        await server.start()
        try:
            return await scenario(server.port)
        finally:
            await server.close()

    return asyncio.run(main())


def test_server_answers_healthz_and_metrics(archive) -> None:
    config, _ = archive

    async def scenario(port):
        health = await request(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        metrics = await request(port, b"GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await request(port, b"HEAD /metrics HTTP/1.1\r\n\r\n")
        return health, metrics, head

    health, metrics, head = serve(config, scenario)
    assert health[0] == 200 and health[1]["Content-Type"] == "application/json"
    assert json.loads(health[2])["scheduler"] == "running"
    assert metrics[0] == 200 and metrics[1]["Content-Type"].startswith("text/plain; version=0.0.4")
    assert int(metrics[1]["Content-Length"]) == len(metrics[2])
    assert b"presswatch_polls_total" in metrics[2]
    assert head[0] == 200 and head[2] == b"" and int(head[1]["Content-Length"]) > 0


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET /admin HTTP/1.1\r\n\r\n", 404),
        (b"POST /healthz HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405),
        (b"\x16\x03\x01 garbage\r\n\r\n", 400),
    ],
)
def test_server_refuses_what_it_does_not_serve(archive, raw, status) -> None:
    config, _ = archive
    assert serve(config, lambda port: request(port, raw))[0] == status


def test_a_stopping_service_answers_503(archive) -> None:
    config, _ = archive
    status, _, body = serve(
        config, lambda port: request(port, b"GET /healthz HTTP/1.1\r\n\r\n"), state="paused"
    )
    assert status == 503 and json.loads(body)["reasons"] == ["scheduler is paused"]


def test_a_silent_client_is_cut_off_and_blocks_nobody(archive, monkeypatch) -> None:
    config, _ = archive
    monkeypatch.setattr(http_endpoint, "_CLIENT_DEADLINE", 0.3)

    async def scenario(port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /heal")  # ...and never finishes the request
        answer = await request(port, b"GET /healthz HTTP/1.1\r\n\r\n")
        cut = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        return answer, cut

    answer, cut = serve(config, scenario)
    assert answer[0] == 200
    assert cut == b""  # closed without an answer


def test_an_oversized_request_head_is_dropped(archive) -> None:
    config, _ = archive

    async def scenario(port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nX: " + b"a" * 20_000 + b"\r\n\r\n")
        data = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        return data

    assert serve(config, scenario) == b""


def test_an_address_this_machine_lacks_is_not_said_to_be_another_process_s(archive) -> None:
    config, _ = archive
    # 192.0.2.1 (TEST-NET-1) is on no interface here: bind fails at once, nothing is sent.
    server = MonitorServer(monitor(config), host="192.0.2.1", port=9108)
    with pytest.raises(http_endpoint.AddressTaken) as taken:
        asyncio.run(server.start())
    # It said "(Cannot assign requested address); whatever answers /healthz there is not this
    # service: stop the other process", for a process that does not exist.
    assert str(taken.value) == (
        "service.http: cannot listen on 192.0.2.1:9108 (Cannot assign requested address); this "
        "machine has no such address, or this user may not listen on that port: choose another "
        "[service] http; not started"
    )


@pytest.mark.parametrize(
    ("host", "recorded"),
    [("0.0.0.0", socket.gethostname()), ("::", socket.gethostname()), ("127.0.0.1", "127.0.0.1")],
)
def test_a_wildcard_address_is_recorded_by_this_machine_s_name(
    archive, monkeypatch, host, recorded
) -> None:
    """0.0.0.0:PORT in the workers' registry names no machine; an explicit address stays."""
    config, _ = archive
    start_server = asyncio.start_server

    def on_loopback(serve, _host, port, **kwargs):  # tests listen on loopback only
        return start_server(serve, "127.0.0.1", port, **kwargs)

    monkeypatch.setattr(asyncio, "start_server", on_loopback)
    watched = monitor(config)
    server = MonitorServer(watched, host=host, port=0)

    async def main():
        await server.start()
        try:
            return server.port
        finally:
            await server.close()

    port = asyncio.run(main())
    assert watched.address == f"{recorded}:{port}"
