"""Digests and quiet hours: the pure schedule, the packing, and the relay that follows them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.delivery.digest import (
    DIGEST_BUDGET,
    DigestEntry,
    digest_entry,
    digest_head,
    digest_part,
    digest_period,
    hold_until,
    next_digest_at,
    pack_digest,
    quiet_until,
)
from bot.delivery.render import utf16_len
from storage import Delivery, OutboxState
from tests.support.posting import CHAT, Harness
from tests.support.relay import (
    START,
    FakeTime,
    ScriptedSender,
    add,
    article,
    channel,
    deliver,
    make_config,
    relay_for,
    states,
)

MSK = "Europe/Moscow"  # UTC+3, no DST


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "quiet", "zone", "until"),
    [
        ("2026-11-28 20:30", ("23:00", "07:00"), "UTC", None),
        ("2026-11-28 23:00", ("23:00", "07:00"), "UTC", "2026-11-29 07:00"),
        ("2026-11-28 23:59", ("23:00", "07:00"), "UTC", "2026-11-29 07:00"),
        ("2026-11-29 03:10", ("23:00", "07:00"), "UTC", "2026-11-29 07:00"),
        ("2026-11-29 07:00", ("23:00", "07:00"), "UTC", None),
        ("2026-11-28 12:00", ("12:00", "14:30"), "UTC", "2026-11-28 14:30"),
        ("2026-11-28 14:30", ("12:00", "14:30"), "UTC", None),
        ("2026-11-28 20:30", ("23:00", "07:00"), MSK, "2026-11-29 04:00"),  # 23:30 in Moscow
        ("2026-11-28 04:30", ("23:00", "07:00"), MSK, None),  # 07:30 in Moscow
        ("2026-11-28 12:00", ("08:00", "08:00"), "UTC", None),  # an empty period
        ("2026-03-29 00:30", ("01:00", "04:00"), "Europe/Berlin", "2026-03-29 02:00"),  # DST starts
    ],
)
def test_quiet_until(moment, quiet, zone, until) -> None:
    assert quiet_until(utc(moment), quiet, zone) == (utc(until) if until else None)


@pytest.mark.parametrize(
    ("moment", "period", "zone", "expected"),
    [
        ("2026-11-28 10:20", 3600, "UTC", "2026-11-28 11:00"),
        ("2026-11-28 11:00", 3600, "UTC", "2026-11-28 12:00"),  # strictly after
        ("2026-11-28 10:20", 1800, "UTC", "2026-11-28 10:30"),
        ("2026-11-28 10:20", 86400, "UTC", "2026-11-29 00:00"),
        ("2026-11-28 10:20", 86400, MSK, "2026-11-28 21:00"),  # Moscow midnight
        ("2026-11-28 22:20", 7 * 3600, "UTC", "2026-11-29 00:00"),  # periods restart at midnight
        ("2026-11-28 10:20", 10800, MSK, "2026-11-28 12:00"),  # 15:00 Moscow
        (
            "2026-11-28 10:20",
            7 * 86400,
            "UTC",
            "2026-12-03 00:00",
        ),  # a week, counted from the epoch
    ],
)
def test_next_digest_at(moment, period, zone, expected) -> None:
    assert next_digest_at(utc(moment), period, zone) == utc(expected)


@pytest.mark.parametrize(
    ("created", "now", "digest", "quiet", "expected"),
    [
        ("2026-11-28 10:20", "2026-11-28 10:30", None, None, None),
        ("2026-11-28 10:20", "2026-11-28 10:30", 3600, None, "2026-11-28 11:00"),
        ("2026-11-28 10:20", "2026-11-28 11:00", 3600, None, None),  # the digest is due
        ("2026-11-28 10:20", "2026-11-28 15:00", 3600, None, None),  # overdue after a stop: now
        ("2026-11-28 22:20", "2026-11-28 22:30", 3600, ("23:00", "07:00"), "2026-11-29 07:00"),
        ("2026-11-28 23:20", "2026-11-28 23:30", None, ("23:00", "07:00"), "2026-11-29 07:00"),
        ("2026-11-28 23:20", "2026-11-29 07:00", None, ("23:00", "07:00"), None),
    ],
)
def test_hold_until(created, now, digest, quiet, expected) -> None:
    held = hold_until(
        created=utc(created), now=utc(now), digest_seconds=digest, quiet=quiet, zone="UTC"
    )
    assert held == (utc(expected) if expected else None)


def _entries(sizes: list[int]) -> list[DigestEntry]:
    return [DigestEntry(html=f"<b>{'x' * n}</b>", plain="x" * n) for n in sizes]


@pytest.mark.parametrize(
    ("sizes", "budget", "max_entries", "parts"),
    [
        ([10, 10, 10], 100, 40, [(0, 1, 2)]),
        ([40, 40, 40], 100, 40, [(0, 1), (2,)]),  # 40 + 1 + 40 = 81; a third would be 122
        ([49, 49], 100, 40, [(0, 1)]),  # exactly the budget
        ([50, 50], 100, 40, [(0,), (1,)]),  # one line break between entries: 101
        ([1] * 5, 100, 2, [(0, 1), (2, 3), (4,)]),
        ([], 100, 40, []),
    ],
)
def test_pack_digest_splits_only_between_articles(sizes, budget, max_entries, parts) -> None:
    packed = pack_digest(_entries(sizes), budget=budget, max_entries=max_entries)
    assert [p.indexes for p in packed] == parts
    assert all(utf16_len(p.plain) <= budget for p in packed)


def test_a_full_digest_stays_under_telegrams_limit_in_utf16_units() -> None:
    entries = [
        digest_entry(article(n, title="𝐀 emoji 😀 title " * 12), source_name="TASS", zone=MSK)
        for n in range(60)
    ]
    packed = pack_digest(entries)
    assert len(packed) > 1 and sum(len(p.indexes) for p in packed) == 60
    assert all(utf16_len(p.plain) <= 4000 for p in packed)
    assert packed[0].html.startswith('<b>TASS</b>\n• <a href="https://tass.com/politics/0">𝐀 emoji')


# -- the relay -----------------------------------------------------------------------------------


def test_a_digest_channel_sends_its_posts_as_one_message_at_the_full_hour(tmp_path, store) -> None:
    time = FakeTime()  # 09:00 UTC
    digest, plain = ("digest", "-1001"), ("plain", "-1002")
    config = make_config(tmp_path, channels=[channel(*digest, digest="1h"), channel(*plain)])
    for n in range(5):
        add(store, n, digest, plain, now=START + timedelta(minutes=20))
    sender = ScriptedSender(time)
    relay = relay_for(store, config, sender, time)
    time.advance(25 * 60)  # 09:25
    deliver(relay)
    assert len(sender.to("-1002")) == 5 and sender.to("-1001") == []
    held = list(
        store.db.query("select next_attempt_at, state from outbox where channel = 'digest'")
    )
    assert {(r["next_attempt_at"], r["state"]) for r in held} == {
        ("2026-11-28T10:00:00+00:00", OutboxState.PENDING)
    }
    time.advance(35 * 60)  # 10:00
    deliver(relay)
    [message] = sender.to("-1001")
    assert all(f">Title {n}</a>" in message.text for n in range(5)) and message.no_preview
    assert message.text.index("Title 0") < message.text.index("Title 4")
    rows = list(store.db.query("select state, message_id from outbox where channel = 'digest'"))
    assert {(r["state"], r["message_id"]) for r in rows} == {(OutboxState.SENT, 1)}


def test_quiet_hours_hold_posts_and_send_them_after_oldest_first(tmp_path, store) -> None:
    time = FakeTime()
    time.advance(14 * 3600 + 30 * 60)  # 23:30 UTC = 02:30 in Moscow
    night = ("night", "-1001")
    config = make_config(
        tmp_path, channels=[channel(*night, quiet_hours="01:00-07:00", timezone=MSK)]
    )
    for n in range(3):
        add(store, n, night, now=time.now())
    sender = ScriptedSender(time)
    relay = relay_for(store, config, sender, time)
    deliver(relay)
    assert sender.sent == [] and set(states(store).values()) == {OutboxState.PENDING}
    time.advance(4 * 3600 + 29 * 60)  # 06:59 in Moscow
    deliver(relay)
    assert sender.sent == []
    time.advance(60)  # 07:00 in Moscow
    deliver(relay)
    assert [m.plain.split("\n")[0] for m in sender.to("-1001")] == ["Title 0", "Title 1", "Title 2"]


def test_edits_go_at_night_and_digest_channels_get_no_updates(tmp_path, store) -> None:
    time = FakeTime()
    time.advance(15 * 3600)  # 00:00 UTC
    config = make_config(
        tmp_path,
        channels=[
            channel("night", "-1001", quiet_hours="23:00-07:00"),
            channel("digest", "-1002", digest="1h"),
        ],
    )
    article_id = add(store, 1, ("night", "-1001"), ("digest", "-1002"))
    store.outbox.mark_sent([1, 2], message_id=3, now=START)
    assert store.posts.enqueue_update(article_id, kind="edit", now=time.now()) == 2
    sender = ScriptedSender(time)
    deliver(relay_for(store, config, sender, time))
    assert [(m.chat_id, m.edit_message_id) for _, m in sender.sent] == [("-1001", 3)]
    updates = store.db.query(
        "select channel, state from outbox where kind = 'edit' order by channel"
    )
    assert [(r["channel"], r["state"]) for r in updates] == [
        ("digest", "dropped"),
        ("night", OutboxState.SENT),
    ]


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2024, 3, 31, 3, 30, tzinfo=UTC),  # Berlin springs forward at 01:00 UTC
        datetime(2024, 10, 27, 1, 30, tzinfo=UTC),  # and falls back at 01:00 UTC
    ],
)
def test_digest_boundaries_stay_ahead_on_days_clocks_change(moment) -> None:
    boundary = next_digest_at(moment, 3600, "Europe/Berlin")
    assert moment < boundary <= moment + timedelta(hours=1)


@pytest.mark.parametrize(
    ("moment", "period", "boundary", "start"),
    [
        # Berlin falls back on 25 October 2026 (a 25-hour day): a daily digest goes at midnight,
        # not at 23:00 and again at 00:00; "12h" at noon, not at 11:00.
        ("2026-10-25 08:00", 86400, "2026-10-25 23:00", "2026-10-24 22:00"),
        ("2026-10-25 08:00", 43200, "2026-10-25 11:00", "2026-10-24 22:00"),
        # It springs forward on 29 March 2026 (23 hours): "12h" goes at noon, not at 13:00.
        ("2026-03-29 08:00", 43200, "2026-03-29 10:00", "2026-03-28 23:00"),
        # Each of the repeated hour's two full hours is a boundary of "1h".
        ("2026-10-25 00:30", 3600, "2026-10-25 01:00", "2026-10-25 00:00"),
        ("2026-10-25 01:30", 3600, "2026-10-25 02:00", "2026-10-25 01:00"),
    ],
)
def test_digest_boundaries_are_local_wall_clock_times_on_days_clocks_change(
    moment, period, boundary, start
) -> None:
    assert next_digest_at(utc(moment), period, "Europe/Berlin") == utc(boundary)
    assert digest_period([utc(moment)], period, "Europe/Berlin") == (utc(start), utc(boundary))


def test_a_digest_period_across_a_clock_change_names_both_zones() -> None:
    # The first of Berlin's two 02:00-03:00 hours ends at the second 02:00: "02:00–02:00 CET"
    # would read as no time at all.
    span = (utc("2026-10-25 00:00"), utc("2026-10-25 01:00"))
    head = digest_head(1, sources=1, period=span, zone="Europe/Berlin", lang="en")
    assert head.plain.splitlines()[0] == "Digest · 25.10.2026 02:00 CEST – 02:00 CET"


# -- how a digest reads ---------------------------------------------------------------------------


def test_a_digest_has_a_heading_and_lists_its_articles_by_source_each_linked(
    tmp_path, telegram
) -> None:
    h = Harness(tmp_path, telegram, digest="1h", timezone=MSK)
    created = START + timedelta(minutes=20)  # 12:20 in Moscow: the 12:00-13:00 digest
    for n, source in enumerate(("tass-com", "belta", "tass-com")):
        h.store.add_article(
            article(n), source_key=source, now=created, deliveries=[Delivery("main", CHAT)]
        )
    h.time.advance(60 * 60)  # 10:00 UTC, 13:00 in Moscow
    h.run()
    (digest,) = telegram.messages_for(CHAT)
    assert digest.plain.splitlines() == [
        "Digest · 28.11.2026 12:00–13:00 MSK",
        "3 articles from 2 sources",
        "",
        "TASS",
        "• Title 0 · 28.11.2026 12:00 MSK",
        "• Title 2 · 28.11.2026 12:00 MSK",
        "",
        "BelTA",
        "• Title 1 · 28.11.2026 12:00 MSK",
    ]
    assert all(
        f'<a href="https://tass.com/politics/{n}">Title {n}</a>' in digest.text for n in range(3)
    )


def test_a_mixed_digest_names_every_time_s_zone_in_its_one_language(tmp_path, telegram) -> None:
    # A Russian and an English article: the digest is in English, "MSK" in its heading and in
    # each entry, not "МСК" under the Russian one's title.
    h = Harness(tmp_path, telegram, digest="1h", timezone=MSK)
    moscow = tuple(replace(s, timezone=MSK) for s in h.config.sources)
    h.config = replace(h.config, sources=moscow)
    created = START + timedelta(minutes=20)
    for n, lang in enumerate(("ru", "en")):
        h.store.add_article(
            article(n, lang=lang),
            source_key="tass-com",
            now=created,
            deliveries=[Delivery("main", CHAT)],
        )
    h.time.advance(60 * 60)
    h.run()
    (digest,) = telegram.messages_for(CHAT)
    assert digest.plain.splitlines()[0] == "Digest · 28.11.2026 12:00–13:00 MSK"
    assert digest.plain.splitlines()[4:] == [
        "• Title 0 · 28.11.2026 12:00 MSK",
        "• Title 1 · 28.11.2026 12:00 MSK",
    ]


@pytest.mark.parametrize(
    ("count", "sources", "lang", "period", "head"),
    [
        (
            1,
            1,
            "en",
            ("2026-11-28 09:00", "2026-11-28 10:00"),
            "Digest · 28.11.2026 12:00–13:00 MSK\n1 article from 1 source",
        ),
        (
            21,
            1,
            "ru",
            ("2026-11-28 09:00", "2026-11-28 10:00"),
            "Дайджест · 28.11.2026 12:00–13:00 МСК\n21 статья из 1 источника",
        ),
        (3, 2, "ru", None, "Дайджест\n3 статьи из 2 источников"),
        (12, 11, "ru", None, "Дайджест\n12 статей из 11 источников"),
        # A daily digest names its day; one ending at midnight its last hour as 24:00.
        (
            5,
            2,
            "en",
            ("2026-11-27 21:00", "2026-11-28 21:00"),
            "Digest · 28.11.2026\n5 articles from 2 sources",
        ),
        (
            5,
            2,
            "en",
            ("2026-11-28 20:00", "2026-11-28 21:00"),
            "Digest · 28.11.2026 23:00–24:00 MSK\n5 articles from 2 sources",
        ),
    ],
)
def test_a_digest_heading_names_its_period_and_counts_in_its_language(
    count, sources, lang, period, head
):
    span = (utc(period[0]), utc(period[1])) if period else None
    assert digest_head(count, sources=sources, period=span, zone=MSK, lang=lang).plain == head


def test_a_digest_s_period_runs_from_the_boundary_before_its_first_row_to_its_release() -> None:
    rows = [utc("2026-11-28 09:20"), utc("2026-11-28 10:05")]  # held over a restart
    assert digest_period(rows, 3600, MSK) == (utc("2026-11-28 09:00"), utc("2026-11-28 11:00"))
    # A "5h" day's last period is 20:00-24:00 local (boundaries restart at midnight).
    assert digest_period([utc("2026-11-28 18:30")], 5 * 3600, MSK) == (
        utc("2026-11-28 17:00"),
        utc("2026-11-28 21:00"),
    )


def test_a_split_digest_numbers_its_parts_and_names_a_source_again_in_the_next() -> None:
    entries = [DigestEntry(html=f"• {'x' * 30}", plain=f"• {'x' * 30}", group="TASS")] * 4
    head = digest_head(4, sources=1, period=None, zone=MSK, lang="en")
    parts = pack_digest(entries, head=head, budget=120)
    assert [p.indexes for p in parts] == [(0, 1), (2, 3)]
    assert [p.plain.splitlines()[:4] for p in parts] == [
        [f"Digest ({n}/2)", "4 articles from 1 source", "", "TASS"] for n in (1, 2)
    ]
    assert all(utf16_len(p.plain) <= 120 for p in parts)


def test_a_part_written_again_longer_than_it_was_packed_takes_two_messages() -> None:
    """Synthetic entries: 40 fit under the budget; grown by 6 units each (a zone renamed), a part
    of them goes out as two, the second "continued", each entry once and every text in budget."""
    head = digest_head(80, sources=1, period=None, zone="UTC", lang="en")
    short = [DigestEntry(f"• {'x' * 90}", f"• {'x' * 90}", "TASS")] * 40
    (part,) = pack_digest(short * 2, head=head)[:1]
    assert digest_part(short, head=head, number=(1, 2), lang="en") == [part]
    longer = [replace(e, plain=e.plain + "+5:30 ") for e in short]
    again = digest_part(longer, head=head, number=(1, 2), lang="en")
    assert [p.plain.splitlines()[0] for p in again] == ["Digest (1/2)", "Digest (1/2, continued)"]
    assert sorted(i for p in again for i in p.indexes) == list(range(40))
    assert all(utf16_len(p.plain) <= 4000 for p in again)


@pytest.mark.parametrize("continued", [False, True])
def test_a_continued_message_leaves_room_for_the_longest_mark_in_the_digest_language(
    continued,
) -> None:
    """Synthetic: 20 Russian entries of 394 units, part 25 of 25 written again: ten a message
    reach 3,991 units before the mark, and " (25/25, продолжение)" (21) took them to 4,012."""
    head = digest_head(1000, sources=1, period=None, zone="UTC", lang="ru")
    entries = [DigestEntry(f"• {'я' * 392}", f"• {'я' * 392}", "ТАСС")] * 20
    again = digest_part(entries, head=head, number=(25, 25), lang="ru", continued=continued)
    first = "Дайджест (25/25, продолжение)" if continued else "Дайджест (25/25)"
    assert [p.plain.splitlines()[0] for p in again][:2] == [first, "Дайджест (25/25, продолжение)"]
    assert sorted(i for p in again for i in p.indexes) == list(range(20))
    assert max(utf16_len(p.plain) for p in again) <= DIGEST_BUDGET
