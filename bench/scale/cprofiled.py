"""Run `presswatch` under cProfile counting the main thread's CPU time, on between two signals.

SIGUSR1 starts the profile, SIGUSR2 stops it and writes its stats to the file named by the
first argument (for pstats), so the warm-up before a measuring window is left out:

    python -m bench.scale.cprofiled STATS run --config scale.toml
"""

from __future__ import annotations

import cProfile
import signal
import sys
import time

from bot.cli.main import main


def profiled(stats: str, argv: list[str]) -> int:
    """Run the CLI with `argv`; profile between SIGUSR1 and SIGUSR2 into `stats`."""
    # The thread's CPU clock, not the wall's: time waiting for the server or a parser is not
    # counted, as the process's CPU in /proc does not count it.
    profiler = cProfile.Profile(time.thread_time)

    def stop(*_: object) -> None:
        profiler.disable()
        profiler.dump_stats(stats)

    signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
    signal.signal(signal.SIGUSR2, stop)
    return main(argv)


if __name__ == "__main__":
    raise SystemExit(profiled(sys.argv[1], sys.argv[2:]))
