"""The pure rules of a probe: what each sequence of answers means, and how a copy is recognised."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, config_from_dict
from bot.delivery.probing import (
    GAP,
    LIMIT,
    SHARED_LIMIT,
    Absent,
    AskProtection,
    Forward,
    Found,
    Scan,
    Seen,
    Undecided,
    compare,
    decide,
    expectation,
    sequential_ids,
)
from bot.delivery.telegram import Message

OK, N, X, M, U = Seen.OURS, Seen.NEAR, Seen.OTHER, Seen.MISSING, Seen.UNFORWARDABLE


def _scan(after, looks, *, own=(), sequential=True, protected=None) -> Scan:
    """A scan that looked at after+1, after+2, … (skipping `own`) and saw `looks`."""
    scan = Scan(after=after, own=frozenset(own), sequential=sequential, protected=protected)
    for seen in looks:
        step = decide(scan)
        assert isinstance(step, Forward), (scan, step)
        scan = scan.seeing(step.message_id, seen)
    return scan


@pytest.mark.parametrize(
    ("after", "own", "looks", "step"),
    [
        # Nothing looked at yet: the id after the last confirmed one.
        (10, (), [], Forward(11)),
        (None, (), [], Forward(1)),  # no confirmed message yet: from the chat's first id
        # Found at once, or after somebody else's posts.
        (10, (), [OK], Found(11)),
        (10, (), [X, X, OK], Found(13)),
        # Our own later posts are skipped without a call.
        (10, (11, 12), [], Forward(13)),
        (10, (11, 12), [X], Forward(14)),
        # Missing past the chat's end, GAP times in a row: absent.
        (10, (), [M] * GAP, Absent(tuple(range(11, 11 + GAP)))),
        (10, (), [M] * (GAP - 1), Forward(10 + GAP)),
        (10, (), [X, M, M, M], Absent((12, 13, 14))),
        # A deleted message before a later one is no end of the chat.
        (10, (), [M, X, M, M], Forward(15)),
        (10, (), [M, OK], Found(12)),
        # Missing ids below our own later posts prove nothing; past them they do.
        (10, (12, 13), [M, M, M, M], Absent((14, 15, 16))),
        # A copy like ours but not ours: never guess.
        (
            10,
            (),
            [X, N],
            Undecided("message 12 has our text or our link but not both: not guessing"),
        ),
        # A message that cannot be forwarded: ask whether the chat protects its content.
        (10, (), [U], AskProtection()),
    ],
)
def test_what_the_answers_mean(after, own, looks, step) -> None:
    assert decide(_scan(after, looks, own=own)) == step


def test_a_protected_chat_is_undecided_an_unprotected_one_goes_on() -> None:
    scan = _scan(10, [X, U])
    assert decide(scan) == AskProtection()
    assert decide(Scan(10, looks=scan.looks, protected=True)) == Undecided(
        "the chat protects its content: its messages can't be forwarded"
    )
    # A service message (a pin, a new title) cannot be forwarded either: it is not ours.
    assert decide(Scan(10, looks=scan.looks, protected=False)) == Forward(13)
    assert decide(Scan(10, looks=(*scan.looks, *_scan(12, [M, M, M]).looks), protected=False)) == (
        Absent((13, 14, 15))
    )


def test_ids_taken_by_others_beyond_the_bound_are_undecided() -> None:
    scan = _scan(10, [X] * (LIMIT - 1))
    assert decide(scan) == Forward(10 + LIMIT)
    assert decide(scan.seeing(10 + LIMIT, X)) == Undecided(
        f"messages 11–{10 + LIMIT} are somebody else's"
    )


def test_a_private_chat_can_find_but_never_disprove() -> None:
    found = _scan(50, [M, M, M, OK], sequential=False)
    assert decide(found) == Found(54)
    missing = _scan(50, [M] * (SHARED_LIMIT - 1), sequential=False)
    last = missing.seeing(50 + SHARED_LIMIT, M)
    assert isinstance(decide(last), Undecided) and "proves nothing" in decide(last).reason
    assert decide(Scan(None, sequential=False)) == Undecided(
        "no message of ours was confirmed in a private chat or basic group yet"
    )


@pytest.mark.parametrize(
    ("chat", "sequential"),
    [
        ("@gov_news", True),
        ("-1001234567890", True),
        ("-4001", False),
        ("42", False),
        ("-1001001", False),
    ],
)
def test_only_channels_and_supergroups_number_their_own_messages(chat, sequential) -> None:
    assert sequential_ids(chat) is sequential


POST = (
    "<b>Budget &amp; taxes</b>\n\nTASS · 09:00\n\nThe summary.\n\n"
    '<a href="https://tass.com/economy/1?a=1&amp;b=2">tass.com/economy/1</a>\n\n#Economy'
)
SHOWN = "Budget & taxes\n\nTASS · 09:00\n\nThe summary.\n\ntass.com/economy/1\n\n#Economy"
LINK = "https://tass.com/economy/1?a=1&b=2"


@pytest.mark.parametrize(
    ("text", "links", "seen"),
    [
        (SHOWN, (LINK,), OK),
        (SHOWN + "  \n", ("HTTPS://TASS.COM/economy/1/?a=1&b=2",), OK),  # trimmed, host case, '/'
        (SHOWN, (), N),  # our text without our link
        ("Another story\n\ntass.com/economy/1", (LINK,), N),  # our link under other text
        ("Another story", ("https://tass.com/economy/2",), X),
    ],
)
def test_a_copy_is_ours_only_with_our_text_and_links(text, links, seen) -> None:
    expected = expectation(Message(chat_id="-1001", text=POST), after=7)
    assert expected.after == 7
    assert compare(expected, text=text, links=links) == seen


def test_a_plain_text_message_is_recognised_by_its_text_and_visible_link() -> None:
    plain = "Budget & taxes\n\nhttps://tass.com/economy/1"
    expected = expectation(Message(chat_id="-1001", text=plain, html=False), after=None)
    assert compare(expected, text=plain, links=()) == OK
    assert compare(expected, text="Other\nhttps://tass.com/economy/1", links=()) == N


@pytest.mark.parametrize(
    ("telegram", "policy"),
    [
        ({}, "hold"),
        ({"probe_chat_id": -1009876543210}, "probe"),  # the default with a probe chat
        ({"probe_chat_id": "-1009876543210", "uncertain": "resend"}, "resend"),
        ({"uncertain": "probe"}, 'telegram.uncertain: "probe" needs telegram.probe_chat_id'),
        ({"probe_chat_id": "probes"}, "telegram.probe_chat_id: expected '@channelname'"),
        ({"probe_chat_id": "-100", "probe_fallback": "probe"}, "telegram.probe_fallback: expected"),
    ],
)
def test_the_probe_policy_in_the_config(tmp_path, telegram, policy) -> None:
    try:
        loaded = config_from_dict({"telegram": telegram}, path=tmp_path / "p.toml").telegram
    except ConfigError as exc:
        assert str(exc).startswith(policy)
    else:
        assert loaded.uncertain == policy and loaded.probe_fallback == "hold"
