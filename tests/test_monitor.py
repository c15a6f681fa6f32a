"""Health and metrics: read from a real archive file, served over a real loopback socket."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import Config, config_from_dict
from bot.delivery.telegram import Delivered, Message, RetryLater
from bot.service import endpoint as http_endpoint
from bot.service.counters import LAG_BUCKETS, Counters, LagHistogram, MeteredSender
from bot.service.endpoint import MonitorServer
from bot.service.monitor import Monitor
from scrapers.models import Article
from storage import Delivery, RunRecord, Store
from storage.status import read_snapshot
from tests.support.cli import presswatch
from tests.support.world import write_config

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def make_config(tmp_path: Path) -> Config:
    """Two sources, one channel, the archive in tmp_path."""
    return config_from_dict(
        {
            "storage": {"path": str(tmp_path / "archive.db")},
            "channels": [{"name": "main", "chat_id": "@presswatch_test"}],
            "sources": [
                {"key": "alpha", "url": "https://alpha.example/feed", "kind": "feed"},
                {"key": "beta", "url": "https://beta.example/", "link_pattern": "/news/"},
            ],
        },
        path=tmp_path / "presswatch.toml",
    )


def article(n: int, published: datetime) -> Article:
    url = f"https://alpha.example/news/{n}"
    return Article(url=url, canonical_url=url, title=f"News {n}", published=published)


@pytest.fixture
def archive(tmp_path):
    """An archive with runs, articles and outbox rows in every interesting state."""
    config = make_config(tmp_path)
    store = Store.open(config.storage_path)
    store.sources.record_run(RunRecord("alpha", T0, T0, "ok", links_found=3, new_articles=3))
    store.sources.record_run(RunRecord("alpha", T0, T0, "not_modified"))
    store.sources.record_run(RunRecord("beta", T0, T0, "error", error="HTTP 404"))
    store.db.execute(
        "update sources set health = 'failing' where key = 'beta'"
    )  # past the threshold
    main = [Delivery("main", "@presswatch_test")]
    for n, state in enumerate(["sent", "sent", "pending", "failed", "uncertain"]):
        article_id = store.add_article(article(n, T0), source_key="alpha", now=T0, deliveries=main)
        sent_at = (
            (T0 + timedelta(seconds=90 if n == 0 else 4000)).isoformat()
            if state == "sent"
            else None
        )
        store.db.execute(
            "update outbox set state = ?, sent_at = ?, last_error = ? where article_id = ?",
            [
                state,
                sent_at,
                "flood wait: retry after 5" if state == "pending" else None,
                article_id,
            ],
        )
    personal = store.add_article(
        article(9, T0),
        source_key="alpha",
        now=T0,
        deliveries=[Delivery("user:42", "42"), Delivery("user:43", "43")],
    )
    store.db.execute("update outbox set state = 'failed' where article_id = ?", [personal])
    store.db.conn.commit()
    yield config, store
    store.close()


def test_snapshot_counts_runs_articles_and_outbox_with_personal_chats_folded(archive) -> None:
    config, _ = archive
    snap = read_snapshot(config.storage_path)
    assert snap.articles == {"alpha": 6} and snap.polls == {} and snap.lags == ()
    assert snap.outbox == {
        ("main", "pending"): 1,
        ("main", "failed"): 1,
        ("main", "uncertain"): 1,
        ("personal", "failed"): 2,
    }
    assert snap.flood_waiting == {"main": 1}
    full = read_snapshot(config.storage_path, full=True)
    assert full.outbox[("main", "sent")] == 2
    assert full.polls == {}  # T0 is long ago: only the last day's polls count


def test_status_counts_the_last_days_polls(archive) -> None:
    config, store = archive
    now = datetime.now(UTC)
    store.sources.record_run(RunRecord("beta", now, now, "error", error="HTTP 500"))
    store.sources.record_run(RunRecord("beta", now, now, "ok"))
    assert read_snapshot(config.storage_path, full=True).polls == {
        ("beta", "error"): 1,
        ("beta", "ok"): 1,
    }


def test_lag_histogram_counts_each_sent_post_once_as_it_is_sent(archive) -> None:
    config, store = archive
    lag = LagHistogram()

    def scrape():
        return lag.update(read_snapshot(config.storage_path, lags_after=lag.settled).lags)

    buckets, total, count = scrape()["alpha"]
    assert count == 2 and total == pytest.approx(4090)
    assert [dict(zip(LAG_BUCKETS, buckets))[b] for b in (60, 300, 7200)] == [0, 1, 2]
    assert scrape()["alpha"][2] == 2  # not counted again
    store.db.execute(
        "update outbox set state = 'sent', sent_at = ? where state = 'pending'",
        [(T0 + timedelta(seconds=30)).isoformat()],
    )
    store.db.conn.commit()
    buckets, total, count = scrape()["alpha"]
    assert count == 3 and buckets[0] == 1 and total == pytest.approx(4120)


def test_two_scrapes_reading_the_same_rows_count_each_post_once(archive) -> None:
    config, _ = archive
    lag = LagHistogram()
    first = read_snapshot(config.storage_path, lags_after=lag.settled).lags
    second = read_snapshot(config.storage_path, lags_after=lag.settled).lags
    lag.update(first)
    assert lag.update(second)["alpha"][2] == 2


def test_snapshot_reads_while_the_writer_holds_an_open_transaction(archive) -> None:
    config, store = archive
    store.db.conn.execute("BEGIN IMMEDIATE")
    store.db.conn.execute(
        "insert into runs (source_key, started_at, status) values ('beta', 'x', 'ok')"
    )
    try:
        snap = read_snapshot(config.storage_path, deadline=1.0)
    finally:
        store.db.conn.rollback()
    assert (
        "beta",
        "ok",
    ) not in snap.polls  # WAL: the reader sees the last commit, and waits for nothing


def test_a_read_past_its_deadline_is_interrupted(archive) -> None:
    config, store = archive
    store.db.conn.executemany(
        "insert into articles (source_key, url, url_key, title, discovered_at) values (?, ?, ?, ?, ?)",
        [("alpha", f"u{i}", f"k{i}", "t", "x") for i in range(50_000)],
    )
    store.db.conn.commit()
    with pytest.raises(sqlite3.OperationalError, match="interrupted"):
        read_snapshot(config.storage_path, deadline=0.0)


def test_snapshot_of_a_missing_archive_fails_without_creating_it(tmp_path) -> None:
    with pytest.raises(sqlite3.OperationalError):
        read_snapshot(tmp_path / "nope.db")
    assert not (tmp_path / "nope.db").exists()


def monitor(config: Config, counters: Counters | None = None, *, state: str = "running") -> Monitor:
    """Return a Monitor of the config's archive, sources and channels."""
    return Monitor(
        config.storage_path,
        counters or Counters(),
        sources=[s.key for s in config.sources],
        channels=[c.name for c in config.channels],
        scheduler_state=lambda: state,
    )


