"""One story once, end to end: a reprint edits the story's post, a correction becomes a version.

Polls run in this process on loopback copies of the sites, with a clock the test moves; posts go
through the real relay and python-telegram-bot to the loopback fake of the Bot API.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage import Store
from tests.support.cli import presswatch
from tests.support.clocks import HandClock
from tests.support.world import World, cycle, write_config

CHANNEL = "@presswatch_test"
SUMMIT = "/politics/1451189"
REPRINT_PAGE = """<html><head><title>Statement of the CSTO leaders - International Affairs</title></head>
<body><div class="content"><h1>CSTO leaders adopt anniversary statement</h1>
<div class="article-info">18:30 16.05.2022 • Editorial</div>
<div class="article-text">{paragraphs}</div></div></body></html>"""


def _tass_paragraphs(world: World) -> str:
    page = world.site("tass-com").routes[SUMMIT].body.decode()
    return page.split('<div class="text-block">', 1)[1].split("</div>", 1)[0]


def _publish_reprint(world: World, *, preface: str = "") -> None:
    """List TASS's summit story, reprinted, on the synthetic International Affairs site."""
    site = world.site("interaffairs-en")
    listing = site.routes["/"].body.decode()
    site.add(
        "/",
        listing.replace(
            '<section class="news-list">',
            '<section class="news-list">'
            '<a href="/article/csto-leaders-adopt-anniversary-statement/">Statement</a>',
        ),
    )
    site.add(
        "/article/csto-leaders-adopt-anniversary-statement/",
        REPRINT_PAGE.format(paragraphs=preface + _tass_paragraphs(world)),
    )


def test_a_reprint_on_another_source_edits_the_story_post_to_name_both(
    world, telegram, tmp_path
) -> None:
    config = write_config(tmp_path, world, telegram_url=telegram.base_url, backfill=10)
    clock = HandClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    cycle(config, clock)
    [story] = [m for m in telegram.messages_for(CHANNEL) if "CSTO summit participants" in m.text]
    sent_before = len(telegram.messages)

    _publish_reprint(
        world,
        preface="<p>The International Affairs editorial office publishes the "
        "report of the TASS agency.</p>",
    )
    clock.now += timedelta(minutes=10)
    cycle(config, clock)

    assert len(telegram.messages) == sent_before, "a reprint must not be posted again"
    [edit] = [e for e in telegram.edits if e.message_id == story.message_id]
    assert "Also: International Affairs" in edit.text
    assert "CSTO summit participants adopt statement" in edit.text


def test_a_changed_article_is_stored_as_a_new_version_and_its_post_edited(
    world, telegram, tmp_path
) -> None:
    config = write_config(tmp_path, world, telegram_url=telegram.base_url, backfill=10)
    clock = HandClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    cycle(config, clock, keys=("tass-com",))
    [story] = [m for m in telegram.messages_for(CHANNEL) if "CSTO summit participants" in m.text]

    site = world.site("tass-com")
    site.add(
        SUMMIT,
        site.routes[SUMMIT]
        .body.replace(
            b"adopt statement on 30th anniversary", b"adopt joint statement on 30th anniversary"
        )
        .replace(b"have adopted a statement", b"have adopted a joint statement"),
    )
    clock.now += timedelta(minutes=40)  # past the half-hour spacing of re-reads
    cycle(config, clock, keys=("tass-com",))

    store = Store.open(tmp_path / "archive.db")
    try:
        article = next(
            store.db.query("select id, title, version from articles where url like '%1451189'")
        )
        versions = list(
            store.db.query(
                "select version, title from article_versions where article_id = ?", [article["id"]]
            )
        )
    finally:
        store.close()
    assert article["version"] == 2 and "joint statement" in article["title"]
    assert versions == [
        {
            "version": 1,
            "title": "CSTO summit participants adopt statement on 30th "
            "anniversary of Collective Security Treaty",
        }
    ]
    [edit] = [e for e in telegram.edits if e.message_id == story.message_id]
    assert "adopt joint statement" in edit.text


