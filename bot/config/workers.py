"""Read [workers]: how the workers sharing a PostgreSQL archive work together."""

from __future__ import annotations

from bot.config.fields import ABSENT, Table, present, shown, span
from bot.config.model import WorkersConfig
from bot.service.fleet_timing import PERIODS


def read_workers(t: Table):
    """Read [workers] (ABSENT when it has a problem, recorded in `t`)."""
    given = t.data.get("dispatch_every")
    every = t.duration("dispatch_every", most=PERIODS[-1])
    if every is not ABSENT and every not in PERIODS:
        # The dispatcher runs on a cron's seconds field: only a divisor of a minute is even.
        listed = ", ".join(map(span, PERIODS))
        t.report(
            "dispatch_every", f"expected a period dividing a minute ({listed}), got {shown(given)}"
        )
        every = ABSENT
    t.finish()
    if not t.ok:
        return ABSENT
    return WorkersConfig(**present(dispatch_every=every), dispatch_every_given=every is not ABSENT)
