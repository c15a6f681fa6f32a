"""The periods of the workers on PostgreSQL: the dispatcher's, the heartbeat's, and the failover
they bound. Plain numbers, no I/O, so that the config and `presswatch check` read them without
loading the job engine (jobs.py, procrastinate).
"""

from __future__ import annotations

DISPATCH = 2  # seconds between dispatcher runs by default (`[workers] dispatch_every`)
# The periods the dispatcher may have: procrastinate takes a cron, whose seconds field `*/N` runs
# evenly only when N divides a minute (`*/7` runs at :49, :56, then :00). A longer one would
# move a dead worker's jobs in minutes and save almost nothing (one job a minute already).
PERIODS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)
HEARTBEAT = 2.0  # seconds between a worker's heartbeats in procrastinate's table
# A worker silent this long is dead: its jobs are taken over by the next dispatcher run.
STALLED = 10.0
FAILOVER_GOAL = 30.0  # seconds within which a killed worker's sources and chats should move
# A worker also looks for jobs every this many seconds without being told (procrastinate's fetch
# polling): it finds the jobs nothing announces, as a dead worker's taken over, before a long
# period's next dispatcher run would wake it.
FETCH_POLLING = 5.0


def cron(every: int) -> str:
    """Return the cron (with seconds, as procrastinate reads it) of a dispatcher run every `every` s."""
    if every not in PERIODS:
        raise ValueError(f"a dispatcher period divides a minute: one of {PERIODS}, got {every!r}")
    return "* * * * * 0" if every == 60 else f"* * * * * */{every}"


def failover_bound(every: int) -> float:
    """Return how long a killed worker's jobs may wait to move, with the dispatcher every `every` s.

    Silent STALLED s, then the dispatcher run that takes its jobs over, then the next run whose
    insert wakes the workers to fetch them, or a worker's own look (FETCH_POLLING) if that is sooner.
    """
    return STALLED + every + min(every, FETCH_POLLING)