def test_an_unchanged_article_is_not_edited(world, telegram, tmp_path) -> None:
    config = write_config(tmp_path, world, telegram_url=telegram.base_url, backfill=10)
    clock = HandClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    cycle(config, clock, keys=("tass-com",))
    clock.now += timedelta(minutes=40)
    cycle(config, clock, keys=("tass-com",))
    assert telegram.edits == []


JOURNAL_CHANNELS = (
    '[[channels]]\nname = "main"\nchat_id = "@presswatch_test"\n\n'
    '[[channels]]\nname = "journal"\nchat_id = "@journal_only"\nsources = ["interaffairs-en"]\n'
)


def _config_with_a_journal_channel(world: World, telegram, tmp_path: Path) -> Path:
    """Write a config whose second channel follows International Affairs only."""
    return write_config(
        tmp_path, world, telegram_url=telegram.base_url, backfill=10, channels=JOURNAL_CHANNELS
    )


def test_a_reprint_reaches_a_channel_that_never_got_the_story(world, telegram, tmp_path) -> None:
    config = _config_with_a_journal_channel(world, telegram, tmp_path)
    clock = HandClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    cycle(config, clock)
    journal_before = len(telegram.messages_for("@journal_only"))
    main_before = len(telegram.messages_for(CHANNEL))
    _publish_reprint(world)
    clock.now += timedelta(minutes=10)
    cycle(config, clock)
    assert len(telegram.messages_for(CHANNEL)) == main_before
    [new] = telegram.messages_for("@journal_only")[journal_before:]
    assert "CSTO leaders adopt anniversary statement" in new.text
    assert "Also: TASS" in new.text  # the story's post in this chat names its other source


def test_check_source_prints_the_plan_a_poll_then_carries_out(world, telegram, tmp_path) -> None:
    config = _config_with_a_journal_channel(world, telegram, tmp_path)
    clock = HandClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    cycle(config, clock)
    [story] = [m for m in telegram.messages_for(CHANNEL) if "CSTO summit participants" in m.text]
    journal_before = len(telegram.messages_for("@journal_only"))
    main_before = len(telegram.messages_for(CHANNEL))
    _publish_reprint(world)

    checked = presswatch("check-source", "interaffairs-en", "--config", str(config))
    assert checked.returncode == 0, checked.stderr
    [said] = [line for line in checked.stdout.splitlines() if "would be:" in line]
    assert "stored as a reprint of archived article" in said
    assert "posted to journal (@journal_only)" in said
    assert "not posted to main (they have the story)" in said
    assert "the post in main is edited to name this source" in said

    clock.now += timedelta(minutes=10)
    cycle(config, clock)
    [new] = telegram.messages_for("@journal_only")[journal_before:]
    assert "CSTO leaders adopt anniversary statement" in new.text
    assert len(telegram.messages_for(CHANNEL)) == main_before
    [edit] = [e for e in telegram.edits if e.message_id == story.message_id]
    assert "Also: International Affairs" in edit.text


def test_a_source_reposting_its_story_under_a_new_url_edits_nothing(
    world, telegram, tmp_path, caplog
) -> None:
    """The ux14 walkthrough: a copy of a story at a new URL of its own source; the story's post
    already is that source's, so an edit would change nothing (Telegram: "not modified")."""
    config = write_config(tmp_path, world, telegram_url=telegram.base_url, backfill=10)
    clock = HandClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    cycle(config, clock, keys=("tass-com",))
    sent_before = len(telegram.messages)

    site, moved = world.site("tass-com"), "/politics/1451999"
    site.add(moved, site.routes[SUMMIT].body.replace(SUMMIT.encode(), moved.encode()))
    feed = site.routes["/rss/v2.xml"]
    item = f"<item><title>CSTO statement</title><link>{world.url('tass-com', moved)}</link>"
    item += "<pubDate>Mon, 16 May 2022 16:40:12 +0300</pubDate></item>"
    site.add(
        "/rss/v2.xml",
        feed.body.replace(b"<item>", item.encode() + b"<item>", 1),
        content_type=feed.content_type,
    )
    clock.now += timedelta(minutes=10)
    with caplog.at_level("INFO", logger="bot.ingest.intake"):
        cycle(config, clock, keys=("tass-com",))

    store = Store.open(tmp_path / "archive.db")
    try:
        [copy] = store.db.query("select duplicate_of from articles where url like '%1451999'")
    finally:
        store.close()
    assert copy["duplicate_of"] is not None  # stored as a reprint of the story
    assert len(telegram.messages) == sent_before
    assert not [c for c in telegram.requests if c.method.startswith("edit")]  # none asked
    [said] = [m for r in caplog.records if "stored as" in (m := r.getMessage())]
    assert "nothing to edit: its post names this source already" in said
    assert "edited to name this source" not in said


