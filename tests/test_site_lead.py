"""A lead the source's other articles carry, as the archive answers it on both backends
(synthetic articles): same source, same lead however spaced or cased, another title."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scrapers.models import Article
from storage import Store
from storage.dialect import is_postgres
from storage.migrations.part2 import RECENT_LEADS, m025_recent_lead_hashes
from storage.postgres.migrations.part2 import p022_recent_lead_hashes
from storage.records import lead_key
from storage.urls import Lead

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
SLOGAN = "Bringing the synthetic world to the press"


def _store(store: Store, n: int, *, source_key: str = "site-a", lead: str = SLOGAN) -> None:
    url = f"https://example.org/news/{n}"
    article = Article(url=url, canonical_url=url, title=f"Synthetic title {n}", lead=lead)
    store.add_article(article, source_key=source_key, now=NOW)


def _site_lead(store: Store, lead: str, *, title: str, source_key: str = "site-a") -> bool:
    key = lead_key(lead)
    assert key is not None
    return store.arrival(
        "https://example.org/new", None, lead=Lead(source_key, key, title)
    ).site_lead


def test_a_lead_another_article_of_the_source_carries_is_the_sites(store: Store) -> None:
    _store(store, 1)
    assert _site_lead(store, "  bringing the SYNTHETIC\nworld to the press ", title="Another")


def test_the_same_lead_under_the_same_title_or_on_another_source_is_not(store: Store) -> None:
    _store(store, 1)
    _store(store, 2, source_key="site-b", lead="Site B's own description")
    # The same title: the same article under another URL, whose lead it may well be.
    assert not _site_lead(store, SLOGAN, title="Synthetic title 1")
    assert not _site_lead(store, SLOGAN, title="Another", source_key="site-b")
    assert not _site_lead(store, "A lead of its own", title="Another")


def test_no_lead_is_never_a_slogan() -> None:
    assert lead_key("") is None and lead_key(" \n ") is None


def test_a_re_read_article_does_not_count_its_own_lead(store: Store) -> None:
    _store(store, 1)
    key = lead_key(SLOGAN)
    assert key is not None
    sitewide = store.sitewide
    # Its title changed in the new version: still its own lead, not another article's.
    assert not sitewide.lead_shown_before("site-a", key, title="Retitled", besides=1)
    _store(store, 2)
    assert sitewide.lead_shown_before("site-a", key, title="Retitled", besides=1)


def test_an_article_stored_without_the_slogan_still_answers_for_it(store: Store) -> None:
    """keep_lead: the second article showed the slogan and was stored without it; once the
    first one's lead changed, the second still says the slogan is the site's."""
    _store(store, 1)
    _store(store, 2, lead="")
    [first, second] = [r["id"] for r in store.db.query("select id from articles order by id")]
    key = lead_key(SLOGAN)
    assert key is not None
    store.sitewide.keep_lead(second, key)
    with store.transaction():
        store.db.execute("update articles set lead_hash = null where id = ?", [first])
    assert _site_lead(store, SLOGAN, title="Another")


def _upgrade(store: Store) -> None:
    """Apply the backend's migration that hashes each source's newest leads (m025 / p022)."""
    if is_postgres(store.db):
        p022_recent_lead_hashes(store.db)
    else:
        with store.db.conn:
            m025_recent_lead_hashes(store.db)


def test_an_upgrade_hashes_each_source_s_newest_leads_only(store: Store) -> None:
    """An archive from before the hashes (synthetic articles, their hashes taken away): each
    source's RECENT_LEADS newest articles with a lead get theirs; older ones and leadless keep
    none."""
    for n in range(RECENT_LEADS + 5):
        url = f"https://example.org/news/{n}"
        article = Article(url=url, canonical_url=url, title=f"Synthetic title {n}", lead=SLOGAN)
        store.add_article(article, source_key="site-a", now=NOW + timedelta(minutes=n))
    for n in range(3):
        _store(store, 100 + n, source_key="site-b", lead="")
    with store.transaction():
        store.db.execute("update articles set lead_hash = null")
    _upgrade(store)
    rows = store.db.execute(
        "select source_key, lead_hash from articles order by source_key, discovered_at desc"
    ).fetchall()
    site_a = [h for key, h in rows if key == "site-a"]
    assert site_a == [lead_key(SLOGAN)] * RECENT_LEADS + [None] * 5
    assert [h for key, h in rows if key == "site-b"] == [None] * 3
    # The next article that shows the slogan finds it on them.
    assert _site_lead(store, SLOGAN, title="Another")
