"""The command line at its edges: --version, bounded numbers and dates, an empty query, an address
that is no web address, and a reader that closes the pipe early (`presswatch export | head`)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli.common import EXIT_PIPE
from bot.cli.main import main
from scrapers.models import Article
from storage import Store
from tests.support.cli import ROOT, presswatch
from tests.support.world import write_config


def test_version_names_the_package() -> None:
    result = presswatch("--version")
    assert result.returncode == 0 and result.stdout.startswith("presswatch ")
    assert result.stdout.split()[1][0].isdigit()


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["search", "x", "--until", "9999-12-31"], "--until"),
        (["search", "x", "--since", "0001-01-01"], "--since"),
        (["search", "x", "--since", "31.01.2024"], "--since"),
        (["search", "x", "--limit", "99999999999999999999"], "--limit"),
        (["search", "x", "--limit", "0"], "--limit"),
        (["search", "x", "--limit", "-5"], "--limit"),
        (["search", "x", "--limit", "１２"], "--limit"),  # full-width digits are digits to Python
        (["export", "--format", "csv", "--since", "9999-12-31"], "--since"),
        (["backfill", "tass-com", "--pages", "99999999999999999999"], "--pages"),
        (["outbox", "retry", "99999999999999999999"], "ID"),
        (["check-source", "tass-com", "--limit", "-1"], "--limit"),
        (["add", "https://example.org/", "--preview", "1000000"], "--preview"),
        # the conf15 sweep: raised to 1 in silence, or taken and then found nothing
        (["migrate-archive", "--to", "postgresql://u@db/x", "--batch", "0"], "--batch"),
        (["migrate-archive", "--to", "postgresql://u@db/x", "--batch", "-5"], "--batch"),
        (["search", "x", "--lang", "english"], "--lang"),
    ],
)
def test_out_of_range_numbers_and_dates_exit_2_with_one_line(capsys, args, option) -> None:
    with pytest.raises(SystemExit) as exited:
        main(args)
    lines = capsys.readouterr().err.splitlines()
    assert exited.value.code == 2 and len(lines) == 1, lines
    assert lines[0].startswith(f"presswatch {args[0]}: error: argument {option}")


@pytest.mark.parametrize(
    ("args", "told"),
    [
        (["stats", "--since", "2024-01-01"], "presswatch stats: error: unrecognized arguments: "
         "--since 2024-01-01 (see presswatch stats --help)"),
        (["sources", "tass-com"], "presswatch sources: error: unrecognized arguments: tass-com "
         "(see presswatch sources --help)"),
        (["--bogus"], "presswatch: error: unrecognized arguments: --bogus (see presswatch --help)"),
    ],
)  # fmt: skip
def test_an_option_a_command_does_not_have_points_to_that_command_s_help(
    capsys, args, told
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    assert capsys.readouterr().err == told + "\n"


def test_a_misspelt_command_is_told_the_closest_one(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serch", "sanctions"])
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        "presswatch: error: argument COMMAND: invalid choice: 'serch' (did you mean 'search'?) "
        "(see presswatch --help)\n"
    )


@pytest.mark.parametrize("query", ["", "   ", '"*" ( ) : -'])
def test_a_search_without_words_is_a_usage_error(capsys, query: str) -> None:
    assert main(["search", query, "--config", "does-not-matter.toml"]) == 2
    assert capsys.readouterr().err == (
        "presswatch: search: empty query: give at least one word, or a filter alone (--source, "
        "--topic, --lang, --since, --until) for the newest articles\n"
    )


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """A config whose archive exports to far more than a pipe's buffer."""
    folder = tmp_path_factory.mktemp("pipe")
    store = Store.open(folder / "archive.db")
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(150):
        url = f"https://example.org/news/{i}"
        body = f"Article {i} says " + " ".join(f"word{i}x{j}" for j in range(400))
        published = start + timedelta(hours=i)
        article = Article(
            url=url, canonical_url=url, title=f"News {i}", body=body, published=published
        )
        store.add_article(article, source_key="example", now=published)
    store.close()
    config = folder / "presswatch.toml"
    config.write_text(f'channels = []\n[storage]\npath = "{folder / "archive.db"}"\n')
    return config


def _closed_early(args: list[str], *, read_lines: int) -> subprocess.CompletedProcess:
    """Run presswatch into a real pipe whose reader stops after `read_lines` lines, like head."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRESSWATCH_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    for _ in range(read_lines):
        proc.stdout.readline()
    proc.stdout.close()  # the reader is gone: the next write fails with EPIPE
    err = proc.stderr.read().decode()
    proc.stderr.close()
    return subprocess.CompletedProcess(proc.args, proc.wait(timeout=120), "", err)


@pytest.mark.parametrize(
    ("args", "read_lines"),
    [
        (["export", "--format", "csv"], 2),
        (["export", "--format", "jsonl"], 1),
        (["stats", "--format", "json"], 0),
        (["search", "article", "--format", "csv"], 0),
    ],
    ids=["export csv | head", "export jsonl | head", "stats json | (closed)", "search csv"],
)
def test_a_reader_closing_the_pipe_ends_the_command_quietly(archive, args, read_lines) -> None:
    result = _closed_early([*args, "--config", str(archive)], read_lines=read_lines)
    assert result.returncode == EXIT_PIPE, result.stderr
    for noise in ("Traceback", "CRITICAL", "BrokenPipe", "Exception ignored"):
        assert noise not in result.stderr, result.stderr


@pytest.mark.parametrize("url", ["notaurl", "ftp://example.org/feed", "https://"])
def test_add_refuses_what_is_not_a_web_address_before_fetching_anything(tmp_path, url) -> None:
    # It read "presswatch: /robots.txt: only http and https are fetched": a file it never named.
    result = presswatch("add", url, "--config", str(tmp_path / "none.toml"))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"presswatch: add: {url!r} is not a web address (http:// or https://)\n"


def test_add_says_a_broken_feed_is_no_feed_rather_than_a_page_without_articles(
    world, tmp_path
) -> None:
    # Seen by an operator: a feed address whose body is not XML read "no group of links on this
    # page looks like articles (the listing may be filled in by JavaScript …)".
    body = "\x00garbage<<<not xml" * 50
    world.site("tass-com").add("/rss/broken.xml", body, content_type="application/rss+xml")
    config = write_config(tmp_path, world)
    url = world.url("tass-com", "/rss/broken.xml")
    result = presswatch("add", url, "--config", str(config))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        f"presswatch: {url}: served as a feed (application/rss+xml) but not an RSS or Atom "
        "document; check the address, or open it in a browser\n"
    )
