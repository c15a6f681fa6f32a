"""The `outbox` command: list and act on pending, uncertain and failed posts.

The service may be running meanwhile: each change is one short BEGIN IMMEDIATE transaction (in
WAL mode the service keeps reading), and the relay claims a row only while it is still pending,
so a row the operator dropped is never sent.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from bot.archive import open_archive
from bot.cli.common import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, Command, table, whole
from bot.cli.status import cut_line, sends_now
from bot.config import UncertainPolicy, load_config
from bot.delivery.render import shorten
from bot.secrets import scrubber
from bot.service.overview import when
from bot.text.plural import counted
from storage import ChannelState, OutboxKind, OutboxState
from storage.records import Settlement
from storage.status import once_running

_LISTED = (OutboxState.PENDING, OutboxState.SENDING, OutboxState.UNCERTAIN, OutboxState.FAILED)
_SETTLED_SHOWN = 20
_HOW = {
    Settlement.FOUND: "found in the chat",
    Settlement.ABSENT: "not in the chat, sent again",
    Settlement.HELD: "undecided, held",
    Settlement.RESENT: "undecided, sent again",
    Settlement.REPEATED: "edit made again",
}
_EXAMPLE = "\n  ".join(
    [
        "presswatch outbox --config presswatch.toml            # what waits, what is unsure, what failed",
        "presswatch outbox retry 12 15 --config presswatch.toml  # send rows 12 and 15 again",
        "presswatch outbox retry --all-failed --config presswatch.toml",
        "presswatch outbox drop 12 --config presswatch.toml     # it arrived after all: stop trying",
    ]
)


def _args(sub: argparse.ArgumentParser) -> None:
    """Add the outbox command's arguments."""
    sub.add_argument(
        "action",
        nargs="?",
        choices=("list", "retry", "drop"),
        default="list",
        help=(
            "list (default), retry failed or uncertain rows (a post that failed with 'chat not "
            "found', and its channel's posts not yet tried, go to the chat_id the config names "
            "now; any other post, edit or reply stays in its chat), or drop rows"
        ),
    )
    sub.add_argument(
        "ids",
        nargs="*",
        type=whole(1, 2**63 - 1),
        metavar="ID",
        help="row ids, as the list shows them",
    )
    sub.add_argument("--all-failed", action="store_true", help="retry every failed row")
    sub.add_argument(
        "--all-uncertain",
        action="store_true",
        help="retry every uncertain row (each may then arrive twice)",
    )
    sub.add_argument(
        "--state",
        action="append",
        choices=[state.value for state in _LISTED],  # as typed: a member's repr is <…: 'x'>
        help="list only rows in this state (repeatable)",
    )


def _cmd_outbox(args: argparse.Namespace) -> int:
    """List the outbox, or retry or drop rows."""
    bulk = args.all_failed or args.all_uncertain
    if args.action == "list" and (args.ids or bulk):
        # Only retry and drop act on rows: the list ignored them, as if they had been acted on.
        if bulk:
            flag = "--all-failed" if args.all_failed else "--all-uncertain"
            return _usage(f"list takes no {flag}: it goes with retry, 'outbox retry {flag}'")
        ids = " ".join(map(str, args.ids))
        return _usage(
            f"list takes no row ids ({ids}): say what to do, 'outbox retry {ids}' or "
            f"'outbox drop {ids}'"
        )
    if args.action != "list" and args.state:
        return _usage(f"--state goes with `outbox list`, not with {args.action}")
    config = load_config(args.config)
    if args.action == "list":
        return _list(config, states=tuple(args.state or _LISTED))
    if args.action == "drop" and bulk:
        return _usage("drop takes row ids only; --all-failed and --all-uncertain go with retry")
    if not args.ids and not bulk:
        return _usage(f"{args.action}: give row ids (see 'presswatch outbox') or --all-failed")
    return _change(config, args)


def _list(config, *, states: tuple[str, ...]) -> int:
    """Print the rows in `states` and every failing channel."""
    # Rows written before the token was redacted may hold it: scrub before shortening.
    scrub = scrubber(config.telegram.token)
    with open_archive(config, read_only=True) as store:
        rows = store.outbox.listing(states)
        channels = [c for c in store.outbox.channels.all() if c["state"] == ChannelState.FAILING]
        settled = store.outbox.probes.settled(limit=_SETTLED_SHOWN)
        workers = _live_workers(store) if config.storage_url is not None else 0
    lines = [("ID", "CHANNEL", "KIND", "STATE", "ATTEMPTS", "NEXT ATTEMPT", "LAST ERROR", "TITLE")]
    for row in rows:
        lines.append(
            (
                str(row["id"]),
                row["channel"],
                row["kind"] or OutboxKind.POST,
                row["state"],
                str(row["attempts"] or 0),
                when(row["next_attempt_at"]),
                shorten(scrub(row["last_error"] or "-"), 60),
                shorten(row["title"] or "", 60),
            )
        )
    print(table(lines) if rows else "the outbox has nothing pending, sending, uncertain or failed")
    counts = {s: sum(1 for r in rows if r["state"] == s) for s in states}
    # Unasked, `sending` is said only when there are such rows: the line reads as it always did.
    asked = states != _LISTED
    shown = {s: n for s, n in counts.items() if n or s != OutboxState.SENDING or asked}
    print(", ".join(f"{n} {s}" for s, n in shown.items()))
    for channel in channels:
        print(
            f"channel {channel['name']} ({channel['chat_id']}) failing since "
            f"{when(channel['since'])}: {scrub(channel['reason'] or '')}"
        )
    _print_sending(rows, config, workers=workers)
    _print_settled(settled)
    _print_uncertain_hints(rows, probing=config.telegram.uncertain == UncertainPolicy.PROBE)
    return EXIT_OK


