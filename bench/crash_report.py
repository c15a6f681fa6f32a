"""What one crash run found (bench/crash.py), whether it met the goals, and the Markdown table."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class CrashReport:
    """What one crash run found; lost and doubled come from the fake's messages and the archive."""

    policy: str
    articles: int
    expected: int  # posts: articles × channels
    kills: int
    aimed: int  # kills that waited for a send carried out but not answered
    kills_in_send: int  # kills made while the fake had a send received and not yet answered
    kills_after_delivery: int  # … of which the message was already in the chat
    interrupted: int  # rows the archive showed `sending` after the kills (two chats in parallel)
    failed_500: int  # sends the fake answered 500 before taking them
    dropped: int  # sends the fake took and then closed without an answer
    delivered: int  # posts the fake received at least once
    lost: int  # posts the fake never received whose row is not left for the operator
    doubled: int  # extra copies the fake received
    left_for_operator: int  # rows `uncertain` at the end
    left_arrived: int  # … of which the fake had received the post (the operator drops those)
    listed_uncertain: int  # uncertain rows `presswatch outbox` listed
    settled: dict[str, int]  # how uncertain rows were settled: found, absent, held, resent
    copies_left: int  # messages left in the probe chat (probe copies not deleted)
    throttled: int
    seconds: float


def goals_met(report: CrashReport) -> bool:
    """Nothing lost, a kill inside a send, the operator told of every row left; then per policy:
    hold never doubles; resend leaves nothing and doubles at most once per interrupted or dropped
    send; probe leaves nothing, doubles nothing and leaves no copy in the probe chat."""
    common = (
        report.lost == 0
        and report.kills_in_send > 0
        and report.listed_uncertain == report.left_for_operator
    )
    if report.policy == "hold":
        return common and report.doubled == 0
    if report.policy == "resend":
        bound = report.interrupted + report.dropped
        return common and report.left_for_operator == 0 and report.doubled <= bound
    return (
        common and report.left_for_operator == 0 and report.doubled == 0 and not report.copies_left
    )


def table(reports: list[CrashReport]) -> str:
    """Return the reports as a Markdown table."""
    head = (
        "| policy | articles | posts | kills (aimed) | kills inside a send (message already in "
        "the chat) | rows interrupted | 500s / dropped sends | delivered | lost | doubled | "
        "left for the operator (arrived) | settled by probing | copies left | 429s | seconds |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"
    )
    rows = [
        f"| {r.policy} | {r.articles} | {r.expected} | {r.kills} ({r.aimed}) | "
        f"{r.kills_in_send} ({r.kills_after_delivery}) | {r.interrupted} | "
        f"{r.failed_500} / {r.dropped} | {r.delivered} | {r.lost} | {r.doubled} | "
        f"{r.left_for_operator} ({r.left_arrived}) | {_settled(r.settled)} | {r.copies_left} | "
        f"{r.throttled} | {r.seconds:.0f} |"
        for r in reports
    ]
    return "\n".join([head, *rows])


def _settled(counts: dict[str, int]) -> str:
    """Return e.g. "38 found, 41 absent" (edits made again are not probes)."""
    shown = [f"{n} {how}" for how, n in sorted(counts.items()) if how != "repeated"]
    return ", ".join(shown) or "–"
