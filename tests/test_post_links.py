"""A reader's link leads to the article without the feed's tracking parameters (utm_*, bxajaxid…)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.delivery.digest import digest_entry
from bot.delivery.render import link_label
from scrapers.models import Article
from scrapers.normalize import canonical_url, url_key, without_trackers
from storage import Delivery
from tests.fakes.telegram import FakeTelegram
from tests.support.posting import CHAT, Harness
from tests.support.relay import START

# As tass.com's RSS links its stories; the identity of the URL already ignores these parameters.
FEED_LINK = "https://tass.com/politics/1451110?utm_source=rss&utm_medium=feed"
CLEAN = "https://tass.com/politics/1451110"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (FEED_LINK, CLEAN),
        ("https://interaffairs.ru/news/show/39594?show_desktop_mode=true", None),
        (
            "https://x.example/n/?id=7&utm_source=rss&lang=ru#top",
            "https://x.example/n/?id=7&lang=ru#top",
        ),
        (
            "https://x.example/n/?q=%D0%BC%D0%B8%D1%80&fbclid=abc",
            "https://x.example/n/?q=%D0%BC%D0%B8%D1%80",
        ),
        ("https://x.example/N/Story?ID=1", "https://x.example/N/Story?ID=1"),  # nothing to take
        # Links seen in posts (ux11): CBC's feed and Metro's internal links.
        ("https://www.cbc.ca/news/canada/story-1.7290000?cmp=rss", None),
        ("https://metro.co.uk/2024/07/17/story-21230000/?ico=more_text_links", None),
        (
            "https://www.bbc.co.uk/news/articles/c1?at_medium=RSS&at_campaign=rss&page=2",
            "https://www.bbc.co.uk/news/articles/c1?page=2",
        ),
        ("https://x.example/n?ns_mchannel=rss&ns_source=PublicRSS20-sa&CMP=share_btn", None),
        ("https://x.example/n?comp=1&icon=2&cmp_x=3", "https://x.example/n?comp=1&icon=2&cmp_x=3"),
    ],
)
def test_without_trackers_keeps_everything_else_as_written(url: str, shown: str | None) -> None:
    assert without_trackers(url) == (shown or url.partition("?")[0])


def _article(url: str = FEED_LINK) -> Article:
    return Article(
        url=url,
        canonical_url=CLEAN,
        title="Putin arrives in Kremlin for CSTO anniversary summit",
        published=START,
        summary="Russian President Vladimir Putin has arrived in the Kremlin.",
    )


def _sent(h: Harness, fake: FakeTelegram):
    h.store.add_article(
        _article(), source_key="tass-com", now=START, deliveries=[Delivery("main", CHAT)]
    )
    h.run()
    (sent,) = fake.messages_for(CHAT)
    return sent


def test_a_post_links_the_article_without_trackers(tmp_path, telegram) -> None:
    sent = _sent(Harness(tmp_path, telegram), telegram)
    assert f'<a href="{CLEAN}">tass.com/politics/1451110</a>' in sent.text
    assert "utm_" not in sent.text
    assert sent.link_preview_options["url"] == CLEAN


def test_a_template_s_url_has_no_trackers(tmp_path, telegram) -> None:
    sent = _sent(
        Harness(tmp_path, telegram, template='<a href="{{ url }}">{{ title }}</a>'), telegram
    )
    assert (
        sent.text == f'<a href="{CLEAN}">Putin arrives in Kremlin for CSTO anniversary summit</a>'
    )


def test_a_digest_entry_links_its_title_to_the_address_without_trackers() -> None:
    entry = digest_entry(_article(), source_name="TASS", zone="Europe/Moscow")
    title = "Putin arrives in Kremlin for CSTO anniversary summit"
    assert entry.html.startswith(f'• <a href="{CLEAN}">{title}</a> · ')
    assert "utm_" not in entry.html and entry.group == "TASS"


def test_an_untitled_digest_entry_shows_the_same_short_address_as_a_post() -> None:
    url = "https://www.mid.ru/ru/foreign_policy/news/1979523/?lang=ru&utm_source=rss"
    untitled = replace(_article(url=url), title="")
    entry = digest_entry(untitled, source_name="MID", zone="Europe/Moscow")
    assert entry.plain.startswith("• mid.ru/ru/foreign_policy/news/1979523 · ")
    assert f">{link_label(url)}</a>" in entry.html


@pytest.mark.parametrize(
    ("url", "label"),
    [
        # A Cyrillic address as a feed writes it: punycode host, %-escaped path.
        (
            "https://xn--d1abbgf6aiiy.xn--p1ai/%D1%81%D0%BE%D0%B1%D1%8B%D1%82%D0%B8%D1%8F/",
            "президент.рф/события",
        ),
        (
            "https://www.mid.ru/ru/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/1",
            "mid.ru/ru/новости/1",
        ),
        # A decoded right-to-left override or newline would garble the label: dropped.
        ("https://x.example/a%E2%80%AEb%0Ac", "x.example/abc"),
        ("https://x.example/%FF%FE", "x.example/%FF%FE"),  # not UTF-8: kept as written
    ],
)
def test_the_link_label_shows_an_address_in_its_own_letters(url: str, label: str) -> None:
    assert link_label(url) == label
    untitled = replace(_article(url), title="")
    assert f">{label}</a>" in digest_entry(untitled, source_name="МИД", zone="UTC").html


@pytest.mark.parametrize("html", [True, False])
def test_an_untitled_article_shows_its_address_once_and_stays_linked(
    tmp_path, telegram, html
) -> None:
    h = Harness(tmp_path, telegram)
    if not html:
        telegram.reject_html()  # the plain fallback
    untitled = replace(_article(), title="")
    h.store.add_article(
        untitled, source_key="tass-com", now=START, deliveries=[Delivery("main", CHAT)]
    )
    h.run()
    (sent,) = telegram.messages_for(CHAT)
    shown = "tass.com/politics/1451110"  # the label, or the address itself in plain text
    assert sent.plain.count(shown) == 1, sent.plain
    assert sent.plain.splitlines()[0].endswith(shown)  # it heads the post, as a title would
    if html:
        assert f'<b><a href="{CLEAN}">{shown}</a></b>' in sent.text


def test_an_untitled_article_s_correction_reply_shows_its_address_once(tmp_path, telegram) -> None:
    h = Harness(tmp_path, telegram)
    untitled = replace(_article(), title="")
    first = h.store.add_article(
        untitled, source_key="tass-com", now=START, deliveries=[Delivery("main", CHAT)]
    )
    h.run(advance=10)
    h.store.posts.enqueue_update(first, kind="reply", now=h.time.now())
    h.run()
    _, reply = telegram.messages_for(CHAT)
    assert reply.plain == f"Updated: {CLEAN}"
    assert f'<a href="{CLEAN}">' in reply.text


@pytest.mark.parametrize(
    ("url", "label"),
    [
        # A script whose query names the article (1C-Bitrix, old PHP sites): the query is shown.
        (
            "https://odkb.example/news/index.php?ELEMENT_ID=123",
            "odkb.example/news/index.php?ELEMENT_ID=123",
        ),
        ("https://x.example/?p=5&utm_source=rss", "x.example/?p=5"),  # trackers never shown
        ("https://x.example/news/?q=%D0%BC%D0%B8%D1%80", "x.example/news?q=мир"),
        # A path ending in a number names the article already: its query would be noise.
        (
            "https://www.mid.ru/ru/foreign_policy/news/1979523/?lang=ru",
            "mid.ru/ru/foreign_policy/news/1979523",
        ),
        # A long path gives way to the query, which tells the articles apart.
        (
            "https://a.example/a/long/path/that/goes/on/and/on/and/on/and/on/show.php?id=12345",
            "a.example/a/long/path/that/goes/on/and/on/and/on/a…?id=12345",
        ),
    ],
)
def test_a_label_shows_the_query_where_it_names_the_article(url: str, label: str) -> None:
    assert link_label(url) == label


def test_posts_of_addresses_differing_only_in_the_query_get_different_labels(tmp_path, telegram):
    h = Harness(tmp_path, telegram)
    for n in (123, 124):
        url = f"https://odkb.example/news/index.php?ELEMENT_ID={n}"
        item = replace(_article(url), canonical_url=url, title=f"Item {n}")
        h.store.add_article(
            item, source_key="tass-com", now=START, deliveries=[Delivery("main", CHAT)]
        )
    h.run()
    labels = {m.plain.split("\n\n")[-1] for m in telegram.messages_for(CHAT)}
    assert labels == {f"odkb.example/news/index.php?ELEMENT_ID={n}" for n in (123, 124)}


def test_an_archived_url_with_a_shown_only_tracker_keeps_its_identity(store) -> None:
    # The archive keys each article by url_key when stored: "?cmp=rss" stays in the identity,
    # so an article archived before the link dropped it is still known when its feed lists it.
    url = "https://www.cbc.ca/news/canada/story-1.7290000?cmp=rss"
    article = replace(_article(url=url), canonical_url=canonical_url(url))
    store.add_article(article, source_key="tass-com", now=START)
    assert url_key(url) == "cbc.ca/news/canada/story-1.7290000?cmp=rss"
    assert store.known_url_keys([url]) == {url_key(url)}
    assert without_trackers(url) == "https://www.cbc.ca/news/canada/story-1.7290000"
