"""Posts held for a channel's digest or quiet hours follow a config change: removing quiet hours
or shortening the digest releases them at the relay's first round (start, reload, `once`);
lengthening holds them on; a chat Telegram told to wait, or a retry's backoff, keeps its time.

The relay tests run on an SQLite file and on PostgreSQL (the `store` fixture) with a scripted
sender on virtual time; the `once` tests run the CLI against the loopback fake Bot API. Every
article is synthetic.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from bot.delivery.telegram import RetryLater
from scrapers.models import Article
from storage import Delivery, OutboxState, StorageError, Store
from storage.transaction import immediate
from tests.fakes.feeds import atom_feed
from tests.fakes.sites import FakeSites
from tests.fakes.telegram import DEFAULT_TOKEN
from tests.support.cli import presswatch as run_presswatch
from tests.support.relay import (
    FakeTime,
    ScriptedSender,
    add,
    channel,
    deliver,
    make_config,
    relay_for,
)

presswatch = partial(run_presswatch, token=DEFAULT_TOKEN)
NIGHT, BUSY, DAILY = ("night", "-1001"), ("busy", "-1002"), ("daily", "-1003")


def times(store: Store, name: str) -> list[tuple[str, str, object]]:
    """Return a channel's rows as (state, next_attempt_at, due_at) in id order, as text."""
    rows = store.db.query(
        "select state, next_attempt_at, due_at from outbox where channel = ? order by id", [name]
    )
    return [(r["state"], _text(r["next_attempt_at"]), _text(r["due_at"])) for r in rows]


def _text(value: object) -> str | None:
    """Return a stored moment as ISO text on either backend."""
    return value.isoformat() if isinstance(value, datetime) else value


def replanned(caplog) -> list[str]:
    """Return what the re-planning logged (other loggers' INFO lines may be captured too)."""
    return [r.getMessage() for r in caplog.records if r.name == "bot.delivery.replan"]


def test_posts_held_for_quiet_hours_go_at_the_first_round_after_they_are_removed(
    tmp_path, store, caplog
) -> None:
    time = FakeTime()  # 09:00 UTC
    quiet = make_config(tmp_path, channels=[channel(*NIGHT, quiet_hours="08:00-12:00")])
    for n in range(2):
        add(store, n, NIGHT, now=time.now())
    sender = ScriptedSender(time)
    deliver(relay_for(store, quiet, sender, time))
    noon = "2026-11-28T12:00:00+00:00"
    assert times(store, "night") == [(OutboxState.PENDING, noon, noon)] * 2
    time.advance(60)
    with caplog.at_level(logging.INFO, logger="bot.delivery.replan"):
        deliver(relay_for(store, quiet, sender, time))  # a restart with the same config
        assert sender.sent == [] and replanned(caplog) == []
        assert times(store, "night") == [(OutboxState.PENDING, noon, noon)] * 2
        calm = make_config(tmp_path, channels=[channel(*NIGHT)])
        deliver(relay_for(store, calm, sender, time))  # a reload: a new relay
    assert [m.plain.split("\n")[0] for m in sender.to("-1001")] == ["Title 0", "Title 1"]
    assert replanned(caplog) == [
        "channel night: 2 posts held for the old digest or quiet hours now due at once "
        "(config changed)"
    ]


def test_posts_held_for_a_daily_digest_go_in_the_next_digest_of_a_shorter_one(
    tmp_path, store
) -> None:
    time = FakeTime()  # 09:00 UTC
    daily = make_config(tmp_path, channels=[channel(*DAILY, digest="1d")])
    for n in range(3):
        add(store, n, DAILY, now=time.now())
        time.advance(10 * 60)
    sender = ScriptedSender(time)
    deliver(relay_for(store, daily, sender, time))  # 09:30
    midnight = "2026-11-29T00:00:00+00:00"
    assert times(store, "daily") == [(OutboxState.PENDING, midnight, midnight)] * 3
    minutely = make_config(tmp_path, channels=[channel(*DAILY, digest="1m")])
    deliver(relay_for(store, minutely, sender, time))
    [message] = sender.to("-1003")
    assert all(f">Title {n}</a>" in message.text for n in range(3))
    assert {state for state, _, _ in times(store, "daily")} == {OutboxState.SENT}


