"""The polling bench's Markdown report."""

from __future__ import annotations

import statistics

from bench.polling.measure import PATHS, Results, peak_mb
from bench.polling.sites import ITEMS

GOALS = {"304": 300.0, "changed": 100.0, "rebuilt": 100.0}


def report(m: dict, *, sources: int, rounds: int, polls: dict[str, int], command: str) -> str:
    """Return the Markdown report."""
    r: Results = m["results"]
    half = {"304": sources - sources // 2, "changed": sources // 2, "rebuilt": sources // 2}
    rows = [
        "| path | sources | polls × rounds | polls/s (median) | min–max | CPU ms/poll (poller's own) "
        "| goal | met |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for path in PATHS:
        rates = r.rates[path]
        median = statistics.median(rates)
        rows.append(
            f"| {PATHS[path]} | {half[path]} | {polls[path]:,} × {rounds} | {median:.0f} | "
            f"{min(rates):.0f}–{max(rates):.0f} | {statistics.median(r.cpu_per_poll[path]):.2f} "
            f"({statistics.median(r.own_cpu_per_poll[path]):.2f}) | "
            f"≥ {GOALS[path]:.0f}/s | {'yes' if median >= GOALS[path] else '**no**'} |"
        )
    loop = [
        f"{PATHS[path]} {100 * statistics.median(c for c, _ in r.loop[path]):.0f} % on the CPU, "
        f"{100 * statistics.median(b for _, b in r.loop[path]):.0f} % blocked"
        for path in PATHS
        if r.loop.get(path)
    ]
    mixed = r.memory[-1][0]
    rows.append(
        f"| mixed: 304 + {PATHS[m['mix']].removeprefix('changed: ')} | {sources} | {mixed:,} × 1 | {r.mixed_rate:.0f} | – | "
        f"{r.mixed_cpu:.2f} | – | – |"
    )
    mem = [
        "| polls | RSS MB | peak RSS MB | articles archived | with the parsers: PSS MB | RSS MB |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    mem += [
        f"| {n:,} | {rss:.1f} | {peak:.1f} | {arts:,} | {pss_all:.1f} | {rss_all:.1f} |"
        for n, rss, peak, arts, pss_all, rss_all in r.memory
    ]
    first, last = r.memory[1] if len(r.memory) > 1 else r.memory[0], r.memory[-1]
    growth = (last[1] - first[1]) / max(1, (last[0] - first[0]) / 1000)
    per_article = ((last[1] - first[1]) * 1e6 / (last[3] - first[3])) if last[3] > first[3] else 0.0
    busy, (load0, load1), server = m["busy"], m["load"], m["server"]
    bench_core, site_core = m["cores"]
    core_note = (
        f"this process pinned to core {bench_core}, the sites (one asyncio process) to core "
        f"{site_core}"
        if site_core is not None
        else f"only one core available: this process and the sites share core {bench_core}"
    )
    machine = ", ".join(f"{name} {100 * value:.0f}% busy" for name, value in sorted(busy.items()))
    return "\n".join(
        [
            f"Polling throughput: {sources} feed sources on loopback (each its own 127.0.0.x host), "
            f"real pipeline and archive (WAL, each commit's sync awaited off the event loop unless said "
            f"below); {core_note}.",
            f"Feeds: RSS 2.0, {ITEMS} items with full text (content:encoded), about "
            f"{m['feed_bytes'][1] / 1e3:.0f} kB gzipped. Changed: a new ETag per poll and one new item "
            f"(archived and queued for one channel), or the same items rebuilt (new lastBuildDate). "
            f"Mixed run: the 304 and the {PATHS[m['mix']].removeprefix('changed: ')} sources polled together.",
            "",
            *rows,
            "",
            f"Memory over the mixed run (RSS sampled every 1,000 polls; peak RSS of the process "
            f"{peak_mb():.1f} MB; {_parsers(m)}):",
            "",
            *mem,
            "",
            f"RSS change from {first[0]:,} to {last[0]:,} polls: {last[1] - first[1]:+.1f} MB "
            f"({growth:+.2f} MB per 1,000 polls"
            + (f"; {per_article / 1e3:.1f} kB per archived article)" if per_article else ")"),
            f"Machine during the run ({m['wall']:.0f} s): load average {load0[0]:.2f} before, "
            f"{load1[0]:.2f} after; {machine}; this process used {m['own_cpu']:.0f} s CPU "
            f"({100 * m['own_cpu'] / m['wall']:.0f}% of core {bench_core}), the sites "
            f"{server['cpu']:.0f} s for {server['requests']:,} requests.",
            "The event loop's thread, share of each path's wall time (median of rounds; blocked: "
            "neither waiting for events nor on the CPU, e.g. an fsync in a COMMIT): "
            + "; ".join(loop)
            + ".",
            f"Archive at the end: {m['db_bytes'] / 1e6:.1f} MB.",
            "",
            f"Command: `{command}`",
        ]
    )


def _parsers(m: dict) -> str:
    """Describe where pages were parsed and the memory of the process and its parsers together."""
    r: Results = m["results"]
    where = "" if m.get("prepare_in", "parser") == "parser" else ", articles prepared by the poller"
    sync = m.get("synchronous", "thread")
    if sync == "full":
        where += ", each commit synced on the event loop (synchronous=FULL, as before)"
    elif sync != "thread":
        where += f", commits not synced (synchronous={sync}: an experiment)"
    if m["parsing"] == "inprocess":
        return "pages parsed in threads of this process" + where
    pss, rss = r.tree_peak
    own, *parsers = r.process_peaks
    return (
        f"pages parsed in {len(parsers) - 1} sandbox workers beside a fork server{where}; this process "
        f"and its parsers together peaked at {pss:.1f} MB PSS ({rss:.1f} MB summed RSS, shared "
        f"pages counted once per process), each parser's own peak RSS "
        + ", ".join(f"{p:.0f}" for p in parsers)
        + " MB"
    )
