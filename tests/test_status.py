"""The status read model over a real archive file (read_snapshot), and `presswatch status`."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
import sqlite_utils

from bot.cli.main import main
from bot.cli.status import answering_elsewhere
from bot.service.journal import outbox_line
from storage import Delivery, InstanceLock, RunRecord, Store
from storage.status import Snapshot, read_snapshot
from tests.fakes.sites import FakeSites
from tests.support.cli import presswatch
from tests.support.monitor import T0, article, monitored_archive
from tests.support.offline import closed_port
from tests.support.world import write_config


@pytest.fixture
def archive(tmp_path):
    """An archive with runs, articles and outbox rows in every interesting state."""
    with monitored_archive(tmp_path) as config_and_store:
        yield config_and_store


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
    header = ["SENT", "PENDING", "SENDING", "UNCERTAIN", "FAILED", "FLOOD", "WAITING", "HELD"]
    assert rows["CHANNEL"][1:] == header
    assert rows["main"][1:] == ["0", "0", "0", "0", "0", "0", "0"]
    assert "service: not running (no presswatch process holds" in result.stdout


def test_status_exits_1_for_a_failing_source_or_failed_posts(world, tmp_path) -> None:
    config = write_config(tmp_path, world)
    config.write_text(config.read_text() + "\n[health]\nalert_after_failures = 1\n")
    presswatch("once", "--config", str(config), token=None)  # it worked once
    world.site("tass-com").add("/rss/v2.xml", "<html>maintenance</html>", content_type="text/html")
    store = Store.open(tmp_path / "archive.db")
    store.db.execute("update sources set last_poll_at = '2024-01-01T00:00:00+00:00'")
    store.db.conn.commit()
    store.close()
    presswatch("once", "--all", "--config", str(config), token=None)  # due or not
    result = presswatch("status", "--config", str(config))
    assert result.returncode == 1
    tass = next(line for line in result.stdout.splitlines() if line.startswith("tass-com"))
    assert " failing " in tass and "failed once: " in tass and "not an RSS or Atom feed" in tass
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


def test_status_without_http_says_whether_the_service_holds_the_archive(world, tmp_path) -> None:
    config = write_config(tmp_path, world)
    Store.open(tmp_path / "archive.db").close()
    with InstanceLock(tmp_path / "archive.db", role="run"):  # as `presswatch run` holds it
        result = presswatch("status", "--config", str(config))
    assert f"service: running (pid {os.getpid()}; set [service] http" in result.stdout


def test_status_exits_1_when_the_configured_service_does_not_answer(world, tmp_path) -> None:
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = write_config(tmp_path, world)
    config.write_text(config.read_text() + f'\n[service]\nhttp = "127.0.0.1:{port}"\n')
    Store.open(tmp_path / "archive.db").close()
    result = presswatch("status", "--config", str(config))
    assert result.returncode == 1
    assert f"service not answering (http://127.0.0.1:{port}/healthz)" in result.stdout


_DEGRADED = {"status": "degraded", "scheduler": "running", "reasons": ["source wire failing"],
             "telegram": {"state": "refused", "detail": "the token was refused"}}  # fmt: skip


@pytest.mark.parametrize(
    ("status", "body"),
    [(503, {"status": "down", "reasons": ["scheduler stopped"]}), (200, _DEGRADED), (None, None)],
)
def test_status_names_other_workers_only_when_the_address_asked_does_not_answer(
    world, tmp_path, monkeypatch, capsys, status, body
) -> None:
    """A /healthz that answers (down, degraded) is the one asked: no hint to ask another."""
    real = read_snapshot  # the registry of live workers is PostgreSQL's: one is added here
    monkeypatch.setattr(
        "bot.cli.status.read_snapshot",
        lambda *a, **k: dataclasses.replace(
            real(*a, **k), workers=(("box:7", "t0", "t1", "10.0.0.9:9109"),)
        ),
    )
    with FakeSites() as sites:
        sites.add("/healthz", json.dumps(body), status=status or 200,
                  content_type="application/json")  # fmt: skip
        # None: an address nothing listens on, the one case the hint is for.
        port = int(sites.base_url.rsplit(":", 1)[1]) if status else closed_port()
        config = write_config(tmp_path, world)
        config.write_text(config.read_text() + f'\n[service]\nhttp = "127.0.0.1:{port}"\n')
        Store.open(tmp_path / "archive.db").close()
        assert main(["status", "--config", str(config)]) == 1
    service = next(
        line for line in capsys.readouterr().out.splitlines() if line.startswith("service:")
    )
    hint = "; live workers serve /healthz at 10.0.0.9:9109 ("
    assert (hint in service) == (status is None), service


def test_a_wildcard_address_asked_is_the_worker_recorded_by_this_machine_s_name() -> None:
    """Synthetic registry: [service] http = "0.0.0.0:9108" is the worker at HOSTNAME:9108."""
    here, other = f"{socket.gethostname()}:9108", "10.0.0.9:9109"
    snapshot = Snapshot(workers=(("a:1", "t0", "t1", here), ("b:2", "t0", "t1", other)))
    assert answering_elsewhere(snapshot, ("0.0.0.0", 9108)) == other
    assert answering_elsewhere(snapshot, ("::", 9108)) == other
    assert answering_elsewhere(snapshot, ("10.0.0.9", 9109)) == here
    assert answering_elsewhere(snapshot, None) == f"{here}, {other}"


def test_sources_reads_the_article_counts_once(archive, monkeypatch, capsys) -> None:
    config, _ = archive
    monkeypatch.setattr("bot.cli.sources.load_config", lambda path: config)
    statements: list[str] = []
    query = sqlite_utils.Database.query

    def spy(db, sql, *args, **kwargs):
        statements.append(" ".join(sql.split()))
        return query(db, sql, *args, **kwargs)

    monkeypatch.setattr(sqlite_utils.Database, "query", spy)
    assert main(["sources", "--config", "presswatch.toml"]) == 0
    counting = [s for s in statements if "count(" in s and "from articles" in s]
    assert len(counting) == 1, counting
    header, *lines = capsys.readouterr().out.splitlines()
    at = header.index("ARTICLES")  # the columns are aligned
    assert {line.split()[0]: line[at:].split()[0] for line in lines} == {"alpha": "6", "beta": "0"}


def test_rows_held_for_their_digest_are_told_apart_from_rows_due(archive) -> None:
    config, store = archive
    now = T0 + timedelta(hours=2)
    main = [Delivery("main", "@presswatch_test")]
    # Two posts queued at T0 wait for a digest hour an hour from now: held, not late.
    for n in (20, 21):
        store.add_article(article(n, T0), source_key="alpha", now=T0, deliveries=main)
    store.db.execute(
        "update outbox set next_attempt_at = ? where article_id > 6",
        [(now + timedelta(hours=1)).isoformat()],
    )
    # A digest that came due 5 minutes ago and is still unsent: late since its hour.
    late = store.add_article(article(22, T0), source_key="alpha", now=T0, deliveries=main)
    store.db.execute(
        "update outbox set next_attempt_at = ? where article_id = ?",
        [(now - timedelta(minutes=5)).isoformat(), late],
    )
    store.db.conn.commit()
    snap = read_snapshot(config.storage_path, now=now)
    assert snap.outbox[("main", "pending")] == 4 and snap.held == {"main": 2}
    # The flood-waiting row (failed once) counts from when it was queued; the digest from its hour.
    assert snap.oldest_due == {"main": T0}
    line = outbox_line(snap, now=now)
    assert line == "outbox: 2 due (oldest 120 min); 2 held for their time (digest, quiet hours)"
    store.db.execute("update outbox set state = 'sent' where last_error like 'flood%'")
    store.db.conn.commit()
    snap = read_snapshot(config.storage_path, now=now)
    assert snap.oldest_due == {"main": now - timedelta(minutes=5)}
    assert outbox_line(snap, now=now).startswith("outbox: 1 due (oldest 5 min); 2 held")
    store.db.execute("update outbox set state = 'sent' where article_id = ?", [late])
    store.db.conn.commit()
    snap = read_snapshot(config.storage_path, now=now)
    assert outbox_line(snap, now=now) == (
        "outbox: nothing due; 2 held for their time (digest, quiet hours)"
    )


def test_a_fresh_row_never_tried_is_due_from_when_it_was_queued(tmp_path) -> None:
    # A row just queued has no next_attempt_at: in SQL `not (… null > ? …)` is null, not true.
    with monitored_archive(tmp_path) as (config, store):
        store.db.execute("delete from outbox")
        main = [Delivery("main", "@presswatch_test")]
        store.add_article(article(30, T0), source_key="alpha", now=T0, deliveries=main)
        store.db.conn.commit()
        (next_attempt,) = store.db.execute("select next_attempt_at from outbox").fetchone()
        assert next_attempt is None
        now = T0 + timedelta(minutes=7)
        snap = read_snapshot(config.storage_path, now=now)
        assert snap.held == {} and snap.oldest_due == {"main": T0}
        assert outbox_line(snap, now=now) == "outbox: 1 due (oldest 7 min)"


def test_rows_a_flood_wait_holds_with_their_chat_are_not_held_for_their_time(tmp_path) -> None:
    # A 429 on one post holds every pending row of its chat until the same moment (defer_chat):
    # those rows wait for Telegram, not for a digest hour or the end of quiet hours.
    with monitored_archive(tmp_path) as (config, store):
        store.db.execute("delete from outbox")
        main = [Delivery("main", "@presswatch_test")]
        ids = [
            store.add_article(article(n, T0), source_key="alpha", now=T0, deliveries=main)
            for n in (40, 41, 42)
        ]
        rows = [r for (r,) in store.db.execute("select id from outbox order by id")]
        now = T0 + timedelta(minutes=3)
        until = now + timedelta(minutes=10)
        reason = "flood wait of 600s (429 Too Many Requests)"
        store.outbox.mark_retry(rows[0], error=reason, at=until, now=now)
        assert store.outbox.defer_chat("@presswatch_test", until=until, now=now) == 2
        store.db.conn.commit()
        snap = read_snapshot(config.storage_path, now=now)
        # The row the 429 answered and the two its chat's hold keeps back (all three wait).
        assert len(ids) == 3 and snap.flood_waiting == {"main": 3}
        assert snap.held == {} and snap.oldest_due == {"main": T0}
        assert outbox_line(snap, now=now) == "outbox: 3 due (oldest 3 min)"


def test_a_channel_whose_rows_wait_out_another_channels_flood_wait_has_no_future_age(
    tmp_path,
) -> None:
    # Two channels post to one chat; the 429 hit `main`'s row, and `brief`'s waits with it.
    with monitored_archive(tmp_path) as (config, store):
        store.db.execute("delete from outbox")
        both = [Delivery("main", "@presswatch_test"), Delivery("brief", "@presswatch_test")]
        store.add_article(article(50, T0), source_key="alpha", now=T0, deliveries=both)
        (first,) = store.db.execute("select id from outbox where channel = 'main'").fetchone()
        now = T0 + timedelta(minutes=3)
        until = now + timedelta(minutes=10)
        store.outbox.mark_retry(first, error="flood wait of 600s", at=until, now=now)
        store.outbox.defer_chat("@presswatch_test", until=until, now=now)
        store.db.conn.commit()
        snap = read_snapshot(config.storage_path, now=now)
        # Due since it was queued (T0), as `main`'s row: neither from the future nor from "now".
        assert snap.oldest_due == {"main": T0, "brief": T0}


def test_a_row_held_again_after_a_flood_wait_is_due_from_its_new_hour(tmp_path) -> None:
    # The flood wait kept when the row came due (T0); quiet hours then held it until `dawn`:
    # it is not late while held, and once dawn has passed it has waited since dawn, not T0.
    with monitored_archive(tmp_path) as (config, store):
        store.db.execute("delete from outbox")
        main = [Delivery("main", "@presswatch_test")]
        store.add_article(article(60, T0), source_key="alpha", now=T0, deliveries=main)
        (row,) = store.db.execute("select id from outbox").fetchone()
        flood_end, dawn = T0 + timedelta(minutes=10), T0 + timedelta(hours=6)
        store.outbox.mark_retry(row, error="flood wait of 600s", at=flood_end, now=T0)
        store.outbox.defer([row], until=dawn, now=flood_end)
        store.db.conn.commit()
        night = dawn - timedelta(hours=1)
        assert read_snapshot(config.storage_path, now=night).oldest_due == {"main": night}
        later = dawn + timedelta(minutes=4)
        assert read_snapshot(config.storage_path, now=later).oldest_due == {"main": dawn}


@pytest.mark.postgres
def test_status_on_postgresql_asks_each_live_worker_at_the_address_it_recorded(
    world, tmp_path, postgres_archive, monkeypatch, capsys
) -> None:
    """No [service] http: the workers' registry names where each one's /healthz answers."""
    from tests.support.postgres import point_at

    with FakeSites() as sites:
        sites.add("/healthz", json.dumps(_DEGRADED), content_type="application/json")
        up, down = sites.base_url.removeprefix("http://"), f"127.0.0.1:{closed_port()}"
        real = read_snapshot  # the live workers: one answers, one is gone since its last beat
        here = socket.gethostname()  # a loopback address is asked only for this machine's
        workers = (
            (f"{here}:7", "t0", "t1", up),
            (f"{here}:8", "t0", "t1", down),
            ("box:9", "t", "t", None),
            ("far-away:10", "t0", "t1", up),  # its loopback is not this machine's
        )
        monkeypatch.setattr(
            "bot.cli.status.read_snapshot",
            lambda *a, **k: dataclasses.replace(real(*a, **k), workers=workers),
        )
        config = point_at(write_config(tmp_path, world), postgres_archive.url)
        assert main(["status", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    here = socket.gethostname()
    assert "service: 2 live worker(s) asked\n" in out, out
    assert (
        f"  {here}:7: degraded, scheduler running, Telegram the token was refused "
        f"(http://{up}/healthz)" in out
    )
    assert f"  {here}:8: not answering at http://{down}/healthz" in out
    assert "  far-away:10: serves /healthz on its own machine's loopback; ask there" in out
    assert f"{here}:7: Telegram (the token was refused)" in out
    assert f"{here}:8: service not answering" in out
    assert "far-away:10: Telegram" not in out  # not asked: this machine's loopback is not its


def test_the_hint_leaves_out_another_machines_worker_on_loopback() -> None:
    """Synthetic registry: far-away's 127.0.0.1 is its own machine's, so passing it here would not
    reach it; this machine's worker on loopback is named."""
    mine = (f"{socket.gethostname()}:1", "t0", "t1", "127.0.0.1:9108")
    theirs = ("far-away:2", "t0", "t1", "localhost.localdomain:9109")
    snapshot = Snapshot(workers=(mine, theirs))
    assert answering_elsewhere(snapshot, ("10.0.0.9", 9100)) == "127.0.0.1:9108"
