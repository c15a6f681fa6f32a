"""The fuzz run's Markdown report."""

from __future__ import annotations


def report(result: dict, *, command: str) -> str:
    """Return the Markdown report of a fuzz run."""
    lines = [
        f"Fuzz run, seed {result['seed']}, parsing deadline {result['deadline']:g} s, "
        f"{result['workers']} workers; {result['seconds']:.0f} s in all.",
        "",
        "| kind | cases | outcomes | undocumented | stopped at the deadline | slowest |",
        "|---|---:|---|---:|---:|---|",
    ]
    for kind in ("pages", "feeds"):
        part = result[kind]
        outcomes = ", ".join(f"{k} {v:,}" for k, v in part["outcomes"].items())
        slowest = part["slowest"][0] if part["slowest"] else None
        slow = (
            f"{slowest['seconds']:.2f} s (case {slowest['case']}, {slowest['bytes'] / 1e3:,.0f} kB, "
            f"{slowest['outcome']})"
            if slowest
            else "–"
        )
        lines.append(
            f"| {kind} | {part['cases']:,} | {outcomes} | {len(part['undocumented'])} | "
            f"{part['too_slow']} | {slow} |"
        )
    polls = result["polls"]
    statuses = ", ".join(f"{k} {v}" for k, v in polls["first_poll_status"].items())
    lines += [
        "",
        f"Polls: {polls['cases']} cases (first poll over the hostile site: {statuses or '–'}); "
        f"{len(polls['raised'])} raised, {len(polls['lost_baselines'])} lost baselines, "
        f"{len(polls['missed_posts'])} missed posts.",
    ]
    for kind in ("pages", "feeds"):
        for failure in result[kind]["undocumented"][:10]:
            lines.append(f"- {kind} case {failure['case']}: {failure['error']}")
        for caught in result[kind]["caught"][:5]:
            lines.append(f"- {kind} case {caught['case']}, caught: {caught['error']}")
    lines += ["", f"Command: `{command}`"]
    return "\n".join(lines)


def scaling_report(rows: list[dict]) -> str:
    """Return the table of the scaling run."""
    lines = [
        "| kind | construct | n | size | seconds at n | at 4n | ratio |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        first, second = row["seconds"]
        ratio = f"{row['ratio']:.1f}" if row["ratio"] else "–"
        lines.append(
            f"| {row['kind']} | {row['construct']} | {row['n']:,} | "
            f"{row['kb'][0]:,}–{row['kb'][1]:,} kB | {_s(first)} | {_s(second)} | {ratio} |"
        )
    return "\n".join(lines)


def _s(seconds: float | None) -> str:
    """Format seconds, or the cut-off."""
    return "> 60" if seconds is None else f"{seconds:.3f}"
