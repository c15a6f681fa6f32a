"""One function names an alert for every reply and post, and tells whether the config still has
what it follows."""

from __future__ import annotations

from bot.ingest.routing import alert_name, followed
from bot.text.taxonomy import taxonomy_from_dict
from scrapers.models import Source
from storage.subscriptions import Subscription, SubscriptionKind

TAXONOMY = taxonomy_from_dict(
    {
        "topics": {
            "peace": {
                "label": "Peacekeeping",
                "labels": {"ru": "Миротворчество"},
                "phrases": ["peacekeep"],
            }
        },
        "entities": {"csto": {"label": "CSTO", "labels": {"ru": "ОДКБ"}, "phrases": ["CSTO"]}},
    }
)
TASS = Source(key="tass", url="https://tass.com/rss/v2.xml", name="TASS")
KIT = {"topics": TAXONOMY.topics, "entities": TAXONOMY.entities, "sources": (TASS,)}


def _sub(kind: SubscriptionKind, value: str) -> Subscription:
    return Subscription(1, 42, "42", kind, value)


def test_an_alert_is_named_by_its_label_alone_or_after_its_kinds_word() -> None:
    peace = _sub(SubscriptionKind.TOPIC, "peace")
    assert alert_name(peace, lang="ru", **KIT) == "Миротворчество"
    assert alert_name(peace, lang="ru", words="ru", **KIT) == "тема «Миротворчество»"
    assert alert_name(_sub(SubscriptionKind.ENTITY, "csto"), words="en", **KIT) == "tag «CSTO»"
    assert alert_name(_sub(SubscriptionKind.SOURCE, "tass"), **KIT) == "TASS"
    assert alert_name(_sub(SubscriptionKind.PHRASE, "border guards"), **KIT) == "border guards"
    # A key the config dropped is named as stored.
    assert alert_name(_sub(SubscriptionKind.SOURCE, "closed"), words="en", **KIT) == (
        "source «closed»"
    )


def test_followed_finds_the_configured_thing_of_the_alerts_own_kind() -> None:
    assert followed(_sub(SubscriptionKind.TOPIC, "peace"), **KIT).key == "peace"
    assert followed(_sub(SubscriptionKind.SOURCE, "tass"), **KIT) is TASS
    # "csto" is an entity: a topic alert on it follows nothing the config has.
    assert followed(_sub(SubscriptionKind.TOPIC, "csto"), **KIT) is None
    assert followed(_sub(SubscriptionKind.SOURCE, "closed"), **KIT) is None
    assert followed(_sub(SubscriptionKind.PHRASE, "peace"), **KIT) is None
