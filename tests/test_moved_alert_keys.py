"""A key the config moves between [topics] and [entities] takes its readers' alerts along; an
alert on a key the config dropped is kept, paused (tests/test_ended_alerts.py tells its reader)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from bot.app import open_app, reconfigure
from bot.config import config_from_dict
from bot.delivery.readers import carry_over_alerts
from bot.ingest.routing import stale_alerts, subscribers_for
from scrapers.models import Article
from storage import Store
from storage.subscriptions import ALL

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CSTO = {"label": "CSTO", "labels": {"ru": "ОДКБ"}, "phrases": ["CSTO"]}
PEACE = {"label": "Peacekeeping", "phrases": ["peacekeep"]}


def _config(tmp_path: Path, *, topics: dict, entities: dict):
    """Return a config with one source and this taxonomy, its archive in `tmp_path`."""
    return config_from_dict(
        {
            "storage": {"path": str(tmp_path / "archive.db")},
            "channels": [{"name": "main", "chat_id": "@presswatch_test"}],
            "sources": [{"key": "alpha", "url": "https://alpha.example/feed", "kind": "feed"}],
            "topics": topics,
            "entities": entities,
        },
        path=tmp_path / "presswatch.toml",
    )


def _follow(store: Store, *alerts: tuple[int, str, str]) -> None:
    for user, kind, value in alerts:
        store.subscriptions.add(user_id=user, chat_id=str(user), kind=kind, value=value, now=NOW)


def _alerts(store: Store) -> list[tuple[int, str, str]]:
    return sorted((s.user_id, s.kind, s.value) for s in store.subscriptions.all())


def test_alerts_on_a_key_now_of_the_other_kind_or_gone_are_found(tmp_path: Path) -> None:
    config = _config(tmp_path, topics={"peacekeeping": PEACE}, entities={"csto": CSTO})
    store = Store.open(config.storage_path)
    _follow(store, (1, "topic", "csto"), (2, "topic", "csto"), (3, "entity", "peacekeeping"),
            (4, "topic", "gone"), (5, "phrase", "csto"), (6, "entity", "csto"))  # fmt: skip
    taxonomy = config.taxonomy
    found = stale_alerts(
        store.subscriptions.all(), topics=taxonomy.topics, entities=taxonomy.entities
    )
    assert found == {
        ("topic", "csto", "entity"): 2,
        ("entity", "peacekeeping", "topic"): 1,
        ("topic", "gone", None): 1,
    }
    store.close()


def test_moved_keys_carry_their_alerts_over_and_a_gone_keys_alert_is_kept_paused(
    store: Store, tmp_path: Path, caplog
) -> None:
    config = _config(tmp_path, topics={"peacekeeping": PEACE}, entities={"csto": CSTO})
    # Reader 2 also follows the tag already: one alert is left, not two.
    _follow(store, (1, "topic", "csto"), (2, "topic", "csto"), (2, "entity", "csto"),
            (3, "entity", "peacekeeping"), (4, "topic", "gone"), (5, "phrase", "csto"))  # fmt: skip
    url = "https://alpha.example/1"
    tagged = Article(url=url, canonical_url=url, title="Joint drills", entities=("csto",))
    before = subscribers_for(tagged, source_key="alpha", subscriptions=store.subscriptions.all())
    assert [user for user, _ in before] == [2]  # reader 1's alert silently matched nothing

    with caplog.at_level(logging.WARNING, logger="bot.delivery.readers"):
        carried = carry_over_alerts(store, config)
    # The list returned is the archive's rows as carried over, read before and changed in step.
    assert carried == store.subscriptions.all()
    assert _alerts(store) == [(1, "entity", "csto"), (2, "entity", "csto"),
                              (3, "topic", "peacekeeping"), (4, "topic", "gone"),
                              (5, "phrase", "csto")]  # fmt: skip
    after = subscribers_for(tagged, source_key="alpha", subscriptions=store.subscriptions.all())
    assert sorted(user for user, _ in after) == [1, 2]
    assert caplog.messages == [
        "1 reader alert(s) on 'peacekeeping' followed it in [entities]; the config now has it "
        "in [topics]: carried over",
        "2 reader alert(s) on 'csto' followed it in [topics]; the config now has it in "
        "[entities]: carried over",
        "1 reader alert(s) on 'gone' follow it in [topics], which the config no longer has: "
        "kept, paused until it comes back",
    ]
    caplog.clear()
    assert carry_over_alerts(store, config) == carried
    assert [m for m in caplog.messages if "carried over" in m] == []
    assert store.alerts.due(NOW) == []  # carrying over tells nobody: only the service does


def test_start_up_and_a_reload_carry_the_alerts_over(tmp_path: Path) -> None:
    as_topic = _config(tmp_path, topics={"csto": CSTO, "peacekeeping": PEACE}, entities={})
    as_tag = _config(tmp_path, topics={"peacekeeping": PEACE}, entities={"csto": CSTO})
    store = Store.open(as_topic.storage_path)
    _follow(store, (1, "topic", "csto"))
    store.close()

    async def start_then_reload():
        async with open_app(as_tag, deliver=False) as app:
            started = _alerts(app.store)
            reconfigure(app, as_topic)
            return started, _alerts(app.store)

    started, reloaded = asyncio.run(start_then_reload())
    assert started == [(1, "entity", "csto")]
    assert reloaded == [(1, "topic", "csto")]


def test_a_start_and_a_reload_read_the_alerts_once_each(tmp_path: Path, monkeypatch) -> None:
    as_topic = _config(tmp_path, topics={"csto": CSTO, "peacekeeping": PEACE}, entities={})
    as_tag = _config(tmp_path, topics={"peacekeeping": PEACE}, entities={"csto": CSTO})
    store = Store.open(as_topic.storage_path)
    _follow(store, (1, "topic", "csto"), (2, "topic", "gone"))
    store.close()
    statements: list[str] = []
    execute = sqlite_utils.Database.execute

    def spy(db, sql, *args, **kwargs):
        statements.append(sql)
        return execute(db, sql, *args, **kwargs)

    monkeypatch.setattr(sqlite_utils.Database, "execute", spy)
    reads = []

    async def start_then_reload():
        async with open_app(as_tag, role="run", deliver=False) as app:
            reads.append(statements.count(ALL))
            reconfigure(app, as_topic)
            reads.append(statements.count(ALL) - reads[0])
            return app.store.alerts.due(NOW)

    told = asyncio.run(start_then_reload())
    assert reads == [1, 1]
    # Told from the one read: reader 2's alert is paused (its key is gone), reader 1's moved.
    assert [a.chat_id for a in told] == ["2"]
