"""A digest Telegram refuses for its HTML or its length still links each article it lists.

The real relay and python-telegram-bot against the loopback fake Bot API (synthetic articles).
"""

from __future__ import annotations

import re

import pytest

from bot.delivery.digest_plain import fit_digest
from bot.delivery.render import utf16_len
from storage import OutboxState
from tests.support.posting import CHAT, RelayKit, relay_rounds
from tests.support.relay import FakeTime, add, channel, make_config, states

_TITLE = re.compile(r"^• Title (\d+)\b")
_URL = re.compile(r"^  https://tass\.com/politics/(\d+)$")
_HREF = re.compile(r'href="https://tass\.com/politics/(\d+)"')


def _kit(tmp_path, store, fake, count: int, **extra) -> RelayKit:
    """Queue `count` articles for an hourly digest pointed at the fake, and reach its hour."""
    config = make_config(
        tmp_path, channels=[channel("digest", CHAT, digest="1h")], api_base_url=fake.base_url
    )
    kit = RelayKit(fake, FakeTime(), store, config)
    for n in range(count):
        add(store, n, ("digest", CHAT), **{k: v.format(n=n) for k, v in extra.items()})
    kit.time.advance(3600)
    return kit


def _pairs(text: str) -> list[tuple[str, str]]:
    """Return each listed title's number with the number of the address on the line under it."""
    lines = text.splitlines()
    return [
        (title.group(1), url.group(1) if (url := _URL.match(after)) else "")
        for line, after in zip(lines, [*lines[1:], ""], strict=True)
        if (title := _TITLE.match(line))
    ]


@pytest.mark.parametrize(
    "refusal",
    [
        "Bad Request: can't parse entities: unsupported start tag",
        "Bad Request: message is too long",
    ],
)
def test_a_refused_digest_goes_out_as_plain_text_with_each_article_s_own_link(
    tmp_path, store, telegram, refusal
) -> None:
    kit = _kit(tmp_path, store, telegram, 3)
    telegram.fail_next(1, status=400, description=refusal)
    relay_rounds(kit, 1, advance=60, probe=False)
    [message] = telegram.messages_for(CHAT)
    assert message.parse_mode is None
    assert _pairs(message.text) == [("0", "0"), ("1", "1"), ("2", "2")]
    assert set(states(store).values()) == {OutboxState.SENT}


def test_a_digest_too_long_as_plain_text_drops_whole_entries_and_says_how_many() -> None:
    entries = [f"• Title {n}\n  https://tass.com/politics/{n}" for n in range(40)]
    console = "Digest\n40 articles from 1 source\n\nTASS\n" + "\n".join(entries)
    text, kept = fit_digest(console, 400)
    pairs = _pairs(text)
    assert utf16_len(text) <= 400 and 0 < len(pairs) < 40 and kept == len(pairs)
    assert all(title == url for title, url in pairs)
    assert text.endswith(f"\n\n+{40 - len(pairs)} more")


def test_entries_a_refused_digest_has_no_room_for_go_in_its_next_message(
    tmp_path, store, telegram
) -> None:
    # Synthetic long titles: 40 fit one HTML message, not with their addresses written out.
    kit = _kit(tmp_path, store, telegram, 40, title="Title {n} " + "of a long headline " * 3)
    telegram.fail_next(1, status=400, description="Bad Request: can't parse entities")
    relay_rounds(kit, 1, advance=60, probe=False)
    first, *rest = telegram.messages_for(CHAT)
    kept = _pairs(first.text)
    assert 0 < len(kept) < 40 and all(title == url for title, url in kept)
    assert first.text.endswith(f"\n\n+{40 - len(kept)} more")
    # Those left out go in the next message (HTML again), not marked sent with the rest and lost.
    later = [n for message in rest for n in _HREF.findall(message.text)]
    assert sorted([title for title, _ in kept] + later, key=int) == [str(n) for n in range(40)]
    assert set(states(store).values()) == {OutboxState.SENT}
