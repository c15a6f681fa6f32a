"""Articles are prepared (enriched, shingles hashed) in the parsing worker that extracted them.

The result must be the poller's own: the same summary, topics, entity tags, reasons and
near-duplicate signature from a worker as from the poller, on synthetic pages and feeds.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import config_from_dict
from bot.ingest.enrich import Enricher
from bot.ingest.prepare import Prepared
from scrapers import Article, Link, ParserFailed, Source
from scrapers.jobs import feed_articles, page_article
from scrapers.sandbox import InProcess, Sandbox
from storage import Store
from tests.support.ministry import Ministry, page
from tests.support.parsing import FailingOn, Tagged, Unbuildable, finished, run_in_sandbox

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SOURCE = Source(key="ministry", url="https://ministry.example/rss", fetch_pages=False)
# Synthetic releases, one per language, written to earn topics and entity tags.
EN = (
    "Joint military exercise of the CSTO",
    "The defence ministers of Russia, Belarus and Kazakhstan agreed on a joint military exercise "
    "of the collective rapid reaction forces. The troops will train to counter terrorism and "
    "drug trafficking on the Tajik-Afghan border, the CSTO Secretary General said in Minsk.",
)
RU = (
    "Совместные учения ОДКБ",
    "Министры обороны России, Беларуси и Казахстана договорились о совместных военных учениях "
    "коллективных сил быстрого реагирования. Войска отработают противодействие терроризму и "
    "наркотрафику на таджикско-афганской границе, сообщил генеральный секретарь ОДКБ в Минске.",
)


def synthetic_page(title: str, body: str, lang: str) -> str:
    """Return a synthetic release page."""
    story = _paragraphs(body)
    return f'<html lang="{lang}"><body><article><h1>{title}</h1>{story}</article></body></html>'


def _paragraphs(body: str) -> str:
    """Return a release's text as three paragraphs."""
    return "".join(f"<p>{body} ({k})</p>" for k in range(3))


def synthetic_feed(*items: tuple[str, str, str]) -> bytes:
    """Return a synthetic RSS feed whose items carry their full text."""
    entries = "".join(
        f"<item><title>{title}</title><link>https://ministry.example/news/{n}</link>"
        f"<content:encoded><![CDATA[{_paragraphs(body)}]]></content:encoded>"
        "</item>"
        for n, (title, body, lang) in enumerate(items, 1)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>M</title>'
        f"{entries}</channel></rss>"
    ).encode()


@pytest.fixture(scope="module")
def enricher():
    store = Store.in_memory()
    yield Enricher(config_from_dict({}, path=Path("p.toml")).enrich, store)
    store.close()


def link(n: int) -> Link:
    """Return the link of synthetic release n."""
    url = f"https://ministry.example/news/{n}"
    return Link(url=url, canonical_url=url)


def test_a_worker_prepares_a_page_as_the_poller_does(fork_server, enricher) -> None:
    pages = [
        (link(n), synthetic_page(*text, lang))
        for n, (text, lang) in enumerate(((EN, "en"), (RU, "ru")), 1)
    ]

    async def work(sandbox):
        return [
            (
                await sandbox.run_finished(
                    lk.url, page_article, lk, source=SOURCE, now=NOW, html=html, url=lk.url
                )
            ).value
            for lk, html in pages
        ]

    from_workers = run_in_sandbox(fork_server, work, finish=enricher.preparer)
    for (lk, html), prepared in zip(pages, from_workers):
        article = page_article(lk, source=SOURCE, now=NOW, html=html, url=lk.url).value
        here = enricher.prepare(article)  # what the poller computes from the bare article
        assert isinstance(prepared, Prepared) and prepared == here
        assert prepared.article.topics and prepared.article.entities and prepared.article.summary
        got = enricher.signature(prepared).hashvalues
        assert (got == enricher.signature(article).hashvalues).all()


