"""Schema migrations, one function per change. A released migration is never edited."""

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("presswatch")


@migrations()
def m001_initial(db: Database) -> None:
    """Create source state, runs, articles and the outbox."""
    db["sources"].create(
        {
            "key": str,
            "etag": str,
            "last_modified": str,
            "baseline_at": str,
            "last_poll_at": str,
            "last_success_at": str,
            "last_error": str,
            "last_error_at": str,
            "consecutive_failures": int,
            "next_poll_at": str,
        },
        pk="key",
        not_null={"key"},
        defaults={"consecutive_failures": 0},
    )
    db["runs"].create(
        {
            "id": int,
            "source_key": str,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "links_found": int,
            "new_articles": int,
            "error": str,
        },
        pk="id",
        not_null={"source_key", "started_at", "status"},
    )
    db["runs"].create_index(["source_key", "started_at"])
    db["articles"].create(
        {
            "id": int,
            "source_key": str,
            "url": str,
            "canonical_url": str,
            "url_key": str,
            "title": str,
            "published_at": str,
            "author": str,
            "lang": str,
            "lead": str,
            "body": str,
            "summary": str,
            "content_hash": str,
            "discovered_at": str,
            "duplicate_of": int,
            "silent": int,
        },
        pk="id",
        not_null={"source_key", "url", "url_key", "title", "discovered_at"},
        defaults={"silent": 0},
        foreign_keys=[("duplicate_of", "articles", "id")],
    )
    db["articles"].create_index(["url_key"], unique=True)
    db["articles"].create_index(["content_hash"])
    db["articles"].create_index(["source_key", "published_at"])
    db["outbox"].create(
        {
            "id": int,
            "article_id": int,
            "channel": str,
            "chat_id": str,
            "state": str,
            "message_id": int,
            "attempts": int,
            "next_attempt_at": str,
            "last_error": str,
            "created_at": str,
            "updated_at": str,
            "sent_at": str,
        },
        pk="id",
        not_null={"article_id", "channel", "chat_id", "state", "created_at"},
        defaults={"attempts": 0},
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["outbox"].create_index(["article_id", "channel"], unique=True)
    db["outbox"].create_index(["state", "next_attempt_at"])


@migrations()
def m002_stories_topics_health(db: Database) -> None:
    """Add topics and their reasons, versions, near-duplicate signatures, channel and source health,
    alerts, personal subscriptions, and outbox rows that edit or reply to an earlier post."""
    db["articles"].add_column("similarity", float)
    db["articles"].add_column("topics", str)  # JSON list of topic keys, for display and filters
    db["articles"].add_column("entities", str)  # JSON list of entity keys
    db["articles"].add_column("version", int, not_null_default=1)
    db["articles"].add_column("updated_at", str)
    db["article_topics"].create(
        {"article_id": int, "key": str, "kind": str, "score": float, "rules": str},
        pk=("article_id", "key"),
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["article_topics"].create_index(["key", "kind"])
    db["article_versions"].create(
        {
            "id": int,
            "article_id": int,
            "version": int,
            "title": str,
            "lead": str,
            "body": str,
            "content_hash": str,
            "seen_at": str,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["article_versions"].create_index(["article_id", "version"], unique=True)
    db["signatures"].create(
        {"article_id": int, "source_key": str, "minhash": bytes, "created_at": str},
        pk="article_id",
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["signatures"].create_index(["created_at"])
    # Outbox rows may now edit or reply to the post of an earlier row of the same channel.
    db["outbox"].add_column("kind", str, not_null_default="post")
    db["outbox"].add_column("target_message_id", int)
    db.execute("DROP INDEX idx_outbox_article_id_channel")
    db.execute(
        "CREATE UNIQUE INDEX idx_outbox_one_post ON outbox (article_id, channel) WHERE kind = 'post'"
    )
    db["channels"].create(
        {"name": str, "chat_id": str, "state": str, "reason": str, "since": str, "updated_at": str},
        pk="name",
        defaults={"state": "ok"},
    )
    db["alerts"].create(
        {
            "id": int,
            "chat_id": str,
            "subject": str,
            "kind": str,
            "text": str,
            "state": str,
            "attempts": int,
            "next_attempt_at": str,
            "last_error": str,
            "created_at": str,
            "sent_at": str,
        },
        pk="id",
        not_null={"chat_id", "text", "state", "created_at"},
        defaults={"attempts": 0},
    )
    db["alerts"].create_index(["state", "next_attempt_at"])
    db["subscriptions"].create(
        {"id": int, "user_id": int, "chat_id": str, "kind": str, "value": str, "created_at": str},
        pk="id",
        not_null={"user_id", "chat_id", "kind", "value", "created_at"},
    )
    db["subscriptions"].create_index(["user_id", "kind", "value"], unique=True)
    db["sources"].add_column("empty_polls", int, not_null_default=0)
    db["sources"].add_column("health", str, not_null_default="ok")  # ok, failing or silent
    db["sources"].add_column("paused", int, not_null_default=0)
    db["sources"].add_column("last_new_at", str)


@migrations()
def m003_full_text_search(db: Database) -> None:
    """Index title, lead and body with FTS5, kept in sync by triggers.

    unicode61 folds case for Latin and Cyrillic alike (it does not fold ё into е); Russian endings
    and ё/е are handled at query time (storage/search.py).
    """
    db["articles"].enable_fts(
        ["title", "lead", "body"],
        fts_version="FTS5",
        create_triggers=True,
        tokenize="unicode61 remove_diacritics 2",
    )


@migrations()
def m004_recheck(db: Database) -> None:
    """Remember when a stored article was last re-read, so corrections are found politely."""
    db["articles"].add_column("checked_at", str)
    db["articles"].create_index(["source_key", "discovered_at"])


@migrations()
def m005_archive_indexes(db: Database) -> None:
    """Index publication time (newest-first listings) and topic keys (filtered search)."""
    db["articles"].create_index(["published_at"])
    db["article_topics"].create_index(["key", "article_id"])


@migrations()
def m006_url_aliases(db: Database) -> None:
    """Remember the listing's URL of an article whose page names another canonical URL."""
    db["article_urls"].create(
        {"url_key": str, "article_id": int},
        pk="url_key",
        foreign_keys=[("article_id", "articles", "id")],
    )


@migrations()
def m007_topic_rows_for_listed_topics(db: Database) -> None:
    """Give every listed topic of an article stored without reasons its article_topics row.

    Topic filters then read article_topics alone, an index lookup, instead of falling back to
    each article's topics JSON (a read of the whole row) when it has no reasons.
    """
    db.execute("""
        insert or ignore into article_topics (article_id, key, kind, score, rules)
        select a.id, j.value, 'topic', 0.0, '[]'
        from articles a, json_each(a.topics) j
        where json_valid(a.topics) and json_type(a.topics) = 'array' and j.type = 'text'
          and not exists (select 1 from article_topics t where t.article_id = a.id)""")


@migrations()
def m008_fts_pending_hash(db: Database) -> None:
    """Let FTS5 gather up to 64 MiB of new terms before writing a segment (the default is 1 MiB).

    A transaction storing many articles (a backfill, an import) then writes a few large segments
    instead of dozens of small ones that must be merged again: a million-article bulk load ran
    11% faster (BENCHMARKS.md).
    Single-article transactions are unaffected (their terms are written at commit either way);
    the setting is kept in the index's own config table, so every connection uses it.
    """
    db.execute("insert into articles_fts(articles_fts, rank) values ('hashsize', 67108864)")


@migrations()
def m009_retag_progress(db: Database) -> None:
    """Remember how far `presswatch retag` got, and re-index text only when the text changes.

    The full-text trigger fired on every update of an article, so a retag (topics only) or a
    recheck (checked_at only) re-indexed the whole text; now only title, lead and body do.
    """
    db["retag_progress"].create(
        {
            "id": int,
            "fingerprint": str,  # the taxonomy it applies
            "since": str,  # the --since day, '' for the whole archive
            "last_id": int,  # every article up to this id is done
            "total": int,
            "done": int,
            "started_at": str,
            "updated_at": str,
            "finished_at": str,
        },
        pk="id",
    )
    db.execute("drop trigger if exists articles_au")
    db.execute("""
        create trigger articles_au after update of title, lead, body on articles begin
          insert into articles_fts (articles_fts, rowid, title, lead, body)
            values ('delete', old.rowid, old.title, old.lead, old.body);
          insert into articles_fts (rowid, title, lead, body)
            values (new.rowid, new.title, new.lead, new.body);
        end""")


@migrations()
def m010_articles_brief(db: Database) -> None:
    """Add `articles_brief`: an article's title, source, time, topics and link, for browsing.

    Datasette shows every column of a table; the body and the lead make `articles` unreadable
    on a screen, so deploy/datasette.yml opens this narrow view first.
    """
    db.execute("""
        create view if not exists articles_brief as
        select id, published_at, source_key, title, topics, lang, url, duplicate_of as reprint_of
        from articles""")


@migrations()
def m011_settle_by_probing(db: Database) -> None:
    """Let the relay settle uncertain posts by asking Telegram (issue 14).

    Each send now records what to look for if its outcome is lost: the chat's highest confirmed
    message id at the time (`probe_after`), a hash of the text Telegram would show and the links
    (`probe_hash`, `probe_links`), and afterwards how the doubt was settled (`settlement`,
    `settle_note`). `chat_marks` keeps per chat the highest message id Telegram confirmed to us;
    `probe_copies` remembers every copy forwarded into the probe chat until it is deleted.
    """
    for name, kind in [
        ("probe_after", int),
        ("probe_hash", str),
        ("probe_links", str),  # JSON list
        ("settlement", str),  # found, absent, held, resent or repeated
        ("settle_note", str),
    ]:
        db["outbox"].add_column(name, kind)
    db["outbox"].add_column("probe_tries", int, not_null_default=0)
    db["outbox"].create_index(["chat_id", "message_id"])
    db["chat_marks"].create(
        {"chat_id": str, "last_id": int, "updated_at": str}, pk="chat_id", not_null={"last_id"}
    )
    # An archive from before knows its chats' last posts already: probes start there.
    db.execute("""
        insert into chat_marks (chat_id, last_id, updated_at)
        select chat_id, max(message_id), max(coalesce(sent_at, updated_at)) from outbox
        where state = 'sent' and message_id is not null group by chat_id""")
    db["probe_copies"].create(
        {
            "id": int,
            "chat_id": str,  # the probe chat
            "message_id": int,  # null while the forward's answer is unknown
            "after_id": int,  # the probe chat's highest known id before the forward
            "source": str,  # "<chat>#<message id>" that was forwarded
            "created_at": str,
        },
        pk="id",
        not_null={"chat_id", "created_at"},
    )


@migrations()
def m012_lead_images_and_sent_media(db: Database) -> None:
    """Keep each article's lead image, and what form each outbox row's message took (issue 13).

    `articles.image_url` is the picture a channel may show with the post (null: none found).
    `outbox.media` says how the row's message was (last) sent: "photo" (sendPhoto, the summary
    as its caption) or "text"; a probe looks for a photo with that caption, and an edit of a
    photo post edits its caption.
    """
    db["articles"].add_column("image_url", str)
    # "Has another article of this source shown this image?" (a site's default share image).
    db["articles"].create_index(["source_key", "image_url"])
    db["outbox"].add_column("media", str)


@migrations()
def m013_missing_pages(db: Database) -> None:
    """Remember since when a new item's page has answered 404/410, so a restart or the next run
    of `once` goes on with the source's `missing_page_wait` instead of starting it again."""
    db["missing_pages"].create(
        {"url_key": str, "source_key": str, "since": str},
        pk="url_key",
        not_null={"source_key", "since"},
    )


@migrations()
def m014_brief_view_as_search_names_it(db: Database) -> None:
    """Give `articles_brief` the names search and export use, and the entities to facet by.

    A reprint's original is `duplicate_of`, as in `articles`, `search` and `export`; `reprint_of`,
    the name m010 gave it, stays beside it with the same value for the scripts that read it.
    `entities` is the article's JSON list of entity keys, which Datasette's array facet counts.
    The index on article_topics (key, kind) stays here: Datasette's facets of that table by key
    and kind read SQLite (PostgreSQL's p010 drops its twin, which served no query there).
    """
    db.execute("drop view if exists articles_brief")
    db.execute("""
        create view articles_brief as
        select id, published_at, source_key, title, topics, entities, lang, url, duplicate_of,
            duplicate_of as reprint_of
        from articles""")


@migrations()
def m015_digest_parts(db: Database) -> None:
    """Remember the part of a split digest each of its rows goes out in (`outbox.digest_part`,
    JSON: the heading, the part's number, its rows in order), so a part sent again after a
    failure, a flood wait or a restart reads as the reader was promised: "(2/2)" of the same
    digest, not a digest of what was left."""
    db["outbox"].add_column("digest_part", str)


@migrations()
def m016_outbox_due_at(db: Database) -> None:
    """Remember when an outbox row comes due (`outbox.due_at`): the hour a digest or quiet hours
    hold it for, kept when a retry or a flood wait moves its next_attempt_at. A digest row held by
    a flood wait has then waited since its hour, and the heartbeat, status and /metrics say so
    (null, in rows from before: due from next_attempt_at or, once failed, from its queuing)."""
    db["outbox"].add_column("due_at", str)


@migrations()
def m017_paused_alerts_told(db: Database) -> None:
    """Remember when a reader was told an alert is paused (the config dropped its key), so a
    restart, a second reload or a second worker never tells them again; cleared when it returns."""
    db["subscriptions"].add_column("told_paused_at", str)


@migrations()
def m018_source_addresses(db: Database) -> None:
    """Remember each source key's configured address (`sources.url`): a key renamed is spotted."""
    db["sources"].add_column("url", str)
