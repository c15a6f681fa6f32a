"""Count the entity hashtags fundus pages' posts show, with and without passing mentions.

Before: the three best entity tags; after: bot.text.classify.salient_entities first leaves out
an entity named only once outside the title and the post's opening (its summary, which is the
lead or the body's first sentences), as bot.delivery.hashtags does. Each page whose hashtags
change is printed.

    python -m bench.hashtags
"""

from __future__ import annotations

from pathlib import Path

from bench.extraction_data import load_fundus
from bot.config import load_config
from bot.delivery.hashtags import MAX_ENTITY_TAGS
from bot.ingest.prepare import enrich
from bot.text.classify import salient_entities
from scrapers.extract import extract_article

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def main() -> None:
    """Tag each page as enrichment does and compare the hashtags a post would show."""
    config = load_config(EXAMPLE)
    taxonomy = config.taxonomy
    before = after = changed = 0
    for case in load_fundus():
        page = extract_article(case.html, url=case.url, now=case.fetched)
        a = enrich(page, taxonomy=taxonomy, summary_chars=config.summary_chars).article
        old = list(a.entities[:MAX_ENTITY_TAGS])
        opening = a.summary or a.lead
        kept = salient_entities(
            a.entities, title=a.title, lead=opening, body=a.body, taxonomy=taxonomy
        )
        new = list(kept)[:MAX_ENTITY_TAGS]
        before, after = before + len(old), after + len(new)
        if old != new:
            changed += 1
            print(f"{case.key}: {' '.join(old)} -> {' '.join(new) or '(none)'}")
    print(f"entity hashtags shown: {before} -> {after}; pages changed: {changed}")


if __name__ == "__main__":
    main()
