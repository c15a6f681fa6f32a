"""A description the source's other articles carry word for word is the site's slogan, not an
article's lead (ux14: Taipei Times' "Bringing Taiwan to the World and the World to Taiwan" was a
post's summary), end to end: a synthetic site on loopback, posts through the real relay to the
loopback fake of the Bot API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlite_utils import Database

from storage import Store
from storage.migrations.part2 import m025_recent_lead_hashes
from storage.postgres.migrations.part2 import p022_recent_lead_hashes
from tests.fakes.telegram import DEFAULT_TOKEN
from tests.support.cli import presswatch
from tests.support.clocks import HandClock
from tests.support.postgres import new_database, point_at
from tests.support.world import World, cycle, write_config

SLOGAN = "Bringing the synthetic world to the press and the press to the synthetic world"
PAGE = """<html><head><title>{title} - International Affairs</title>
<meta name="description" content="{description}"><meta property="og:description" content="{description}">
</head><body><div class="content"><h1>{title}</h1>
<div class="article-info">{time} 16.05.2022 • Editorial</div>
<div class="article-text"><p>{opening}</p>
<p>The statement was published on the site of the synthetic ministry on Monday.</p></div></div>
</body></html>"""
ARTICLES = {
    "/article/synthetic-trade-talks/": ("Synthetic trade talks open in Minsk", "10:00",
        "Delegations of five states opened trade talks in Minsk on Monday morning."),
    "/article/synthetic-rail-link/": ("Synthetic rail link agreed", "11:00",
        "The ministers agreed to build a rail link between the two capitals by 2030."),
    "/article/synthetic-water-pact/": ("Synthetic water pact signed", "12:00",
        "Three neighbours signed a pact on sharing the river's water in dry years."),
}  # fmt: skip


@pytest.fixture
def world():
    """Only International Affairs' loopback copy, to which the synthetic articles are added."""
    with World(("interaffairs-en",)) as copy:
        yield copy


def _publish(world: World, path: str, description: str = SLOGAN) -> None:
    """List a synthetic article on the International Affairs copy, with `description` as its meta."""
    title, time, opening = ARTICLES[path]
    site = world.site("interaffairs-en")
    page = PAGE.format(title=title, time=time, opening=opening, description=description)
    site.add(path, page)
    listing = site.routes["/"].body.decode()
    head = '<section class="news-list">'
    site.add("/", listing.replace(head, f'{head}<a href="{path}">{title}</a>'))


def _post(telegram, title: str) -> str:
    [text] = [m.text for m in telegram.messages_for("@presswatch_test") if title in m.text]
    return text


def test_a_description_the_sites_other_articles_carry_is_no_lead(
    world, telegram, tmp_path, caplog
) -> None:
    config = write_config(tmp_path, world, telegram_url=telegram.base_url, backfill=10)
    clock = HandClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    keys = ("interaffairs-en",)
    cycle(config, clock, keys=keys)
    paths = list(ARTICLES)
    for path in paths:
        _publish(world, path)
    clock.now += timedelta(minutes=10)
    with caplog.at_level("INFO", logger="bot.ingest.intake"):
        cycle(config, clock, keys=keys)

    # The first article cannot know: nothing else of the source carried its description yet.
    assert SLOGAN in _post(telegram, "Synthetic trade talks open in Minsk")
    for title, opening in [ARTICLES[p][::2] for p in paths[1:]]:
        text = _post(telegram, title)
        assert SLOGAN not in text and opening in text  # the summary comes from the body
    dropped = [m for r in caplog.records if "description dropped" in (m := r.getMessage())]
    assert len(dropped) == 2 and all("synthetic-trade-talks" not in m for m in dropped)
    said = [m for r in caplog.records if "taken as the site's slogan" in (m := r.getMessage())]
    assert (
        said
        == [  # once for the source, not once per article
            f"interaffairs-en: the description '{SLOGAN[:60].rstrip()}…' repeats on its articles; "
            "taken as the site's slogan, not a lead"
        ]
    )
    store = Store.open(tmp_path / "archive.db")
    try:
        rows = list(store.db.query("select lead, lead_hash from articles where title "
                                   "like 'Synthetic%' order by id"))  # fmt: skip
    finally:
        store.close()
    assert [r["lead"] for r in rows] == [SLOGAN, "", ""]
    # Each article that showed the slogan keeps its hash: the check rests on all, not the first.
    assert rows[0]["lead_hash"] and {r["lead_hash"] for r in rows} == {rows[0]["lead_hash"]}


def test_an_article_s_own_description_stays_its_lead(world, telegram, tmp_path) -> None:
    config = write_config(tmp_path, world, telegram_url=telegram.base_url, backfill=10)
    clock = HandClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    paths = list(ARTICLES)
    for n, path in enumerate(paths[:2]):
        _publish(world, path, description=f"Synthetic lead number {n} of this article alone.")
    cycle(config, clock, keys=("interaffairs-en",))
    assert "Synthetic lead number 1 of this article alone." in _post(
        telegram, "Synthetic rail link agreed"
    )