def test_feed_items_read_with_their_feed_come_back_prepared(fork_server, enricher) -> None:
    feed = synthetic_feed((*EN, "en"), (*RU, "ru"))
    kwargs = {"content": feed, "skip": frozenset(), "now": NOW}

    async def work(sandbox):
        return await sandbox.run_finished("feed", feed_articles, SOURCE, **kwargs)

    listing, outcomes = run_in_sandbox(fork_server, work, finish=enricher.preparer)
    here = asyncio.run(
        InProcess(enricher.preparer).run_finished("feed", feed_articles, SOURCE, **kwargs)
    )
    assert [url for url, _ in outcomes] == [lk.url for lk in listing.links] and len(outcomes) == 2
    assert outcomes == here[1]
    assert all(kind == "ok" and isinstance(value, Prepared) for _, (kind, value) in outcomes)


def test_a_failing_finish_fails_only_its_item(fork_server, enricher) -> None:
    feed = synthetic_feed((*EN, "en"), (*RU, "ru"))
    finish = FailingOn(enricher.preparer, bad="/news/1")

    async def work(sandbox):
        return await sandbox.run_finished(
            "feed", feed_articles, SOURCE, content=feed, skip=frozenset(), now=NOW
        )

    _, outcomes = run_in_sandbox(fork_server, work, finish=finish)
    (first, failed), (second, good) = outcomes
    assert first.endswith("/news/1") and failed[0] == "bug" and "cannot finish" in failed[1]
    assert second.endswith("/news/2") and good[0] == "ok" and good[1].article.topics


def test_a_poll_whose_finish_fails_on_one_item_stores_the_others(
    tmp_path, fork_server, monkeypatch
) -> None:
    real = Sandbox.finish_with
    monkeypatch.setattr(
        Sandbox, "finish_with", lambda self, finish: real(self, FailingOn(finish, bad="/news/1"))
    )
    from tests.fakes.sites import FakeSites

    with FakeSites() as sites:
        ministry = Ministry(sites, tmp_path, fork_server)
        ministry.feed(2, 1)
        for n in (1, 2):
            sites.add(f"/news/{n}", page(n))
        run = ministry.poll()
        assert (run.status, run.new_articles) == ("partial", 2)
        assert "cannot finish" in run.error and ministry.url(1) in run.error
        rows = ministry.rows("select url, body, summary from articles order by url")
    assert [(r["url"], bool(r["body"]), bool(r["summary"])) for r in rows] == [
        (ministry.url(1), False, False),  # a stub from the feed item, as for any failed read
        (ministry.url(2), True, True),
    ]


def test_a_new_finish_reaches_the_workers(fork_server) -> None:
    bare = Article(url="https://ministry.example/news/1", canonical_url="", title="Release 1")

    async def title(sandbox):
        return await sandbox.run_finished("t", finished, bare)

    async def work(sandbox):
        first = await title(sandbox)
        sandbox.finish_with(Tagged("b"))
        return first, await title(sandbox), await title(sandbox)

    assert run_in_sandbox(fork_server, work, finish=Tagged("a")) == (
        ("a", "Release 1"),
        ("b", "Release 1"),
        ("b", "Release 1"),
    )


def test_a_finish_that_cannot_be_built_leaves_the_articles_to_the_poller(fork_server) -> None:
    bare = Article(url="https://ministry.example/news/1", canonical_url="", title="Release 1")

    async def work(sandbox):
        return await sandbox.run_finished("t", finished, bare)

    # The fork server reports the failure on its stderr and forks workers without a Finish.
    assert run_in_sandbox(fork_server, work, finish=Unbuildable()) == bare


def test_without_a_finish_a_job_returns_the_bare_article(fork_server) -> None:
    bare = Article(url="https://ministry.example/news/1", canonical_url="", title="Release 1")

    async def work(sandbox):
        return await sandbox.run_finished("t", finished, bare)

    assert run_in_sandbox(fork_server, work) == bare
    with pytest.raises(ParserFailed):
        asyncio.run(InProcess(FailingOn(Tagged("x"), bad="news")).run_finished("t", finished, bare))
