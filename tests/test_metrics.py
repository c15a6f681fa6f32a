"""/metrics: the Prometheus exposition of a real archive, checked with prometheus_client's parser."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.delivery.telegram import Delivered, Message, RetryLater
from bot.service.counters import LAG_BUCKETS, Counters, LagHistogram, MeteredSender
from bot.service.monitor import Monitor
from storage.status import read_snapshot
from tests.support.monitor import T0, make_config, monitor, monitored_archive
from tests.support.relay import InTurn


@pytest.fixture
def archive(tmp_path):
    """An archive with runs, articles and outbox rows in every interesting state."""
    with monitored_archive(tmp_path) as config_and_store:
        yield config_and_store


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


def scrape(mon: Monitor) -> dict[str, dict]:
    """Scrape /metrics' text; return {family: {"type": ..., "samples": {(name, labels): value}}}."""
    text = asyncio.run(mon.metrics()).decode()
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
    counters.inc("posts_printed", by=3, channel="main")
    for seconds in (0.4, 3.0, 700.0):
        counters.observe("poll_duration", seconds, source="alpha")
    mon = monitor(config, counters)
    mon.started = T0  # the archive's posts were sent after this process started
    families = scrape(mon)
    assert families["presswatch_polls"]["type"] == "counter"
    assert families["presswatch_post_lag_seconds"]["type"] == "histogram"
    expected = [
        ("presswatch_polls_total", {"source": "alpha", "status": "ok"}, 1),
        ("presswatch_polls_total", {"source": "beta", "status": "ok"}, 0),
        ("presswatch_polls_total", {"source": "alpha", "status": "skipped"}, 0),
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
        ("presswatch_posts_printed_total", {"channel": "main"}, 3),
        ("presswatch_poll_duration_seconds_bucket", {"source": "alpha", "le": "0.5"}, 1),
        ("presswatch_poll_duration_seconds_bucket", {"source": "alpha", "le": "5"}, 2),
        ("presswatch_poll_duration_seconds_bucket", {"source": "alpha", "le": "+Inf"}, 3),
        ("presswatch_poll_duration_seconds_count", {"source": "alpha"}, 3),
        ("presswatch_poll_duration_seconds_sum", {"source": "alpha"}, 703.4),
        ("presswatch_outbox_posts", {"channel": "main", "state": "uncertain"}, 1),
        ("presswatch_outbox_posts", {"channel": "personal", "state": "failed"}, 2),
        ("presswatch_outbox_flood_waiting", {"channel": "main"}, 1),
        ("presswatch_telegram_flood_waits_total", {"channel": "main"}, 1),
        ("presswatch_scheduler_running", {}, 1),
        ("presswatch_database_ok", {}, 1),
    ]
    for name, labels, number in expected:
        assert value(families, name, **labels) == pytest.approx(number), (name, labels)
    assert not any("user:42" in str(key) for f in families.values() for key in f["samples"]), (
        "readers must not become series"
    )
    # polls_total{status="error"} says it all; no second series repeats it.
    assert "presswatch_poll_errors" not in families
    assert families["presswatch_poll_duration_seconds"]["type"] == "histogram"
    # The text format writes an info family as a gauge of 1 named *_info.
    [(name, labels)] = families["presswatch_build_info"]["samples"]
    assert name == "presswatch_build_info" and dict(labels)["version"]
    for name in ("process_cpu_seconds", "process_resident_memory_bytes", "python_info"):
        assert name in families, f"no {name}: the process and platform collectors are registered"
    # The pending row was queued at T0: its age is how long ago that is, give or take the test.
    age = value(families, "presswatch_outbox_oldest_pending_age_seconds", channel="main")
    assert age >= (datetime.now(UTC) - T0).total_seconds() - 60
    # It failed once (a flood wait), so it is due since it was queued, not held for its time.
    due = value(families, "presswatch_outbox_oldest_due_age_seconds", channel="main")
    assert due == pytest.approx(age, abs=60)
    assert value(families, "presswatch_outbox_held_posts", channel="main") == 0


def test_the_lag_counts_only_posts_sent_since_the_process_started(archive) -> None:
    config, store = archive
    mon = monitor(config)  # started now: the archive's two sent posts are history
    assert not any(
        s[0] == "presswatch_post_lag_seconds_count"
        for s in scrape(mon)["presswatch_post_lag_seconds"]["samples"]
    )
    sent_at = datetime.now(UTC) + timedelta(seconds=1)
    store.db.execute(
        "update outbox set state = 'sent', sent_at = ? where state = 'pending'",
        [sent_at.isoformat(timespec="seconds")],
    )
    store.db.conn.commit()
    families = scrape(mon)
    assert value(families, "presswatch_post_lag_seconds_count", source="alpha") == 1
    # ...and the counters beside it start at zero with the process too.
    assert value(families, "presswatch_posts_sent_total", channel="main") == 0


