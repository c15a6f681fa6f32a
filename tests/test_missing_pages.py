"""A new item whose page answers 404/410 is waited for, posted once it answers, and otherwise
given up: archived from its listing and not posted (or posted title-only if the source opts in).

The polls share one poll context, as the service's do, on a clock the test sets; the sites and
the archive are the real loopback copies and SQLite file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.app import poll_context, reconfigure
from bot.config import load_config
from bot.ingest.intake import MissingPages
from bot.ingest.poll import poll_source
from scrapers import Link, Source
from scrapers.fetch import Fetcher, make_client
from storage import RunRecord, Store
from tests.support.cli import presswatch
from tests.support.world import World, write_config

TASS = "tass-com"
PAGE = "/politics/1460000"
# The item's pubDate: some hours ago (so that `status` counts its polls among the last day's), at
# half past an hour, which is never a date-only midnight in Moscow.
LISTED = datetime.now(UTC).replace(minute=30, second=0, microsecond=0) - timedelta(hours=8)
RELEASE = """<html><body><h1>New release on CSTO exercises</h1>
<p>The command and staff exercise of the CSTO Collective Rapid Reaction Forces will be held in
Kyrgyzstan in September, the Joint Staff said on Friday.</p>
<p>More than two thousand servicemen from all member states are expected to take part, together
with aviation and units of radiological, chemical and biological protection.</p></body></html>"""

Step = tuple[datetime, Callable[[], object] | None]


@pytest.fixture
def world():
    """The loopback copy of the TASS site alone."""
    with World((TASS,)) as copy:
        yield copy


def polls(config_path: Path, steps: list[Step]) -> list[RunRecord]:
    """Poll the TASS source once per step, at the step's time, after its action (one context)."""
    config = load_config(config_path, environ={})
    now = [steps[0][0]]

    async def go() -> list[RunRecord]:
        store = Store.open(config.storage_path)
        try:
            async with make_client(config.fetch) as client:
                fetcher = Fetcher(client, config.fetch)
                ctx = poll_context(config, fetcher=fetcher, store=store, clock=lambda: now[0])
                runs = []
                for moment, action in steps:
                    now[0] = moment
                    if action:
                        action()
                    runs.append(await poll_source(config.source(TASS), ctx))
                return runs
        finally:
            store.close()

    return asyncio.run(go())


def rows(config_path: Path, sql: str) -> list[dict]:
    store = Store.open(load_config(config_path, environ={}).storage_path)
    try:
        return list(store.db.query(sql))
    finally:
        store.close()


def list_item(world, title: str = "New release on CSTO exercises") -> None:
    """Put a new item at the top of the TASS feed; its page is not served (404) yet."""
    site = world.site(TASS)
    item = (
        f"<item><title>{title}</title><link>{world.url(TASS, PAGE)}</link>"
        f"<pubDate>{format_datetime(LISTED)}</pubDate></item>"
    )
    feed = site.routes["/rss/v2.xml"].body.decode().replace("<item>", item + "<item>", 1)
    site.add("/rss/v2.xml", feed)


def config_for(tmp_path: Path, world, setting: str = "") -> Path:
    path = write_config(tmp_path, world)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('key = "tass-com"\n', f'key = "tass-com"\n{setting}'), "utf-8")
    return path


def queued(config: Path) -> list[dict]:
    return rows(
        config, "select a.title, a.body from outbox o join articles a on a.id = o.article_id"
    )


def test_a_page_that_answers_later_is_posted_whole_once_it_does(world, tmp_path) -> None:
    config = config_for(tmp_path, world)
    site = world.site(TASS)
    runs = polls(
        config,
        [
            (LISTED - timedelta(hours=1), None),  # the first run: a silent baseline
            (LISTED + timedelta(minutes=2), lambda: list_item(world)),
            (LISTED + timedelta(minutes=12), None),
            (LISTED + timedelta(minutes=22), lambda: site.add(PAGE, RELEASE)),
        ],
    )
    assert [(r.status, r.new_articles) for r in runs[1:]] == [("ok", 0), ("ok", 0), ("ok", 1)]
    assert site.hits(PAGE) == 3
    [post] = queued(config)
    assert post["title"] == "New release on CSTO exercises"
    assert "two thousand servicemen" in post["body"]


