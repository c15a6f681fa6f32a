"""The `presswatch` command line: a thin shell over the application.

Exit status: 0 all well, 1 some source or channel failed, 2 bad configuration or usage, 3 `run`
cannot start here as configured (its `[service] http` address is taken, or its SQLite archive
cannot be opened; `check` finds the latter ahead), 141 when the reader of
standard output went away (`presswatch export | head`), as for SIGPIPE.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

from bot.cli.common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    Command,
    CommandError,
    Parser,
    ShowVersion,
    UsageError,
    address,
    later,
    one_line,
    reader_gone,
)
from bot.cli.logs import setup_logging
from bot.config import TOKEN_ENV, ConfigError, UnknownSource
from scrapers.errors import ScrapeError
from storage.lock import AlreadyRunning, StorageError

DEFAULT_CONFIG = "presswatch.toml"


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return the exit status."""
    parser = build_parser()
    argv, minus = minus_words(list(sys.argv[1:] if argv is None else argv))
    if argv[:1] == ["--version"] and argv[1:]:
        # --version answers at once, so argparse would never see what follows it.
        parser.error(f"--version takes nothing more, got {' '.join(argv[1:])}")
    args, extra = parser.parse_known_args(argv)
    if minus:
        args.query = [*getattr(args, "query", []), *minus]
    if extra:  # told by the command's own parser, so the hint names its --help, not the list's
        getattr(args, "parser", parser).error(f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_CONFIG
    token = os.environ.get(TOKEN_ENV, "")
    # The config strips the token; redact both spellings so stray whitespace cannot leak it.
    setup_logging(
        verbose=args.verbose - args.quiet,
        as_json=args.log_json,
        secrets=tuple({token, token.strip()} - {""}),
    )
    try:
        return args.handler(args)
    except ConfigError as exc:
        for problem in exc.problems:  # every problem at once, one line each
            print(f"presswatch: config error: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    except UsageError as exc:
        print(f"presswatch: {one_line(exc)}", file=sys.stderr)
        return EXIT_CONFIG
    except UnknownSource as exc:  # a mistyped KEY on the command line; the config is fine
        print(f"presswatch: {args.command}: {exc.args[0]}", file=sys.stderr)
        return EXIT_CONFIG
    except BrokenPipeError:
        return reader_gone()
    except (AlreadyRunning, StorageError, CommandError, ScrapeError) as exc:
        print(f"presswatch: {one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


# A search word or "phrase" to leave out ("-russia", "-россия", '-"collective security"'); not
# -h, -v, -vv, -q (the options).
_MINUS_WORD = re.compile(r'-(?:[^\W\d_]|").*', re.DOTALL)
_SHORT_OPTIONS = re.compile(r"-h|-[vq]+")


def minus_words(argv: list[str]) -> tuple[list[str], list[str]]:
    """Take a search's -words out of `argv` (argparse would read them as unknown options): return
    the rest and them, in order. Other commands, and everything after `--`, are left as given."""
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    if command != "search":
        return argv, []
    end = argv.index("--") if "--" in argv else len(argv)
    taken = [
        i
        for i, arg in enumerate(argv[:end])
        if _MINUS_WORD.fullmatch(arg) and not _SHORT_OPTIONS.fullmatch(arg)
    ]
    return [a for i, a in enumerate(argv) if i not in taken], [argv[i] for i in taken]


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every subcommand."""
    parser = Parser(
        prog="presswatch",
        description="Watch press releases, archive them in SQLite or PostgreSQL, post summaries\n"
        "to Telegram.",
        epilog="Run 'presswatch COMMAND --help' for a command's options and an example.\n\n"
        "example:\n  presswatch once --config presswatch.toml    # poll, archive and post once\n"
        "  presswatch search санкции --config presswatch.toml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=ShowVersion)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for command in all_commands():
        sub = commands.add_parser(
            command.name,
            help=command.summary,
            description=f"{command.summary}\n\nexample:\n  {command.example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument(
            "--config",
            metavar="PATH",
            default=os.environ.get("PRESSWATCH_CONFIG", DEFAULT_CONFIG),
            help=f"config file (default: $PRESSWATCH_CONFIG or {DEFAULT_CONFIG})",
        )
        sub.add_argument(
            "-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)"
        )
        sub.add_argument(
            "-q", "--quiet", action="count", default=0, help="only warnings and errors"
        )
        sub.add_argument("--log-json", action="store_true", help="log as JSON lines")
        command.add_arguments(sub)
        sub.set_defaults(handler=command.handler, command=command.name, parser=sub)
    return parser


def all_commands() -> list[Command]:
    """Return every subcommand, core ones first."""
    from bot.cli import (
        archive,
        backfill,
        backup,
        check,
        classify,
        migrate,
        opml,
        outbox,
        rename,
        retag,
        sources,
        status,
    )

    return [
        *CORE_COMMANDS,
        *sources.COMMANDS,
        *rename.COMMANDS,
        *opml.COMMANDS,
        *check.COMMANDS,
        *classify.COMMANDS,
        *retag.COMMANDS,
        *outbox.COMMANDS,
        *archive.COMMANDS,
        *backfill.COMMANDS,
        *status.COMMANDS,
        *migrate.COMMANDS,
        *backup.COMMANDS,
    ]


def _args_extract(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "target", metavar="URL_OR_FILE", help="an article URL or a saved HTML or feed file"
    )
    sub.add_argument("--url", help="the page's address when URL_OR_FILE is a file")
    sub.add_argument("--source", metavar="KEY", help="apply this configured source's rules")
    sub.add_argument(
        "--item",
        metavar="URL",
        help="when URL_OR_FILE is a feed with full text: the item to extract (default: the first)",
    )


def _args_once(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--all",
        action="store_true",
        help="poll every source not paused or backing off, due or not (by default a source is "
        "polled when its `every` has passed since its last poll started, less a minute or a "
        "tenth of it for cron's jitter)",
    )


def _args_run(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--http",
        type=address(any_port=True),
        metavar="HOST:PORT",
        help="serve /healthz and /metrics here instead of [service] http: each worker of one "
        "config on one machine needs its own port (0: any free one, named in the log)",
    )


CORE_COMMANDS = [
    Command(
        "once",
        "poll every due source once, publish what is pending, and exit",
        "presswatch once --config presswatch.toml\n"
        "  presswatch once --all --config presswatch.toml  # every source, due or not",
        later("bot.cli.core", "once"),
        _args_once,
    ),
    Command(
        "run",
        "run the service: poll each source on its interval and publish, until Ctrl-C or SIGTERM",
        "PRESSWATCH_TELEGRAM_TOKEN=123:ABC presswatch run --config presswatch.toml\n"
        "  presswatch run --http 127.0.0.1:9109 --config presswatch.toml  "
        "# a second worker here (PostgreSQL)",
        later("bot.cli.core", "run"),
        _args_run,
    ),
    Command(
        "extract",
        "print one article's extracted fields as JSON (reads the archive, writes nothing)",
        "presswatch extract https://tass.com/politics/1451189 --source tass-com --config presswatch.toml",
        later("bot.cli.core", "extract"),
        _args_extract,
    ),
]


if __name__ == "__main__":
    sys.exit(main())
