"""A listing's links kept in the archive with the validators of their reading (m028/p025,
storage/listed_links.py), and which of them a 304 takes (bot/ingest/listed.py). Synthetic links
and pages; both archives."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from bot.ingest.listed import Listed, keep_listing, listed_before
from scrapers import Link, Page, Source
from storage import RunRecord, SourceState, Store, listed_links
from storage.listed_links import ListedLinks
from storage.rename import rename_source

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SOURCE = Source(key="ministry", url="https://x.example/press/")


def _links(count: int = 3) -> tuple[Link, ...]:
    """Return synthetic listing links: their titles and the site's picture, one of them in full."""
    links = [
        Link(
            url=f"https://x.example/press/{n}",
            canonical_url=f"https://x.example/press/{n}",
            title=f"Release {n}",
            site_image="https://x.example/logo.png",
        )
        for n in range(count)
    ]
    links[0] = Link(
        url="https://x.example/press/0?from=list",
        canonical_url="https://x.example/press/0",
        title="Release 0",
        published=AT,
        summary="<p>Talks went on.</p>",
        author="Press office",
        image="https://x.example/0.jpg",
        site_image="https://x.example/other.png",
    )
    return tuple(links)


def _kept(store: Store, key: str = "ministry") -> ListedLinks | None:
    """Return the listing kept, its links in page order (the archive keeps no order)."""
    kept = store.sources.listed_links(key)
    if kept is None:
        return None
    order = {f"https://x.example/press/{n}": n for n in range(5000)}
    order["https://x.example/press/0?from=list"] = 0
    links = tuple(sorted(kept.links, key=lambda link: order.get(link.url, 5000)))
    return ListedLinks(kept.etag, kept.last_modified, links)


def test_links_read_back_as_they_were_kept(store: Store) -> None:
    listed = ListedLinks('"v1"', "Mon, 07 Dec 2026 09:00:00 GMT", _links())
    store.sources.keep_listed_links("ministry", listed)
    assert _kept(store) == listed
    assert _kept(store, "other") is None


def test_only_the_links_that_changed_are_written(store: Store, monkeypatch) -> None:
    """The same links again (under new validators too) write no link's row; a listing with one
    new link and one gone writes that one's row and drops the other's."""
    written: list[tuple[str, list]] = []
    many = listed_links._many
    monkeypatch.setattr(
        listed_links,
        "_many",
        lambda db, sql, rows: written.append((sql.split()[0], rows)) or many(db, sql, rows),
    )
    store.sources.keep_listed_links("ministry", ListedLinks('"v1"', None, _links(5)))
    assert [(verb, len(rows)) for verb, rows in written] == [("delete", 0), ("insert", 5)]
    written.clear()
    store.sources.keep_listed_links("ministry", ListedLinks('"v1"', None, _links(5)))
    store.sources.keep_listed_links("ministry", ListedLinks('"v2"', None, _links(5)))
    assert written == [] and store.sources.listed_links("ministry").etag == '"v2"'
    store.sources.keep_listed_links("ministry", ListedLinks('"v3"', None, _links(6)[1:]))
    assert [(verb, [row[1] for row in rows]) for verb, rows in written] == [
        ("delete", ["https://x.example/press/0?from=list"]),
        ("insert", ["https://x.example/press/5"]),
    ]
    assert _kept(store) == ListedLinks('"v3"', None, _links(6)[1:])


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[]",
        '{"title": 1}',
        '{"published": "2026-12-07T09:00:00"}',
        '{"published": "at nine"}',
    ],
)
def test_a_link_the_archive_cannot_read_is_left_out(store: Store, text: str) -> None:
    """Synthetic: a hand edit's or a rollback's row; the others are read, that one not re-read."""
    store.sources.keep_listed_links("ministry", ListedLinks('"v1"', None, _links()))
    url = "https://x.example/press/1"
    store.db.execute("update listing_links set link = ? where url = ?", [text, url])
    assert _kept(store).links == _links()[::2]


def _ctx(store: Store) -> SimpleNamespace:
    """A poll context as far as the listings go: this process's memory and the archive."""
    return SimpleNamespace(listings={}, store=store)


def _page(etag: str | None, status: int = 200) -> Page:
    return Page(url=SOURCE.url, status=status, content=b"", text="", etag=etag)


