"""A bad item never stops its poll, its source's baseline, or the posts after it (issue 16).

Each test polls a loopback ministry site through the parsing sandbox into a real archive file.
"""

from __future__ import annotations

import pytest

from tests.fakes.hostile import PAGE, SLOW_PAGE, issue_feeds, issue_pages
from tests.fakes.sites import FakeSites
from tests.support.ministry import Ministry, page

SLOW = SLOW_PAGE  # close to a minute of parsing: past any short deadline


@pytest.fixture
def ministry(tmp_path, fork_server):
    with FakeSites() as sites:
        yield Ministry(sites, tmp_path, fork_server)


def test_an_unreadable_item_on_a_first_poll_still_records_the_baseline(ministry) -> None:
    # Issue 16, case 2: the baseline was never recorded, and with backfill = 0 every later
    # article was stored silently as if each poll were the first.
    ministry.feed(2, 1)
    ministry.sites.add("/news/1", SLOW)
    ministry.sites.add("/news/2", page(2))
    run = ministry.poll(deadline=1.0)
    assert (run.status, run.new_articles) == ("partial", 2)
    assert f"{ministry.url(1)}: too slow to parse (over 1s" in run.error
    [state] = ministry.rows("select baseline_at from sources")
    assert state["baseline_at"] is not None and ministry.posted() == []
    # The unreadable item is stored from the feed, silently; the next new release is posted.
    [stub] = ministry.rows(f"select title, body from articles where url = '{ministry.url(1)}'")
    assert stub == {"title": "Release 1", "body": ""}
    ministry.feed(3, 2, 1)
    ministry.sites.add("/news/3", page(3))
    assert (ministry.poll(deadline=1.0).new_articles, ministry.posted()) == (1, [ministry.url(3)])


def test_a_bug_hitting_one_item_on_a_first_poll_still_records_the_baseline(
    ministry, monkeypatch
) -> None:
    from bot.ingest import intake

    real = intake.Intake.store

    def explode(self, source_key, prepared, **kwargs):
        if prepared.article.url.endswith("/news/1"):
            raise KeyError("boom")
        return real(self, source_key, prepared, **kwargs)

    monkeypatch.setattr(intake.Intake, "store", explode)
    ministry.feed(2, 1)
    for n in (1, 2, 3):
        ministry.sites.add(f"/news/{n}", page(n))
    run = ministry.poll()
    assert (run.status, run.new_articles) == ("partial", 1) and "unexpected KeyError" in run.error
    ministry.feed(3, 2, 1)
    run = ministry.poll()
    assert (run.status, run.new_articles) == ("partial", 1)
    assert ministry.posted() == [ministry.url(3)]


@pytest.mark.parametrize("name", sorted(issue_feeds))
def test_a_feed_with_a_bad_item_of_the_issue_is_polled_for_its_good_ones(ministry, name) -> None:
    feed = issue_feeds[name].replace(b"https://ministry.example", ministry.sites.base_url.encode())
    ministry.sites.add("/rss", feed)
    for n in (1, 2):
        ministry.sites.add(f"/news/{n}", PAGE)
    run = ministry.poll()
    assert run.status in ("ok", "partial") and run.new_articles >= 1, run.error
    assert ministry.rows(f"select id from articles where url = '{ministry.url(2)}'")
    if run.status == "partial":
        assert "skipped: the link is not a valid URL" in run.error


def test_a_listing_with_unrelated_bad_links_is_polled_as_usual(ministry) -> None:
    ministry.source |= {"kind": "html", "url": f"{ministry.sites.base_url}/news/"}
    ministry.sites.add(
        "/news/",
        '<a href="http://[::1">home</a><a href="https://cdn.example:99999/s.css">css</a>'
        '<a href="http://[zz/">x</a><a href="/news/1">Statement by the Ministry</a>',
    )
    ministry.sites.add("/news/1", PAGE)
    run = ministry.poll()
    assert (run.status, run.links_found, run.new_articles) == ("ok", 1, 1)


def test_every_hostile_page_of_the_issue_is_stored_and_none_fails_the_poll(ministry) -> None:
    names = sorted(issue_pages)
    ministry.feed(*range(len(names), 0, -1))
    for n, name in enumerate(names, start=1):
        ministry.sites.add(f"/news/{n}", issue_pages[name])
    run = ministry.poll(deadline=2.0)
    assert run.new_articles == len(names), run.error
    # Only the 5 MB page may be past a 2 s deadline; every other page is read in full.
    assert run.status == "ok" or "too slow to parse" in run.error
    titles = {row["title"] for row in ministry.rows("select title from articles")}
    assert titles <= {
        "Statement by the Ministry",
        f"Release {names.index('190k paragraphs in 5 MB') + 1}",
    }


# A link pattern the config accepts (no nested quantifier, fast on its repetitive probes) that is
# cubic on a crafted link: 171 s in `re` on 3,000 slashes.
SLOW_LINK_PATTERN = r"^https?://[^/]+/.*/.*/.*/\d+$"


def test_a_link_pattern_stuck_on_a_crafted_link_fails_the_poll_naming_the_key(ministry) -> None:
    ministry.source["link_pattern"] = SLOW_LINK_PATTERN
    # 24,000 slashes need seconds of CPU in the `regex` module, past userregex.WALL_CAP.
    trap = f"{ministry.sites.base_url}/{'/' * 24_000}x".encode()
    ministry.feed(2, 1, bad=b"<item><title>Trap</title><link>" + trap + b"</link></item>")
    run = ministry.poll(deadline=5.0)  # in `re`: the deadline, "too slow to parse"
    assert run.status == "error" and run.error_kind == "PatternTooSlow", run.error
    assert f"link_pattern '{SLOW_LINK_PATTERN}' took over" in run.error
