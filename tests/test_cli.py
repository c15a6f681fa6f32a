"""The command line as a user runs it: a subprocess against loopback sites and a fake Telegram."""

from __future__ import annotations

import json
import tomllib
from functools import partial
from pathlib import Path

import pytest

from bot.cli.main import all_commands
from tests.fakes.sites import rebase
from tests.fakes.telegram import DEFAULT_TOKEN, RateLimit
from tests.support.cli import presswatch as run_presswatch
from tests.support.world import write_config

pytestmark = pytest.mark.telegram(
    rate_limit=RateLimit(per_chat_per_minute=60, global_per_second=30)
)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
# Every run here has the fake Bot API's token unless a test takes it away (token=None).
presswatch = partial(run_presswatch, token=DEFAULT_TOKEN)
CHANNEL = "@presswatch_test"


def test_once_posts_each_article_once_across_two_runs(world, telegram, tmp_path) -> None:
    config = write_config(tmp_path, world, telegram_url=telegram.base_url, backfill=10)
    first = presswatch("once", "--config", str(config))
    assert first.returncode == 0, first.stderr
    titles = [m.plain.split("\n", 1)[0] for m in telegram.messages_for(CHANNEL)]
    assert sorted(titles) == sorted(
        [
            "Briefing by CSTO Secretary General Stanislav Zas",
            "Greeting from Deputy Chairman of Federation Council K.I. Kosachev on the centenary of International Affairs",
            "The world after the pandemic is still a world of states",
            "CSTO summit participants adopt statement on 30th anniversary of Collective Security Treaty",
            "Putin arrives in Kremlin for CSTO anniversary summit",
            "Weather forecast: warm week ahead in central Russia",
        ]
    )
    second = presswatch("once", "--all", "--config", str(config))  # polled again, due or not
    assert second.returncode == 0, second.stderr
    assert second.stderr.strip().splitlines()[-1].startswith("2 of 2 sources polled fine")
    assert len(telegram.messages_for(CHANNEL)) == 6


def test_posts_are_html_with_title_source_time_summary_and_link(world, telegram, tmp_path) -> None:
    config = write_config(tmp_path, world, telegram_url=telegram.base_url, backfill=10)
    presswatch("once", "--config", str(config))
    [post] = [m for m in telegram.messages_for(CHANNEL) if "Stanislav Zas</b>" in m.text]
    assert post.parse_mode == "HTML"
    assert post.text.startswith(
        "<b>Briefing by CSTO Secretary General Stanislav Zas</b>\n"
        "International Affairs · 08.02.2021 11:12 MSK\n\n"
        "On February 2, 2021, the press center of the TASS news agency hosted"
    )
    assert (
        f'<a href="{world.url("interaffairs-en", "/article/briefing-by-csto-secretary-general-stanislav-zas/")}">'
        in post.text
    )


NEW_ITEM = """<item><title>CSTO Joint Staff chief briefs on exercise plans</title>
<link>https://tass.com/defense/1451999</link><guid>https://tass.com/defense/1451999</guid>
<pubDate>Tue, 17 May 2022 10:15:00 +0300</pubDate></item>"""
NEW_PAGE = """<html><head><meta property="og:title" content="CSTO Joint Staff chief briefs on exercise plans">
<meta property="article:published_time" content="2022-05-17T10:15:00+03:00"></head><body><main><div class="news">
<h1>CSTO Joint Staff chief briefs on exercise plans</h1><div class="text-content"><div class="text-block">
<p>MOSCOW, May 17. /TASS/. Three joint exercises of the collective forces will be held in Kazakhstan this
autumn, the Chief of the CSTO Joint Staff told reporters on Tuesday.</p>
<p>He said the drills would involve reconnaissance units, aviation and logistics support, with observers
invited from partner countries.</p></div></div></div></main></body></html>"""


def test_first_run_records_silently_then_posts_only_what_is_new(world, telegram, tmp_path) -> None:
    config = write_config(tmp_path, world, telegram_url=telegram.base_url)
    assert presswatch("once", "--config", str(config)).returncode == 0
    assert telegram.messages_for(CHANNEL) == []
    site = world.site("tass-com")
    feed = site.routes["/rss/v2.xml"].body.decode()
    site.add("/rss/v2.xml", feed.replace("<item>", rebase(NEW_ITEM, world.origins()) + "<item>", 1))
    site.add("/defense/1451999", NEW_PAGE)
    # --all: the next round comes sooner than the sources' `every`.
    assert presswatch("once", "--all", "--config", str(config)).returncode == 0
    [post] = telegram.messages_for(CHANNEL)
    assert "CSTO Joint Staff chief briefs on exercise plans" in post.text


def test_without_a_token_posts_go_to_the_console(world, tmp_path) -> None:
    config = write_config(tmp_path, world, backfill=1)
    result = presswatch("once", "--config", str(config), token=None)
    assert result.returncode == 0, result.stderr
    assert "(console: no Telegram token)" in result.stdout
    assert "CSTO summit participants adopt statement" in result.stdout


