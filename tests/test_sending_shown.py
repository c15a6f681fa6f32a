"""`status` and `outbox list` show posts left `sending`: with no presswatch process sending, as
posts cut mid-send that the next round holds for the operator (counted as `once` will count them,
exit 1); while a service runs, as posts being sent now. A real archive on both backends, the
command line in-process; the outbox rows are synthetic (states written as a kill -9 leaves them).
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.config import UncertainPolicy
from bot.service.reachability import held_for_you
from storage import Delivery, InstanceLock, OutboxKind, OutboxState, Store
from tests.support.cli import channel_only_config
from tests.support.monitor import article
from tests.support.postgres import storage_setting

NOW = datetime.now(UTC).replace(microsecond=0)
# Row ids by state: 5 sent, 1 pending, 3 uncertain (held for the operator), 2 cut mid-send.
STATES = {
    OutboxState.SENT: (1, 2, 3, 4, 5),
    OutboxState.PENDING: (6,),
    OutboxState.UNCERTAIN: (7, 8, 9),
    OutboxState.SENDING: (10, 11),
}
CUT_HELD = (
    "needs attention: 5 posts held for you (2 cut mid-send by a stop, marked uncertain at the "
    "next round): presswatch outbox list --state uncertain --state sending"
)
UNCERTAIN_HELD = "needs attention: 3 posts held for you: presswatch outbox list --state uncertain"


@pytest.fixture
def config(store: Store, tmp_path: Path, monkeypatch) -> Path:
    """Return the config of an archive whose `main` channel has rows in every state above."""
    monkeypatch.delenv("PRESSWATCH_TELEGRAM_TOKEN", raising=False)
    for n in range(1, 12):
        store.add_article(
            article(n, NOW), source_key="alpha", now=NOW,
            deliveries=[Delivery("main", "@presswatch_test")],
        )  # fmt: skip
    for state, ids in STATES.items():
        for id_ in ids:
            store.db.execute("update outbox set state = ? where id = ?", [state, id_])
    if getattr(store.db, "backend", None) is None:
        store.db.conn.commit()
    return channel_only_config(tmp_path, storage_setting(store, tmp_path / "archive.db"))


def _run(*args: str, capsys) -> tuple[int, str]:
    """Run a presswatch command in-process; return its exit status and its standard output."""
    code = main(list(args))
    return code, capsys.readouterr().out


def _channel_row(out: str) -> dict[str, str]:
    """Return the `main` row of status' channel table by column (FLOOD WAITING one column)."""
    lines = [line for line in out.splitlines() if line.startswith(("CHANNEL", "main "))]
    header, row = (line.replace("FLOOD WAITING", "FLOOD_WAITING").split() for line in lines)
    return dict(zip(header, row))


def _service(store: Store, tmp_path: Path, stack: ExitStack) -> None:
    """Make a presswatch service run on the archive, as `status` and `outbox` can tell it."""
    backend = getattr(store.db, "backend", None)
    if backend is None:
        stack.enter_context(InstanceLock(tmp_path / "archive.db", role="run"))
        return
    from storage.postgres.fleet import Fleet  # noqa: PLC0415 - the [postgres] extra

    Fleet(store.db).beat("elsewhere:4242", host="elsewhere", pid=4242)


def test_status_counts_posts_cut_mid_send_as_held_for_you_as_the_next_round_will(
    store: Store, config: Path, capsys, restore_logging
) -> None:
    code, out = _run("status", "--config", str(config), capsys=capsys)
    assert code == 1
    assert _channel_row(out) == {
        "CHANNEL": "main", "SENT": "5", "PENDING": "1", "SENDING": "2", "UNCERTAIN": "3",
        "FAILED": "0", "FLOOD_WAITING": "0", "HELD": "0",
    }  # fmt: skip
    assert out.rstrip().endswith(CUT_HELD)
    # The next round marks them uncertain: `once` counts the same five, status says the same.
    store.outbox.recover_interrupted(now=datetime.now(UTC))
    if getattr(store.db, "backend", None) is None:
        store.db.conn.commit()
    listing = store.outbox.listing([OutboxState.UNCERTAIN])
    assert held_for_you(listing, UncertainPolicy.HOLD) == 5
    code, out = _run("status", "--config", str(config), capsys=capsys)
    assert code == 1
    assert out.rstrip().endswith(
        "needs attention: 5 posts held for you: presswatch outbox list --state uncertain"
    )


def test_status_shows_posts_a_running_service_sends_as_sending_not_held(
    store: Store, config: Path, tmp_path: Path, capsys, restore_logging
) -> None:
    with ExitStack() as stack:
        _service(store, tmp_path, stack)
        code, out = _run("status", "--config", str(config), capsys=capsys)
    assert _channel_row(out)["SENDING"] == "2"
    assert out.rstrip().endswith(UNCERTAIN_HELD)  # the three uncertain ones only
    assert "cut mid-send" not in out and code == 1


