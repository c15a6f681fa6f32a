"""An alert on a topic, tag or source the config dropped is kept, paused: the service's reload (or
start) that drops it tells each reader once, in English and Russian; a restart, another reload or
a one-off command tells nothing more and deletes nothing; the key's return resumes it (the reader
told so), and a later drop tells again. Through the loopback fake Bot API, on both backends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.app import open_app, reconfigure
from bot.config import config_from_dict
from bot.delivery.readers import tell_readers
from bot.ingest.routing import subscribers_for
from scrapers.models import Article
from storage import StorageError, Store
from storage.dialect import is_postgres
from storage.migrations import migrations
from tests.fakes.telegram import DEFAULT_TOKEN

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
READER, OTHER = 2002, 3003
PEACE = {"label": "Peacekeeping", "labels": {"ru": "Миротворчество"}, "phrases": ["peacekeep"]}
CSTO = {"label": "CSTO", "labels": {"ru": "ОДКБ"}, "phrases": ["CSTO"]}
ALPHA = {"key": "alpha", "name": "Alpha Ministry", "url": "https://alpha.example/feed"}
BETA = {"key": "beta", "name": "Beta News", "url": "https://beta.example/feed"}
URL = "https://alpha.example/1"
DRILLS = Article(url=URL, canonical_url=URL, title="Peacekeep drills", body="Peacekeep drills.")
PAUSED = (
    "Your alerts on topic «Peacekeeping», source «Beta News» are paused: I no longer follow them. "
    "They resume by themselves if I follow them again; /unsubscribe drops one (/mysubs shows "
    "how). What you can follow now: /topics and /sources.\n\n"
    "Подписки приостановлены: тема «Миротворчество», источник «Beta News» — я больше за этим не "
    "слежу. Они возобновятся сами, если я снова начну за этим следить; отменить — /unsubscribe "
    "(как — в /mysubs). Что можно выбрать сейчас: /topics и /sources."
)


def _config(storage: dict, base_url: str, tmp_path: Path, *, dropped: bool):
    """Return the config before (`dropped` False) or after the operator dropped a topic and a
    source."""
    return config_from_dict(
        {
            "storage": storage,
            "telegram": {"api_base_url": base_url},
            "channels": [{"name": "main", "chat_id": "@presswatch_test"}],
            "sources": [
                {**ALPHA, "kind": "feed"},
                *([] if dropped else [{**BETA, "kind": "feed"}]),
            ],
            "topics": {} if dropped else {"peacekeeping": PEACE},
            "entities": {"csto": CSTO},
        },
        path=tmp_path / "presswatch.toml",
        token=DEFAULT_TOKEN,
    )


def _storage(backend, tmp_path: Path) -> dict:
    """Return the [storage] table that names the test's archive, a file or a database."""
    url = getattr(backend, "url", None)
    return {"url": url} if url else {"path": str(tmp_path / "archive.db")}


def _configs(storage: dict, base_url: str, tmp_path: Path) -> tuple:
    """Return the config before the reload and the one that drops a topic and a source."""
    return tuple(_config(storage, base_url, tmp_path, dropped=d) for d in (False, True))


def _follow(store: Store, *alerts: tuple[int, str, str]) -> None:
    for user, kind, value in alerts:
        store.subscriptions.add(user_id=user, chat_id=str(user), kind=kind, value=value, now=NOW)


def _rows(store: Store) -> list[tuple[int, str, str]]:
    return sorted((s.user_id, s.kind, s.value) for s in store.subscriptions.all())


def _matched(app) -> list[int]:
    """Return the readers a new article on peacekeeping alerts, tagged as the app tags it now."""
    tagged = app.poll.intake.enricher.enrich(DRILLS).article
    found = subscribers_for(tagged, source_key="alpha", subscriptions=app.store.subscriptions.all())
    return [user for user, _ in found]


def _texts(telegram, chat: int) -> list[str]:
    return [m.text for m in telegram.messages_for(chat)]