def test_a_shorter_digest_moves_held_posts_to_its_next_time_not_to_now(tmp_path, store) -> None:
    time = FakeTime()
    time.advance(10 * 60)  # 09:10 UTC
    daily = make_config(tmp_path, channels=[channel(*DAILY, digest="1d")])
    add(store, 0, DAILY, now=time.now())
    sender = ScriptedSender(time)
    deliver(relay_for(store, daily, sender, time))
    hourly = make_config(tmp_path, channels=[channel(*DAILY, digest="1h")])
    deliver(relay_for(store, hourly, sender, time))
    ten = "2026-11-28T10:00:00+00:00"
    assert sender.sent == [] and times(store, "daily") == [(OutboxState.PENDING, ten, ten)]


@pytest.mark.parametrize(
    ("longer", "until"),
    [
        ({"digest": "1d"}, "2026-11-29T00:00:00+00:00"),
        ({"digest": "1m", "quiet_hours": "09:00-12:00"}, "2026-11-28T12:00:00+00:00"),
    ],
)
def test_a_longer_hold_still_holds_posts_held_for_a_shorter_one(
    tmp_path, store, longer, until
) -> None:
    # Already so before re-planning (the planner checks the hold when a row comes due): kept.
    time = FakeTime()
    time.advance(30)  # 09:00:30 UTC
    short = make_config(tmp_path, channels=[channel(*DAILY, digest="1m")])
    add(store, 0, DAILY, now=time.now())
    sender = ScriptedSender(time)
    deliver(relay_for(store, short, sender, time))
    minute = "2026-11-28T09:01:00+00:00"
    assert times(store, "daily") == [(OutboxState.PENDING, minute, minute)]
    time.advance(90)  # 09:02, past the old hold
    deliver(
        relay_for(store, make_config(tmp_path, channels=[channel(*DAILY, **longer)]), sender, time)
    )
    assert sender.sent == [] and times(store, "daily") == [(OutboxState.PENDING, until, until)]


def test_a_flood_waiting_chat_and_a_retry_keep_their_time_when_quiet_hours_go(
    tmp_path, store
) -> None:
    time = FakeTime()  # 09:00 UTC
    late = ("late", BUSY[1])  # another channel in the busy chat
    quiet = {"quiet_hours": "08:00-12:00"}
    old = make_config(
        tmp_path, channels=[channel(*NIGHT, **quiet), channel(*BUSY), channel(*late, **quiet)]
    )
    add(store, 0, NIGHT, now=time.now())
    for n in (1, 2):
        add(store, n, BUSY, now=time.now())
    add(store, 3, late, now=time.now())
    # Telegram tells the busy chat to wait two hours: its first row retries at 11:00 (a flood
    # wait), the second waits with it (the chat's hold), never tried and with no error.
    flood = RetryLater(7200, "flood wait of 7200 s (Too Many Requests: retry after 7200)")
    sender = ScriptedSender(time, script={BUSY[1]: [flood]})
    deliver(relay_for(store, old, sender, time))
    eleven, queued = "2026-11-28T11:00:00+00:00", "2026-11-28T09:00:00+00:00"
    busy = times(store, "busy")
    assert [at for _, at, _ in busy] == [eleven, eleven]
    time.advance(60)
    new = make_config(tmp_path, channels=[channel(*NIGHT), channel(*BUSY), channel(*late)])
    relay = relay_for(store, new, sender, time)
    deliver(relay)
    assert len(sender.to(NIGHT[1])) == 1  # released: quiet hours held it
    assert len(sender.to(BUSY[1])) == 1  # only the flood-waited send: the chat waits
    assert times(store, "busy") == busy
    assert busy[1][2] == queued  # due since queued: not what `defer` writes
    time.advance(2 * 3600 - 60)  # 11:00: the wait is over, the quiet hours' 12:00 not yet
    deliver(relay)
    sent = [m.plain.split("\n")[0] for m in sender.to(BUSY[1])]
    assert sent == ["Title 1", "Title 1", "Title 2", "Title 3"]


