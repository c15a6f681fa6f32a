"""`presswatch backfill`: older listing pages stored silently, never posted, first run kept."""

from __future__ import annotations

import re
import sqlite3
from functools import partial
from pathlib import Path

import pytest

from tests.fakes.telegram import DEFAULT_TOKEN, RateLimit
from tests.support.cli import presswatch as run_presswatch
from tests.support.world import World, write_config

# The fake keeps Telegram's flood limits (the shared `telegram` fixture has none by default).
pytestmark = pytest.mark.telegram(rate_limit=RateLimit())

ROOT = Path(__file__).resolve().parent.parent
# Every run here has the fake Bot API's token unless a test takes it away (token=None).
presswatch = partial(run_presswatch, token=DEFAULT_TOKEN)
CHANNEL = "@presswatch_test"
PAGE_ONE = [  # the titles on the loopback copy of en.interaffairs.ru's front page
    "Briefing by CSTO Secretary General Stanislav Zas",
    "Greeting from Deputy Chairman of Federation Council K.I. Kosachev on the centenary of International Affairs",
    "The world after the pandemic is still a world of states",
]


def article_page(title: str, day: int) -> str:
    """Return a small article page with its date in OpenGraph metadata."""
    paragraphs = "".join(
        f"<p>{title} — paragraph {i}: the delegations discussed cooperation, security and the "
        f"plans of the organisation for the coming year in considerable detail.</p>"
        for i in range(4)
    )
    return (
        f'<html><head><title>{title}</title><meta property="og:title" content="{title}">'
        f'<meta property="article:published_time" content="2020-03-{day:02d}T10:00:00+03:00">'
        f"</head><body><article><h1>{title}</h1>{paragraphs}</article></body></html>"
    )


def listing(*slugs: str) -> str:
    """Return a listing page linking to /article/SLUG/ for each slug."""
    return (
        "<html><body>"
        + "".join(
            f'<div><a href="/article/{s}/">{s.replace("-", " ").title()}</a></div>' for s in slugs
        )
        + "</body></html>"
    )


@pytest.fixture
def world():
    with World(keys=("interaffairs-en",)) as w:
        yield w


def with_pages(config: Path, template: str) -> Path:
    """Give the interaffairs-en source of a config a `pages` template."""
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace(
            'key = "interaffairs-en"\n', f'key = "interaffairs-en"\npages = "{template}"\n', 1
        ),
        encoding="utf-8",
    )
    return config


def older_pages(world: World) -> None:
    """Serve pages 2 and 3 of the archive (page 4 answers 404); page 2 repeats one front-page article."""
    site = world.site("interaffairs-en")
    site.add(
        "/page/2/",
        listing("old-summit", "old-exercise", "briefing-by-csto-secretary-general-stanislav-zas"),
    )
    site.add("/page/3/", listing("oldest-statement"))
    for day, slug in enumerate(("old-summit", "old-exercise", "oldest-statement"), start=1):
        site.add(f"/article/{slug}/", article_page(slug.replace("-", " ").title(), day))


def last_bar(stderr: str) -> str:
    """Return the progress bar as last drawn (log lines may come between its drawings)."""
    return stderr.rsplit("backfill [", 1)[1].split("\x1b[K", 1)[0]


def archived(tmp_path: Path) -> list[tuple[str, int]]:
    """Return (title, silent) of every archived article."""
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        return conn.execute("select title, silent from articles order by id").fetchall()