def test_a_dropped_topic_and_source_pause_their_alerts_telling_each_reader_once(
    telegram, backend, tmp_path: Path
) -> None:
    before, after = _configs(_storage(backend, tmp_path), telegram.base_url, tmp_path)
    store = backend.open()
    _follow(store, (READER, "topic", "peacekeeping"), (READER, "source", "beta"),
            (READER, "phrase", "border guards"), (READER, "entity", "csto"),
            (OTHER, "topic", "peacekeeping"))  # fmt: skip
    every = _rows(store)
    store.close()

    async def one_off_commands() -> list[tuple[int, str, str]]:
        async with open_app(after, deliver=False):  # as backfill opens the archive
            pass
        async with open_app(after, role="once") as app:  # and once, which delivers
            await app.relay.deliver_due()
            return _rows(app.store)

    # A trimmed config in a one-off command (an operator's slip) neither tells nor marks: the
    # service's reload below still tells, once.
    assert asyncio.run(one_off_commands()) == every
    assert telegram.messages == []

    async def reload_twice_and_restart() -> None:
        async with open_app(before, role="run") as app:
            await app.relay.deliver_due()  # the start pauses nothing: all is configured
            assert telegram.messages == []
            reconfigure(app, after)
            await app.relay.deliver_due()
            reconfigure(app, after)  # a second reload of the same config tells nobody again
            await app.relay.deliver_due()
            assert _rows(app.store) == every
            assert _matched(app) == []  # kept, but paused: they match nothing
        async with open_app(after, role="run") as app:  # nor does a restart
            await app.relay.deliver_due()

    asyncio.run(reload_twice_and_restart())
    assert asyncio.run(one_off_commands()) == every
    # Named as the reader knew them: by the labels of the config the reload replaced.
    assert _texts(telegram, READER) == [PAUSED]
    [other] = telegram.messages_for(OTHER)
    assert other.text.startswith("Your alert on topic «Peacekeeping» is paused: I no longer ")
    assert "Подписка приостановлена: тема «Миротворчество» — " in other.text
    assert other.parse_mode is None  # plain text: a label is never read as markup


def test_a_key_that_comes_back_resumes_its_alert_and_a_later_drop_tells_again(
    telegram, backend, tmp_path: Path
) -> None:
    before, after = _configs(_storage(backend, tmp_path), telegram.base_url, tmp_path)
    store = backend.open()
    _follow(store, (READER, "topic", "peacekeeping"), (READER, "source", "beta"))
    store.close()

    async def drop_restore_drop() -> list[list[int]]:
        matched = []
        async with open_app(after, role="run") as app:  # a start without them tells too
            await app.relay.deliver_due()
            reconfigure(app, before)
            await app.relay.deliver_due()
            matched.append(_matched(app))
        async with open_app(before, role="run") as app:  # back on: a restart tells nothing
            await app.relay.deliver_due()
            reconfigure(app, after)
            await app.relay.deliver_due()
        return matched

    assert asyncio.run(drop_restore_drop()) == [[READER]]
    paused_at_start, resumed, paused_again = _texts(telegram, READER)
    # After a restart no config at hand names them: the keys the reader subscribed to stand in.
    assert paused_at_start.startswith("Your alerts on topic «peacekeeping», source «beta» are ")
    assert resumed == (
        "Your alerts on topic «Peacekeeping», source «Beta News» are back on: I follow them "
        "again.\n\n"
        "Подписки снова действуют: тема «Миротворчество», источник «Beta News» — я снова за этим "
        "слежу."
    )
    assert paused_again == PAUSED


def test_an_alert_is_marked_paused_by_one_hand_only_until_unmarked(store: Store) -> None:
    # What keeps two workers (or a restart) from telling a reader twice: the mark is set once.
    _follow(store, (READER, "topic", "gone"), (READER, "source", "beta"))
    gone, beta = store.subscriptions.all()
    assert store.subscriptions.mark_paused([gone], now=NOW) == [gone]
    assert store.subscriptions.mark_paused([gone, beta], now=NOW) == [beta]
    assert store.subscriptions.marked_paused() == [gone, beta]
    assert store.subscriptions.unmark_paused([gone]) == [gone]
    assert store.subscriptions.unmark_paused([gone]) == []
    assert store.subscriptions.marked_paused() == [beta]
    assert store.subscriptions.mark_paused([gone], now=NOW) == [gone]  # a later drop marks again


