"""Commands over the archive: `search`, `export`, `stats`, `backfill`."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.archive import open_archive
from bot.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    Command,
    CommandError,
    UsageError,
    day,
    local_days,
    table,
    whole,
)
from bot.cli.hits import print_hits
from bot.cli.progress import Progress, show_progress
from bot.config import Config, UnknownSource, load_config
from bot.config.model import unknown_name
from bot.service.overview import when
from bot.text.taxonomy import find_topic
from scrapers.models import Source
from scrapers.normalize import without_trackers
from storage.lock import StorageError
from storage.reports import EXPORT_COLUMNS as ARCHIVED_COLUMNS
from storage.search import holds_language, search, topic_keys

if TYPE_CHECKING:
    from bot.ingest.backfill import BackfillReport
    from storage import Store

_MAX_RESULTS = 100_000
_MAX_PAGES = 10_000
# `url` is the link posts and the chat give (a feed's utm_*, fbclid… dropped); `raw_url` the URL
# as the archive holds it, as the source linked it. Appended: older exports' columns keep their
# places.
EXPORT_COLUMNS = (*ARCHIVED_COLUMNS, "raw_url")


# -- search ---------------------------------------------------------------------------------------


def _args_search(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "query",
        nargs="*",  # none: told as an empty query, as a -word alone is
        metavar="QUERY",
        help='words (all must appear, any word form); "quoted words" form a phrase; '
        "A OR B finds either; -word leaves out articles with it (presswatch search sanctions "
        "-russia)",
    )
    sub.add_argument("--source", metavar="KEY", help="only this source")
    sub.add_argument(
        "--topic",
        metavar="TOPIC",
        help="only articles with this topic or entity: its key, a label or a hashtag "
        "(peacekeeping, Миротворчество)",
    )
    sub.add_argument("--lang", metavar="CODE", help='only this language ("en", "ru", …)')
    _day_range(sub)
    sub.add_argument(
        "--limit",
        type=whole(1, _MAX_RESULTS),
        default=20,
        metavar="N",
        help="at most this many results (default 20)",
    )
    sub.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="json and csv give each hit's url as posts link it and raw_url as archived",
    )


def _cmd_search(args: argparse.Namespace) -> int:
    """Print the articles that match a full-text query."""
    if not any(char.isalnum() for char in " ".join(args.query)):
        raise UsageError("search: empty query: give at least one word")
    config = load_config(args.config)
    since, until = _days("search", args, config)
    with open_archive(config, read_only=True) as store:
        if args.source:
            _check_source(args.source, config, store)
        topic = _topic_key(args.topic, config, store) if args.topic else None
        try:
            hits = search(
                store.db,
                " ".join(args.query),
                source=args.source,
                topic=topic,
                lang=args.lang,
                since=since,
                until=until,
                limit=args.limit,
            )
        except ValueError as exc:
            only = (
                " to find (a -word only leaves articles out)" if "-" in " ".join(args.query) else ""
            )
            raise UsageError(f"search: {exc}: give at least one word{only}") from exc
        # Asked only when nothing matched: a mistyped --lang ("eng") must not look like no news.
        foreign = not hits and args.lang and not holds_language(store.db, args.lang)
    print_hits(hits, args.format, sys.stdout)
    if foreign:
        written = sorted({s.lang for s in config.sources if s.lang})
        print(
            f"presswatch: search: no archived article is in language {args.lang!r}"
            + (f" (the sources write {', '.join(written)})" if written else ""),
            file=sys.stderr,
        )
    elif not hits and args.format == "table":
        print("no article matches", file=sys.stderr)
    return EXIT_OK


def _day_range(sub: argparse.ArgumentParser) -> None:
    """Add --since and --until, days read in each source's zone (see `_days`)."""
    for name, side in (("--since", "on or after"), ("--until", "on or before")):
        sub.add_argument(
            name,
            type=day,
            metavar="YYYY-MM-DD",
            help=f"only articles published {side} this day (each source's local day)",
        )


def _days(command: str, args: argparse.Namespace, config: Config) -> tuple:
    """Return --since's and the day after --until's starts in each source's zone (or None): a
    day-only date (local midnight) falls on its own day. Refuse a range that holds no day."""
    if args.since and args.until and args.since > args.until:
        raise UsageError(
            f"{command}: --since {args.since:%Y-%m-%d} is after --until {args.until:%Y-%m-%d}: "
            "nothing could match"
        )
    since = local_days(args.since, config.sources) if args.since else None
    until = local_days(args.until + timedelta(days=1), config.sources) if args.until else None
    return since, until


