"""The `retag` command: give archived articles the topics and tags of the config's taxonomy now.

After a taxonomy change, the archive still holds the topics the old one gave. `retag` classifies
each article again exactly as a poll would (the enricher), in batches that each commit with a
progress mark: a stopped retag continues where it stopped when run again with the same
taxonomy. Only the stored topics, entity tags and their reasons change: no post is sent, edited
or routed anew.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.archive import open_archive
from bot.cli.common import EXIT_OK, Command, day, local_days
from bot.cli.progress import Progress, show_progress
from bot.config import load_config
from bot.text.classify import Taxonomy
from bot.text.plural import counted
from storage.records import iso

if TYPE_CHECKING:
    from bot.ingest.enrich import Enricher
    from storage.hits import Bound
    from storage.retag import Retagging, RetagProgress

_BATCH = 200  # articles per transaction: a stop loses at most this much work


def fingerprint(taxonomy: Taxonomy) -> str:
    """Return a short digest of what decides tags: every rule, threshold and the model."""
    digest = hashlib.sha256(repr((taxonomy.topics, taxonomy.entities)).encode())
    model = taxonomy.model
    if model is not None:
        digest.update(model.source.encode())
        for array in (model.weights, model.bias, model.thresholds):
            digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def _args_retag(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--since",
        type=day,
        metavar="YYYY-MM-DD",
        help="only articles published on or after this day (each source's local day)",
    )
    sub.add_argument("--restart", action="store_true", help="start over, even if done before")
    sub.add_argument("--progress", action="store_true", help="draw the progress bar off a TTY")


def _cmd_retag(args: argparse.Namespace) -> int:
    """Classify the archive again with the config's taxonomy, resuming a stopped run."""
    # The enricher and the store load with retag's work, not with every command's --help.
    from bot.ingest.enrich import Enricher  # noqa: PLC0415
    from storage.retag import Retagging  # noqa: PLC0415

    config = load_config(args.config)
    since = iso(args.since) or ""  # names the span in retag_progress
    # The day is each source's local day, as search's and export's (a day-only date is its
    # source's local midnight: 21:00 UTC the day before in Moscow).
    start = local_days(args.since, config.sources) if args.since else None
    with open_archive(config, existing=True) as store:
        retag = Retagging(store.db)
        enricher = Enricher(config.enrich, store)
        mark = fingerprint(config.taxonomy)
        progress = retag.progress(fingerprint=mark, since=since)
        if progress and progress.finished_at and not args.restart:
            print(
                f"the archive{_span(args)} was retagged with this taxonomy at "
                f"{progress.finished_at}; nothing to do (--restart to do it again)",
                file=sys.stderr,
            )
            return EXIT_OK
        if progress is None or args.restart:
            progress = retag.begin(
                fingerprint=mark, since=since, start=start, now=datetime.now(UTC)
            )
        else:
            print(
                f"resuming: {progress.done:,} of {progress.total:,} articles were done",
                file=sys.stderr,
            )
        bar = Progress(
            progress.total, stream=sys.stderr, enabled=show_progress(args), label="retag"
        )
        bar.count = progress.done
        done, changed = _run(retag, enricher, progress, bar, start=start)
    bar.finish(
        f"retagged {counted(done, 'article')}{_span(args)}: {changed:,} got other topics or tags; "
        "no post was sent or edited"
    )
    return EXIT_OK


def _run(
    retag: Retagging,
    enricher: Enricher,
    progress: RetagProgress,
    bar: Progress,
    *,
    start: Bound | None,
) -> tuple[int, int]:
    """Retag batch after batch; return (articles retagged in this run, of them changed)."""
    from storage.retag import Retagged  # noqa: PLC0415 - see _cmd_retag

    done = changed = 0
    while batch := retag.batch(start=start, after=progress.last_id, limit=_BATCH):
        tags = []
        for article_id, article in batch:
            enriched = enricher.enrich(article)
            new = enriched.article
            tags.append(Retagged(article_id, new.topics, new.entities, enriched.reasons))
            changed += (new.topics, new.entities) != (article.topics, article.entities)
        progress = retag.save(progress, tags, now=datetime.now(UTC))
        done += len(batch)
        bar.advance(len(batch))
    retag.finish(progress, now=datetime.now(UTC))
    return done, changed


def _span(args: argparse.Namespace) -> str:
    """Return ' since DAY' when --since was given."""
    return f" since {args.since:%Y-%m-%d}" if args.since else ""


COMMANDS: list[Command] = [
    Command(
        "retag",
        "classify the archive again after a taxonomy change (resumable; posts untouched)",
        "presswatch retag --since 2024-01-01 --config presswatch.toml",
        _cmd_retag,
        _args_retag,
    ),
]
