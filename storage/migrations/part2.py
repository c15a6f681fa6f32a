"""SQLite schema migrations from m018 on, added to part1's registry after its own."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlite_utils import Database

from ..records import OutboxState, iso, lead_key
from .part1 import migrations


@migrations()
def m018_articles_language_index(db: Database) -> None:
    """Index articles by language and source, so a search can tell at once that no article is in
    a language (storage/facets.py) instead of walking every article to find none.

    The index is on `coalesce(lang, '')`, an expression no filter writes: without statistics
    SQLite would pick an index on `lang` itself for `lang = ?` and sort every article in that
    language (0.2 → 233 ms for the newest English ones at 200,000 articles) where it now walks
    the publication index newest first.
    """
    db.execute(
        "create index idx_articles_language_source_key on articles (coalesce(lang, ''), source_key)"
    )


@migrations()
def m019_source_addresses(db: Database) -> None:
    """Remember each source key's configured address (`sources.url`): a key renamed is spotted."""
    db["sources"].add_column("url", str)


@migrations()
def m020_source_link_patterns(db: Database) -> None:
    """Remember each source key's configured link_pattern beside its address: a source is what
    it reads, the address and the pattern (two sources may split one listing page)."""
    db["sources"].add_column("link_pattern", str)


@migrations()
def m021_chat_holds(db: Database) -> None:
    """Remember until when Telegram told each chat to wait (a 429's retry_after, or a request
    that provably never left): none of the chat's rows is due before then, not even one queued
    during the wait, so the chat's posts still go out oldest first (storage/outbox.py)."""
    db["chat_holds"].create(
        {"chat_id": str, "held_until": str}, pk="chat_id", not_null={"chat_id", "held_until"}
    )


@migrations()
def m022_chat_moves(db: Database) -> None:
    """Remember each group Telegram said became a supergroup, old id -> new: the admin chat is
    told once, and each start logs the chat_id to set (storage/channels.py)."""
    db["chat_moves"].create(
        {"old_chat_id": str, "new_chat_id": str, "moved_at": str},
        pk="old_chat_id",
        not_null={"old_chat_id", "new_chat_id"},
    )


@migrations()
def m023_articles_duplicate_of_index(db: Database) -> None:
    """Index articles by the original they reprint (PostgreSQL has had it from p001): a story's
    posts and sources are read at each reprint and each post's render, and without it every read
    walked the whole archive."""
    db["articles"].create_index(["duplicate_of"], if_not_exists=True)


@migrations()
def m024_articles_lead_hashes(db: Database) -> None:
    """Keep a hash of each article's lead, indexed by source: a lead another article of the same
    source carries word for word is the site's slogan, not this one's (bot/ingest/intake.py).
    Articles stored before keep none: a site's first article after the upgrade cannot know."""
    db["articles"].add_column("lead_hash", str)
    db["articles"].create_index(["source_key", "lead_hash"])


# Articles per source whose lead m025 hashes: a site's slogan is on its newest articles, and one
# other article carrying it is all the check needs. Bounded, so an archive of a million articles
# (gigabytes of bodies) upgrades in seconds: a lookup of each source's newest in the
# (source_key, discovered_at) index, not a pass over every row.
RECENT_LEADS = 50


@migrations()
def m025_recent_lead_hashes(db: Database) -> None:
    """Hash the leads of each source's newest articles, which m024 left without: a slogan site's
    first article after the upgrade finds the slogan on them, instead of showing it once more."""
    # Each source's key, a source the config dropped whose articles stay included: one index seek
    # per key in (source_key, …) (a loose index scan), where `select distinct` read every row.
    seek = (
        "with recursive keys (key) as (select min(source_key) from articles union all "
        "select (select min(source_key) from articles where source_key > keys.key) from keys "
        "where keys.key is not null) select key from keys where key is not null"
    )
    keys = [row[0] for row in db.execute(seek).fetchall()]
    for key in keys:  # one batch per source: at most RECENT_LEADS rows read and written
        recent = db.execute(
            "select id, lead from (select id, lead, lead_hash from articles where source_key = ? "
            "order by discovered_at desc limit ?) as recent where lead_hash is null",
            [key, RECENT_LEADS],
        ).fetchall()
        hashed = [(digest, id_) for id_, lead in recent if (digest := lead_key(lead or ""))]
        db.conn.executemany("update articles set lead_hash = ? where id = ?", hashed)


@migrations()
def m026_source_selector_misses(db: Database) -> None:
    """Remember each source's selectors that matched nothing on every new page since when (JSON,
    storage/selector_misses.py), for `presswatch status`: another process than the polls, and on
    PostgreSQL any worker's. Written only when it changes, never per article."""
    db["sources"].add_column("selectors_missed", str)


@migrations()
def m027_runs_status_indexes(db: Database) -> None:
    """Index runs by (source, status, id) and by (source, start, status): the health read after a
    poll finds a source's last good poll and the first failure after it by two seeks (it walked
    every run of the source, 18 s at a year of 10-minute polls), and `presswatch status` counts a
    day's polls per status from the index alone. The second replaces (source_key, started_at)."""
    db["runs"].create_index(["source_key", "status", "id"], if_not_exists=True)
    db["runs"].create_index(["source_key", "started_at", "status"], if_not_exists=True)
    db.execute("drop index if exists idx_runs_source_key_started_at")


@migrations()
def m028_listing_links(db: Database) -> None:
    """Keep each listing's links as last read whole, a row per link, and the ETag and
    Last-Modified it answered with (storage/listed_links.py): a 304 to those in a process that has
    not read it (`once` under cron, a restart, another worker) still re-reads the articles due
    that it lists, and never one it no longer lists. Written only where they changed."""
    db["listings"].create(
        {"source_key": str, "etag": str, "last_modified": str, "digest": str},
        pk="source_key",
        not_null={"source_key", "digest"},
    )
    db["listing_links"].create(
        {"source_key": str, "url": str, "link": str},
        pk=("source_key", "url"),
        not_null={"source_key", "url", "link"},
    )


@migrations()
def m029_flood_waits_held(db: Database) -> None:
    """Hold each chat an older presswatch left in a 429's wait, until that wait ends (m021 made
    `chat_holds` empty): a post queued after the upgrade must not overtake the older ones.

    Before m021 a flood wait lived only in the chat's pending rows: the row the 429 answered got
    `last_error` 'flood wait of Ns (429 Too Many Requests)' and, like the chat's other pending
    rows, `next_attempt_at` = the wait's end. A chat already held keeps its hold.
    """
    db.execute(
        "insert into chat_holds (chat_id, held_until) select chat_id, max(next_attempt_at) "
        "from outbox where state = ? and last_error like ? and next_attempt_at > ? "
        "and chat_id not in (select chat_id from chat_holds) group by chat_id",
        [OutboxState.PENDING, "flood wait%", iso(datetime.now(UTC))],
    )