def scrape(mon: Monitor) -> dict[str, dict]:
    """Scrape /metrics' text; return {family: {"type": ..., "samples": {(name, labels): value}}}."""
    text = run(mon.metrics()).decode()
    families = {}
    for family in text_string_to_metric_families(text):
        assert family.name not in families, f"{family.name} appears twice"
        families[family.name] = {
            "type": family.type,
            "samples": {
                (sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for sample in family.samples
            },
        }
    return families


def value(families: dict, name: str, **labels: str) -> float:
    """Return one sample's value, whichever family holds it."""
    key = (name, tuple(sorted(labels.items())))
    found = [f["samples"][key] for f in families.values() if key in f["samples"]]
    assert found, f"no sample {name}{labels}"
    return found[0]


def test_metrics_are_valid_prometheus_text_with_the_expected_series(archive) -> None:
    config, _ = archive
    counters = Counters()
    counters.inc("jobs_skipped", source="beta")
    counters.inc("telegram_flood_waits", channel="main")
    counters.inc("polls", source="alpha", status="ok")
    counters.inc("polls", source="beta", status="error")
    counters.inc("posts_sent", by=2, channel="main")
    families = scrape(monitor(config, counters))
    assert families["presswatch_polls"]["type"] == "counter"
    assert families["presswatch_post_lag_seconds"]["type"] == "histogram"
    expected = [
        ("presswatch_polls_total", {"source": "alpha", "status": "ok"}, 1),
        ("presswatch_polls_total", {"source": "beta", "status": "ok"}, 0),
        ("presswatch_polls_total", {"source": "alpha", "status": "skipped"}, 0),
        ("presswatch_poll_errors_total", {"source": "beta"}, 1),
        ("presswatch_articles_stored_total", {"source": "alpha"}, 6),
        ("presswatch_last_success_timestamp_seconds", {"source": "alpha"}, T0.timestamp()),
        ("presswatch_source_state", {"source": "beta", "state": "failing"}, 1),
        ("presswatch_source_state", {"source": "alpha", "state": "ok"}, 1),
        ("presswatch_source_state", {"source": "alpha", "state": "failing"}, 0),
        ("presswatch_jobs_skipped_total", {"source": "beta"}, 1),
        ("presswatch_jobs_missed_total", {"source": "alpha"}, 0),
        ("presswatch_post_lag_seconds_bucket", {"source": "alpha", "le": "60"}, 0),
        ("presswatch_post_lag_seconds_bucket", {"source": "alpha", "le": "+Inf"}, 2),
        ("presswatch_post_lag_seconds_count", {"source": "alpha"}, 2),
        ("presswatch_posts_sent_total", {"channel": "main"}, 2),
        ("presswatch_outbox_posts", {"channel": "main", "state": "uncertain"}, 1),
        ("presswatch_outbox_posts", {"channel": "personal", "state": "failed"}, 2),
        ("presswatch_outbox_flood_waiting", {"channel": "main"}, 1),
        ("presswatch_telegram_flood_waits_total", {"channel": "main"}, 1),
        ("presswatch_scheduler_running", {}, 1),
        ("presswatch_database_ok", {}, 1),
    ]
    for name, labels, number in expected:
        assert value(families, name, **labels) == number, (name, labels)
    assert not any("user:42" in str(key) for f in families.values() for key in f["samples"]), (
        "readers must not become series"
    )


def test_the_lag_of_each_post_is_counted_once_over_scrapes(archive) -> None:
    config, _ = archive
    mon = monitor(config)
    scrape(mon)
    assert value(scrape(mon), "presswatch_post_lag_seconds_count", source="alpha") == 2


def test_label_values_are_escaped_and_a_missing_archive_reports_database_down(tmp_path) -> None:
    counters = Counters()
    counters.inc("chat_commands", command='a"b\\c\nd')
    mon = monitor(make_config(tmp_path), counters, state="paused")
    text = run(mon.metrics()).decode()
    assert 'presswatch_chat_commands_total{command="a\\"b\\\\c\\nd"} 1.0' in text
    families = scrape(mon)
    assert value(families, "presswatch_chat_commands_total", command='a"b\\c\nd') == 1
    assert value(families, "presswatch_database_ok") == 0
    assert value(families, "presswatch_scheduler_running") == 0


def run(coro):
    return asyncio.run(coro)


def test_healthz_is_200_when_running_and_the_database_answers(archive) -> None:
    config, _ = archive
    status, body = run(monitor(config).healthz())
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
    status, body = run(monitor(config, state=state).healthz())
    assert status == 503 and body["status"] == "down" and reason in body["reasons"]
    assert body["database"]["ok"] is database


def test_metered_sender_counts_outcomes_and_flood_waits() -> None:
    class Script:
        def __init__(self, outcomes):
            self.outcomes = list(outcomes)

        async def send(self, message):
            return self.outcomes.pop(0)

    counters = Counters()
    sender = MeteredSender(
        Script(
            [
                RetryLater(5, "flood wait: Too Many Requests"),
                Delivered(7),
                RetryLater(30, "network: refused"),
            ]
        ),
        counters,
        channels={"@presswatch_test": "main"},
    )
    for chat in ("@presswatch_test", "@presswatch_test", "42"):
        run(sender.send(Message(chat_id=chat, text="x")))
    assert counters.value("telegram_flood_waits", channel="main") == 1
    assert counters.value("telegram_sends", channel="main", outcome="delivered") == 1
    assert counters.value("posts_sent", channel="main") == 1
    assert counters.value("telegram_sends", channel="personal", outcome="retrylater") == 1
    assert counters.value("telegram_flood_waits", channel="personal") == 0


# -- the HTTP server -------------------------------------------------------------------------------


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

    return run(main())


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


# -- `presswatch status` -----------------------------------------------------------------------------


def test_status_without_an_archive_says_so_and_exits_1(world, tmp_path) -> None:
    result = presswatch("status", "--config", str(write_config(tmp_path, world)))
    assert result.returncode == 1 and "no archive at" in result.stdout
    assert not (tmp_path / "archive.db").exists()


def test_status_of_a_healthy_archive_exits_0(world, tmp_path) -> None:
    config = write_config(tmp_path, world)
    assert presswatch("once", "--config", str(config), token=None).returncode == 0
    result = presswatch("status", "--config", str(config))
    assert result.returncode == 0, result.stdout
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.strip()}
    assert rows["interaffairs-en"][1] == "ok" and rows["interaffairs-en"][-1] == "3"
    assert rows["CHANNEL"][1:] == ["SENT", "PENDING", "UNCERTAIN", "FAILED", "FLOOD", "WAITING"]
    assert rows["main"][1:] == ["0", "0", "0", "0", "0"]
    assert "service: unknown" in result.stdout