def outbox_rows(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        return conn.execute("select count(*) from outbox").fetchone()[0]


def test_backfill_stores_older_pages_silently_and_reports(world, telegram, tmp_path) -> None:
    older_pages(world)
    config = with_pages(
        write_config(tmp_path, world, telegram_url=telegram.base_url, backfill=10),
        world.url("interaffairs-en", "/page/{page}/"),
    )
    result = presswatch("backfill", "interaffairs-en", "--pages", "5", "--config", str(config))
    assert result.returncode == 0, result.stderr
    summary = result.stderr.strip().splitlines()[-1]
    assert summary.startswith(
        "backfill interaffairs-en: read 2 pages, saw 4 links, stored 4 new "
        "articles without posting, 0 errors; stopped: page 4: "
    )
    assert "404" in summary
    assert sorted(archived(tmp_path)) == sorted(
        [("Old Summit", 1), ("Old Exercise", 1), ("Oldest Statement", 1), (PAGE_ONE[0], 1)]
    )
    assert outbox_rows(tmp_path) == 0
    assert telegram.requests == []  # backfill never talks to Telegram
    # Each article's line says why it was not posted: this backfill, nothing else.
    stored = [line for line in result.stderr.splitlines() if ": stored" in line]
    assert len(stored) == 4
    assert all(line.endswith("; recorded silently, not posted (a backfill)") for line in stored)
    # Pages in order, each followed by its new articles, oldest (last listed) first; page 1 untouched.
    paths = [r.path for r in world.site("interaffairs-en").requests if r.path != "/robots.txt"]
    assert paths[0] == "/page/2/" and paths[4] == "/page/3/" and paths[-1] == "/page/4/"
    assert paths[1] == "/article/briefing-by-csto-secretary-general-stanislav-zas/"
    assert "/" not in paths


def test_the_first_poll_after_a_backfill_posts_only_what_backfill_did_not_store(
    world, telegram, tmp_path
) -> None:
    older_pages(world)
    config = with_pages(
        write_config(tmp_path, world, telegram_url=telegram.base_url, backfill=10),
        world.url("interaffairs-en", "/page/{page}/"),
    )
    assert (
        presswatch(
            "backfill", "interaffairs-en", "--pages", "3", "--config", str(config)
        ).returncode
        == 0
    )
    assert presswatch("once", "--config", str(config)).returncode == 0
    # Still a first run (newest `backfill` posted), and the front-page article backfill already
    # stored is known, so it is not posted; nothing from the older pages is.
    titles = sorted(m.plain.split("\n", 1)[0] for m in telegram.messages_for(CHANNEL))
    assert titles == sorted(PAGE_ONE[1:])
    again = presswatch("backfill", "interaffairs-en", "--pages", "3", "--config", str(config))
    assert again.returncode == 0 and "stored 0 new articles" in again.stderr
    assert len(telegram.messages_for(CHANNEL)) == 2


def test_a_never_polled_source_stays_quiet_after_a_backfill(world, telegram, tmp_path) -> None:
    older_pages(world)
    config = with_pages(
        write_config(tmp_path, world, telegram_url=telegram.base_url, backfill=0),
        world.url("interaffairs-en", "/page/{page}/"),
    )
    presswatch("backfill", "interaffairs-en", "--pages", "2", "--config", str(config))
    once = presswatch("once", "--config", str(config))
    assert once.returncode == 0
    quiet = "; recorded silently, not posted (a first run's older news: only the newest `backfill`"
    assert sum(quiet in line for line in once.stderr.splitlines()) == 2, once.stderr
    assert telegram.messages_for(CHANNEL) == []
    assert {silent for _, silent in archived(tmp_path)} == {1}
    assert len(archived(tmp_path)) == 6


def test_a_site_that_repeats_its_last_page_stops_the_walk(world, tmp_path) -> None:
    # The loopback site answers "/?page=N" with its front page, whatever N is.
    config = with_pages(
        write_config(tmp_path, world), world.url("interaffairs-en", "/?page={page}")
    )
    result = presswatch(
        "backfill",
        "interaffairs-en",
        "--pages",
        "10",
        "--progress",
        "--config",
        str(config),
        token=None,
    )
    assert result.returncode == 0, result.stderr
    assert "read 1 page, saw 3 links, stored 3 new articles" in result.stderr
    assert "stopped: page 3 repeats page 2" in result.stderr
    assert "backfill [###" in result.stderr and "1/10" in result.stderr
    bar = last_bar(result.stderr)
    # The bar counts the pages read, as the summary does: page 3, a repeat, is not one.
    assert "1/1 100%" in bar and bar.endswith("page 3 repeats page 2: the end of the archive")


def test_a_missing_last_page_finishes_the_bar_and_says_so(world, tmp_path) -> None:
    older_pages(world)  # pages 2 and 3; page 4 answers 404
    config = with_pages(
        write_config(tmp_path, world), world.url("interaffairs-en", "/page/{page}/")
    )
    args = ("backfill", "interaffairs-en", "--pages", "3", "--progress", "--config", str(config))
    result = presswatch(*args, token=None)
    assert result.returncode == 0, result.stderr
    bar = last_bar(result.stderr)
    # Pages 2 and 3 read, as the summary says; page 4 is not counted as read.
    assert "read 2 pages" in result.stderr
    assert bar.startswith("##############################] 2/2 100%")
    assert bar.endswith("page 4 missing (404): the end of the archive")


def test_a_failing_page_is_reported_and_the_walk_goes_on(world, tmp_path) -> None:
    older_pages(world)
    world.site("interaffairs-en").add("/page/2/", "down for maintenance", status=500)
    config = with_pages(
        write_config(tmp_path, world), world.url("interaffairs-en", "/page/{page}/")
    )
    result = presswatch(
        "backfill", "interaffairs-en", "--pages", "5", "--config", str(config), token=None
    )
    assert result.returncode == 1
    assert re.search(r"interaffairs-en: page 2: .*500", result.stderr)
    assert "read 1 page, saw 1 link, stored 1 new article without posting, 1 error" in result.stderr
    assert archived(tmp_path) == [("Oldest Statement", 1)]


def test_a_source_without_pages_is_a_clear_error(world, tmp_path) -> None:
    config = write_config(tmp_path, world)
    result = presswatch(
        "backfill", "interaffairs-en", "--pages", "2", "--config", str(config), token=None
    )
    assert result.returncode == 2  # a usage problem, as README's exit statuses say
    assert "source 'interaffairs-en' has no `pages` setting" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert world.site("interaffairs-en").requests == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope", "--pages", "2"), "unknown source 'nope'"),
        (("interaffairs-en", "--pages", "0"), "expected a whole number from 1 to 10,000"),
        (("interaffairs-en",), "--pages"),
    ],
)
def test_bad_backfill_usage_exits_2(world, tmp_path, args, message) -> None:
    config = write_config(tmp_path, world)
    result = presswatch("backfill", *args, "--config", str(config), token=None)
    assert result.returncode == 2 and message in result.stderr