def test_one_broken_source_exits_1_and_the_other_still_posts(world, telegram, tmp_path) -> None:
    world.site("tass-com").add("/rss/v2.xml", "<html>maintenance</html>", content_type="text/html")
    config = write_config(tmp_path, world, telegram_url=telegram.base_url, backfill=10)
    result = presswatch("once", "--config", str(config))
    assert result.returncode == 1
    assert "poll tass-com " in result.stderr and "not an RSS or Atom feed" in result.stderr
    assert len(telegram.messages_for(CHANNEL)) == 3


def test_the_token_never_reaches_the_logs(world, telegram, tmp_path) -> None:
    config = write_config(tmp_path, world, telegram_url=telegram.base_url, backfill=1)
    result = presswatch("once", "--config", str(config), "-vv")
    assert result.returncode == 0
    assert DEFAULT_TOKEN not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[fetch]\ntimeout = -1\n", "fetch.timeout: expected a number from 0.1 to 600"),
        ("[storage]\npath = 3\n", "storage.path: expected a string"),
        (
            '[[sources]]\nkey = "x"\nkind = "feed"\nurl = "ftp://x"\n',
            "sources[0] (x).url: expected an http:// or https:// URL",
        ),
        ("nonsense = [\n", "not valid TOML"),
    ],
)
def test_bad_config_exits_2_naming_the_key(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    result = presswatch("once", "--config", str(path))
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "presswatch.db").exists()


def test_missing_config_exits_2_saying_how_to_name_one(tmp_path) -> None:
    result = presswatch("once", "--config", str(tmp_path / "nope.toml"))
    assert result.returncode == 2
    assert result.stderr == (
        f"presswatch: config error: {tmp_path / 'nope.toml'}: config file not found (name one "
        "with --config PATH or $PRESSWATCH_CONFIG; config.example.toml is one to copy)\n"
    )


@pytest.mark.parametrize("named", [True, False], ids=["with --source", "source found by URL"])
def test_extract_prints_the_seed_briefing(named: bool) -> None:
    # The synthetic page reproduces the seed's: the dateline "11:12 08.02.2021 • Yuri Menshikov ,
    # editor" under the headline, Moscow time, and a Telegram trailer at the end of the body.
    result = presswatch(
        "extract",
        str(FIXTURES / "interaffairs-en" / "article-zas-briefing.html"),
        "--url",
        "https://en.interaffairs.ru/article/briefing-by-csto-secretary-general-stanislav-zas/",
        *(["--source", "interaffairs-en"] if named else []),
        "--config",
        "config.example.toml",
    )
    assert result.returncode == 0, result.stderr
    article = json.loads(result.stdout)
    assert article["source"] == "interaffairs-en"
    assert article["title"] == "Briefing by CSTO Secretary General Stanislav Zas"
    assert article["published"] == "2021-02-08T08:12:00+00:00"
    assert article["published_local"] == "08.02.2021 11:12 MSK"
    assert article["author"] == "Yuri Menshikov"
    assert "read more in our Telegram-channel" not in article["body"]
    assert article["summary"].startswith("On February 2, 2021")
    assert set(article) >= {
        "url",
        "canonical_url",
        "title",
        "published",
        "author",
        "lang",
        "lead",
        "body",
        "summary",
    }


def test_extract_of_a_missing_file_is_one_clear_line() -> None:
    result = presswatch("extract", "no-such-page.html")
    assert (
        result.returncode == 1
        and result.stderr.strip()
        == "presswatch: no-such-page.html: no such file (give a URL or a saved HTML file)"
    )


def test_sources_lists_polls_errors_and_counts(world, telegram, tmp_path) -> None:
    world.site("tass-com").add("/rss/v2.xml", "oops", content_type="text/plain")
    config = write_config(tmp_path, world, telegram_url=telegram.base_url)
    presswatch("once", "--config", str(config))
    result = presswatch("sources", "--config", str(config))
    assert result.returncode == 0
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert lines["interaffairs-en"].split()[-1] == "3"
    assert "not an RSS or Atom feed" in lines["tass-com"]
    assert "[never worked (1 poll so far)]" in lines["tass-com"]


@pytest.mark.parametrize("name", [c.name for c in all_commands()])
def test_every_command_has_help_with_an_example(name: str) -> None:
    result = presswatch(name, "--help")
    assert result.returncode == 0 and "example:" in result.stdout and "--config" in result.stdout


def test_console_script_points_at_the_cli() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["presswatch"] == "bot.cli.main:main"


def test_extract_reads_an_item_of_a_full_text_feed() -> None:
    feed = FIXTURES / "tass-ru" / "yandex.xml"
    first = json.loads(
        presswatch(
            "extract", str(feed), "--source", "tass-ru", "--config", "config.example.toml"
        ).stdout
    )
    items = tomllib.loads((FIXTURES / "tass-ru" / "expected.toml").read_text())["feed"]["links"]
    chosen = json.loads(
        presswatch(
            "extract",
            str(feed),
            "--item",
            items[1],
            "--source",
            "tass-ru",
            "--config",
            "config.example.toml",
        ).stdout
    )
    assert first["canonical_url"] == items[0] and chosen["canonical_url"] == items[1]
    assert chosen["body"] and chosen["published"].endswith("+00:00")
    missing = presswatch(
        "extract",
        str(feed),
        "--item",
        "https://tass.ru/x/1",
        "--source",
        "tass-ru",
        "--config",
        "config.example.toml",
    )
    assert missing.returncode == 1 and "no item" in missing.stderr