def test_a_later_reprint_is_not_posted_where_an_earlier_reprint_was(world, telegram, tmp_path):
    """review14c: the journal channel's filter refused TASS's original but took International
    Affairs' reprint; a second copy of the reprint at a new URL must not reach it again."""
    config = _config_with_a_journal_channel(world, telegram, tmp_path)
    clock = HandClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    cycle(config, clock)
    _publish_reprint(world)
    clock.now += timedelta(minutes=10)
    cycle(config, clock)
    journal_before = len(telegram.messages_for("@journal_only"))
    main_before = len(telegram.messages_for(CHANNEL))

    site, second = world.site("interaffairs-en"), "/article/csto-statement-full-text/"
    site.add(second, site.routes["/article/csto-leaders-adopt-anniversary-statement/"].body)
    listing = site.routes["/"].body.decode()
    site.add(
        "/",
        listing.replace(
            '<section class="news-list">',
            f'<section class="news-list"><a href="{second}">Full text</a>',
        ),
    )
    clock.now += timedelta(minutes=10)
    cycle(config, clock)

    store = Store.open(tmp_path / "archive.db")
    try:
        [copy] = store.db.query(
            "select duplicate_of from articles where url like ?", [f"%{second}"]
        )
    finally:
        store.close()
    assert copy["duplicate_of"] is not None  # stored as a reprint of the story
    assert len(telegram.messages_for("@journal_only")) == journal_before
    assert len(telegram.messages_for(CHANNEL)) == main_before


MIRROR = """
[[sources]]
key = "ia-mirror"
name = "IA Mirror"
kind = "html"
url = "{url}"
link_pattern = '^{pattern}[^/]+/$'
lang = "en"
every = "10m"
backfill = 10
"""


def test_a_third_source_s_copy_edits_the_earlier_reprint_s_post_too(world, telegram, tmp_path):
    """ingest14/review14e: the journal chat has the story from International Affairs' reprint;
    a copy on a third source edits that post, and the original's, to name it, and posts nothing."""
    config = _config_with_a_journal_channel(world, telegram, tmp_path)
    clock = HandClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    cycle(config, clock)
    _publish_reprint(world)
    clock.now += timedelta(minutes=10)
    cycle(config, clock)
    [reprint] = telegram.messages_for("@journal_only")[-1:]
    assert "Also: TASS" in reprint.text and "IA Mirror" not in reprint.text
    sent_before = len(telegram.messages)

    site = world.site("interaffairs-en")  # synthetic: a third source's listing on this server
    site.add("/mirror/", '<html><body><a href="/mirror/copy/">Copy</a></body></html>')
    site.add("/mirror/copy/", REPRINT_PAGE.format(paragraphs=_tass_paragraphs(world)))
    listing = world.url("interaffairs-en", "/mirror/")
    with config.open("a", encoding="utf-8") as out:
        out.write(MIRROR.format(url=listing, pattern=listing.replace(".", r"\.")))
    clock.now += timedelta(minutes=10)
    cycle(config, clock, keys=("ia-mirror",))

    assert len(telegram.messages) == sent_before, "the story is posted nowhere again"
    journal = [e for e in telegram.edits if e.message_id == reprint.message_id]
    assert journal and "IA Mirror" in journal[-1].text and "TASS" in journal[-1].text
    [story] = [m for m in telegram.messages_for(CHANNEL) if "CSTO summit participants" in m.text]
    main = [e for e in telegram.edits if e.message_id == story.message_id and "summit" in e.text]
    assert main and "IA Mirror" in main[-1].text and "International Affairs" in main[-1].text
