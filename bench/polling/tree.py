"""Memory of the polling process and its parsing processes together, sampled through a run.

Resident sizes double-count what a fork shares with its fork server (the parsers' code and
data), so the sum that counts is the proportional set size (PSS: a shared page split among its
sharers); the sum of resident sizes is reported beside it as the upper bound.
"""

from __future__ import annotations

import os
import threading


def _kb(path: str, field: str) -> int:
    """Return a "Field:   123 kB" line's number from a /proc file (0 if the process is gone)."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def usage(pids: list[int]) -> tuple[float, float]:
    """Return (PSS, RSS) of some processes together, in MB."""
    pss = sum(_kb(f"/proc/{pid}/smaps_rollup", "Pss:") for pid in pids)
    rss = sum(_kb(f"/proc/{pid}/status", "VmRSS:") for pid in pids)
    return pss * 1024 / 1e6, rss * 1024 / 1e6


def peaks(pids: list[int]) -> list[float]:
    """Return each process's own peak resident size (VmHWM) in MB."""
    return [_kb(f"/proc/{pid}/status", "VmHWM:") * 1024 / 1e6 for pid in pids]


class Sampler(threading.Thread):
    """Sample the memory of this process and the parser's processes, keeping the peaks."""

    # Once a second: reading a 150 MB process's smaps_rollup costs 3 ms of CPU on the polling
    # process's own core, and four a quarter-second were charged to the sandbox's polls.

    def __init__(self, parser, every: float = 1.0) -> None:
        super().__init__(daemon=True)
        self._parser, self._every, self._stopping = parser, every, threading.Event()
        self.peak_pss = self.peak_rss = 0.0
        self.pids: set[int] = set()

    def pids_now(self) -> list[int]:
        """Return this process and the parser's processes (none when parsing in process)."""
        processes = getattr(self._parser, "processes", list)()
        self.pids.update(processes)
        return [os.getpid(), *processes]

    def run(self) -> None:
        while not self._stopping.wait(self._every):
            pss, rss = usage(self.pids_now())
            self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)

    def stop(self) -> None:
        """Stop sampling."""
        self._stopping.set()
        self.join()


def spread(parser, cores: set[int]) -> None:
    """Let the parser's processes (fork server and workers) run on `cores`."""
    for pid in getattr(parser, "processes", list)():
        try:
            os.sched_setaffinity(pid, cores)
        except ProcessLookupError:
            pass


def cpu_seconds(pids: list[int]) -> float:
    """Return the CPU seconds (user and system) some processes have used so far."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")
