"""Count the entity hashtags fundus pages' posts show, with and without passing mentions.

Before: the three best entity tags; after: bot.text.classify.salient_entities first leaves out
an entity named only once outside the title and lead. Each page whose hashtags change is printed.

    python -m bench.hashtags
"""

from __future__ import annotations

from pathlib import Path

from bench.extraction_data import load_fundus
from bot.config import load_config
from bot.delivery.compose import MAX_ENTITY_TAGS
from bot.text.classify import salient_entities, tag_entities
from scrapers.extract import extract_article

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def main() -> None:
    """Tag each page as enrichment does and compare the hashtags a post would show."""
    taxonomy = load_config(EXAMPLE).taxonomy
    before = after = changed = 0
    for case in load_fundus():
        a = extract_article(case.html, url=case.url, now=case.fetched)
        found = tag_entities(title=a.title, body=f"{a.lead}\n{a.body}", taxonomy=taxonomy)
        keys = [m.topic for m in found]
        old = keys[:MAX_ENTITY_TAGS]
        new = list(
            salient_entities(keys, title=a.title, lead=a.lead, body=a.body, taxonomy=taxonomy)
        )[:MAX_ENTITY_TAGS]
        before, after = before + len(old), after + len(new)
        if old != new:
            changed += 1
            print(f"{case.key}: {' '.join(old)} -> {' '.join(new) or '(none)'}")
    print(f"entity hashtags shown: {before} -> {after}; pages changed: {changed}")


if __name__ == "__main__":
    main()