def _check_source(key: str, config: Config, store: Store) -> None:
    """Refuse a source key neither configured nor archived: a typo would find nothing, silently."""
    configured = {s.key for s in config.sources}
    # A source dropped from the config still has its articles in the archive.
    if key in configured or key in (archived := store.sources.archived_keys()):
        return
    known = tuple(sorted(archived | configured))
    raise UnknownSource(key, known, listed="configured or archived")


def _topic_key(name: str, config: Config, store: Store) -> str:
    """Return the key of the topic or entity `name` calls (key, label or hashtag); refuse a name
    neither the taxonomy nor the archive knows: a typo would find nothing, silently."""
    named = (*config.taxonomy.topics, *config.taxonomy.entities)
    if found := find_topic(named, name):
        return found.key
    archived = topic_keys(store.db)
    if name in archived:  # a topic since dropped from the taxonomy keeps its articles
        return name
    known = sorted(archived | {t.key for t in named})
    raise UsageError(f"search: {unknown_name('topic', name, known, listed='known')}")


# -- export ---------------------------------------------------------------------------------------


def _args_export(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--format",
        choices=("jsonl", "csv"),
        required=True,
        help="each article's url is the link posts give (tracking parameters dropped), "
        "raw_url the URL as archived",
    )
    _day_range(sub)
    sub.add_argument(
        "--output", type=Path, metavar="FILE", help="write here (default: standard output)"
    )
    sub.add_argument(
        "--progress",
        action="store_true",
        help="show the progress bar even when stderr is not a terminal",
    )


def _cmd_export(args: argparse.Namespace) -> int:
    """Stream every archived article, oldest id first, as JSON lines or CSV."""
    config = load_config(args.config)
    since, until = _days("export", args, config)
    started = time.monotonic()
    with open_archive(config, read_only=True) as store:
        total = store.reports.count(since=since, until=until)
        progress = Progress(total, stream=sys.stderr, enabled=show_progress(args), label="export")
        rows = store.reports.articles(since=since, until=until)
        if args.output:
            count = _export_to_file(rows, args.output, args.format, progress)
        else:
            count = _export_to_stdout(rows, args.format, progress)
    target = args.output or "standard output"
    progress.finish(
        f"exported {count:,} article(s) to {target} in {time.monotonic() - started:.1f}s"
    )
    return EXIT_OK


