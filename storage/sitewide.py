"""What a source's articles share: a lead image or a description that is the site's own, not
one article's (a share card on every page, a slogan in every page's description)."""

from __future__ import annotations

from sqlite_utils import Database

from .transaction import joined

# Another article of the source, titled otherwise, carries the lead (its records.lead_key): the
# same title at another URL is the same article again, whose lead it may well be.
LEAD_ELSEWHERE = (
    "exists (select 1 from articles where source_key = ? and lead_hash = ? and title != ? "
    "and id != ?)"
)


class Sitewide:
    """Ask whether an article's image or lead is one its source's other articles have."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def image_shown_before(
        self, source_key: str, image: str, *, besides: int | None = None
    ) -> bool:
        """Tell whether another article of the source has this lead image (the site's default)."""
        row = next(
            self.db.query(
                "select 1 from articles where source_key = ? and image_url = ? and id != ? limit 1",
                [source_key, image, besides or 0],
            ),
            None,
        )
        return row is not None

    def lead_shown_before(
        self, source_key: str, lead_hash: str, *, title: str, besides: int | None = None
    ) -> bool:
        """Tell whether another article of the source, titled otherwise, has this lead."""
        found = self.db.execute(
            f"select {LEAD_ELSEWHERE}", [source_key, lead_hash, title, besides or 0]
        ).fetchone()
        return bool(found[0])

    def keep_lead(self, article_id: int, lead_hash: str) -> None:
        """Note the lead an article was stored without (its site's slogan) as its lead's hash, so
        the check rests on every article that showed it, not on the first alone."""
        with joined(self.db):
            self.db.execute(
                "update articles set lead_hash = ? where id = ?", [lead_hash, article_id]
            )