def test_a_chat_s_alerts_are_marked_and_unmarked_at_once(store: Store, monkeypatch) -> None:
    _follow(store, (READER, "topic", "gone"), (READER, "source", "beta"), (READER, "topic", "x"))
    gone, beta, x = store.subscriptions.all()
    store.subscriptions.mark_paused([beta], now=NOW)
    statements: list[str] = []
    execute = store.db.execute

    def spy(sql, *args, **kwargs):
        statements.append(sql)
        return execute(sql, *args, **kwargs)

    monkeypatch.setattr(store.db, "execute", spy)
    with store.transaction():  # as readers.py calls it: in the chat's transaction
        assert store.subscriptions.mark_paused([gone, beta, x], now=NOW) == [gone, x]
    with store.transaction():
        assert store.subscriptions.unmark_paused([gone, beta, x]) == [gone, beta, x]
    # One UPDATE a call, however many alerts (SQLite reads the ids first: no RETURNING before 3.35).
    assert [s.split()[0] for s in statements if not s.startswith("select")] == ["update", "update"]
    assert len(statements) == (2 if is_postgres(store.db) else 4)


def test_an_archive_from_before_the_mark_keeps_its_alerts_unmarked(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    old = Database(path)
    migrations.apply(old, stop_before="m017_paused_alerts_told")
    old["subscriptions"].insert(
        {"user_id": READER, "chat_id": str(READER), "kind": "topic", "value": "gone",
         "created_at": "2026-12-01T00:00:00+00:00"}
    )  # fmt: skip
    old.close()
    store = Store.open(path)
    try:
        assert _rows(store) == [(READER, "topic", "gone")]
        assert store.subscriptions.marked_paused() == []  # the service tells at its next start
    finally:
        store.close()


@pytest.mark.postgres
def test_two_workers_of_a_fleet_tell_each_reader_once(postgres_archive, tmp_path: Path) -> None:
    storage = {"url": postgres_archive.url}
    after = _config(storage, "http://127.0.0.1:9", tmp_path, dropped=True)  # never asked
    first, second = postgres_archive.open(), postgres_archive.open()
    try:
        _follow(first, (READER, "topic", "peacekeeping"), (OTHER, "source", "beta"))
        alerts = first.subscriptions.all()
        assert tell_readers(first, after, alerts, now=NOW) == (2, 0)
        assert tell_readers(second, after, alerts, now=NOW) == (0, 0)  # the first marked them
        assert sorted(a.chat_id for a in second.alerts.due(NOW)) == [str(READER), str(OTHER)]
    finally:
        first.close()
        second.close()


def test_a_reload_whose_notice_cannot_be_written_still_applies_the_new_config(
    tmp_path: Path, monkeypatch, caplog
) -> None:
    old, new = _configs({"path": str(tmp_path / "archive.db")}, "http://127.0.0.1:9", tmp_path)

    def locked(*args, **kwargs):
        raise StorageError("database is locked")

    async def reload_while_locked() -> tuple[list[str], list]:
        async with open_app(old, deliver=False) as app:
            _follow(app.store, (READER, "topic", "peacekeeping"), (OTHER, "source", "beta"))
            monkeypatch.setattr(app.store.alerts, "enqueue", locked)
            reconfigure(app, new)
            return [s.key for s in app.config.sources], app.store.subscriptions.marked_paused()

    keys, marked = asyncio.run(reload_while_locked())
    assert keys == [s.key for s in new.sources] != [s.key for s in old.sources]
    assert marked == []  # nobody was told, so the next start or reload tells them
    assert "readers of paused or resumed alerts not told: database is locked" in caplog.text


def test_on_sqlite_a_chat_s_marks_take_the_write_lock_before_reading_their_ids(
    tmp_path: Path,
) -> None:
    # A deferred transaction that reads and then writes fails at once ("database is locked") if
    # another writer, e.g. `presswatch outbox retry`, commits in between: BEGIN IMMEDIATE waits.
    after = _config(
        {"path": str(tmp_path / "archive.db")}, "http://127.0.0.1:9", tmp_path, dropped=True
    )
    store = Store.open(tmp_path / "archive.db")
    try:
        _follow(store, (READER, "topic", "peacekeeping"))
        statements: list[str] = []
        store.db.conn.set_trace_callback(statements.append)
        assert tell_readers(store, after, store.subscriptions.all(), now=NOW) == (1, 0)
        store.db.conn.set_trace_callback(None)
    finally:
        store.close()
    begins = [i for i, sql in enumerate(statements) if sql.upper().startswith("BEGIN")]
    read = next(
        i for i, sql in enumerate(statements) if sql.startswith("select id from subscriptions")
    )
    assert begins and statements[begins[0]].upper() == "BEGIN IMMEDIATE" and begins[0] < read
