"""A feed none of whose items matches link_pattern: the error counts the items and names two of
their links, so the operator can correct the pattern (check-source and a poll's record alike)."""

from __future__ import annotations

import re
import tomllib

import pytest

from scrapers import NoLinksFound, Source, links_from_feed
from scrapers.discover import read_listing
from tests.support.cli import presswatch
from tests.support.world import World, write_config

TASS = "tass-com"
RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    + "".join(
        f"<item><title>News {n}</title><link>https://tass.example/politics/{n}</link></item>"
        for n in (3, 2, 1)
    )
    + "</channel></rss>"
).encode()


@pytest.fixture
def world():
    """The loopback copy of the TASS site alone."""
    with World((TASS,)) as copy:
        yield copy


def test_check_source_shows_the_feed_s_item_count_and_two_of_its_links(world, tmp_path) -> None:
    config = write_config(tmp_path, world)
    before, block = config.read_text(encoding="utf-8").split(f'key = "{TASS}"\n', 1)
    # The pattern an operator might write from the site's section pages: the feed's links differ.
    wrong = r"^https?://[^/]+/news/\d+$"
    block = re.sub(
        r"(?m)^link_pattern = .*$", lambda _: f"link_pattern = '{wrong}'", block, count=1
    )
    config.write_text(f'{before}key = "{TASS}"\n{block}', encoding="utf-8")
    result = presswatch("check-source", TASS, "--config", str(config))
    assert result.returncode == 1
    base = world.url(TASS, "")
    [line] = [line for line in result.stdout.splitlines() if line.startswith("FAILED: ")]
    assert line.startswith(
        f"FAILED: {base}/rss/v2.xml: the feed has no items matching link_pattern '{wrong}' "
        f"(4 items with links such as {base}/politics/1451189 and {base}/politics/1451110?"
    )


def test_the_error_names_the_first_two_links_in_feed_order() -> None:
    source = Source(
        key="t", url="https://tass.example/rss", kind="feed", link_pattern=r"/news/\d+$"
    )
    with pytest.raises(NoLinksFound) as caught:
        links_from_feed(RSS, source=source)
    assert str(caught.value) == (
        "https://tass.example/rss: the feed has no items matching link_pattern '/news/\\d+$' "
        "(3 items with links such as https://tass.example/politics/3 and "
        "https://tass.example/politics/2)"
    )


def test_a_feed_without_items_still_says_only_that() -> None:
    empty = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'
    source = Source(key="t", url="https://tass.example/rss", kind="feed", link_pattern=r"/news/")
    with pytest.raises(NoLinksFound) as caught:
        links_from_feed(empty, source=source)
    assert str(caught.value) == (
        "https://tass.example/rss: the feed has no items matching link_pattern '/news/'"
    )


@pytest.mark.parametrize("pattern", [r"^https://ministry\.example/press/\d+$", r"/it's/\d+$"])
def test_the_pattern_in_the_error_pastes_back_into_a_config_as_the_same_pattern(pattern) -> None:
    source = Source(key="m", url="https://ministry.example/press/", link_pattern=pattern)
    with pytest.raises(NoLinksFound) as caught:
        read_listing('<a href="/about/us">About</a>', base_url=source.url, source=source)
    shown = re.search(r"link_pattern ('''.*?'''|'[^']*') \(", str(caught.value)).group(1)
    assert tomllib.loads(f"link_pattern = {shown}")["link_pattern"] == pattern