def _export_to_file(rows: Iterator[dict], path: Path, fmt: str, progress: Progress) -> int:
    """Write to a temporary file beside `path` and rename it, so a failed export leaves no half file."""
    partial = path.with_name(path.name + ".part")
    try:
        with partial.open("w", encoding="utf-8", newline="") as out:
            count = _write_export(rows, out, fmt, progress)
        os.replace(partial, path)
    except OSError as exc:
        raise CommandError(f"export: cannot write {path} ({exc.strerror or exc})") from exc
    except StorageError as exc:  # the archive changed under an immutable read (storage/readonly.py)
        raise CommandError(f"export: {path} not written (left as it was): {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)  # whatever stopped it, even Ctrl-C
    return count


def _export_to_stdout(rows: Iterator[dict], fmt: str, progress: Progress) -> int:
    """Print the rows; if the read stops part way, say the output is incomplete (exit 1)."""
    try:
        return _write_export(rows, sys.stdout, fmt, progress)
    except StorageError as exc:
        # What was printed cannot be taken back: each row was read from the archive as it was,
        # but the rest are missing, and a pipe's reader may not look at the exit status.
        raise CommandError(
            f"export: stopped after {progress.count:,} article(s): the output above is "
            f"incomplete: {exc}"
        ) from exc


def _write_export(rows: Iterator[dict], out: TextIO, fmt: str, progress: Progress) -> int:
    """Write rows as JSON lines or CSV; return how many."""
    writer = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
    if writer:
        writer.writerow(EXPORT_COLUMNS)
    count = 0
    for archived in rows:
        row = archived | {"url": without_trackers(archived["url"]), "raw_url": archived["url"]}
        if writer:
            row |= {"topics": ";".join(row["topics"]), "entities": ";".join(row["entities"])}
            writer.writerow(["" if row[c] is None else row[c] for c in EXPORT_COLUMNS])
        else:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
        progress.advance()
    return count


# -- stats ------------------------------------------------------------------------------------------


def _args_stats(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--format", choices=("table", "json"), help="json for scripts, else a table")


def _cmd_stats(args: argparse.Namespace) -> int:
    """Print article counts by source, by topic, by entity and by month."""
    config = load_config(args.config)
    with open_archive(config, read_only=True) as store:
        stats = store.reports.stats(zones={s.key: s.timezone for s in config.sources})
    report = {
        "sources": stats.sources,
        "topics": stats.topics,
        "entities": stats.entities,
        "months": stats.months,
    }
    if args.format == "json":
        print(json.dumps({"articles": stats.articles, **report}, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"{stats.articles:,} article(s)\n")
    print(
        table(
            [
                ("SOURCE", "ARTICLES", "REPRINTS", "FIRST", "LAST"),
                *(
                    (
                        r["key"],
                        str(r["articles"]),
                        str(r["reprints"]),
                        when(r["first"]),
                        when(r["last"]),
                    )
                    for r in report["sources"]
                ),
            ]
        )
    )
    # A null key is the articles with no topic or entity, or with no date (JSON keeps it null).
    for name, heading, unset in (
        ("topics", "TOPIC", "(none)"),
        ("entities", "ENTITY", "(none)"),
        ("months", "MONTH", "(unknown)"),
    ):
        rows = [(r["key"] or unset, str(r["articles"])) for r in report[name]]
        print()
        print(table([(heading, "ARTICLES"), *rows]))
    return EXIT_OK


# -- backfill -------------------------------------------------------------------------------------


def _args_backfill(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("key", metavar="KEY", help="the source to backfill")
    sub.add_argument(
        "--pages",
        type=whole(1, _MAX_PAGES),
        required=True,
        metavar="N",
        help="how many older pages to read: pages 2 to N+1 of the source's `pages` template",
    )
    sub.add_argument(
        "--progress",
        action="store_true",
        help="show the progress bar even when stderr is not a terminal",
    )


def _cmd_backfill(args: argparse.Namespace) -> int:
    """Walk a source's older pages and store their articles silently."""
    config = load_config(args.config)
    source = config.source(args.key)
    if not source.pages:
        raise UsageError(
            f"backfill: source {source.key!r} has no `pages` setting; add a URL template of its "
            f'older listing or feed pages to its [[sources]] block, e.g. pages = "{source.url}?page={{page}}"'
        )
    progress = Progress(
        args.pages, stream=sys.stderr, enabled=show_progress(args), label="backfill"
    )
    import asyncio  # noqa: PLC0415 - ~40 ms; of this module's commands only backfill needs it

    report = asyncio.run(_backfill(config, source, pages=args.pages, progress=progress))
    for error in report.errors:
        print(f"{source.key}: {error}", file=sys.stderr)
    progress.finish(report.summary(source.key))
    return EXIT_FAILED if report.errors else EXIT_OK


async def _backfill(
    config: Config, source: Source, *, pages: int, progress: Progress
) -> BackfillReport:
    """Hold the instance lock (one writer per archive) and walk the pages with a poll's tools."""
    # The composition root (HTTP, the parsing sandbox) loads for backfill, not for search.
    from bot.app import open_app  # noqa: PLC0415
    from bot.ingest.backfill import walk_pages  # noqa: PLC0415

    async with open_app(config, deliver=False) as app:
        return await walk_pages(source, app.poll, pages=pages, progress=progress)


COMMANDS: list[Command] = [
    Command(
        "search",
        "search the archive's full text (any word form, English and Russian)",
        "presswatch search санкции '\"collective security\"' --since 2024-01-01 --format table "
        "--config presswatch.toml",
        _cmd_search,
        _args_search,
    ),
    Command(
        "export",
        "stream the whole archive as JSON lines or CSV, with a progress bar",
        "presswatch export --format jsonl --since 2024-01-01 --until 2024-03-31 --output q1.jsonl "
        "--config presswatch.toml",
        _cmd_export,
        _args_export,
    ),
    Command(
        "stats",
        "count archived articles by source, by topic, by entity and by month",
        "presswatch stats --config presswatch.toml",
        _cmd_stats,
        _args_stats,
    ),
    Command(
        "backfill",
        "store a source's older listing or feed pages without posting them",
        "presswatch backfill odkb-csto-en --pages 5 --config presswatch.toml",
        _cmd_backfill,
        _args_backfill,
    ),
]