def test_a_page_that_never_answers_is_archived_and_not_posted(world, tmp_path, caplog) -> None:
    caplog.set_level("INFO", logger="bot.ingest")
    config = config_for(tmp_path, world)
    runs = polls(
        config,
        [
            (LISTED - timedelta(hours=1), None),
            (LISTED + timedelta(minutes=2), lambda: list_item(world)),
            (LISTED + timedelta(hours=6, minutes=1), None),
        ],
    )
    waiting, gave_up = runs[1:]
    assert (waiting.status, waiting.new_articles, waiting.error) == ("ok", 0, None)
    assert (gave_up.status, gave_up.new_articles) == ("partial", 1)
    assert "HTTP 404" in gave_up.error and PAGE in gave_up.error
    assert "still after 6h: archived from its listing, not posted" in gave_up.error
    [stub] = rows(config, f"select title, body, silent from articles where url like '%{PAGE}'")
    assert stub == {"title": "New release on CSTO exercises", "body": "", "silent": 1}
    assert queued(config) == []
    # Its "stored" line gives the reason that applied: the page, not a first run or a backfill.
    [stored] = [r.getMessage() for r in caplog.records if f"{PAGE}: stored" in r.getMessage()]
    assert stored.endswith("; recorded silently, not posted (its page never answered)")
    # Recorded against the source: `status` points to it and `sources` gives the reason.
    status = presswatch("status", "--config", str(config)).stdout
    line = next(x for x in status.splitlines() if x.startswith(TASS))
    assert "1 poll in 24h left an item out: `presswatch sources` says why" in line
    sources = presswatch("sources", "--config", str(config)).stdout
    line = next(x for x in sources.splitlines() if x.startswith(TASS))
    assert "[an item, in 24h] " in line and "archived from its listing, not posted" in line


def test_an_operator_may_have_a_page_that_never_answered_posted_title_only(world, tmp_path) -> None:
    config = config_for(tmp_path, world, 'missing_page = "post"\nmissing_page_wait = "1h"\n')
    runs = polls(
        config,
        [
            (LISTED - timedelta(hours=1), None),
            (LISTED + timedelta(minutes=2), lambda: list_item(world)),
            (LISTED + timedelta(minutes=61), None),
        ],
    )
    assert runs[1].new_articles == 0
    assert "still after 1h: posted with its listed title only" in runs[2].error
    assert queued(config) == [{"title": "New release on CSTO exercises", "body": ""}]


def test_a_refused_page_is_still_posted_title_only_at_once(world, tmp_path) -> None:
    config = config_for(tmp_path, world)

    def refused() -> None:
        list_item(world)
        world.site(TASS).add(PAGE, "<html>Access denied</html>", status=403)

    runs = polls(
        config, [(LISTED - timedelta(hours=1), None), (LISTED + timedelta(minutes=2), refused)]
    )
    assert runs[1].new_articles == 1 and "HTTP 403" in runs[1].error
    assert queued(config) == [{"title": "New release on CSTO exercises", "body": ""}]


def test_a_refused_page_keeps_its_source_language_and_no_address_for_a_title(
    world, tmp_path
) -> None:
    # A channel of English news only: the stub is English (tass-com's lang), so it is posted.
    english = '[[channels]]\nname = "en"\nchat_id = "@english_news"\nlanguages = ["en"]\n'
    path = write_config(tmp_path, world, channels=english)

    def refused(title: str) -> Callable[[], None]:
        def act() -> None:
            list_item(world, title)
            world.site(TASS).add(PAGE, "<html>Access denied</html>", status=403)

        return act

    polls(path, [(LISTED - timedelta(hours=1), None), (LISTED + timedelta(minutes=2), refused(""))])
    [stub] = rows(path, f"select title, lang from articles where url like '%{PAGE}'")
    # Untitled: its post is headed by its link, not by its address and then the link again.
    assert stub == {"title": "", "lang": "en"}
    assert queued(path) == [{"title": "", "body": ""}]