def test_posts_an_older_presswatch_held_go_and_its_flood_wait_keeps_its_time(
    tmp_path, store
) -> None:
    """Rows held before due_at existed (m016) have none; its flood wait wrote no chat hold."""
    time = FakeTime()  # 09:00 UTC
    quiet = {"quiet_hours": "08:00-12:00"}
    old = make_config(tmp_path, channels=[channel(*NIGHT, **quiet), channel(*BUSY)])
    add(store, 0, NIGHT, now=time.now())
    for n in (1, 2):
        add(store, n, BUSY, now=time.now())
    flood = RetryLater(7200, "flood wait of 7200 s (Too Many Requests: retry after 7200)")
    sender = ScriptedSender(time, script={BUSY[1]: [flood]})
    deliver(relay_for(store, old, sender, time))
    with immediate(store.db):  # as the older presswatch left them
        store.db.execute("update outbox set due_at = null")
        store.db.execute("delete from chat_holds")
    busy = times(store, "busy")
    time.advance(60)
    new = make_config(tmp_path, channels=[channel(*NIGHT), channel(*BUSY)])
    deliver(relay_for(store, new, sender, time))
    assert len(sender.to(NIGHT[1])) == 1  # released: quiet hours held it
    assert len(sender.to(BUSY[1])) == 1 and times(store, "busy") == busy  # still waits


def test_an_uncertain_post_held_for_quiet_hours_is_resent_once_they_go(tmp_path, store) -> None:
    """With uncertain = "resend" the planner holds a doubtful row for quiet hours too."""
    time = FakeTime()  # 09:00 UTC
    quiet = make_config(
        tmp_path, channels=[channel(*NIGHT, quiet_hours="08:00-12:00")], uncertain="resend"
    )
    add(store, 0, NIGHT, now=time.now())
    [row] = [r["id"] for r in store.db.query("select id from outbox")]
    store.outbox.mark_uncertain(row, error="timed out", now=time.now(), retry_at=time.now())
    sender = ScriptedSender(time)
    deliver(relay_for(store, quiet, sender, time))
    noon = "2026-11-28T12:00:00+00:00"
    assert sender.sent == [] and times(store, "night") == [(OutboxState.UNCERTAIN, noon, noon)]
    time.advance(60)
    calm = make_config(tmp_path, channels=[channel(*NIGHT)], uncertain="resend")
    deliver(relay_for(store, calm, sender, time))
    assert len(sender.to(NIGHT[1])) == 1


def test_a_round_whose_replanning_failed_replans_at_the_next(tmp_path, store, monkeypatch) -> None:
    """A lost connection at the first round must not leave held posts at the old config's time."""
    time = FakeTime()  # 09:00 UTC
    quiet = make_config(tmp_path, channels=[channel(*NIGHT, quiet_hours="08:00-12:00")])
    add(store, 0, NIGHT, now=time.now())
    sender = ScriptedSender(time)
    deliver(relay_for(store, quiet, sender, time))
    real, calls = store.outbox.held_by_defer, []

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise StorageError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(store.outbox, "held_by_defer", flaky)
    relay = relay_for(store, make_config(tmp_path, channels=[channel(*NIGHT)]), sender, time)
    with pytest.raises(StorageError):
        deliver(relay)
    deliver(relay)
    assert len(calls) == 2 and len(sender.to(NIGHT[1])) == 1


def test_a_removed_channel_keeps_its_held_posts_time(tmp_path, store) -> None:
    time = FakeTime()
    old = make_config(tmp_path, channels=[channel(*NIGHT, quiet_hours="08:00-12:00")])
    add(store, 0, NIGHT, now=time.now())
    sender = ScriptedSender(time)
    deliver(relay_for(store, old, sender, time))
    held = times(store, "night")
    deliver(relay_for(store, make_config(tmp_path, channels=[channel(*BUSY)]), sender, time))
    assert sender.sent == [] and times(store, "night") == held


