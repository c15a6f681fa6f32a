"""Record a poll's run with the source's state and health, in one transaction where it takes two."""

from __future__ import annotations

from bot.ingest.context import PollContext
from bot.ingest.health import record_health, steady
from scrapers import Source
from storage import RunRecord, SourceState


def keep_run(
    source: Source, run: RunRecord, ctx: PollContext, *, known: SourceState | None = None, **state
) -> None:
    """Record a run, the source's state and its health in one transaction (`known`: the source's
    row as the poll began)."""
    new_at = run.finished_at if run.new_articles else None
    if known is not None and steady(source, run, known):
        # The common poll: health stays as it is, so there is nothing to read or decide, and
        # when articles came is written with the run (on PostgreSQL one statement, where the
        # health check took five round trips more).
        ctx.store.sources.record_run(run, new_at=new_at, **state)
        return
    # One commit, so one sync to disk where there were two: each blocks every poll of the
    # process while it lasts (the archive is used from the event loop).
    with ctx.store.transaction():
        ctx.store.sources.record_run(run, **state)
        _record_health(source, run, ctx)


def _record_health(source: Source, run: RunRecord, ctx: PollContext) -> None:
    """Update the source's health after a recorded run."""
    record_health(
        source,
        run,
        store=ctx.store,
        policy=ctx.health,
        admin_chat_id=ctx.admin_chat_id,
    )