def test_a_new_version_does_not_bring_the_slogan_back(world, telegram, tmp_path) -> None:
    """A re-read whose body changed is a new version: its lead is judged as a new article's."""
    config = write_config(tmp_path, world, telegram_url=telegram.base_url, backfill=10)
    clock = HandClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    keys = ("interaffairs-en",)
    cycle(config, clock, keys=keys)
    for path in ARTICLES:
        _publish(world, path)
    clock.now += timedelta(minutes=10)
    cycle(config, clock, keys=keys)
    site, rail = world.site("interaffairs-en"), "/article/synthetic-rail-link/"
    site.add(rail, site.routes[rail].body.replace(b"by 2030", b"by 2031"))
    for _ in range(
        2
    ):  # three re-reads a poll, the longest unread first: the site's own, then these
        clock.now += timedelta(minutes=40)  # past the half-hour spacing of re-reads
        cycle(config, clock, keys=keys)

    store = Store.open(tmp_path / "archive.db")
    try:
        [rail_row] = store.db.query(
            "select version, lead, lead_hash is not null as noted from articles where url like ?",
            [f"%{rail}"],
        )
    finally:
        store.close()
    assert rail_row == {"version": 2, "lead": "", "noted": 1}
    told = [m.text for m in telegram.messages_for("@presswatch_test")]
    told += [e.text for e in telegram.edits]
    # Only the first article's post, which could not know, shows the slogan.
    assert [t for t in told if SLOGAN in t] == [_post(telegram, "Synthetic trade talks open")]


def _forget_lead_hashes(config, postgres_url: str | None) -> None:
    """Make the archive one from before the lead hashes: their column and the record of the two
    migrations that made and filled it (m024/m025, p021/p022) taken away."""
    if postgres_url is not None:
        with psycopg.connect(postgres_url) as conn:
            conn.execute("alter table articles drop column lead_hash")  # and its index
            conn.execute(
                "delete from presswatch_migrations where name in "
                "('p021_articles_lead_hashes', 'p022_recent_lead_hashes')"
            )
        return
    db = Database(config.parent / "archive.db")
    try:
        with db.conn:
            db.execute("drop index idx_articles_source_key_lead_hash")
            db.execute("alter table articles drop column lead_hash")
            db.execute(
                "delete from _sqlite_migrations where name in "
                "('m024_articles_lead_hashes', 'm025_recent_lead_hashes')"
            )
    finally:
        db.close()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_after_an_upgrade_the_slogan_is_dropped_at_its_first_appearance(
    world, telegram, tmp_path, request, backend
) -> None:
    """An archive from before the lead hashes holds a post that showed the slogan; once upgraded
    (by `once`, as a service's start does), the site's next article showing it is stored and
    posted without it."""
    config = write_config(tmp_path, world, telegram_url=telegram.base_url, backfill=10)
    url = None
    if backend == "postgres":
        url = new_database(request.getfixturevalue("postgres"), "presswatch_slogan")
        point_at(config, url)
    once = ("once", "--all", "--config", str(config))  # each round polls, due or not
    assert presswatch(*once, token=DEFAULT_TOKEN).returncode == 0  # the site's first run
    first, second = list(ARTICLES)[:2]
    _publish(world, first)
    assert presswatch(*once, token=DEFAULT_TOKEN).returncode == 0
    assert SLOGAN in _post(telegram, ARTICLES[first][0])  # the first cannot know
    _forget_lead_hashes(config, url)
    _publish(world, second)
    upgraded = presswatch(*once, token=DEFAULT_TOKEN)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "upgrading the archive an older presswatch wrote: 2 updates" in upgraded.stderr
    title, _, opening = ARTICLES[second]
    text = _post(telegram, title)
    assert SLOGAN not in text and opening in text
    assert "its description dropped as the site's slogan" in upgraded.stderr


def _pre_hash_archive(store: Store) -> None:
    """Synthetic: 60 articles of a configured source and 3 of one the config dropped (its row in
    `sources` gone, its articles kept), each with its own lead, none hashed."""
    store.sources.note_selector_misses("kept", ())  # a row in `sources`, as a configured source's
    rows = [("kept", n) for n in range(60)] + [("dropped", n) for n in range(3)]
    for key, n in rows:
        store.db.execute(
            "insert into articles (source_key, url, url_key, title, lead, discovered_at) "
            "values (?, ?, ?, ?, ?, ?)",
            [key, f"https://{key}.example/{n}", f"{key}.example/{n}", f"Synthetic {n}",
             f"Synthetic lead {n} of {key}", f"2026-11-28T09:{n:02d}:00+00:00"],
        )  # fmt: skip


def test_the_upgrade_hashes_the_newest_leads_of_every_source_in_the_archive(store: Store) -> None:
    """A source the config dropped has its leads hashed too; the configured one its 50 newest."""
    _pre_hash_archive(store)
    if getattr(store.db, "backend", None) is not None:  # PostgreSQL's
        p022_recent_lead_hashes(store.db)
    else:
        with store.db.conn:
            m025_recent_lead_hashes(store.db)
    hashed = store.db.execute(
        "select source_key, count(*) from articles where lead_hash is not null "
        "group by source_key order by source_key"
    ).fetchall()
    assert [tuple(row) for row in hashed] == [("dropped", 3), ("kept", 50)]


def test_the_upgrade_finds_the_archive_s_sources_by_index_seeks(tmp_path) -> None:
    """SQLite's plan of each statement m025 runs: no pass over the rows of `articles`, nor over
    a whole index of it (`select distinct source_key` was one: every row's key read)."""
    store = Store.open(tmp_path / "archive.db")
    try:
        _pre_hash_archive(store)
        ran: list[str] = []
        store.db.conn.set_trace_callback(ran.append)
        with store.db.conn:
            m025_recent_lead_hashes(store.db)
        store.db.conn.set_trace_callback(None)
        selects = [sql for sql in ran if sql.lstrip().lower().startswith(("select", "with"))]
        assert selects  # the trace saw them
        plans = [row[3] for sql in selects for row in store.db.execute(f"explain query plan {sql}")]
    finally:
        store.close()
    assert [step for step in plans if step.startswith("SCAN articles")] == []