def test_a_304_takes_the_links_of_the_validators_it_answered(store: Store) -> None:
    """This process read "v2" (its write failed elsewhere: memory only); the archive holds "v1".
    A 304 to "v1" takes the archive's; to "v3", which neither holds, none."""
    old, new = _links(2), _links(3)
    keep_listing(SOURCE, old, _ctx(store), page=_page('"v1"'))
    ctx = _ctx(store)
    ctx.listings["ministry"] = Listed(ListedLinks('"v2"', None, new), kept=False)
    assert (
        listed_before(
            SOURCE, ctx, state=SourceState("ministry", etag='"v1"'), page=_page(None, 304)
        )
        == old
    )
    assert (
        listed_before(
            SOURCE, _ctx(store), state=SourceState("ministry", etag='"v3"'), page=_page(None, 304)
        )
        == ()
    )


def test_links_of_other_validators_are_not_read_at_all(store: Store, monkeypatch) -> None:
    """A 304 to validators the archive's links were not read with reads none of its rows."""
    store.sources.keep_listed_links("ministry", ListedLinks('"v1"', None, _links()))
    read: list[str] = []
    link = listed_links._link
    monkeypatch.setattr(
        listed_links, "_link", lambda url, text: read.append(url) or link(url, text)
    )
    assert store.sources.listed_links("ministry", validators=('"v2"', None)) is None
    assert read == []
    kept = store.sources.listed_links("ministry", validators=('"v1"', None))
    assert kept is not None and len(kept.links) == len(read) == 3


def test_a_304_that_names_new_validators_moves_the_links_to_them(store: Store) -> None:
    """A 304 to "v1" that says its ETag is now W/"v1" (compressed): the run records W/"v1", so
    the next 304, to W/"v1", in a fresh process, still has the links."""
    links = _links()
    keep_listing(SOURCE, links, _ctx(store), page=_page('"v1"'))
    state = SourceState("ministry", etag='"v1"')
    assert listed_before(SOURCE, _ctx(store), state=state, page=_page('W/"v1"', 304)) == links
    state = SourceState("ministry", etag='W/"v1"')
    assert listed_before(SOURCE, _ctx(store), state=state, page=_page('W/"v1"', 304)) == links


def test_a_feed_keeps_only_the_items_read_from_their_own_page(store: Store) -> None:
    """A feed item that carries its text is read from it: unchanged while the feed is."""
    feed = Source(key="ministry", url="https://x.example/rss", kind="feed", fetch_pages=True)
    carried = Link(
        url="https://x.example/9", canonical_url="https://x.example/9", content_html="<p>x</p>"
    )
    links = (*_links(), carried)
    assert keep_listing(feed, links, _ctx(store), page=_page('"v1"')) == links
    assert _kept(store).links == _links()


def test_a_source_whose_articles_are_never_re_read_keeps_no_listing(store: Store) -> None:
    never = Source(key="ministry", url="https://x.example/press/", recheck_seconds=0)
    assert keep_listing(never, _links(), _ctx(store), page=_page('"v1"')) == _links()
    assert store.sources.listed_links("ministry") is None


def test_a_renamed_source_takes_its_listing_along(store: Store) -> None:
    """`rename-source` moves the listing with the state; none is left under the old key."""
    store.sources.record_run(RunRecord("ministry", AT, AT, "ok", 3, 3), etag='"v1"')
    store.sources.keep_listed_links("ministry", ListedLinks('"v1"', None, _links()))
    rename_source(store.db, "ministry", "mfa")
    assert _kept(store, "mfa") == ListedLinks('"v1"', None, _links())
    assert _kept(store) is None
    assert store.db.execute("select count(*) from listing_links").fetchone() == (3,)


def test_a_merge_that_keeps_the_new_key_s_state_keeps_its_listing(store: Store) -> None:
    """The new key polled and kept its own listing: that one stays, the old key's goes."""
    for key, etag, links in (("ministry", '"v1"', _links(2)), ("mfa", '"w1"', _links(3))):
        store.sources.record_run(RunRecord(key, AT, AT, "ok", 3, 3), etag=etag)
        store.sources.keep_listed_links(key, ListedLinks(etag, None, links))
    assert rename_source(store.db, "ministry", "mfa", merge=True).state == "merged"
    assert _kept(store, "mfa") == ListedLinks('"w1"', None, _links(3))
    assert _kept(store) is None
    assert store.db.execute("select count(*) from listing_links").fetchone() == (3,)