def test_the_lag_of_each_post_is_counted_once_over_scrapes(archive) -> None:
    config, _ = archive
    mon = monitor(config)
    mon.started = T0
    scrape(mon)
    assert value(scrape(mon), "presswatch_post_lag_seconds_count", source="alpha") == 2


def test_label_values_are_escaped_and_a_missing_archive_reports_database_down(tmp_path) -> None:
    counters = Counters()
    counters.inc("chat_commands", command='a"b\\c\nd')
    mon = monitor(make_config(tmp_path), counters, state="paused")
    text = asyncio.run(mon.metrics()).decode()
    assert 'presswatch_chat_commands_total{command="a\\"b\\\\c\\nd"} 1.0' in text
    families = scrape(mon)
    assert value(families, "presswatch_chat_commands_total", command='a"b\\c\nd') == 1
    assert value(families, "presswatch_database_ok") == 0
    assert value(families, "presswatch_scheduler_running") == 0


def test_metered_sender_counts_outcomes_and_flood_waits() -> None:
    counters = Counters()
    sender = MeteredSender(
        InTurn(
            RetryLater(5, "flood wait: Too Many Requests"),
            Delivered(7),
            RetryLater(30, "network: refused"),
        ),
        counters,
        channels={"@presswatch_test": "main"},
    )
    for chat in ("@presswatch_test", "@presswatch_test", "42"):
        asyncio.run(sender.send(Message(chat_id=chat, text="x")))
    assert counters.value("telegram_flood_waits", channel="main") == 1
    assert counters.value("telegram_sends", channel="main", outcome="delivered") == 1
    assert counters.value("posts_sent", channel="main") == 1
    assert counters.value("telegram_sends", channel="personal", outcome="retrylater") == 1
    assert counters.value("telegram_flood_waits", channel="personal") == 0


def test_a_channel_with_nothing_waiting_has_ages_of_zero_not_no_series(archive) -> None:
    # README calls the oldest due age the one to alert on: a channel whose outbox is empty (a
    # new one, or all sent) reads 0, as its outbox_posts do, and "personal" (failed rows only,
    # none pending) too; an alert on the series sees every channel.
    config, _ = archive
    mon = Monitor(
        config.storage_path,
        Counters(),
        sources=[s.key for s in config.sources],
        channels=["main", "quiet"],
        scheduler_state=lambda: "running",
    )
    families = scrape(mon)
    for name in ("oldest_due", "oldest_pending"):
        for channel in ("quiet", "personal"):
            age = value(families, f"presswatch_outbox_{name}_age_seconds", channel=channel)
            assert age == 0, (name, channel)
        assert value(families, f"presswatch_outbox_{name}_age_seconds", channel="main") > 0
    assert value(families, "presswatch_outbox_posts", channel="quiet", state="pending") == 0


def test_a_source_a_reload_removes_has_no_series_left(archive) -> None:
    """After a reload without a source, /metrics has none of its series: its poll durations and
    post lags are dropped (the soak found 25 of 44 kept until a restart), its counters not shown;
    one of its polls under way at the reload, finishing after it, adds none back."""
    config, _ = archive
    counters = Counters()
    for key in ("alpha", "beta"):
        counters.inc("polls", source=key, status="ok")
        counters.observe("poll_duration", 1.0, source=key)
    mon = monitor(config, counters)
    mon.started = T0  # alpha's two sent posts count: it has lag series

    def series_of(key: str) -> list:
        return [s for f in scrape(mon).values() for s in f["samples"] if ("source", key) in s[1]]

    assert len(series_of("alpha")) > 25 and series_of("beta")
    mon.reconfigure(sources=["beta"], channels=[c.name for c in config.channels])
    assert series_of("alpha") == []
    counters.observe("poll_duration", 2.0, source="alpha")  # its poll under way finishes
    assert (
        series_of("alpha") == []
        and value(scrape(mon), "presswatch_polls_total", source="beta", status="ok") == 1
    )
    assert counters.histogram("poll_duration")[0][0] == {"source": "alpha"}  # until the next reload
