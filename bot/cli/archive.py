"""Commands that read the archive: `search`, `export`, `stats` (bot/cli/backfill.py writes it)."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.archive import open_archive
from bot.cli.common import (
    EXIT_OK,
    Command,
    CommandError,
    UsageError,
    bom_flag,
    csv_bom,
    day,
    file_name,
    language,
    local_days,
    named,
    query_text,
    terminal_width,
    whole,
)
from bot.cli.counts import stats_text, with_silent
from bot.cli.hits import print_hits
from bot.cli.progress import Progress, progress_flag, show_progress
from bot.config import Config, UnknownSource, load_config
from bot.config.model import unknown_name
from bot.text.taxonomy import find_topic
from scrapers.normalize import without_trackers
from storage.facets import Absent, absent, held, published_span
from storage.lock import StorageError
from storage.reports import EXPORT_COLUMNS as ARCHIVED_COLUMNS
from storage.search import latest, search

if TYPE_CHECKING:
    from storage import Store

_MAX_RESULTS = 100_000
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
        '-russia), -"a phrase" the phrase; none, with a filter, lists the newest '
        "(presswatch search --source tass-ru)",
    )
    sub.add_argument("--source", type=named("a source key"), metavar="KEY", help="only this source")
    sub.add_argument(
        "--topic",
        type=named("a topic"),
        metavar="TOPIC",
        help="only articles with this topic or entity: its key, a label or a hashtag "
        "(peacekeeping, Миротворчество)",
    )
    sub.add_argument(
        "--lang",
        type=language,
        metavar="CODE",
        help='only this language ("en", "ru", …; "EN" and "en-US" are "en")',
    )
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
        help="table fits the terminal or $COLUMNS (whole rows in a pipe or file); json and csv "
        "give each hit's url as posts link it and raw_url as archived",
    )
    bom_flag(sub, example="presswatch search ОДКБ --format csv --bom > hits.csv")


def _cmd_search(args: argparse.Namespace) -> int:
    """Print the articles that match a full-text query, or with a filter alone the newest."""
    words = query_text(args.query)
    listing = not any(char.isalnum() for char in words)  # the newest articles that pass filters
    if listing and not any((args.source, args.topic, args.lang, args.since, args.until)):
        raise UsageError(
            "search: empty query: give at least one word, or a filter alone (--source, --topic, "
            "--lang, --since, --until) for the newest articles"
        )
    bom = csv_bom("search", args)
    config = load_config(args.config)
    since, until = _days("search", args, config)
    with open_archive(config, read_only=True) as store:
        if args.source:
            _check_source(args.source, config, store)
        topic = _topic_key(args.topic, config, store) if args.topic else None
        # One index seek per filter first: a value no article has would walk every article.
        if missing := absent(store.db, source=args.source, topic=topic, lang=args.lang):
            print_hits([], args.format, sys.stdout, bom=bom)
            print(f"presswatch: search: {absent_line(missing)}", file=sys.stderr)
            return EXIT_OK
        try:
            hits = (partial(latest, store.db) if listing else partial(search, store.db, words))(
                source=args.source,
                topic=topic,
                lang=args.lang,
                since=since,
                until=until,
                limit=args.limit,
            )
        except ValueError as exc:
            only = " to find (a -word only leaves articles out)" if "-" in words else ""
            raise UsageError(f"search: {exc}: give at least one word{only}") from exc
        # Asked only when nothing matched: a date range past either end looks like no news.
        told = not hits and args.format == "table"
        beyond = _beyond(args, published_span(store.db)) if told else ""
    print_hits(hits, args.format, sys.stdout, bom=bom, snippet="SUMMARY" if listing else "MATCH")
    if told:
        print(f"no article matches{beyond}", file=sys.stderr)
    return EXIT_OK


# The held values a line names at most: a taxonomy's topics would fill a screen.
_MAX_NAMED = 12
_ABSENT = {"source": "from source", "topic": "with topic or entity", "language": "in language"}


def absent_line(missing: Absent) -> str:
    """Return the line telling that no article has a filter's value, naming what the archive
    (or the source) holds: `no articles in language 'de'; the archive holds en, ru`."""
    said = f"no articles {_ABSENT[missing.kind]} {missing.value!r}"
    holder = "the archive"
    if missing.within:
        said = (
            f"no articles from source {missing.within!r} {_ABSENT[missing.kind]} {missing.value!r}"
        )
        holder = missing.within
    if not missing.held:
        return f"{said}; {holder} holds no articles yet"
    named = ", ".join(missing.held[:_MAX_NAMED])
    more = len(missing.held) - _MAX_NAMED
    return f"{said}; {holder} holds {named}" + (f" and {more} more" if more > 0 else "")


def _beyond(args: argparse.Namespace, span: tuple[str, str] | None) -> str:
    """Return the words saying that --since or --until lies past the archive's dated articles
    (`: the archive's articles were published from 2021-01-01 to 2025-12-31 (UTC)`), or ""."""
    if span is None:
        return ""
    first, last = span
    after = args.since and f"{args.since:%Y-%m-%d}" > last
    before = args.until and f"{args.until:%Y-%m-%d}" < first
    if not (after or before):
        return ""
    return f": the archive's articles were published from {first} to {last} (UTC)"


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
    archived = set(held(store.db, "topic"))
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
        "--output", type=file_name, metavar="FILE", help="write here (default: standard output)"
    )
    bom_flag(sub, example="presswatch export --format csv --bom --output archive.csv")
    progress_flag(sub)


def _cmd_export(args: argparse.Namespace) -> int:
    """Stream every archived article, oldest id first, as JSON lines or CSV."""
    bom = csv_bom("export", args)
    config = load_config(args.config)
    since, until = _days("export", args, config)
    started = time.monotonic()
    with open_archive(config, read_only=True) as store:
        total = store.reports.count(since=since, until=until)
        progress = Progress(total, stream=sys.stderr, enabled=show_progress(args), label="export")
        rows = store.reports.articles(since=since, until=until)
        if args.output:
            count = _export_to_file(rows, args.output, args.format, progress, bom=bom)
        else:
            count = _export_to_stdout(rows, args.format, progress, bom=bom)
    target = args.output or "standard output"
    progress.finish(
        f"exported {count:,} article(s) to {target} in {time.monotonic() - started:.1f}s"
    )
    return EXIT_OK


def _export_to_file(
    rows: Iterator[dict], path: Path, fmt: str, progress: Progress, *, bom: str
) -> int:
    """Write to a temporary file beside `path` and rename it, so a failed export leaves no half file."""
    partial = path.with_name(path.name + ".part")
    try:
        with partial.open("w", encoding="utf-8", newline="") as out:
            count = _write_export(rows, out, fmt, progress, bom=bom)
        os.replace(partial, path)
    except OSError as exc:
        raise CommandError(f"export: cannot write {path} ({exc.strerror or exc})") from exc
    except StorageError as exc:  # the archive changed under an immutable read (storage/readonly.py)
        raise CommandError(f"export: {path} not written (left as it was): {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)  # whatever stopped it, even Ctrl-C
    return count


def _export_to_stdout(rows: Iterator[dict], fmt: str, progress: Progress, *, bom: str) -> int:
    """Print the rows; if the read stops part way, say the output is incomplete (exit 1)."""
    try:
        return _write_export(rows, sys.stdout, fmt, progress, bom=bom)
    except StorageError as exc:
        # What was printed cannot be taken back: each row was read from the archive as it was,
        # but the rest are missing, and a pipe's reader may not look at the exit status.
        raise CommandError(
            f"export: stopped after {progress.count:,} article(s): the output above is "
            f"incomplete: {exc}"
        ) from exc


def _write_export(
    rows: Iterator[dict], out: TextIO, fmt: str, progress: Progress, *, bom: str
) -> int:
    """Write rows as JSON lines or CSV (after `bom`: see common.BOM); return how many."""
    writer = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
    if writer:
        out.write(bom)
        writer.writerow(EXPORT_COLUMNS)
    count = 0
    for archived in rows:
        row = archived | {"url": without_trackers(archived["url"]), "raw_url": archived["url"]}
        if writer:
            row |= {"topics": ";".join(row["topics"]), "entities": ";".join(row["entities"])}
            writer.writerow(["" if row[c] is None else row[c] for c in EXPORT_COLUMNS])
        else:
            out.write(json.dumps(json_record(row), ensure_ascii=False) + "\n")
        count += 1
        progress.advance()
    return count


def json_record(row: dict) -> dict:
    """Return an exported article for JSON: a missing value null, whatever the archive kept."""
    # The archive keeps a missing author, lead or summary as '' but a missing image as NULL:
    # one rule for a reader, the one JSON readers expect (CSV has empty cells for both).
    return {key: None if value == "" else value for key, value in row.items()}


# -- stats ------------------------------------------------------------------------------------------


def _args_stats(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table (the default), or json for scripts",
    )


def _cmd_stats(args: argparse.Namespace) -> int:
    """Print article counts by source, by topic, by entity and by month."""
    config = load_config(args.config)
    with open_archive(config, read_only=True) as store:
        stats = store.reports.stats(zones={s.key: s.timezone for s in config.sources})
    report = {
        "sources": with_silent(stats.sources, (s.key for s in config.sources)),
        "topics": stats.topics,
        "entities": stats.entities,
        "months": stats.months,
    }
    if args.format == "json":
        print(json.dumps({"articles": stats.articles, **report}, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(stats_text(stats.articles, report, width=terminal_width(sys.stdout)))
    return EXIT_OK


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
]
