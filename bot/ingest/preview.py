"""Preview a source without writing anything: its links and its first articles (`add`)."""

from __future__ import annotations

from bot.ingest.context import PollContext
from bot.ingest.links import discover
from bot.ingest.poll import read_article
from scrapers import Article, Link, ScrapeError, Source


async def preview_source(
    source: Source, ctx: PollContext, *, limit: int = 5
) -> tuple[tuple[Link, ...], list[Article | ScrapeError]]:
    """Return a source's links and its first `limit` articles (or their errors), writing nothing."""
    _, links = await discover(source, ctx)
    articles: list[Article | ScrapeError] = []
    for link in links[:limit]:
        try:
            enriched = ctx.intake.enricher.enrich(await read_article(source, link, ctx))
            articles.append(enriched.article)
        except ScrapeError as exc:
            articles.append(exc)
    return links, articles