# -- `once` against the loopback fake Bot API, on an SQLite file ---------------------------------


def once_config(tmp_path: Path, *, feed: str, telegram: str, channel_keys: str) -> Path:
    """Write a config with one loopback feed source, the fake Bot API and one channel."""
    path = tmp_path / "presswatch.toml"
    path.write_text(
        f'[storage]\npath = "{tmp_path / "archive.db"}"\n\n'
        "[fetch]\nallow_private_addresses = true\nmin_delay_per_host = 0\nretries = 0\n\n"
        f'[telegram]\napi_base_url = "{telegram}"\n\n'
        f'[[channels]]\nname = "main"\nchat_id = "@presswatch_test"\n{channel_keys}\n'
        f'[[sources]]\nkey = "wire-a"\nkind = "feed"\nurl = "{feed}"\nfetch_pages = false\n'
        "robots = false\n",
        encoding="utf-8",
    )
    return path


def queue(archive: Path, count: int, *, at: datetime) -> None:
    """Archive `count` synthetic articles queued for the main channel at `at`."""
    store = Store.open(archive)
    for n in range(count):
        url = f"https://tass.com/{n}"
        store.add_article(
            Article(url=url, canonical_url=url, title=f"Held {n}"),
            source_key="wire-a",
            now=at,
            deliveries=[Delivery("main", "@presswatch_test")],
        )
    store.close()


def noon_zone(now: datetime) -> str:
    """Return a fixed-offset zone where it is about noon at `now`: its midnight is hours away."""
    offset = (12 - now.hour) % 24
    offset -= 24 if offset > 12 else 0
    return f"Etc/GMT{-offset:+d}"  # the Etc names' signs are inverted: Etc/GMT-3 is UTC+3


@pytest.fixture
def feed():
    """A loopback site serving one small synthetic feed."""
    with FakeSites() as sites:
        body = atom_feed(sites.base_url, "wire-a", 2, random.Random(1))
        sites.add("/wire-a.xml", body, content_type="application/atom+xml")
        yield f"{sites.base_url}/wire-a.xml"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('quiet_hours = "{before}-{after}"\n', ""),
        ('digest = "1d"\ntimezone = "{zone}"\n', 'digest = "1m"\ntimezone = "{zone}"\n'),
    ],
    ids=["quiet-hours-removed", "digest-1d-to-1m"],
)
def test_once_sends_posts_the_old_config_held_after_it_changed(
    tmp_path, feed, telegram, old, new
) -> None:
    now = datetime.now(UTC)
    keys = {
        "before": f"{now - timedelta(hours=1):%H:%M}",
        "after": f"{now + timedelta(hours=1):%H:%M}",
        "zone": noon_zone(now),
    }
    config = once_config(
        tmp_path, feed=feed, telegram=telegram.base_url, channel_keys=old.format(**keys)
    )
    presswatch("once", "--config", str(config))  # the first run only records (baseline)
    # Queued two minutes ago: a one-minute digest's time for them has come.
    queue(tmp_path / "archive.db", 2, at=now - timedelta(minutes=2))
    held = presswatch("once", "--all", "--config", str(config))
    assert held.returncode == 0, held.stderr
    assert (
        held.stderr.strip()
        .splitlines()[-1]
        .endswith("; 2 held for their time (digest, quiet hours)")
    )
    assert telegram.messages_for("@presswatch_test") == []
    once_config(tmp_path, feed=feed, telegram=telegram.base_url, channel_keys=new.format(**keys))
    result = presswatch("once", "--all", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "channel main: 2 posts held for the old digest or quiet hours now due at once" in (
        result.stderr
    )
    assert "held for their time" not in result.stderr.strip().splitlines()[-1]
    sent = " ".join(m.plain for m in telegram.messages_for("@presswatch_test"))
    assert "Held 0" in sent and "Held 1" in sent
