"""OPML in and out, and how `add` and `import-opml` name a source and spot one already configured.

tests/fixtures/opml/miniflux-export-synthetic.opml is written by hand in the shape Miniflux's
export has (categories as outer outlines, `title`/`text`/`type`/`xmlUrl`/`htmlUrl`, the
`miniflux:` namespace), not an export of a real account. tests/data/opml/inoreader-export.opml is
a real export from Inoreader, published by its owner (where from: tests/data/opml/README.md).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.cli.opml import read_opml
from bot.cli.sources import configured_notes
from bot.ingest.proposal import title_key
from scrapers.models import Source
from tests.support.cli import presswatch

ROOT = Path(__file__).resolve().parent.parent
MINIFLUX = ROOT / "tests" / "fixtures" / "opml" / "miniflux-export-synthetic.opml"
CONFIG = """
[[sources]]
key = "tass-com"
name = "TASS"
kind = "feed"
url = "https://tass.com/rss/v2.xml"

[[sources]]
key = "belta-en"
url = "https://eng.belta.by/"
link_pattern = "/news/"
"""


@pytest.mark.parametrize(
    ("title", "key"),
    [
        ("TASS", "tass"),
        ("International Affairs", "international-affairs"),
        ("Министерство иностранных дел Российской Федерации", "ministerstvo-inostrannykh-del"),
        ("БелТА — Новости", "belta-novosti"),
        ("", "un-org"),  # no title: from the host
    ],
)
def test_a_key_comes_from_the_title(title: str, key: str) -> None:
    assert title_key(title, "https://www.un.org/press/en/rss.xml") == key


def test_a_title_key_avoids_keys_in_use() -> None:
    assert title_key("TASS", "https://tass.com/", taken=("tass", "tass-2")) == "tass-3"


def test_the_same_feed_or_the_same_site_is_said() -> None:
    tass = Source(key="tass-com", url="https://tass.com/rss/v2.xml", kind="feed")
    assert configured_notes((tass,), "https://tass.com/rss/v2.xml?utm_source=x") == [
        "Already configured as source tass-com (https://tass.com/rss/v2.xml)."
    ]
    assert configured_notes((tass,), "https://www.tass.com/politics") == [
        "The site tass.com is already configured as source tass-com (https://tass.com/rss/v2.xml)."
    ]
    assert configured_notes((tass,), "https://tass.ru/rss") == []


def test_miniflux_outlines_are_read_through_their_categories() -> None:
    outlines = read_opml(MINIFLUX.read_bytes())
    assert [(o.category, o.title) for o in outlines][:3] == [
        ("All", "TASS"),
        ("All", "BelTA - News"),
        ("Diplomacy", "Министерство иностранных дел Российской Федерации"),
    ]
    assert outlines[3].title == "Council of the EU & European Council: press releases"
    assert outlines[4].title == 'OSCE "Latest news"' and len(outlines) == 8


@pytest.mark.parametrize(
    "content",
    [
        b"<html><body>not opml</body></html>",
        b"<opml version='2.0'><body><outline",
        b'<!DOCTYPE x [<!ENTITY a "aaaa">]><opml><body><outline xmlUrl="&a;"/></body></opml>',
    ],
)
def test_what_is_not_opml_is_refused_or_read_as_data(content: bytes) -> None:
    try:
        outlines = read_opml(content)
    except Exception as exc:  # noqa: BLE001 - the command's error is what a user sees
        assert type(exc).__name__ == "CommandError"
    else:
        assert all("aaaa" not in o.url for o in outlines)  # entities are never expanded


def test_import_opml_prints_new_feeds_as_sources_and_names_the_known(tmp_path) -> None:
    config = tmp_path / "presswatch.toml"
    config.write_text(CONFIG, encoding="utf-8")
    result = presswatch("import-opml", str(MINIFLUX), "--config", str(config))
    assert result.returncode == 0, result.stderr
    new = tomllib.loads(result.stdout)["sources"]  # the output appends to a config as is
    assert [(s["key"], s["name"], s["kind"]) for s in new] == [
        ("belta-news", "BelTA - News", "feed"),
        (
            "ministerstvo-inostrannykh-del",
            "Министерство иностранных дел Российской Федерации",
            "feed",
        ),
        (
            "council-of-the-eu-european",
            "Council of the EU & European Council: press releases",
            "feed",
        ),
        ("osce-latest-news", 'OSCE "Latest news"', "feed"),
        ("un-org", "un-org", "feed"),
    ]
    out = result.stdout
    assert "# https://tass.com/rss/v2.xml: Already configured as source tass-com" in out
    assert "?utm_source=miniflux: Already configured as source tass-com" in out
    assert "# The site eng.belta.by is already configured as source belta-en" in out
    assert "# Skipped gopher://example.org/news: not an http(s) feed." in out
    assert result.stderr.startswith("5 new feed sources from 8 feeds")
    appended = tmp_path / "appended.toml"
    appended.write_text(CONFIG + "\n" + out, encoding="utf-8")
    assert presswatch("sources", "--config", str(appended)).returncode == 1  # loads; no archive


def test_export_opml_round_trips_through_import(tmp_path) -> None:
    example = ROOT / "config.example.toml"
    exported = tmp_path / "presswatch.opml"
    result = presswatch("export-opml", "--output", str(exported), "--config", str(example))
    assert result.returncode == 0 and "3 html sources left out" in result.stderr
    outlines = read_opml(exported.read_bytes())
    feeds = [s for s in tomllib.loads(example.read_text())["sources"] if s.get("kind") == "feed"]
    assert [o.url for o in outlines] == [s["url"] for s in feeds]
    assert outlines[0].title == "TASS" and exported.read_text().startswith('<?xml version="1.0"')
    again = presswatch("import-opml", str(exported), "--config", str(example))
    assert again.returncode == 0 and "[[sources]]" not in again.stdout
    assert again.stderr.startswith(f"0 new feed sources from {len(feeds)} feeds")


INOREADER = ROOT / "tests" / "data" / "opml" / "inoreader-export.opml"  # a real export (README)


def test_a_real_inoreader_export_is_read_through_its_categories() -> None:
    outlines = read_opml(INOREADER.read_bytes())
    assert len(outlines) == 113
    assert [o.category for o in outlines].count("Personal Blogs") == 57
    assert (outlines[0].category, outlines[0].title, outlines[0].url) == (
        "Android",
        "Styling Android",
        "https://blog.stylingandroid.com/feed/",
    )
    titles = {o.title for o in outlines}
    # A line break (&#10;) and leading spaces in real titles become one clean line.
    assert "Artem Zinnatullin - Android Hipster" in titles
    assert "Bartosz Milewski's Programming Cafe" in titles
    assert "Android & Tech" in titles and "Tonsky Стой под стрелой" in titles


def test_import_opml_on_a_real_inoreader_export(tmp_path) -> None:
    config = tmp_path / "presswatch.toml"
    config.write_text(
        '[[sources]]\nkey = "jetbrains"\nkind = "feed"\nurl = "https://blog.jetbrains.com/feed"\n',
        encoding="utf-8",
    )
    result = presswatch("import-opml", str(INOREADER), "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("111 new feed sources from 113 feeds")
    new = tomllib.loads(result.stdout)["sources"]
    assert len(new) == 111 and len({s["key"] for s in new}) == 111
    by_url = {s["url"]: s for s in new}
    reddit = by_url["https://www.reddit.com/r/android/top.rss?t=week&limit=5"]  # &amp; read
    assert (reddit["key"], reddit["name"]) == ("reddit-android", "Reddit Android")
    assert by_url["http://artemzin.com/blog/rss/"]["name"] == "Artem Zinnatullin - Android Hipster"
    out = result.stdout
    assert "# https://blog.jetbrains.com/feed: Already configured as source jetbrains" in out
    assert "# https://www.alecstrong.com/posts/index.xml is in the file twice." in out
    appended = tmp_path / "appended.toml"
    appended.write_text(config.read_text() + "\n" + out, encoding="utf-8")
    assert presswatch("sources", "--config", str(appended)).returncode == 1  # loads; no archive


def test_import_opml_of_a_broken_file_names_the_file(tmp_path) -> None:
    config = tmp_path / "presswatch.toml"
    config.write_text(CONFIG, encoding="utf-8")
    broken = tmp_path / "feeds.opml"
    broken.write_text("<opml><body><outline", encoding="utf-8")
    result = presswatch("import-opml", str(broken), "--config", str(config))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith(f"presswatch: {broken}: not an OPML file: ")
    assert len(result.stderr.splitlines()) == 1
