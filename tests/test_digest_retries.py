"""A part of a split digest whose rows go out in two messages: only the first claims the part."""

from __future__ import annotations

import re

from bot.delivery.digest import DigestEntry, digest_head, digest_part
from bot.delivery.render import utf16_len
from storage import OutboxState
from tests.fakes.telegram import FakeTelegram
from tests.support.posting import CHAT, RelayKit, relay_rounds
from tests.support.relay import FakeTime, add, channel, make_config, states

HEAD = "Digest · 28.11.2026 09:00–10:00 UTC"


def _kit(tmp_path, store, fake) -> RelayKit:
    """Queue 45 articles for an hourly digest pointed at the fake (40 fit a message: 23 + 22), at 10:00."""
    config = make_config(
        tmp_path, channels=[channel("digest", CHAT, digest="1h")], api_base_url=fake.base_url
    )
    kit = RelayKit(fake, FakeTime(), store, config)
    for n in range(45):
        add(store, n, ("digest", CHAT), source="belta" if n % 2 else "tass-com")
    kit.time.advance(3600)
    return kit


def _heads(fake: FakeTelegram) -> list[str]:
    return [m.plain.splitlines()[0] for m in fake.messages_for(CHAT)]


def _titles(fake: FakeTelegram) -> list[str]:
    return [line for m in fake.messages_for(CHAT) for line in m.plain.splitlines() if "•" in line]


def test_a_part_retried_in_two_batches_is_claimed_once_and_continued(
    tmp_path, store, telegram
) -> None:
    fake = telegram
    kit = _kit(tmp_path, store, fake)
    fake.fail_next(1, status=400, description="Bad Request: something odd")  # part 1
    relay_rounds(kit, 1, advance=60, probe=False)
    assert _heads(fake) == [f"{HEAD} (2/2)"]
    failed = sorted(i for i, s in states(store).items() if s == OutboxState.FAILED)
    assert len(failed) == 23
    # The operator retries the part's rows in two batches (`outbox retry 1 2 …`, then the rest).
    assert store.outbox.retry(failed[:15], now=kit.time.now()) == 15
    relay_rounds(kit, 1, advance=60, probe=False)
    assert store.outbox.retry(failed[15:], now=kit.time.now()) == 8
    relay_rounds(kit, 1, advance=60, probe=False)
    heads = _heads(fake)
    assert heads == [f"{HEAD} (2/2)", f"{HEAD} (1/2)", f"{HEAD} (1/2, continued)"]
    assert sorted(_titles(fake)) == sorted(set(_titles(fake)))  # each article listed once
    assert len(_titles(fake)) == 45
    assert set(states(store).values()) == {OutboxState.SENT}


def test_a_part_sent_whole_after_its_failure_still_says_only_its_number(
    tmp_path, store, telegram
) -> None:
    fake = telegram
    kit = _kit(tmp_path, store, fake)
    fake.fail_next(1, status=400, description="Bad Request: something odd")
    relay_rounds(kit, 1, advance=60, probe=False)
    failed = [i for i, s in states(store).items() if s == OutboxState.FAILED]
    assert store.outbox.retry(failed, now=kit.time.now()) == 23
    relay_rounds(kit, 1, advance=60, probe=False)
    heads = _heads(fake)
    assert heads == [f"{HEAD} (2/2)", f"{HEAD} (1/2)"]


def test_the_rest_of_a_part_is_marked_in_the_digest_s_language() -> None:
    head = digest_head(3, sources=1, period=None, zone="UTC", lang="ru")
    entries = [DigestEntry(f"• {n}", f"• {n}", "ТАСС") for n in range(2)]

    def first_line(lang: str | None) -> str:
        (part,) = digest_part(
            entries, head=head, number=(2, 3), lang=lang or "", continued=lang is not None
        )
        return part.plain.splitlines()[0]

    plain = {lang: first_line(lang) for lang in ("ru", "ru-RU", "", "en", None)}
    assert plain == {
        "ru": "Дайджест (2/3, продолжение)",
        "ru-RU": "Дайджест (2/3, продолжение)",
        "": "Дайджест (2/3, continued)",
        "en": "Дайджест (2/3, continued)",
        None: "Дайджест (2/3)",
    }


def test_a_part_that_reads_longer_when_sent_again_goes_out_whole_in_two_messages(
    tmp_path, store, telegram
) -> None:
    """Synthetic titles, each 71 characters: 40 entries fill a part to ~3,950 units in UTC. The
    parts are packed, a flood wait holds them past a stop, and the operator sets the channel's
    zone to Asia/Colombo: each entry's "UTC" reads "UTC+5:30", 200 units more a part, past
    Telegram's 4096 (which the fake enforces). Each part goes out in two messages, every
    article once, none cut short."""
    fake = telegram
    target = ("digest", CHAT)
    config = make_config(tmp_path, channels=[channel(*target, digest="1h")],
                         api_base_url=fake.base_url)  # fmt: skip
    kit = RelayKit(fake, FakeTime(), store, config)
    for n in range(80):
        title = f"Title {n:02d} of a long statement on the talks in Geneva and in Vienna today"
        add(store, n, target, title=title)
    kit.time.advance(3600)
    fake.flood_next(1, retry_after=600)
    relay_rounds(kit, 1, advance=60, probe=False)  # packed, then held; the service stops
    assert fake.messages_for(CHAT) == [] and set(states(store).values()) == {OutboxState.PENDING}
    assert all(r["digest_part"] for r in store.db.query("select digest_part from outbox"))
    moved = make_config(tmp_path, channels=[channel(*target, digest="1h", timezone="Asia/Colombo")],
                        api_base_url=fake.base_url)  # fmt: skip
    kit = RelayKit(fake, kit.time, store, moved)
    kit.time.advance(600)
    relay_rounds(kit, 1, advance=60, probe=False)  # the next start
    assert _heads(fake) == [f"{HEAD} ({n}/2{more})" for n in (1, 2) for more in ("", ", continued")]
    assert all(utf16_len(m.plain) <= 4096 for m in fake.messages_for(CHAT))
    titles = _titles(fake)
    assert len(titles) == 80 and all(t.endswith(" · 28.11.2026 14:30 UTC+5:30") for t in titles)
    assert sorted(t[8:10] for t in titles) == [f"{n:02d}" for n in range(80)]  # each once
    links = [u for m in fake.messages_for(CHAT) for u in re.findall(r'href="([^"]+)"', m.text)]
    assert sorted(links) == sorted(f"https://tass.com/politics/{n}" for n in range(80))
    assert set(states(store).values()) == {OutboxState.SENT}