def test_outbox_list_shows_posts_cut_mid_send_and_what_the_next_round_does(
    store: Store, config: Path, tmp_path: Path, capsys, restore_logging
) -> None:
    code, out = _run("outbox", "list", "--config", str(config), capsys=capsys)
    assert code == 0
    states = {line.split()[0]: line.split()[3] for line in out.splitlines()[1:7]}
    assert states == {str(i): state for state, ids in STATES.items() if ids[0] > 5 for i in ids}
    assert "1 pending, 2 sending, 3 uncertain, 0 failed" in out.splitlines()
    cut = (
        "2 posts cut mid-send by a stop: the next `once` or `run` marks them uncertain, "
        "then held for you"
    )
    assert cut in out.splitlines()
    code, out = _run("outbox", "list", "--state", "sending", "--config", str(config), capsys=capsys)
    assert [line.split()[0] for line in out.splitlines()[1:3]] == ["10", "11"]
    with ExitStack() as stack:
        _service(store, tmp_path, stack)
        code, out = _run("outbox", "list", "--config", str(config), capsys=capsys)
    assert "2 sending rows are being sent now by the running presswatch" in out.splitlines()
    assert cut not in out.splitlines()


def test_under_probe_posts_cut_mid_send_are_said_but_not_held_as_once_would_not(
    store: Store, config: Path, capsys, restore_logging
) -> None:
    """With `telegram.uncertain = "probe"` the next round probes them: no exit 1 for them."""
    probing = '[telegram]\nuncertain = "probe"\nprobe_chat_id = "-1009876543210"\n'
    config.write_text(config.read_text() + probing, encoding="utf-8")
    code, out = _run("status", "--config", str(config), capsys=capsys)
    cut = (
        "2 posts cut mid-send by a stop: the next `once` or `run` marks them uncertain, "
        "then settled by a probe of their chat"
    )
    assert cut in out.splitlines() and "held for you" not in out
    assert code == 0


def test_a_once_in_progress_sends_its_rows_now_they_are_not_cut_mid_send(
    store: Store, config: Path, tmp_path: Path, capsys, restore_logging
) -> None:
    """A `once` holds the writers' lock and sends with no worker row (PostgreSQL): its `sending`
    rows are being sent now, not cut by a stop nor held for the operator."""
    backend = getattr(store.db, "backend", None)
    with ExitStack() as stack:
        if backend is None:
            stack.enter_context(InstanceLock(tmp_path / "archive.db", role="once"))
        else:
            stack.enter_context(backend.lock(role="once"))
        code, out = _run("status", "--config", str(config), capsys=capsys)
        assert out.rstrip().endswith(UNCERTAIN_HELD) and "cut mid-send" not in out
        code, out = _run("outbox", "list", "--config", str(config), capsys=capsys)
        assert "2 sending rows are being sent now by the running presswatch" in out.splitlines()


def test_an_edit_cut_mid_send_is_made_again_not_held_as_the_next_round_does(
    store: Store, config: Path, capsys, restore_logging
) -> None:
    """The next round puts an edit left `sending` back to pending (made twice is harmless): it
    is no post held for the operator, in `status` or `outbox list`."""
    store.db.execute("update outbox set kind = ? where id = 11", [OutboxKind.EDIT])
    if getattr(store.db, "backend", None) is None:
        store.db.conn.commit()
    code, out = _run("status", "--config", str(config), capsys=capsys)
    assert out.rstrip().endswith(
        "needs attention: 4 posts held for you (1 cut mid-send by a stop, marked uncertain at the "
        "next round): presswatch outbox list --state uncertain --state sending"
    )
    code, out = _run("outbox", "list", "--config", str(config), capsys=capsys)
    assert (
        "1 post cut mid-send by a stop: the next `once` or `run` marks it uncertain, then held "
        "for you"
    ) in out.splitlines()
    store.outbox.recover_interrupted(now=datetime.now(UTC))
    if getattr(store.db, "backend", None) is None:
        store.db.conn.commit()
    listing = store.outbox.listing([OutboxState.UNCERTAIN])
    assert held_for_you(listing, UncertainPolicy.HOLD) == 4  # as `once` then counts


def test_outbox_list_counts_the_states_asked_for_even_at_none(
    store: Store, config: Path, capsys, restore_logging
) -> None:
    """`--state sending` asked for is counted at 0 too; unasked, a 0 sending is left out."""
    store.outbox.recover_interrupted(now=datetime.now(UTC))
    if getattr(store.db, "backend", None) is None:
        store.db.conn.commit()
    args = ("outbox", "list", "--config", str(config))
    code, out = _run(*args, "--state", "pending", "--state", "sending", capsys=capsys)
    assert "1 pending, 0 sending" in out.splitlines()
    code, out = _run(*args, capsys=capsys)
    assert "1 pending, 5 uncertain, 0 failed" in out.splitlines()
