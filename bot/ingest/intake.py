"""Ingest's decisions made and carried out: read what the archive knows about an article, plan
(bot/ingest/plan.py), then store and enqueue in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from bot.config import Channel, Corrections
from bot.ingest.enrich import Enriched, Enricher, Prepared
from bot.ingest.missing import MissingPages, gave_up, page_missing
from bot.ingest.plan import Archived, Facts, Fate, Plan, Quiet, Story, describe, plan
from scrapers.models import Article
from storage import Store
from storage.busy import ArchiveBusy
from storage.neardup import Meanwhile, NearDuplicate
from storage.records import lead_key
from storage.urls import Lead

if TYPE_CHECKING:
    from datasketch import MinHash  # imported on first use: see storage/neardup.py

__all__ = ["Decision", "Intake", "MissingPages", "gave_up", "page_missing"]  # poll.py's too
log = logging.getLogger(__name__)
# Tries at storing a new article while other workers store its original (storage/claim.py):
# each retry follows one more commit of a near-duplicate; the last stores as decided.
_ATTEMPTS = 3
_GAVE_UP = (
    "article %s %s: stored as decided after %d tries: others stored near-duplicates meanwhile"
)


class _Replan(Exception):  # noqa: N818 - not an error: a signal to decide again
    """Raised inside a storing transaction to roll it back: an original appeared meanwhile."""

    def __init__(self, meanwhile: Meanwhile) -> None:
        super().__init__("an original was stored meanwhile")
        self.meanwhile = meanwhile


@dataclass(frozen=True, slots=True)
class Decision:
    """An enriched article, what the archive said about it, and the plan made from both."""

    enriched: Enriched
    facts: Facts
    plan: Plan
    minhash: MinHash | None = None  # for a new article: the signature the archive indexes
    site_lead: str | None = None  # the lead's hash, when it was dropped as the site's slogan


class Intake:
    """Decide about each article read, and carry the decision out against the archive."""

    def __init__(
        self,
        enricher: Enricher,
        store: Store,
        *,
        channels: Sequence[Channel],
        corrections: Corrections,
    ) -> None:
        self.enricher, self._store = enricher, store
        self.missing = MissingPages(store)
        self._channels, self._corrections = tuple(channels), corrections
        self._slogans: set[str] = set()  # sources whose slogan was logged: once each

    def decide(
        self,
        source_key: str,
        item: Article | Prepared,
        *,
        post: bool,
        now: datetime,
        quiet: Quiet = Quiet.FIRST_RUN,
    ) -> Decision:
        """Enrich a newly found article (unless its parsing worker did) and plan it; `post` is
        False for a quiet first run, a backfill or a page that never answered (`quiet` says)."""
        prepared = self.enricher.prepare(item)
        enriched = self._own_image(source_key, prepared.enriched)
        article = enriched.article
        lead = lead_key(article.lead)
        # One round trip for all four questions (PostgreSQL pays one for each statement).
        arrival = self._store.arrival(
            article.canonical_url,
            article.content_hash if article.body else None,
            subscriptions=post,
            lead=Lead(source_key, lead, article.title) if lead else None,
        )
        if arrival.known:
            # The page's canonical URL names an article we already have.
            return self._decision(source_key, enriched, Facts(known=True), post=post, quiet=quiet)
        if arrival.site_lead:
            prepared = self.enricher.prepare(self._without_lead(source_key, article))
            enriched, article = prepared.enriched, prepared.article
        minhash = self.enricher.signature(prepared)
        original = self.enricher.find_original(article, minhash, now=now, exact=arrival.original)
        facts = Facts(
            story=self._story(original) if original else None,
            subscriptions=arrival.subscriptions,
        )
        decision = self._decision(
            source_key, enriched, facts, post=post, quiet=quiet, minhash=minhash
        )
        return replace(decision, site_lead=lead) if arrival.site_lead else decision

    def decide_reread(
        self, source_key: str, article: Article | Prepared, *, article_id: int, stored_hash: str
    ) -> Decision:
        """Enrich an archived article read again and plan it: a changed text is a new version."""
        enriched = self._own_image(source_key, self.enricher.enrich(article), besides=article_id)
        lead = lead_key(enriched.article.lead)
        sitewide = self._store.sitewide
        if lead and sitewide.lead_shown_before(
            source_key, lead, title=enriched.article.title, besides=article_id
        ):
            # As for a new article: a new version must not bring the site's slogan back.
            enriched = self.enricher.enrich(self._without_lead(source_key, enriched.article))
        else:
            lead = None
        posted = self._store.posts.posted_channels(article_id)
        facts = Facts(archived=Archived(article_id, stored_hash, posted))
        return replace(self._decision(source_key, enriched, facts, post=False), site_lead=lead)

    def carry_out(
        self,
        source_key: str,
        decision: Decision,
        *,
        now: datetime,
        aliases: tuple[str, ...] = (),
        also: Callable[[], object] | None = None,
    ) -> bool:
        """Store and enqueue what the plan says, in one transaction (with `also`'s writes when it
        adds an article); return True if stored."""
        chosen = decision.plan
        if chosen.fate == Fate.UNCHANGED:
            self._store.mark_checked(chosen.article_id, now=now)
        if not chosen.stores:
            return False
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                last = attempt == _ATTEMPTS
                self._write(source_key, decision, now=now, aliases=aliases, also=also, last=last)
                break
            except ArchiveBusy as exc:
                # Rolled back whole: the poll leaves the link unseen, and the next one stores it.
                url = decision.enriched.article.url
                log.warning(
                    "article %s %s: %s; not stored, retried next poll", source_key, url, exc
                )
                raise
            except _Replan as again:
                # Another worker stored what may be this article's original: its transaction
                # is rolled back, and the article decided about again (storage/claim.py).
                url = decision.enriched.article.url
                log.info("article %s %s: another worker stored a near-duplicate", source_key, url)
                decision = self._replan(source_key, decision, again.meanwhile, now=now)
        # Each article says it: a wrong drop must leave a trace beside the one line per source.
        dropped = "; its description dropped as the site's slogan" if decision.site_lead else ""
        article = decision.enriched.article
        log.info("article %s %s: %s%s", source_key, article.url, describe(decision.plan), dropped)
        return True

    def _write(
        self,
        source_key: str,
        decision: Decision,
        *,
        now: datetime,
        aliases: tuple[str, ...],
        also: Callable[[], object] | None,
        last: bool,
    ) -> None:
        """Carry a storing plan out; raise _Replan when another worker stored its original
        meanwhile (on the `last` try, log it and store as decided)."""
        chosen, article = decision.plan, decision.enriched.article
        new = chosen.fate != Fate.VERSION
        claim = self._store.storing(
            article.content_hash if article.body else None,
            decision.minhash if new else None,
            now=now,
        )
        with claim as meanwhile:
            # Storing is one transaction by itself; only an update to send or a slogan's hash to
            # keep with it needs an outer one (on PostgreSQL a nested transaction is a savepoint:
            # two more round trips), unless the claim holds one already.
            outer = meanwhile is None and (chosen.updates or decision.site_lead)
            with self._store.transaction() if outer else nullcontext():
                if chosen.fate == Fate.VERSION:
                    target = stored = chosen.article_id
                    self._store.update_article(
                        target, article, now=now, reasons=decision.enriched.reasons
                    )
                else:
                    story = chosen.story
                    target = story.article_id if story else None
                    stored = self._store.add_article(
                        article,
                        source_key=source_key,
                        now=now,
                        deliveries=chosen.posts,
                        silent=chosen.silent,
                        duplicate_of=target,
                        similarity=story.similarity if story else None,
                        reasons=decision.enriched.reasons,
                        minhash=decision.minhash,
                        aliases=aliases,
                        also=also,
                    )
                if decision.site_lead:
                    self._store.sitewide.keep_lead(stored, decision.site_lead)
                if chosen.updates:
                    # A version edits the article's own posts; a reprint the story's, wherever a chat
                    # got the story from one of its reprints too.
                    reprints = chosen.story.reprint_posts if chosen.story else ()
                    for held in (target, *reprints):
                        self._store.posts.enqueue_update(
                            held, kind=chosen.update_kind, now=now, channels=chosen.updates
                        )
                if meanwhile is not None and self._changed(decision, meanwhile(), now):
                    if not last:
                        raise _Replan(meanwhile())
                    # Others kept storing near-duplicates: stored as decided, maybe posted twice.
                    log.warning(_GAVE_UP, source_key, article.url, _ATTEMPTS)

    def _changed(self, decision: Decision, meanwhile: Meanwhile, now: datetime) -> bool:
        """Tell whether what other workers stored meanwhile may be the article's original."""
        story = decision.facts.story
        if meanwhile.exact is not None and (story is None or story.article_id != meanwhile.exact):
            return True
        if not meanwhile.fresh or decision.minhash is None:
            return False
        index = self._store.near_duplicates(now=now)
        return not meanwhile.fresh.isdisjoint(index.candidates(decision.minhash))

    def _replan(
        self, source_key: str, decision: Decision, meanwhile: Meanwhile, *, now: datetime
    ) -> Decision:
        """Decide about a new article again, its original looked for anew."""
        article, chosen = decision.enriched.article, decision.plan
        original = self.enricher.find_original(
            article, decision.minhash, now=now, exact=meanwhile.exact
        )
        facts = replace(decision.facts, story=self._story(original) if original else None)
        again = self._decision(
            source_key,
            decision.enriched,
            facts,
            post=not chosen.silent,
            quiet=chosen.quiet,
            minhash=decision.minhash,
        )
        return replace(again, site_lead=decision.site_lead)

    def store(
        self,
        source_key: str,
        article: Article | Prepared,
        *,
        post: bool,
        now: datetime,
        aliases: tuple[str, ...] = (),
        also: Callable[[], object] | None = None,
        quiet: Quiet = Quiet.FIRST_RUN,
    ) -> int:
        """Decide about a newly found article and carry it out; return 1 if stored, 0 if known."""
        decision = self.decide(source_key, article, post=post, now=now, quiet=quiet)
        return int(self.carry_out(source_key, decision, now=now, aliases=aliases, also=also))

    def _decision(
        self,
        source_key: str,
        enriched: Enriched,
        facts: Facts,
        *,
        post: bool,
        minhash: MinHash | None = None,
        quiet: Quiet = Quiet.FIRST_RUN,
    ) -> Decision:
        """Plan from the facts."""
        chosen = plan(
            enriched.article,
            facts,
            source_key=source_key,
            post=post,
            channels=self._channels,
            corrections=self._corrections,
            quiet=quiet,
        )
        return Decision(enriched, facts, chosen, minhash)

    def _own_image(
        self, source_key: str, enriched: Enriched, *, besides: int | None = None
    ) -> Enriched:
        """Drop a lead image another article of the source has: the site's default, not this one's."""
        image = enriched.article.image
        if not image or not self._store.sitewide.image_shown_before(
            source_key, image, besides=besides
        ):
            return enriched
        log.info(
            "article %s %s: image %s is the site's default", source_key, enriched.article.url, image
        )
        return replace(enriched, article=replace(enriched.article, image=""))

    def _without_lead(self, source_key: str, article: Article) -> Article:
        """Return an article without the lead its source's other articles carry."""
        # The site's slogan in every page's description (ux14: Taipei Times' "Bringing Taiwan to
        # the World…" was a summary); the summary now comes from the body.
        if source_key not in self._slogans:
            self._slogans.add(source_key)
            log.info(
                "%s: the description '%s' repeats on its articles; "
                "taken as the site's slogan, not a lead",
                source_key,
                _shorten(article.lead),
            )
        return replace(article, lead="")

    def _story(self, original: NearDuplicate) -> Story:
        """Return what the archive says about the story an article repeats."""
        posts, story_id = self._store.posts, original.article_id
        reprints = posts.posted_reprints(story_id)
        posted = (*posts.posted_channels(story_id), *_flat(map(posts.posted_channels, reprints)))
        return Story(
            article_id=story_id,
            similarity=original.similarity,
            silent=self._store.is_silent(story_id),
            channels=frozenset(posts.story_channels(story_id)),
            posted=tuple(dict.fromkeys(posted)),
            reprint_posts=reprints,
            sources=frozenset(self._store.story_sources(story_id)),
        )


def _shorten(text: str, width: int = 60) -> str:
    """Cut a text to `width` characters, marking the cut."""
    return text if len(text) <= width else text[:width].rstrip() + "…"


def _flat(groups: Iterable[Iterable[str]]) -> tuple[str, ...]:
    """Return the items of several groups, in order."""
    return tuple(item for group in groups for item in group)