def test_a_template_whose_first_page_is_missing_is_an_error_not_an_empty_archive(
    world, tmp_path
) -> None:
    older_pages(world)  # served at /page/N/, not where the template points
    config = with_pages(
        write_config(tmp_path, world), world.url("interaffairs-en", "/archive/{page}/")
    )
    result = presswatch(
        "backfill", "interaffairs-en", "--pages", "5", "--config", str(config), token=None
    )
    assert result.returncode == 1
    assert re.search(r"interaffairs-en: page 2: .*404.*check `pages`", result.stderr)
    assert "read 0 pages, saw 0 links, stored 0 new articles without posting, 1 error" in (
        result.stderr
    )


def test_a_missing_page_after_a_failing_first_older_page_is_the_end_not_a_bad_template(
    world, tmp_path
) -> None:
    # Page 2 answers 500 and the archive ends there: page 3's 404 says nothing of the template.
    world.site("interaffairs-en").add("/page/2/", "down for maintenance", status=500)
    config = with_pages(
        write_config(tmp_path, world), world.url("interaffairs-en", "/page/{page}/")
    )
    result = presswatch(
        "backfill", "interaffairs-en", "--pages", "5", "--config", str(config), token=None
    )
    assert result.returncode == 1 and re.search(r"page 2: .*500", result.stderr)
    assert "check `pages`" not in result.stderr
    assert "1 error" in result.stderr