def _live_workers(store) -> int:
    """Return how many workers of a PostgreSQL archive beat in the last 30 s, a `once` holding
    it counted as one (as `status`)."""
    from storage.postgres.fleet import Fleet  # noqa: PLC0415 - the [postgres] extra

    return len(Fleet(store.db).live(within=30)) + once_running(store.db)


def _print_sending(rows: list[dict], config, *, workers: int) -> None:
    """Say whether the `sending` rows are being sent now or were cut mid-send by a stop."""
    sending = [r for r in rows if r["state"] == OutboxState.SENDING]
    if not sending:
        return
    if sends_now(config, live_workers=workers):
        are = "row is" if len(sending) == 1 else "rows are"
        print(f"{len(sending)} sending {are} being sent now by the running presswatch")
        return
    # An edit goes back to pending at the next round (made twice is harmless): no post cut.
    if cut := sum(1 for r in sending if r["kind"] != OutboxKind.EDIT):
        print(cut_line(cut, config.telegram.uncertain))


def _print_uncertain_hints(rows: list[dict], *, probing: bool) -> None:
    """Say which uncertain rows wait for a probe and which wait for the operator."""
    uncertain = [r for r in rows if r["state"] == OutboxState.UNCERTAIN]
    waiting = sum(1 for r in uncertain if r["settlement"] is None) if probing else 0
    if waiting:
        print(
            f"{counted(waiting, 'uncertain row')} {'waits' if waiting == 1 else 'wait'} for a "
            "probe of its chat (seconds, not you)"
        )
    if len(uncertain) > waiting:
        print(
            "uncertain rows may have arrived: check the channel, then 'outbox drop ID' if it "
            "did, or 'outbox retry ID' if it did not"
        )


def _print_settled(rows: list[dict]) -> None:
    """Print how the most recent uncertain rows were settled (by a probe, or as an edit)."""
    if not rows:
        return
    print(f"\nhow uncertain rows were settled (the {_SETTLED_SHOWN} most recent):")
    lines = [("ID", "CHANNEL", "KIND", "SETTLED", "NOW", "WHEN", "HOW")]
    for row in rows:
        how = row["settle_note"] or ""
        if row["settlement"] == Settlement.FOUND and row["message_id"]:
            how = f"message {row['message_id']}"
        lines.append(
            (
                str(row["id"]),
                row["channel"],
                row["kind"] or OutboxKind.POST,
                _HOW.get(row["settlement"], row["settlement"]),
                row["state"],
                when(row["updated_at"]),
                shorten(how, 90),
            )
        )
    print(table(lines))


def _change(config, args: argparse.Namespace) -> int:
    """Retry or drop rows; report ids that were not in a state that allows it."""
    now = datetime.now(UTC)
    with open_archive(config, existing=True) as store:
        ids = list(args.ids)
        if args.all_failed:
            ids += store.outbox.ids_in(OutboxState.FAILED)
        if args.all_uncertain:
            ids += store.outbox.ids_in(OutboxState.UNCERTAIN)
        ids = sorted(set(ids))
        if not ids:
            print(f"nothing to {args.action}")
            return EXIT_OK
        before = store.outbox.states_of(ids)
        if args.action == "retry":
            # A post refused with "chat not found" goes to the chat the config names now (a typo).
            changed = store.outbox.retry(ids, now=now, chats=config.chat_ids)
        else:
            changed = store.outbox.drop(ids, now=now)
    verb = "queued again" if args.action == "retry" else "dropped"
    print(f"{counted(changed, 'row')} {verb}")
    if changed < len(ids):
        allowed = (
            "failed or uncertain" if args.action == "retry" else "pending, uncertain or failed"
        )
        rows = "row" if len(ids) == 1 else "rows"
        print(
            f"presswatch: {len(ids) - changed} of {len(ids)} {rows} not {verb}"
            f" ({_refused(ids, before, taken=allowed)}): only {allowed} rows can be;"
            " see 'presswatch outbox'",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


def _refused(ids: list[int], states: dict[int, str], *, taken: str) -> str:
    """Say why each id was left alone: no such row, or a state outside `taken` (its wording)."""
    wanted = set(taken.replace(",", " ").split()) - {"or"}
    missing = [str(i) for i in ids if i not in states]
    held = [f"{i} is {states[i]}" for i in ids if i in states and states[i] not in wanted]
    return "; ".join([*held, *([f"no row {', '.join(missing)}"] if missing else [])])


def _usage(message: str) -> int:
    """Print a usage error and return the usage exit status."""
    print(f"presswatch outbox: {message}", file=sys.stderr)
    return EXIT_CONFIG


COMMANDS: list[Command] = [
    Command(
        "outbox",
        "list pending, uncertain and failed posts; retry or drop them",
        _EXAMPLE,
        _cmd_outbox,
        _args,
    ),
]
