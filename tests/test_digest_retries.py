"""A part of a split digest whose rows go out in two messages: only the first claims the part."""

from __future__ import annotations

from bot.delivery.digest import DigestEntry, digest_head, digest_part
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
    plain = {
        lang: digest_part(entries, head=head, number=(2, 3), continued=lang).plain.splitlines()[0]
        for lang in ("ru", "ru-RU", "", "en", None)
    }
    assert plain == {
        "ru": "Дайджест (2/3, продолжение)",
        "ru-RU": "Дайджест (2/3, продолжение)",
        "": "Дайджест (2/3, continued)",
        "en": "Дайджест (2/3, continued)",
        None: "Дайджест (2/3)",
    }