def test_status_exits_1_for_a_failing_source_or_failed_posts(world, tmp_path) -> None:
    world.site("tass-com").add("/rss/v2.xml", "<html>maintenance</html>", content_type="text/html")
    config = write_config(tmp_path, world)
    config.write_text(config.read_text() + "\n[health]\nalert_after_failures = 1\n")
    presswatch("once", "--config", str(config), token=None)
    result = presswatch("status", "--config", str(config))
    assert result.returncode == 1
    tass = next(line for line in result.stdout.splitlines() if line.startswith("tass-com"))
    assert (
        " failing " in tass and "failed 1x in a row: " in tass and "not an RSS or Atom feed" in tass
    )
    assert result.stdout.rstrip().endswith("needs attention: tass-com")

    world.site("tass-com").remove("/rss/v2.xml")
    store = Store.open(tmp_path / "archive.db")
    store.db.execute(
        "update sources set consecutive_failures = 0, health = 'ok' where key = 'tass-com'"
    )
    article_id = store.add_article(
        article(1, T0),
        source_key="tass-com",
        now=T0,
        deliveries=[Delivery("main", "@presswatch_test")],
    )
    store.db.execute("update outbox set state = 'failed' where article_id = ?", [article_id])
    store.db.conn.commit()
    store.close()
    result = presswatch("status", "--config", str(config))
    assert result.returncode == 1 and result.stdout.rstrip().endswith(
        "needs attention: channel main"
    )