SOURCE = Source(key="ia", url="https://example.org/", timezone="Europe/Moscow")
FOUND = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _link(published: datetime | None) -> Link:
    return Link(
        url="https://example.org/a/1", canonical_url="https://example.org/a/1", published=published
    )


@pytest.fixture
def archive(tmp_path):
    """A real SQLite archive, where the wait's start is kept."""
    store = Store.open(tmp_path / "archive.db")
    yield store
    store.close()


def test_an_undated_item_is_waited_for_from_when_it_was_first_met(archive) -> None:
    missing, link = MissingPages(archive), _link(None)
    assert missing.waiting(SOURCE, link, now=FOUND)
    assert missing.waiting(SOURCE, link, now=FOUND + timedelta(hours=5, minutes=59))
    assert not missing.waiting(SOURCE, link, now=FOUND + timedelta(hours=6))


def test_the_wait_goes_on_after_a_restart_and_in_the_next_once(archive) -> None:
    link = _link(None)
    assert MissingPages(archive).waiting(SOURCE, link, now=FOUND)
    # A new process (a restarted service, the next `once` from cron) meets the item again.
    assert MissingPages(archive).waiting(SOURCE, link, now=FOUND + timedelta(hours=3))
    assert not MissingPages(archive).waiting(SOURCE, link, now=FOUND + timedelta(hours=6))
    # Given up: forgotten, so the item would start a new wait if it were ever listed again.
    assert not list(archive.db.query("select * from missing_pages"))


def test_a_page_that_answers_is_forgotten(archive) -> None:
    missing, link = MissingPages(archive), _link(None)
    assert missing.waiting(SOURCE, link, now=FOUND)
    missing.found(link)
    assert not list(archive.db.query("select * from missing_pages"))
    assert missing.waiting(SOURCE, link, now=FOUND + timedelta(hours=7))  # a new wait


def test_a_listed_date_without_a_time_does_not_shorten_the_wait(archive) -> None:
    midnight_in_moscow = datetime(2026, 11, 29, 21, 0, tzinfo=UTC)  # two days before FOUND
    assert MissingPages(archive).waiting(SOURCE, _link(midnight_in_moscow), now=FOUND)
    ten_in_moscow = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    assert not MissingPages(archive).waiting(SOURCE, _link(ten_in_moscow), now=FOUND)


def test_no_wait_gives_a_missing_page_up_at_once(archive) -> None:
    source = Source(key="ia", url="https://example.org/", missing_page_wait_seconds=0)
    assert not MissingPages(archive).waiting(source, _link(None), now=FOUND)


def test_check_source_says_a_missing_page_would_be_waited_for(world, tmp_path) -> None:
    config = config_for(tmp_path, world)
    assert presswatch("once", "--config", str(config), token=None).returncode == 0
    list_item(world)
    out = presswatch("check-source", TASS, "--config", str(config)).stdout
    assert f"NEW {world.url(TASS, PAGE)}\n  ERROR " in out
    assert "would be tried again at each poll for 6h (missing_page_wait), then archive it" in out


def test_a_reload_keeps_the_wait_of_items_whose_pages_are_missing(tmp_path) -> None:
    config = load_config(config_for(tmp_path, World(())), environ={})
    store = Store.in_memory()
    poll = poll_context(config, fetcher=None, store=store)
    app = SimpleNamespace(
        config=config, fetcher=None, store=store, relay=None, sender=None, poll=poll
    )
    waiting = app.poll.intake.missing
    assert waiting.waiting(SOURCE, _link(None), now=FOUND)
    reconfigure(app, config)
    assert app.poll is not poll and app.poll.intake.missing is waiting
    assert not waiting.waiting(SOURCE, _link(None), now=FOUND + timedelta(hours=6))
